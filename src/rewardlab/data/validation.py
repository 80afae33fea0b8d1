"""Field-level checks that turn a raw row into typed values or a named problem.

Every reader goes through :class:`Fields`, so a bad value is reported the same way
whatever the file type: which field, what was wrong, and a short ``reason`` key that
``on_invalid="skip"`` counts (invariant 4, docs/architecture.md: no silent data loss).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from typing import Any

from rewardlab.errors import InvalidRecordError

__all__ = [
    "Fields",
    "InvalidRecordError",
    "RowError",
    "check_nonempty",
    "check_pair",
    "check_text",
    "show_value",
    "to_int",
    "to_number",
]

# Reason keys, as counted in ``DataReport.skipped``.
MISSING_FIELD = "missing_field"
WRONG_TYPE = "wrong_type"
EMPTY_RESPONSE = "empty_response"
IDENTICAL_RESPONSES = "identical_responses"
BAD_VOTE = "bad_vote"
BAD_LABEL = "bad_label"
BAD_MESSAGES = "bad_messages"
HISTORY_MISMATCH = "history_mismatch"
NO_SHARED_PROMPT = "no_shared_prompt"
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
MALFORMED_ROW = "malformed_row"
TOO_FEW_RESPONSES = "too_few_responses"
TIED_RANKS = "tied_ranks"
BAD_RANK = "bad_rank"
BAD_RATING = "bad_rating"
NO_RATINGS = "no_ratings"
BAD_TEXT = "bad_text"
DUPLICATE_KEY = "duplicate_key"
BAD_STRENGTH = "bad_strength"

#: Preference strength: Llama 2's four levels, 0 (negligibly better) to 3 (significantly better).
STRENGTH_SCALE = range(0, 4)


class RowError(Exception):
    """A problem with one row, before its location is known.

    Raised by the field checks and format converters, which see a row but not where it
    came from; the loader attaches source and line and re-raises :class:`InvalidRecordError`.
    """

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field


class Fields:
    """Typed access to one raw row, remembering which keys were read.

    ``text_cells`` is set for CSV, where every cell is text: numbers, booleans and the
    JSON-valued fields (``votes``, ``meta``) are parsed from the text, and an empty cell
    counts as absent. The set of keys read lets the loader report ignored columns.
    """

    def __init__(self, row: Mapping[str, Any], *, text_cells: bool = False) -> None:
        self.row = row
        self.text_cells = text_cells
        self.used: set[str] = set()

    def has(self, key: str) -> bool:
        """Whether ``key`` is present with a value (``None`` and, for CSV, ``""`` count as absent)."""
        return self._raw(key) is not None

    def _raw(self, key: str) -> Any:
        self.used.add(key)
        value = self.row.get(key)
        if self.text_cells and value == "":
            return None
        return value

    def _required(self, key: str) -> Any:
        value = self._raw(key)
        if value is None:
            raise RowError(MISSING_FIELD, "required field is missing", key)
        return value

    def raw(self, key: str) -> Any:
        """The value as stored, or ``None``; for fields whose shape the caller checks itself."""
        return self._raw(key)

    def text(self, key: str) -> str:
        """A required string (may still be empty; response checks are done by :func:`check_pair`)."""
        value = self.row.get(key)
        self.used.add(key)
        if value is None:
            raise RowError(MISSING_FIELD, "required field is missing", key)
        return _as_str(value, key)

    def opt_text(self, key: str) -> str | None:
        value = self._raw(key)
        return None if value is None else _as_str(value, key)

    def opt_bool(self, key: str) -> bool | None:
        value = self._raw(key)
        if value is None:
            return None
        if self.text_cells and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
        if not isinstance(value, bool):
            raise RowError(WRONG_TYPE, f"expected true/false, got {show_value(value)}", key)
        return value

    def opt_float(self, key: str) -> float | None:
        value = self._raw(key)
        return None if value is None else to_number(value, key, WRONG_TYPE, text_cells=self.text_cells)

    def opt_int(self, key: str) -> int | None:
        value = self._raw(key)
        return None if value is None else to_int(value, key, WRONG_TYPE, text_cells=self.text_cells)

    def opt_strength(self, key: str = "strength") -> int | None:
        """A preference strength on :data:`STRENGTH_SCALE` (0 to 3), or ``None``."""
        value = self.opt_int(key)
        if value is not None and value not in STRENGTH_SCALE:
            raise RowError(BAD_STRENGTH, f"preference strength must be an integer from {STRENGTH_SCALE.start} "
                           f"(negligibly better) to {STRENGTH_SCALE.stop - 1} (significantly better), got {value}",
                           key)
        return value

    def int_in(self, key: str, allowed: Collection[int], reason: str) -> int:
        """A required integer from ``allowed``; a value outside it is a ``reason`` problem."""
        value = to_int(self._required(key), key, reason, text_cells=self.text_cells)
        if value not in allowed:
            raise RowError(reason, f"expected one of {sorted(allowed)}, got {value}", key)
        return value

    def flag(self, key: str, reason: str) -> bool:
        """A required true/false; 1/0 are accepted too (TRL/KTO files often store labels as integers)."""
        value = self._required(key)
        if self.text_cells and isinstance(value, str):
            value = {"true": True, "false": False, "1": True, "0": False}.get(value.strip().lower(), value)
        if isinstance(value, float) and value in (0.0, 1.0):
            value = int(value)  # Parquet/pandas may store whole numbers as floats
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return value == 1
        raise RowError(reason, f"expected true/false (or 1/0), got {show_value(value)}", key)

    def opt_json(self, key: str) -> Any:
        """A list/object field; in CSV it is written as JSON text."""
        value = self._raw(key)
        if self.text_cells and isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as err:
                raise RowError(WRONG_TYPE, f"expected JSON text in this CSV cell ({err.msg})", key) from None
            except RecursionError:
                raise RowError(WRONG_TYPE, "the JSON text in this CSV cell is nested too deeply", key) from None
        return value

    def opt_votes(self, key: str = "votes") -> tuple[int, ...] | None:
        """Votes relative to chosen: a non-empty list of +1 / 0 / -1."""
        value = self.opt_json(key)
        if value is None:
            return None
        if not isinstance(value, (list, tuple)) or not value:
            raise RowError(WRONG_TYPE, f"expected a non-empty list of votes, got {show_value(value)}", key)
        votes = []
        for v in value:
            if isinstance(v, bool) or not isinstance(v, int) or v not in (-1, 0, 1):
                raise RowError(BAD_VOTE, f"votes must be 1, 0 or -1, got {show_value(v)}", key)
            votes.append(v)
        return tuple(votes)

    def opt_meta(self, key: str = "meta") -> dict[str, Any]:
        value = self.opt_json(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise RowError(WRONG_TYPE, f"expected an object, got {show_value(value)}", key)
        return dict(value)


def to_number(value: Any, key: str, reason: str, *, text_cells: bool = False) -> float:
    """A finite number as ``float`` (CSV text is parsed); anything else is a ``reason`` problem.

    Booleans are not numbers, and NaN or infinities cannot be trained on or compared.
    """
    if text_cells and isinstance(value, str):
        value = _parse_number(value, key, float, reason)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RowError(reason, f"expected a finite number, got {show_value(value)}", key)
    return float(value)


def to_int(value: Any, key: str, reason: str, *, text_cells: bool = False) -> int:
    """An integer (CSV text is parsed; whole floats accepted); anything else is a ``reason`` problem."""
    if text_cells and isinstance(value, str):
        value = _parse_number(value, key, int, reason)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Parquet/pandas may store whole numbers as floats
    if isinstance(value, bool) or not isinstance(value, int):
        raise RowError(reason, f"expected an integer, got {show_value(value)}", key)
    return value


def check_nonempty(text: str, field: str, what: str = "response") -> None:
    """Reject an empty or whitespace-only response: there is nothing in it to score."""
    if not text.strip():
        raise RowError(EMPTY_RESPONSE, f"{what} is empty or whitespace only", field)


def check_pair(chosen: str, rejected: str, fields: tuple[str, str] = ("chosen", "rejected")) -> None:
    """Reject pairs that cannot teach a preference: an empty side, or two equal sides.

    Whitespace-only counts as empty and surrounding whitespace is ignored when comparing,
    because either would give the model a pair it cannot (or should not) separate.
    """
    for text, name in zip((chosen, rejected), fields, strict=True):
        check_nonempty(text, name)
    if chosen.strip() == rejected.strip():
        raise RowError(IDENTICAL_RESPONSES, f"{fields[0]} and {fields[1]} are identical", fields[1])


def check_text(value: str, key: str) -> str:
    """Reject text that is not valid Unicode: lone UTF-16 surrogates (``"\\ud800"`` in JSON) cannot be
    encoded as UTF-8, so a tokenizer or a later write would fail on them."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise RowError(BAD_TEXT, f"the text holds an invalid character (a lone surrogate, {err.object[err.start]!a}"
                           f" at offset {err.start}); fix the file's encoding", key) from None
    return value


def _as_str(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise RowError(WRONG_TYPE, f"expected a string, got {show_value(value)}", key)
    return check_text(value, key)


def _parse_number(text: str, key: str, kind: type, reason: str = WRONG_TYPE) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        raise RowError(reason, f"expected a number, got {text!r}", key) from None


def show_value(value: Any) -> str:
    """A short description of a bad value for error messages."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"
