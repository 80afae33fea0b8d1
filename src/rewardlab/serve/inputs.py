"""From request bodies to model inputs: limits, formatting, tokenization, the overlong policy.

Every refusal raises :class:`InputRejected` (HTTP 422) with the location of the offending
field (``items[0].responses[2]``), never the text itself. Inputs beyond the model's
``max_length`` are refused (``on_overlong="error"``) or truncated from the left, the same
way ``RewardModel.score`` truncates, and reported per response (``"truncate"``).

The work one request can cause is bounded before any of it is done: responses per request,
characters per text, chat messages per prompt, and the characters of all its model inputs
together (each response counted with its prompt). Formatting and tokenization then run in
chunks of :data:`CHUNK` inputs, checking ``stop`` between chunks, so a request past its
deadline stops working and other requests' chunks interleave with a large one's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rewardlab.data.records import Prompt
from rewardlab.errors import InputRejected
from rewardlab.rl.openrlhf import openrlhf_texts
from rewardlab.serve.backend import Backend
from rewardlab.serve.config import ServeConfig
from rewardlab.serve.errors import RequestTimeout, ServeError
from rewardlab.serve.schemas import GetRewardRequest, ScoreRequest

__all__ = ["CHUNK", "InputRejected", "Pairs", "Prepared", "Stop", "get_reward_texts", "prepare",
           "score_request_pairs"]

_SHOWN = 3  # offending fields named in one message
#: Inputs formatted or tokenized per step; ``stop`` is checked between steps.
CHUNK = 16
Stop = Callable[[], bool]


def _never() -> bool:
    return False


def _check_stop(stop: Stop) -> None:
    if stop():
        raise RequestTimeout("not prepared within request_timeout_s; the request is too large or the server is "
                             "overloaded")


@dataclass(frozen=True)
class Pairs:
    """The flattened (prompt, response) pairs of a score request, with where each came from."""

    prompts: list[Prompt]
    responses: list[str]
    labels: list[str]
    counts: list[int]  # responses per item
    chars: int = 0  # characters of every model input (each response with its prompt), before formatting


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
    bad = [label for label, text in fields if not _valid_unicode(text)]
    if bad:
        more = f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
        raise InputRejected(f"text holds an invalid character (a lone UTF-16 surrogate such as \\ud800, which no "
                            f"tokenizer can read): {', '.join(bad[:_SHOWN])}{more}")


def _valid_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_request_size(chars: int, config: ServeConfig) -> None:
    if chars > config.max_request_chars:
        raise InputRejected(f"the request's model inputs total {chars} characters (each response counted with its "
                            f"prompt); the server takes at most {config.max_request_chars} per request (send fewer "
                            "responses per request, or a shorter prompt)")


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
    chars = 0
    for i, item in enumerate(items):
        base = "" if single else f"items[{i}]."
        if isinstance(item.prompt, list) and len(item.prompt) > config.max_messages:
            raise InputRejected(f"{base}prompt holds {len(item.prompt)} chat messages; the server takes at most "
                                f"{config.max_messages} per prompt")
        prompt = item.to_prompt()
        if isinstance(prompt, str):
            texts.append((f"{base}prompt", prompt))
            prompt_chars = len(prompt)
        else:
            texts.extend((f"{base}prompt[{k}].content", m.content) for k, m in enumerate(prompt))
            prompt_chars = sum(len(m.content) for m in prompt)
        resp = item.response_list()
        chars += prompt_chars * len(resp) + sum(len(r) for r in resp)
        for j, r in enumerate(resp):
            label = f"{base}response" if item.response is not None else f"{base}responses[{j}]"
            labels.append(label)
            texts.append((label, r))
            prompts.append(prompt)
            responses.append(r)
        counts.append(len(resp))
    _check_request_size(chars, config)
    _check_chars(texts, config)
    return Pairs(prompts, responses, labels, counts, chars)


def get_reward_texts(req: GetRewardRequest, config: ServeConfig, pad: str | None) -> tuple[list[str], list[str]]:
    """The texts of an OpenRLHF ``/get_reward`` body (pads stripped, ``rl/openrlhf.py``), and their labels,
    after the server's size limits."""
    _check_total(len(req.query), config, "queries")
    labels = [f"query[{k}]" for k in range(len(req.query))]
    _check_request_size(sum(len(q) for q in req.query), config)
    _check_chars(list(zip(labels, req.query)), config)
    return openrlhf_texts(req.query, pad), labels


def prepare(backend: Backend, texts: Sequence[str], labels: Sequence[str], on_overlong: str,
            stop: Stop = _never) -> Prepared:
    """Tokenize model-input texts and apply the overlong policy (runs off the event loop, in chunks)."""
    ids: list[list[int]] = []
    for start in range(0, len(texts), CHUNK):
        _check_stop(stop)
        ids.extend(backend.tokenize(texts[start : start + CHUNK], truncate=False))
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


def format_pairs(backend: Backend, pairs: Pairs, stop: Stop = _never) -> list[str]:
    """The model-input text of every pair, in the format saved with the model."""
    out: list[str] = []
    try:
        for k, (p, r) in enumerate(zip(pairs.prompts, pairs.responses)):
            if k % CHUNK == 0:
                _check_stop(stop)
            out.append(backend.format(p, r))
    except ServeError:
        raise
    except Exception as exc:  # e.g. a chat template that refuses a role order
        raise InputRejected(f"the model's input format cannot render this prompt: {exc}") from exc
    return out
