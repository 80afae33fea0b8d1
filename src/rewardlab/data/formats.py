"""Row → :class:`Comparison` for each supported preference format, and format detection.

One converter per format, all reading through :class:`Fields` so type problems are
reported uniformly. Converters see a row but not its location; the loader attaches
``meta["source"]``/``meta["line"]`` and turns problems into located ``DataError``\\ s.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal, get_args

from rewardlab.data.dialogue import (
    has_hh_markers,
    parse_messages,
    split_common_prefix,
    split_conversations,
    split_hh,
)
from rewardlab.data.records import Comparison, Message, Prompt
from rewardlab.data.validation import (
    BAD_LABEL,
    BAD_VOTE,
    MISSING_FIELD,
    WRONG_TYPE,
    Fields,
    RowError,
    check_pair,
    check_text,
)
from rewardlab.errors import DataError, Hint

__all__ = ["FORMATS", "FormatContext", "PairFormat", "convert_row", "detect_format", "llmbar_subset_from_path"]

#: The pairwise formats, defined once: the loaders, the configs, the CLI choices and docs/data.md use these.
PairFormat = Literal["rewardlab", "trl", "hh", "rewardbench", "pandalm", "llmbar", "arena"]
FORMATS: tuple[str, ...] = get_args(PairFormat)
#: ``winner`` values of the arena shape (LMSYS Chatbot Arena exports): which response won.
ARENA_WINNERS = {"model_a": "a", "a": "a", "model_b": "b", "b": "b", "tie": "tie", "tie (bothbad)": "tie"}
_ARENA_KEYS = {"response_a", "response_b", "winner"}
_ARENA_META = ("id", "question_id", "model_a", "model_b", "language", "turn")
_ANNOTATOR = re.compile(r"annotator(\d+)$")
_PANDALM_META = ("idx", "cmp_key", "motivation_app")
_REWARDBENCH_META = ("id", "chosen_model", "rejected_model")


@dataclass
class FormatContext:
    """What a converter may know beyond the row: a default subset and a tally for notes.

    ``notes`` counts noteworthy-but-valid rows (e.g. PandaLM majority ties) by message, so
    the report can say how many rows each applies to.
    """

    subset: str | None = None
    notes: Counter[str] = field(default_factory=Counter)


def detect_format(row: Mapping[str, Any]) -> str:
    """The format of a row, judged from its keys (and, for chosen/rejected only, their values).

    Rules, first match wins: ``response1``/``response2``/``annotatorN`` → pandalm;
    ``output_1``/``output_2``/``label`` → llmbar; ``response_a``/``response_b``/``winner`` → arena;
    ``prompt``/``chosen``/``rejected`` with
    message-list responses → trl, with ``id`` or ``chosen_model`` → rewardbench, else
    rewardlab; ``chosen``/``rejected`` without a prompt → hh if both are
    ``\\n\\nHuman:``/``\\n\\nAssistant:`` dialogues, else trl (implicit prompt). A row that has
    most of a format's keys (``prompt`` and ``chosen`` but no ``rejected``, say) gets that
    format, so its converter reports the missing field, not a failed detection.
    """
    if not isinstance(row, Mapping):
        raise DataError(f"cannot detect the format of a {type(row).__name__}; expected an object")
    keys = {str(k) for k in row}
    if {"response1", "response2"} & keys and any(_ANNOTATOR.match(k) for k in keys):
        return "pandalm"
    if len({"output_1", "output_2", "label"} & keys) >= 2:
        return "llmbar"  # a missing one is reported by the converter as a missing field
    if len(_ARENA_KEYS & keys) >= 2:
        return "arena"
    if {"chosen", "rejected"} <= keys:
        if "prompt" in keys:
            if isinstance(row["chosen"], (list, tuple)):
                return "trl"
            if "id" in keys or "chosen_model" in keys:
                return "rewardbench"
            return "rewardlab"
        chosen, rejected = row["chosen"], row["rejected"]
        if isinstance(chosen, str) and isinstance(rejected, str) and _both_hh(chosen, rejected):
            return "hh"
        return "trl"
    if {"chosen", "rejected"} & keys:  # a pair with one side missing: the converter names the missing field
        return "rewardlab" if "prompt" in keys else "trl"
    raise DataError(
        f"cannot detect the preference format from the keys {sorted(keys)}; "
        f"expected the keys of one of {', '.join(FORMATS)} (see docs/data.md)",
        hint=Hint("format", None, "to name the format yourself"),
    )


def convert_row(fmt: str, fields: Fields, ctx: FormatContext) -> Comparison:
    """Convert one row in format ``fmt``; raises :class:`RowError` for a bad row."""
    return _CONVERTERS[fmt](fields, ctx)


def llmbar_subset_from_path(path: str) -> str | None:
    """The LLMBar subset named by a file path, e.g. ``Adversarial/GPTInst``.

    The LLMBar repository stores ``Natural/dataset.json`` and
    ``Adversarial/<name>/dataset.json``; the subset is the path from that folder down.
    """
    parts = PurePath(path).parts[:-1]
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in ("Natural", "Adversarial"):
            return "/".join(parts[i:])
    return None


def _pairs(f: Fields, ctx: FormatContext, *, prompt_required: bool) -> Comparison:
    """rewardlab's native rows and TRL rows (explicit or implicit prompt, strings or messages)."""
    chosen_raw, rejected_raw = f.raw("chosen"), f.raw("rejected")
    prompt_raw = f.raw("prompt")
    if prompt_raw is None and prompt_required:
        raise RowError(MISSING_FIELD, "required field is missing", "prompt")
    for name, value in (("chosen", chosen_raw), ("rejected", rejected_raw)):
        if value is None:
            raise RowError(MISSING_FIELD, "required field is missing", name)
    if isinstance(chosen_raw, (list, tuple)):
        prompt, chosen, rejected = _conversational(prompt_raw, chosen_raw, rejected_raw)
    elif prompt_raw is None:
        prompt, chosen, rejected = _implicit_strings(f.text("chosen"), f.text("rejected"))
    else:
        prompt, chosen, rejected = _prompt(prompt_raw), f.text("chosen"), f.text("rejected")
    check_pair(chosen, rejected)
    return Comparison(
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        tie=bool(f.opt_bool("tie")),
        margin=f.opt_float("margin"),
        strength=f.opt_strength("strength"),
        subset=f.opt_text("subset") or ctx.subset,
        annotator=f.opt_text("annotator"),
        votes=f.opt_votes("votes"),
        gold_chosen=f.opt_float("gold_chosen"),
        gold_rejected=f.opt_float("gold_rejected"),
        prompt_id=f.opt_text("prompt_id"),
        meta=f.opt_meta("meta"),
    )


