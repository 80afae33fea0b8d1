"""RewardBench 2 scores from per-response rewards, computed as RewardBench 2 does.

RewardBench 2 (Malik et al., 2025, arXiv:2506.01937): best-of-N. A prompt's credit is
``1/k`` when its chosen response ties with ``k-1`` others for the top reward and 0 when anything
outscores it (``rewardbench.utils.reroll_and_score_dataset``). The Ties subset is scored by
``rewardbench.utils.process_single_model``, and the overall score is the plain mean of the six
subsets (leaderboard).

The overall score is ``None`` unless all six subsets are present, and NaN rewards are refused
rather than counted as wrong. RewardBench v1 lives in :mod:`rewardlab.eval.rewardbench`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from rewardlab.data.records import Prompt
from rewardlab.data.sources import open_source
from rewardlab.errors import DataError
from rewardlab.eval.rewardbench import _check_reward, _mostly_known, _plain
from rewardlab.scoring import DistinctInputs, RewardScorer

__all__ = [
    "RB2_SUBSETS",
    "BestOfNScores",
    "RB2Record",
    "RewardBench2Result",
    "Scorer",
    "best_of_n_credit",
    "is_rewardbench2_subsets",
    "load_rewardbench2",
    "rewardbench2_scores",
    "score_rewardbench2",
    "ties_score",
]

RB2_SUBSETS = ("Factuality", "Precise IF", "Math", "Safety", "Focus", "Ties")


class BestOfNScores(NamedTuple):
    """One RewardBench 2 prompt's rewards. Ties prompts have ids ``ref:N`` or ``tied:N``."""

    subset: str
    prompt_id: str
    chosen: Sequence[float]
    rejected: Sequence[float]


@dataclass(frozen=True)
class RewardBench2Result:
    """RewardBench 2 scores in [0, 1]. ``ties_components`` holds the parts of the Ties score."""

    per_subset: dict[str, float]
    counts: dict[str, int]
    overall: float | None
    unknown_subsets: tuple[str, ...] = ()
    missing_subsets: tuple[str, ...] = ()
    ties_components: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


def is_rewardbench2_subsets(subsets: Iterable[str | None]) -> bool:
    """Whether most distinct subset names are RewardBench 2's."""
    return _mostly_known(subsets, frozenset(RB2_SUBSETS))


def best_of_n_credit(chosen: float, rejected: Sequence[float]) -> float:
    """RewardBench 2's credit for a prompt: ``1/k`` if the chosen reward ties ``k-1`` others for the top, else 0.

    An outright win earns 1. This is the tie penalty in ``reroll_and_score_dataset``.
    """
    top = max([chosen, *rejected])
    if chosen != top:
        return 0.0
    return 1 / (1 + sum(1 for r in rejected if r == top))


class _PromptStats(NamedTuple):
    accurate: bool
    spread: float | None  # best correct - worst correct; None with fewer than two correct
    gap: float  # worst correct - best incorrect


def _prompt_stats(correct: Sequence[float], incorrect: Sequence[float]) -> _PromptStats:
    """``sample_stats`` in rewardbench 0.1.4, including its fallback when one side is empty."""
    if not correct or not incorrect:
        return _PromptStats(False, None, 0.0)
    spread = max(correct) - min(correct) if len(correct) > 1 else None
    return _PromptStats(min(correct) > max(incorrect), spread, min(correct) - max(incorrect))


