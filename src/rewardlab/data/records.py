"""Typed preference records: the one in-memory shape every reader produces.

A prompt is either a plain string or a chat conversation (a tuple of ``Message``);
responses are plain strings. Records are frozen so a data set can be shared between
train, eval and score without one stage mutating what another sees.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Comparison",
    "Label",
    "Message",
    "Prompt",
    "Ranking",
    "Rating",
    "prompt_key",
    "prompt_text",
]


@dataclass(frozen=True)
class Message:
    """One chat turn. ``role`` is ``system``, ``user`` or ``assistant``."""

    role: str
    content: str


Prompt = str | tuple[Message, ...]


def prompt_text(prompt: Prompt) -> str:
    """A readable single-string view of a prompt (used for keys and display, not model input)."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(f"{m.role}: {m.content}" for m in prompt)


def prompt_key(prompt: Prompt) -> str:
    """A stable id for a prompt, so splits can keep every record of a prompt together."""
    return hashlib.sha1(prompt_text(prompt).encode("utf-8")).hexdigest()[:16]


class _PromptGrouped:
    """Records of one prompt share a group, so a split never puts a prompt on both sides."""

    prompt: Prompt
    prompt_id: str | None

    @property
    def group(self) -> str:
        """The id used to keep a prompt's records on one side of a split."""
        return self.prompt_id if self.prompt_id is not None else prompt_key(self.prompt)


@dataclass(frozen=True)
class Comparison(_PromptGrouped):
    """A pairwise judgment: ``chosen`` was preferred over ``rejected`` for ``prompt``.

    ``tie`` marks a judged tie (the order of chosen/rejected is then arbitrary).
    ``margin`` is an optional per-pair margin for the Bradley-Terry loss; ``strength`` an
    optional preference-strength rating (e.g. 1 = slightly better ... 3 = much better).
    ``votes`` keeps every individual vote when several annotators judged the pair:
    +1 = chosen better, 0 = tie, -1 = rejected better. ``gold_chosen``/``gold_rejected``
    hold a known true utility when the data has one (the synthetic world does).
    """

    prompt: Prompt
    chosen: str
    rejected: str
    tie: bool = False
    margin: float | None = None
    strength: int | None = None
    subset: str | None = None
    annotator: str | None = None
    votes: tuple[int, ...] | None = None
    gold_chosen: float | None = None
    gold_rejected: float | None = None
    prompt_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)



@dataclass(frozen=True)
class Ranking(_PromptGrouped):
    """A best-to-worst ordering of K >= 2 responses to one prompt."""

    prompt: Prompt
    responses: tuple[str, ...]
    subset: str | None = None
    annotator: str | None = None
    gold: tuple[float, ...] | None = None
    prompt_id: str | None = None


@dataclass(frozen=True)
class Rating(_PromptGrouped):
    """Scalar or multi-attribute ratings of one response (missing attributes are absent)."""

    prompt: Prompt
    response: str
    ratings: dict[str, float]
    subset: str | None = None
    annotator: str | None = None
    gold: float | None = None
    prompt_id: str | None = None


@dataclass(frozen=True)
class Label(_PromptGrouped):
    """A good (``True``) / bad (``False``) judgment of one response."""

    prompt: Prompt
    response: str
    good: bool
    subset: str | None = None
    annotator: str | None = None
    gold: float | None = None
    prompt_id: str | None = None


def prompt_to_json(prompt: Prompt) -> str | list[dict[str, str]]:
    """The JSON shape of a prompt (string, or list of ``{"role", "content"}``)."""
    if isinstance(prompt, str):
        return prompt
    return [{"role": m.role, "content": m.content} for m in prompt]


# Scalar Comparison fields written only when set (``tie`` only when true).
_OPTIONAL_SCALARS = (
    "tie",
    "margin",
    "strength",
    "subset",
    "annotator",
    "gold_chosen",
    "gold_rejected",
    "prompt_id",
)


def comparison_to_json(c: Comparison) -> dict[str, Any]:
    """rewardlab's native JSONL row for a comparison; ``None`` fields are left out."""
    row: dict[str, Any] = {"prompt": prompt_to_json(c.prompt), "chosen": c.chosen, "rejected": c.rejected}
    for name in _OPTIONAL_SCALARS:
        value = getattr(c, name)
        if value is not None and value is not False:
            row[name] = value
    if c.votes is not None:
        row["votes"] = list(c.votes)
    if c.meta:
        row["meta"] = c.meta
    return row


def dumps_jsonl(rows: list[dict[str, Any]]) -> str:
    """Serialise rows as JSONL (UTF-8, one object per line, stable key order)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