def _prompt(value: Any) -> Prompt:
    if isinstance(value, str):
        return check_text(value, "prompt")
    return parse_messages(value, "prompt")


def _conversational(prompt_raw: Any, chosen_raw: Any, rejected_raw: Any) -> tuple[Prompt, str, str]:
    """TRL conversational rows: history = prompt messages + all but the last response message."""
    if not isinstance(rejected_raw, (list, tuple)):
        raise RowError(WRONG_TYPE, "chosen is a message list, so rejected must be one too", "rejected")
    if isinstance(prompt_raw, str):
        raise RowError(WRONG_TYPE, "responses are message lists, so the prompt must be one too", "prompt")
    prompt: tuple[Message, ...] = () if prompt_raw is None else parse_messages(prompt_raw, "prompt")
    chosen = prompt + parse_messages(chosen_raw, "chosen")
    rejected = prompt + parse_messages(rejected_raw, "rejected")
    return split_conversations(chosen, rejected)


def _both_hh(chosen: str, rejected: str) -> bool:
    return has_hh_markers(chosen) and has_hh_markers(rejected)


def _implicit_strings(chosen: str, rejected: str) -> tuple[Prompt, str, str]:
    if _both_hh(chosen, rejected):
        return split_hh(chosen, rejected)
    return split_common_prefix(chosen, rejected)


def _rewardlab(f: Fields, ctx: FormatContext) -> Comparison:
    return _pairs(f, ctx, prompt_required=True)


def _trl(f: Fields, ctx: FormatContext) -> Comparison:
    return _pairs(f, ctx, prompt_required=False)


def _hh(f: Fields, ctx: FormatContext) -> Comparison:
    prompt, chosen, rejected = split_hh(f.text("chosen"), f.text("rejected"))
    check_pair(chosen, rejected)
    return Comparison(prompt=prompt, chosen=chosen, rejected=rejected, subset=ctx.subset)


