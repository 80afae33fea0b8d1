"""The one place where a prompt and a response become model input text (invariant 1, docs/architecture.md).

Two formats exist. ``chat_template`` renders the conversation with the tokenizer's own chat
template (decoders that have one). ``plain`` renders a documented role-prefixed template
that works for any tokenizer, in the style of the Anthropic HH-RLHF dialogues::

    Human: <prompt>

    Assistant: <response>

A multi-turn prompt renders every turn the same way (``Human:`` for user turns,
``Assistant:`` for assistant turns, ``System:`` for system turns), separated by blank lines.
The chosen format is saved with the model; train, eval, score and serve all call
:func:`format_input`, and the model card repeats the template so plain ``transformers``
users can reproduce the input exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from rewardlab.data.records import Message, Prompt
from rewardlab.errors import ConfigError, ModelError

__all__ = ["PLAIN_ROLE_NAMES", "InputFormat", "as_prompt", "check_chat_template", "coerce_pairs", "format_input",
           "prompt_messages", "tokenize_texts"]

#: The chat roles a prompt may hold.
ROLES = ("system", "user", "assistant")

PLAIN_ROLE_NAMES = {"user": "Human", "assistant": "Assistant", "system": "System"}


class ChatTokenizer(Protocol):
    """The part of a Hugging Face tokenizer that chat formatting needs."""

    chat_template: Any

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class InputFormat:
    """How (prompt, response) becomes text, and how that text is tokenized.

    ``add_special_tokens`` is passed to the tokenizer: ``True`` for ``plain`` (so BERT-style
    models get ``[CLS] ... [SEP]``), ``False`` for ``chat_template`` (the template already
    holds every special token).
    """

    kind: Literal["plain", "chat_template"] = "plain"
    add_special_tokens: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("plain", "chat_template"):
            raise ConfigError(f"input format must be 'plain' or 'chat_template', got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> InputFormat:
        """The format saved in ``rewardlab.json``; anything malformed is a :class:`ModelError`."""
        if not isinstance(data, Mapping) or data.get("kind") not in ("plain", "chat_template") \
                or not isinstance(data.get("add_special_tokens"), bool):
            raise ModelError(f"input_format must be {{'kind': 'plain' or 'chat_template', 'add_special_tokens': "
                             f"true or false}}, got {data!r}")
        return cls(kind=data["kind"], add_special_tokens=data["add_special_tokens"])

    @classmethod
    def for_tokenizer(cls, tokenizer: Any, requested: str = "auto") -> InputFormat:
        """``auto`` picks the chat template when the tokenizer has one, else ``plain``."""
        has_template = bool(getattr(tokenizer, "chat_template", None))
        if requested == "auto":
            requested = "chat_template" if has_template else "plain"
        if requested == "chat_template":
            if not has_template:
                raise ConfigError(
                    "model.input_format is 'chat_template' but the tokenizer has no chat template; "
                    "use 'plain' or 'auto'"
                )
            return cls(kind="chat_template", add_special_tokens=False)
        if requested == "plain":
            return cls(kind="plain", add_special_tokens=True)
        raise ConfigError(f"model.input_format must be auto, plain or chat_template, got {requested!r}")


def as_prompt(value: Any) -> Prompt:
    """A prompt from what a Python caller gives: a string, or chat messages as ``Message``\\ s or
    ``{"role", "content"}`` dicts (as data files and the server take them)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and value and all(isinstance(m, Message | Mapping) for m in value):
        out = []
        for i, m in enumerate(value):
            role, content = (m.role, m.content) if isinstance(m, Message) else (m.get("role"), m.get("content"))
            if role not in ROLES or not isinstance(content, str):
                raise TypeError(f"prompt message {i} must have a role in {ROLES} and string content, got {m!r}")
            out.append(m if isinstance(m, Message) else Message(str(role), content))
        return tuple(out)
    raise TypeError(f"a prompt is a string or a non-empty list of chat messages, got {type(value).__name__} "
                    f"{str(value)[:60]!r}")


def _single_prompt(value: Any) -> bool:
    """A string, or a list of messages (not a list of prompts)."""
    return isinstance(value, str) or (isinstance(value, Sequence) and bool(value)
                                      and isinstance(value[0], Message | Mapping))


