"""Single responses to score: rows of ``{"prompt", "response"}`` (prompt: string or chat messages).

``rewardlab score`` accepts these, or any pairwise format (then both sides are scored).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab.data.dialogue import parse_messages
from rewardlab.data.records import Prompt
from rewardlab.data.sources import open_source
from rewardlab.data.validation import RowError, check_nonempty, check_text
from rewardlab.errors import DataError

__all__ = ["ResponseItem", "is_response_row", "load_responses"]


@dataclass(frozen=True)
class ResponseItem:
    """One (prompt, response) to score; ``line`` locates it in the source, ``id`` is echoed back."""

    prompt: Prompt
    response: str
    line: int
    id: Any = None


def is_response_row(row: Any) -> bool:
    """Whether a raw row is a single response (has ``response``, no ``chosen``)."""
    return isinstance(row, dict) and "response" in row and "chosen" not in row


def _item(data: Any, line: int) -> ResponseItem:
    if not isinstance(data, dict):
        raise RowError("not_an_object", "each row must be a JSON object")
    for key in ("prompt", "response"):
        if key not in data:
            raise RowError("missing_field", f"missing {key!r}", key)
    prompt_raw, response = data["prompt"], data["response"]
    if not isinstance(response, str):
        raise RowError("wrong_type", "must be a string", "response")
    check_nonempty(response, "response")  # as for pairs: an empty response has nothing to score
    check_text(response, "response")
    prompt: Prompt = check_text(prompt_raw, "prompt") if isinstance(prompt_raw, str) else \
        parse_messages(prompt_raw, "prompt")
    return ResponseItem(prompt=prompt, response=response, line=line, id=data.get("id"))


def load_responses(source: str | Path) -> list[ResponseItem]:
    """Every row of ``source`` as a :class:`ResponseItem`; the first bad row raises ``DataError``."""
    opened = open_source(source)
    items = []
    for raw in opened.rows:
        if raw.problem is not None:
            raise DataError(raw.problem.message, source=opened.name, line=raw.line, field=raw.problem.field)
        try:
            items.append(_item(raw.data, raw.line))
        except RowError as exc:
            raise DataError(exc.message, source=opened.name, line=raw.line, field=exc.field) from exc
    if not items:
        raise DataError("no rows to score", source=str(source))
    return items


def first_row(source: str | Path) -> Any:
    """The first parsed row of a source (for deciding between response rows and pairs)."""
    for raw in open_source(source).rows:
        return raw.data
    return None