def _rewardbench(f: Fields, ctx: FormatContext) -> Comparison:
    prompt, chosen, rejected = f.text("prompt"), f.text("chosen"), f.text("rejected")
    subset = f.text("subset")
    check_pair(chosen, rejected)
    meta = {key: f.raw(key) for key in _REWARDBENCH_META if f.has(key)}
    return Comparison(prompt=prompt, chosen=chosen, rejected=rejected, subset=subset, meta=meta)


def _pandalm(f: Fields, ctx: FormatContext) -> Comparison:
    """PandaLM: votes 0 = tie, 1 = response1 better, 2 = response2 better.

    The prompt is the instruction, plus a blank line and the input when the input is not
    empty. The strict-majority vote picks chosen; a tie majority or no majority gives a
    tie (response1 stays chosen). Every vote is kept, relative to chosen.
    """
    instruction = f.text("instruction")
    extra = f.opt_text("input")
    prompt = f"{instruction}\n\n{extra}" if extra and extra.strip() else instruction
    response1, response2 = f.text("response1"), f.text("response2")
    keys = sorted((k for k in f.row if _ANNOTATOR.match(str(k))), key=lambda k: int(k[len("annotator") :]))
    if not keys:
        raise RowError(MISSING_FIELD, "no annotatorN vote fields", "annotator1")
    votes = [f.int_in(k, (0, 1, 2), BAD_VOTE) for k in keys]
    check_pair(response1, response2, ("response1", "response2"))
    winner = next((v for v in (0, 1, 2) if 2 * votes.count(v) > len(votes)), None)
    better = 2 if winner == 2 else 1
    relative = tuple(0 if v == 0 else (1 if v == better else -1) for v in votes)
    chosen, rejected = (response2, response1) if better == 2 else (response1, response2)
    if winner == 0:
        ctx.notes["pandalm: majority voted tie; kept with tie=True"] += 1
    elif winner is None:
        ctx.notes["pandalm: no majority among the votes; kept with tie=True"] += 1
    meta = {key: f.raw(key) for key in _PANDALM_META if f.has(key)}
    return Comparison(
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        tie=winner in (0, None),
        votes=relative,
        subset=ctx.subset,
        meta=meta,
    )


def _llmbar(f: Fields, ctx: FormatContext) -> Comparison:
    """LLMBar: ``label`` (1 or 2) names the better of ``output_1``/``output_2``."""
    prompt = f.text("input")
    outputs = (f.text("output_1"), f.text("output_2"))
    label = f.int_in("label", (1, 2), BAD_LABEL)
    check_pair(*outputs, ("output_1", "output_2"))
    chosen, rejected = (outputs[0], outputs[1]) if label == 1 else (outputs[1], outputs[0])
    subset = f.opt_text("subset") or ctx.subset
    return Comparison(prompt=prompt, chosen=chosen, rejected=rejected, subset=subset)


def _arena(f: Fields, ctx: FormatContext) -> Comparison:
    """Pairwise-with-winner rows (Chatbot Arena exports): ``winner`` is ``model_a``, ``model_b`` or
    ``tie`` (also ``a``/``b`` and ``tie (bothbad)``); a tie keeps response A as ``chosen``."""
    prompt = _prompt(f.raw("prompt")) if f.has("prompt") else None
    if prompt is None:
        raise RowError(MISSING_FIELD, "required field is missing (map the question column with "
                       "--columns prompt=COLUMN)", "prompt")
    a, b = f.text("response_a"), f.text("response_b")
    raw = f.raw("winner")
    if raw is None:
        raise RowError(MISSING_FIELD, "required field is missing", "winner")
    winner = ARENA_WINNERS.get(str(raw).strip().lower()) if isinstance(raw, str) else None
    if winner is None:
        raise RowError(BAD_LABEL, f"must be one of {', '.join(ARENA_WINNERS)}, got {raw!r}", "winner")
    check_pair(a, b, ("response_a", "response_b"))
    chosen, rejected = (b, a) if winner == "b" else (a, b)
    meta = {key: f.raw(key) for key in _ARENA_META if f.has(key)}
    return Comparison(prompt=prompt, chosen=chosen, rejected=rejected, tie=winner == "tie",
                      subset=f.opt_text("subset") or ctx.subset, meta=meta)


_CONVERTERS: dict[str, Callable[[Fields, FormatContext], Comparison]] = {
    "rewardlab": _rewardlab,
    "trl": _trl,
    "hh": _hh,
    "rewardbench": _rewardbench,
    "pandalm": _pandalm,
    "llmbar": _llmbar,
    "arena": _arena,
}