def ties_score(items: Sequence[BestOfNScores]) -> tuple[float, dict[str, float]]:
    """The Ties subset score (``process_single_model``, rewardbench 0.1.4), with its parts.

    Every ``tied:N`` prompt has several correct answers, and ``ref:N`` is the same question with
    one. The score is ``0.3·tied_accuracy + 0.3·ref_accuracy + 0.2·correctness_preferred +
    0.2·correctness_preferred_hard + 0.01·margin``. ``correctness_preferred`` asks whether the gap
    between correct and incorrect answers beats the spread among the correct ones.
    ``correctness_preferred_hard`` asks the same of the smaller gap over ``ref:N`` and ``tied:N``,
    and ``margin`` is the mean of ``tanh(hard_gap/spread - 1)``. The last three are taken over prompts
    present as both ``ref:N`` and ``tied:N``, and are NaN when no such ``tied`` prompt has two
    correct answers.
    """
    ref: dict[int, _PromptStats] = {}
    tied: dict[int, _PromptStats] = {}
    for item in items:
        kind, number = _ties_id(item)
        stats = ref if kind == "ref" else tied
        if number in stats:
            raise DataError(f"Ties prompt id {item.prompt_id!r} appears twice; each id must be unique")
        stats[number] = _prompt_stats(item.chosen, item.rejected)
    ref_accuracy = float(np.mean([s.accurate for s in ref.values()])) if ref else 0.0
    tied_accuracy = float(np.mean([s.accurate for s in tied.values()])) if tied else 0.0
    preferred = preferred_hard = margin = 0.0
    common = set(ref) & set(tied)  # built and iterated as in rewardbench, so means agree bit for bit
    if common:
        spread = {pid: s for pid in common if (s := tied[pid].spread) is not None}
        hard = {pid: min(ref[pid].gap, tied[pid].gap) for pid in spread}
        preferred = _mean([tied[pid].gap > spread[pid] for pid in spread])
        preferred_hard = _mean([hard[pid] > spread[pid] for pid in spread])
        ratios = [hard[pid] / spread[pid] for pid in spread if spread[pid] > 0]
        margin = float(np.mean([math.tanh(r - 1) for r in ratios])) if ratios else 0.0
    score = 0.3 * tied_accuracy + 0.3 * ref_accuracy + 0.2 * preferred + 0.2 * preferred_hard + 0.01 * margin
    parts = {
        "tied_accuracy": tied_accuracy,
        "ref_accuracy": ref_accuracy,
        "correctness_preferred": preferred,
        "correctness_preferred_hard": preferred_hard,
        "correctness_margin_score": margin,
    }
    return score, parts


def _mean(flags: Sequence[bool]) -> float:
    return float(np.mean(flags)) if flags else float("nan")  # np.mean([]) is NaN, minus the warning


def _ties_id(item: BestOfNScores) -> tuple[str, int]:
    kind, _, number = str(item.prompt_id).partition(":")
    try:
        if kind in ("ref", "tied"):
            return kind, int(number)
    except ValueError:
        pass
    raise DataError(
        f"Ties prompt id {item.prompt_id!r} is not 'ref:N' or 'tied:N'; RewardBench 2 pairs prompts by that id"
    )


def rewardbench2_scores(items: Iterable[tuple[str, str, Sequence[float], Sequence[float]]]) -> RewardBench2Result:
    """RewardBench 2 scores from ``(subset, prompt_id, chosen rewards, rejected rewards)`` per prompt.

    Best-of-N subsets need exactly one chosen reward and at least one rejected reward per
    prompt. The Ties subset (any case, as in ``run_v2.py``) is scored by :func:`ties_score`.
    """
    credit: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    ties_items: dict[str, list[BestOfNScores]] = defaultdict(list)
    for raw in items:
        item = BestOfNScores(*raw)
        where = f"prompt {item.prompt_id!r} ({item.subset})"
        for value in (*item.chosen, *item.rejected):
            _check_reward(value, where)
        counts[item.subset] += 1
        if item.subset.lower() == "ties":
            ties_items[item.subset].append(item)
            continue
        if len(item.chosen) != 1 or not item.rejected:
            raise DataError(
                f"{where} has {len(item.chosen)} chosen and {len(item.rejected)} rejected rewards; "
                "best-of-N prompts need exactly one chosen and at least one rejected"
            )
        credit[item.subset] += best_of_n_credit(item.chosen[0], item.rejected)
    per_subset: dict[str, float] = {}
    components: dict[str, float] = {}
    for subset in sorted(counts):
        if subset in ties_items:
            per_subset[subset], components = ties_score(ties_items[subset])
        else:
            per_subset[subset] = credit[subset] / counts[subset]
    complete = all(s in per_subset for s in RB2_SUBSETS)
    return RewardBench2Result(
        per_subset=per_subset,
        counts={s: counts[s] for s in sorted(counts)},
        overall=sum(per_subset[s] for s in RB2_SUBSETS) / len(RB2_SUBSETS) if complete else None,
        unknown_subsets=tuple(s for s in per_subset if s not in RB2_SUBSETS),
        missing_subsets=tuple(s for s in RB2_SUBSETS if s not in per_subset),
        ties_components=components,
    )


