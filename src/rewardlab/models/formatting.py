"""The one place where a prompt and a response become model input text (DESIGN invariant 1).

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

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from rewardlab.data.records import Message, Prompt
from rewardlab.errors import ConfigError, ModelError

__all__ = ["PLAIN_ROLE_NAMES", "InputFormat", "format_input", "prompt_messages", "tokenize_texts"]

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
    def from_dict(cls, data: dict[str, Any]) -> InputFormat:
        return cls(kind=data["kind"], add_special_tokens=bool(data["add_special_tokens"]))

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


def format_input(prompt: Prompt, response: str, fmt: InputFormat, tokenizer: Any = None) -> str:
    """Render one (prompt, response) pair as the exact text the reward model reads."""
    if fmt.kind == "plain":
        return _plain(prompt, response)
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        raise ModelError("the chat_template input format needs a tokenizer with a chat template")
    conversation = [*prompt_messages(prompt), {"role": "assistant", "content": response}]
    text = tokenizer.apply_chat_template(conversation, tokenize=False)
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
