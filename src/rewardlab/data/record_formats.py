"""Row → :class:`Ranking`, :class:`Rating` or :class:`Label` for each supported format, and detection.

The pairwise converters live in ``formats.py``; these are their listwise and
single-response counterparts. They read through the same :class:`Fields`, so a bad value
is reported (and counted under ``on_invalid="skip"``) exactly as for comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rewardlab.data.dialogue import parse_messages
from rewardlab.data.formats import FormatContext
from rewardlab.data.records import Label, Prompt, Ranking, Rating
from rewardlab.data.validation import (
    BAD_LABEL,
    BAD_MESSAGES,
    BAD_RANK,
    BAD_RATING,
    IDENTICAL_RESPONSES,
    MISSING_FIELD,
    NO_RATINGS,
    TIED_RANKS,
    TOO_FEW_RESPONSES,
    WRONG_TYPE,
    Fields,
    RowError,
    check_nonempty,
    check_text,
    show_value,
    to_int,
    to_number,
)
from rewardlab.errors import DataError, Hint

__all__ = [
    "HELPSTEER_ATTRIBUTES",
    "LABEL_FORMATS",
    "RANKING_FORMATS",
    "RATING_FORMATS",
    "convert_label",
    "convert_ranking",
    "convert_rating",
    "detect_record_format",
]

RANKING_FORMATS = ("rewardlab",)
RATING_FORMATS = ("rewardlab", "helpsteer", "scalar")
LABEL_FORMATS = ("rewardlab", "trl")
#: The per-attribute Likert columns of NVIDIA's HelpSteer and HelpSteer2.
HELPSTEER_ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
NULL_RATING_NOTE = "null or NaN attribute ratings were left out of ratings"

# Detection per record kind, first match wins: (keys that must all be present, format).
_RULES: dict[str, tuple[tuple[frozenset[str], str], ...]] = {
    "comparison": ((frozenset({"chosen", "rejected"}), "any"),),  # only for "wrong loader" hints
    "ranking": ((frozenset({"responses"}), "rewardlab"),),
    "rating": (
        (frozenset({"ratings"}), "rewardlab"),
        *((frozenset({name}), "helpsteer") for name in HELPSTEER_ATTRIBUTES),
        (frozenset({"rating"}), "scalar"),
        (frozenset({"score"}), "scalar"),
    ),
    "label": ((frozenset({"good"}), "rewardlab"), (frozenset({"completion", "label"}), "trl")),
}
_EXPECTED = {
    "ranking": "'prompt' and 'responses' (best first, or with 'ranks')",
    "rating": (
        "'prompt', 'response' and one of 'ratings' (rewardlab), a HelpSteer attribute column "
        f"({', '.join(HELPSTEER_ATTRIBUTES)}), or 'rating'/'score' (scalar)"
    ),
    "label": "'prompt', 'response' and 'good' (rewardlab), or 'prompt', 'completion' and 'label' (trl)",
}


def _match(kind: str, keys: set[str]) -> str | None:
    return next((fmt for needed, fmt in _RULES[kind] if needed <= keys), None)


def detect_record_format(kind: str, row: Any) -> str:
    """The format of a ``kind`` row (``ranking``, ``rating`` or ``label``), judged from its keys.

    Rules, first match wins. ranking: ``responses`` → rewardlab. rating: ``ratings`` →
    rewardlab; any HelpSteer attribute column → helpsteer; ``rating`` or ``score`` → scalar.
    label: ``good`` → rewardlab; ``completion`` and ``label`` → trl. When the row fits
    another record kind instead, the error names the loader to use.
    """
    if not isinstance(row, Mapping):
        raise DataError(f"cannot detect the format of a {type(row).__name__}; expected an object")
    keys = {str(k) for k in row}
    found = _match(kind, keys)
    if found is not None:
        return found
    others = [other for other in _RULES if other != kind and _match(other, keys) is not None]
    hint = f"; the row looks like a {others[0]}: read such files with load_{others[0]}s" if others else ""
    raise DataError(
        f"cannot detect the {kind} format from the keys {sorted(keys)}; expected {_EXPECTED[kind]} "
        f"(see docs/data.md){hint}", hint=Hint("format", None, "to name the format yourself")
    )


def convert_ranking(fmt: str, f: Fields, ctx: FormatContext) -> Ranking:
    """rewardlab rankings: ``responses`` best first, or in any order with 1-based ``ranks``.

    ``gold`` (one utility per response) is reordered with the responses.
    """
    prompt = _prompt(f)
    responses = _responses(f)
    gold = _gold_list(f, len(responses))
    order = _order(f, len(responses))
    if order is not None:
        responses = tuple(responses[i] for i in order)
        gold = None if gold is None else tuple(gold[i] for i in order)
    return Ranking(
        prompt=prompt,
        responses=responses,
        subset=f.opt_text("subset"),
        annotator=f.opt_text("annotator"),
        gold=gold,
        prompt_id=f.opt_text("prompt_id"),
    )


def convert_rating(fmt: str, f: Fields, ctx: FormatContext) -> Rating:
    """rewardlab ``ratings`` objects, HelpSteer attribute columns, or one ``rating``/``score``."""
    prompt, response = _prompt_and_response(f, "response")
    if fmt == "rewardlab":
        ratings, left_out = _native_ratings(f)
    elif fmt == "helpsteer":
        ratings, left_out = _helpsteer_ratings(f)
    else:
        ratings, left_out = _scalar_rating(f), False
    record = Rating(
        prompt=prompt,
        response=response,
        ratings=ratings,
        subset=f.opt_text("subset"),
        annotator=f.opt_text("annotator"),
        gold=f.opt_float("gold"),
        prompt_id=f.opt_text("prompt_id"),
    )
    if left_out:
        ctx.notes[NULL_RATING_NOTE] += 1
    return record


def convert_label(fmt: str, f: Fields, ctx: FormatContext) -> Label:
    """rewardlab ``response``/``good`` rows, or TRL unpaired (KTO) ``completion``/``label`` rows."""
    response_key, label_key = ("response", "good") if fmt == "rewardlab" else ("completion", "label")
    prompt, response = _prompt_and_response(f, response_key)
    return Label(
        prompt=prompt,
        response=response,
        good=f.flag(label_key, BAD_LABEL),
        subset=f.opt_text("subset"),
        annotator=f.opt_text("annotator"),
        gold=f.opt_float("gold"),
        prompt_id=f.opt_text("prompt_id"),
    )


def _prompt(f: Fields) -> Prompt:
    value = f.raw("prompt")
    if value is None:
        raise RowError(MISSING_FIELD, "required field is missing", "prompt")
    return check_text(value, "prompt") if isinstance(value, str) else parse_messages(value, "prompt")


def _prompt_and_response(f: Fields, key: str) -> tuple[Prompt, str]:
    """The prompt and the response text; a message-list response (TRL) continues a chat prompt.

    As for TRL pairs, everything before the last response message is appended to the
    prompt, and the last message must be the assistant's reply.
    """
    prompt = _prompt(f)
    value = f.raw(key)
    if isinstance(value, (list, tuple)):
        if isinstance(prompt, str):
            raise RowError(WRONG_TYPE, f"{key} is a message list, so the prompt must be one too", "prompt")
        turns = parse_messages(value, key)
        if not turns or turns[-1].role != "assistant":
            raise RowError(BAD_MESSAGES, "the last message must be an assistant reply", key)
        prompt, response = prompt + turns[:-1], turns[-1].content
    else:
        response = f.text(key)
    check_nonempty(response, key)
    return prompt, response


def _responses(f: Fields) -> tuple[str, ...]:
    """K >= 2 non-empty, distinct response strings (compared ignoring surrounding whitespace)."""
    value = f.opt_json("responses")
    if value is None:
        raise RowError(MISSING_FIELD, "required field is missing", "responses")
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, str) for r in value):
        raise RowError(WRONG_TYPE, f"expected a list of response strings, got {show_value(value)}", "responses")
    if len(value) < 2:
        raise RowError(TOO_FEW_RESPONSES, f"a ranking needs at least 2 responses, got {len(value)}", "responses")
    first_seen: dict[str, int] = {}
    for i, text in enumerate(value):
        check_nonempty(text, "responses", f"responses[{i}]")
        check_text(text, "responses")
        first = first_seen.setdefault(text.strip(), i)
        if first != i:
            raise RowError(IDENTICAL_RESPONSES, f"responses[{first}] and responses[{i}] are identical", "responses")
    return tuple(value)


def _gold_list(f: Fields, k: int) -> tuple[float, ...] | None:
    value = f.opt_json("gold")
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != k:
        raise RowError(WRONG_TYPE, f"expected a list of {k} numbers, one per response, got {show_value(value)}", "gold")
    return tuple(to_number(v, "gold", WRONG_TYPE) for v in value)


def _order(f: Fields, k: int) -> list[int] | None:
    """Response indices best first, from 1-based ``ranks`` (1 = best); ``None`` if there are none."""
    value = f.opt_json("ranks")
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != k:
        raise RowError(BAD_RANK, f"expected a list of {k} ranks, one per response, got {show_value(value)}", "ranks")
    ranks = [to_int(v, "ranks", BAD_RANK) for v in value]
    tied = sorted({r for r in ranks if ranks.count(r) > 1})
    if tied:
        raise RowError(
            TIED_RANKS,
            f"rank(s) {', '.join(map(str, tied))} given more than once; ties within a ranking are not "
            "supported; give a strict order",
            "ranks",
        )
    if sorted(ranks) != list(range(1, k + 1)):
        raise RowError(BAD_RANK, f"ranks must be 1..{k}, each once (1 = best), got {ranks}", "ranks")
    return sorted(range(k), key=ranks.__getitem__)


def _native_ratings(f: Fields) -> tuple[dict[str, float], bool]:
    """``{"attribute": number}``; a null value means "not rated" and leaves the attribute out."""
    value = f.opt_json("ratings")
    if value is None:
        raise RowError(MISSING_FIELD, "required field is missing", "ratings")
    if not isinstance(value, Mapping):
        raise RowError(WRONG_TYPE, f"expected an object of attribute: number, got {show_value(value)}", "ratings")
    ratings: dict[str, float] = {}
    left_out = False
    for name, raw in value.items():
        if not isinstance(name, str) or not name.strip():
            raise RowError(BAD_RATING, f"attribute names must be non-empty strings, got {name!r}", "ratings")
        if raw is None:
            left_out = True
            continue
        try:
            ratings[name] = to_number(raw, "ratings", BAD_RATING)
        except RowError as err:
            raise RowError(err.reason, f"rating {name!r}: {err.message}", "ratings") from None
    if not ratings:
        raise RowError(NO_RATINGS, "no attribute has a rating", "ratings")
    return ratings, left_out


def _helpsteer_ratings(f: Fields) -> tuple[dict[str, float], bool]:
    """HelpSteer attribute columns; an empty (null or NaN) cell means the attribute was not rated."""
    ratings: dict[str, float] = {}
    left_out = False
    for name in HELPSTEER_ATTRIBUTES:
        raw = f.raw(name)
        if raw is None or _is_nan(raw, f.text_cells):
            left_out = left_out or name in f.row
            continue
        ratings[name] = to_number(raw, name, BAD_RATING, text_cells=f.text_cells)
    if not ratings:
        raise RowError(NO_RATINGS, f"no rating: every attribute column ({', '.join(HELPSTEER_ATTRIBUTES)}) is empty")
    return ratings, left_out


def _scalar_rating(f: Fields) -> dict[str, float]:
    """One number under ``rating`` or ``score``, stored as the ``overall`` attribute."""
    given = [key for key in ("rating", "score") if f.has(key)]
    if not given:
        raise RowError(MISSING_FIELD, "required field is missing (or give 'score')", "rating")
    if len(given) == 2:
        raise RowError(BAD_RATING, "both 'rating' and 'score' are given; keep one", "score")
    return {"overall": to_number(f.raw(given[0]), given[0], BAD_RATING, text_cells=f.text_cells)}


def _is_nan(value: Any, text_cells: bool) -> bool:
    if text_cells and isinstance(value, str):
        return value.strip().lower() == "nan"
    return isinstance(value, float) and math.isnan(value)