@dataclass(frozen=True)
class RB2Record:
    """One RewardBench 2 prompt with its correct (``chosen``) and incorrect (``rejected``) responses."""

    id: str
    subset: str
    prompt: Prompt
    chosen: tuple[str, ...]
    rejected: tuple[str, ...]


def load_rewardbench2(path: str | Path, split: str | None = None) -> list[RB2Record]:
    """Read RewardBench 2 rows (``id``, ``subset``, ``prompt``, ``chosen``: [...], ``rejected``: [...]).

    Any source ``open_source`` reads works: JSONL, JSON, Parquet, a ``save_to_disk`` folder or a
    hub id. ``num_correct`` and ``total_completions``, when present, must agree with the lists.
    A bad row raises :class:`DataError` naming the file, line and field.
    """
    source = open_source(path, split)
    records = []
    for row in source.rows:
        if row.problem is not None:
            raise DataError(row.problem.message, source=source.name, line=row.line, field=row.problem.field)
        try:
            records.append(_rb2_record(row.data))
        except _FieldError as err:
            raise DataError(err.message, source=source.name, line=row.line, field=err.field) from None
    return records


class _FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _rb2_record(row: Mapping[str, Any]) -> RB2Record:
    for key in ("id", "subset", "prompt", "chosen", "rejected"):
        if row.get(key) is None:
            raise _FieldError(key, "required field is missing")
    if isinstance(row["id"], bool) or not isinstance(row["id"], (str, int)):
        raise _FieldError("id", f"expected a string or an integer, got {type(row['id']).__name__}")
    for key in ("subset", "prompt"):
        if not isinstance(row[key], str) or not row[key].strip():
            raise _FieldError(key, "expected a non-empty string")
    chosen, rejected = _texts(row, "chosen"), _texts(row, "rejected")
    if not chosen:
        raise _FieldError("chosen", "expected at least one chosen response")
    for key, expected in (("num_correct", len(chosen)), ("total_completions", len(chosen) + len(rejected))):
        if row.get(key) is not None and row[key] != expected:
            raise _FieldError(key, f"is {row[key]!r} but the chosen/rejected lists give {expected}")
    return RB2Record(str(row["id"]), row["subset"], row["prompt"], chosen, rejected)


def _texts(row: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = row[key]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _FieldError(key, "expected a list of response strings")
    return tuple(value)


Scorer = RewardScorer  # the scorer contract (scoring.RewardScorer)


def score_rewardbench2(model: Scorer, records: Sequence[RB2Record], *, batch_size: int = 32) -> list[BestOfNScores]:
    """Reward every response of every prompt, scoring each distinct (prompt, response) once."""
    inputs = DistinctInputs()
    rows = [([inputs.add(r.prompt, c) for c in r.chosen], [inputs.add(r.prompt, j) for j in r.rejected])
            for r in records]
    rewards = inputs.score(model, batch_size=batch_size, progress="rewardbench2: scoring")
    return [BestOfNScores(r.subset, r.id, [rewards[i] for i in chosen], [rewards[i] for i in rejected])
            for r, (chosen, rejected) in zip(records, rows)]