def coerce_pairs(prompts: Any, responses: Any) -> tuple[list[Prompt], list[str]]:
    """``(prompts, responses)`` of equal length from the shapes ``score`` accepts.

    ``score(prompts, responses)`` with one prompt per response; ``score("q", "a")`` for a single
    pair; ``score("q", ["a", "b"])`` (or a chat prompt) to score several responses to one prompt.
    """
    if isinstance(responses, str):
        responses = [responses]
    if not isinstance(responses, Sequence) or not all(isinstance(r, str) for r in responses):
        raise TypeError(f"responses must be a string or a list of strings, got {type(responses).__name__}")
    if _single_prompt(prompts):
        one = as_prompt(prompts)
        return [one] * len(responses), list(responses)
    if not isinstance(prompts, Sequence):
        raise TypeError(f"prompts must be a prompt or a list of prompts, got {type(prompts).__name__}")
    if len(prompts) != len(responses):
        raise ModelError(f"got {len(prompts)} prompts but {len(responses)} responses; give one prompt per response, "
                         "or a single prompt for all of them")
    return [as_prompt(p) for p in prompts], list(responses)


def check_chat_template(tokenizer: Any, source: str = "the tokenizer") -> None:
    """Render a probe conversation once, so a template that fails (or that the sandbox refuses) fails at load."""
    probe = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi!"}]
    try:
        text = tokenizer.apply_chat_template(probe, tokenize=False)
    except Exception as exc:  # jinja2 TemplateError / SecurityError, or anything the template raises
        raise ModelError(f"{source}: the chat template cannot render a conversation ({type(exc).__name__}: {exc}); "
                         "fix tokenizer_config.json's chat_template or use input_format plain") from exc
    if not isinstance(text, str) or "Hi!" not in text:
        raise ModelError(f"{source}: the chat template does not render the assistant's reply; it cannot be used "
                         "to score responses (use input_format plain)")


def prompt_messages(prompt: Prompt) -> list[dict[str, str]]:
    """A prompt as a list of ``{"role", "content"}`` chat messages."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": m.role, "content": m.content} for m in prompt]


def _plain(prompt: Prompt, response: str) -> str:
    turns: tuple[Message, ...] = (Message("user", prompt),) if isinstance(prompt, str) else prompt
    parts = []
    for m in turns:
        role = PLAIN_ROLE_NAMES.get(m.role)
        if role is None:
            raise ModelError(f"unknown chat role {m.role!r}; expected one of {sorted(PLAIN_ROLE_NAMES)}")
        parts.append(f"{role}: {m.content}")
    parts.append(f"Assistant: {response}")
    return "\n\n".join(parts)


def format_input(prompt: Any, response: str, fmt: InputFormat | str = "plain", tokenizer: Any = None) -> str:
    """Render one (prompt, response) pair as the exact text the reward model reads.

    ``fmt`` is an :class:`InputFormat` or its name (``plain``, ``chat_template``, or ``auto``:
    the tokenizer's template when it has one); ``prompt`` a string or chat messages
    (``Message``\\ s or ``{"role", "content"}`` dicts).
    """
    if isinstance(fmt, str):
        fmt = InputFormat.for_tokenizer(tokenizer, fmt) if tokenizer is not None or fmt == "auto" \
            else InputFormat.for_tokenizer(None, fmt)
    prompt = as_prompt(prompt)
    if fmt.kind == "plain":
        return _plain(prompt, response)
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        raise ModelError("the chat_template input format needs a tokenizer with a chat template")
    conversation = [*prompt_messages(prompt), {"role": "assistant", "content": response}]
    try:
        text = tokenizer.apply_chat_template(conversation, tokenize=False)
    except Exception as exc:  # the template refuses this conversation (a role order it does not allow, say)
        raise ModelError(f"the chat template cannot render this prompt: {type(exc).__name__}: {exc}") from exc
    return str(text)


def tokenize_texts(tokenizer: Any, texts: Sequence[str], fmt: InputFormat, max_length: int, *,
                   truncate: bool = True) -> list[list[int]]:
    """Token ids of model-input texts (from :func:`format_input`), truncated to ``max_length`` when ``truncate``.

    The one tokenizer call every model input goes through: ``RewardModel.encode`` formats and
    then calls this; the server calls it directly for texts that arrive already formatted
    (OpenRLHF's ``/get_reward``). Truncation keeps the end (the tokenizer's left truncation side).
    """
    if not texts:
        return []
    enc = tokenizer(
        list(texts),
        add_special_tokens=fmt.add_special_tokens,
        truncation=truncate,
        max_length=max_length if truncate else None,
        verbose=truncate,  # measuring true lengths must not warn about sequences beyond the model's limit
    )
    return [list(ids) for ids in enc["input_ids"]]
