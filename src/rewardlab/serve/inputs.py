"""From request bodies to model inputs: limits, formatting, tokenization, the overlong policy.

Every refusal raises :class:`InputRejected` (HTTP 422) with the location of the offending
field (``items[0].responses[2]``), never the text itself. Inputs beyond the model's
``max_length`` are refused (``on_overlong="error"``) or truncated from the left, the same
way ``RewardModel.score`` truncates, and reported per response (``"truncate"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rewardlab.data.records import Prompt
from rewardlab.serve.backend import Backend
from rewardlab.serve.config import ServeConfig
from rewardlab.serve.errors import ServeError
from rewardlab.serve.schemas import GetRewardRequest, ScoreRequest

__all__ = ["InputRejected", "Pairs", "Prepared", "get_reward_texts", "prepare", "score_request_pairs", "strip_pad"]

_SHOWN = 3  # offending fields named in one message


class InputRejected(ServeError):
    """A request is well-formed JSON but breaks a limit or cannot be scored (HTTP 422)."""

    kind = "invalid_input"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=422)


@dataclass(frozen=True)
class Pairs:
    """The flattened (prompt, response) pairs of a score request, with where each came from."""

    prompts: list[Prompt]
    responses: list[str]
    labels: list[str]
    counts: list[int]  # responses per item


@dataclass(frozen=True)
class Prepared:
    """Model inputs ready for the batcher: one payload, token count and truncation flag per input."""

    payloads: list[Any]
    tokens: list[int]
    truncated: list[bool]


def _check_total(n: int, config: ServeConfig, what: str) -> None:
    if n > config.max_responses_per_request:
        raise InputRejected(f"{n} {what} in one request; the server takes at most "
                            f"{config.max_responses_per_request} (split the request)")


def _check_chars(fields: Sequence[tuple[str, str]], config: ServeConfig) -> None:
    long = [(label, len(text)) for label, text in fields if len(text) > config.max_text_chars]
    if long:
        shown = ", ".join(f"{label} ({n} characters)" for label, n in long[:_SHOWN])
        more = f" and {len(long) - _SHOWN} more" if len(long) > _SHOWN else ""
        raise InputRejected(f"text longer than the server's limit of {config.max_text_chars} characters: "
                            f"{shown}{more}")


def score_request_pairs(req: ScoreRequest, config: ServeConfig) -> Pairs:
    """Flatten a ``/v1/score`` body, checking the response count and every text's length."""
    items = req.item_list()
    single = req.items is None
    prompts: list[Prompt] = []
    responses: list[str] = []
    labels: list[str] = []
    counts: list[int] = []
    texts: list[tuple[str, str]] = []
    _check_total(sum(len(it.response_list()) for it in items), config, "responses")
    for i, item in enumerate(items):
        base = "" if single else f"items[{i}]."
        prompt = item.to_prompt()
        if isinstance(prompt, str):
            texts.append((f"{base}prompt", prompt))
        else:
            texts.extend((f"{base}prompt[{k}].content", m.content) for k, m in enumerate(prompt))
        resp = item.response_list()
        for j, r in enumerate(resp):
            label = f"{base}response" if item.response is not None else f"{base}responses[{j}]"
            labels.append(label)
            texts.append((label, r))
            prompts.append(prompt)
            responses.append(r)
        counts.append(len(resp))
    _check_chars(texts, config)
    return Pairs(prompts, responses, labels, counts)


def strip_pad(text: str, pad: str | None) -> str:
    """``text`` without leading or trailing copies of the pad token's text.

    OpenRLHF builds its queries with ``batch_decode(..., skip_special_tokens=False)`` of padded
    sequences; the pads are decoding residue, never content.
    """
    if not pad:
        return text
    while text.startswith(pad):
        text = text[len(pad):]
    while text.endswith(pad):
        text = text[: -len(pad)]
    return text


def get_reward_texts(req: GetRewardRequest, config: ServeConfig, pad: str | None) -> tuple[list[str], list[str]]:
    """The texts of an OpenRLHF ``/get_reward`` body (pads stripped), and their labels."""
    _check_total(len(req.query), config, "queries")
    labels = [f"query[{k}]" for k in range(len(req.query))]
    _check_chars(list(zip(labels, req.query)), config)
    return [strip_pad(q, pad) for q in req.query], labels


def prepare(backend: Backend, texts: Sequence[str], labels: Sequence[str], on_overlong: str) -> Prepared:
    """Tokenize model-input texts and apply the overlong policy (runs off the event loop)."""
    ids = backend.tokenize(texts, truncate=False)
    limit = backend.max_length
    long = [k for k, seq in enumerate(ids) if len(seq) > limit]
    if long and on_overlong == "error":
        shown = ", ".join(f"{labels[k]} ({len(ids[k])} tokens)" for k in long[:_SHOWN])
        more = f" and {len(long) - _SHOWN} more" if len(long) > _SHOWN else ""
        raise InputRejected(
            f"model input longer than the model's max_length of {limit} tokens: {shown}{more}. Send shorter "
            f"inputs, or start the server with on_overlong=truncate to score the last {limit} tokens"
        )
    if long:  # the tokenizer truncates exactly as RewardModel.encode does (from the left)
        cut = backend.tokenize([texts[k] for k in long], truncate=True)
        for k, seq in zip(long, cut):
            ids[k] = seq
    flags = [False] * len(ids)
    for k in long:
        flags[k] = True
    payloads = [backend.payload(t, seq) for t, seq in zip(texts, ids)]
    return Prepared(payloads, [len(s) for s in ids], flags)


def format_pairs(backend: Backend, pairs: Pairs) -> list[str]:
    """The model-input text of every pair, in the format saved with the model."""
    try:
        return [backend.format(p, r) for p, r in zip(pairs.prompts, pairs.responses)]
    except Exception as exc:  # e.g. a chat template that refuses a role order
        raise InputRejected(f"the model's input format cannot render this prompt: {exc}") from exc
