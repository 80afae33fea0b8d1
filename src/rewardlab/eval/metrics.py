"""Pairwise metrics over scored comparisons: accuracy, ties, buckets, subsets, gold agreement.

Accuracy counts a pair right only when ``r_c > r_r``; an exact model tie is wrong and also
counted separately. Pairs labelled as ties in the data have no right answer and are left
out of accuracy (their number is reported). Every accuracy comes with its 95% interval
(``ci95``, :func:`~rewardlab.eval.verdict.accuracy_interval`, clustered by prompt).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rewardlab.data.records import Comparison
from rewardlab.eval.verdict import accuracy_interval

__all__ = ["ScoredPair", "accuracy_summary", "by_bucket", "gold_accuracy", "reward_stats"]


@dataclass(frozen=True)
class ScoredPair:
    """A comparison with the model's rewards for its two responses."""

    record: Comparison
    chosen: float
    rejected: float

    @property
    def diff(self) -> float:
        return self.chosen - self.rejected


def accuracy_summary(pairs: Sequence[ScoredPair]) -> dict[str, Any]:
    """``{n, accuracy, model_ties}`` over non-tie pairs (``accuracy`` is NaN when there are none)."""
    judged = [p for p in pairs if not p.record.tie]
    n = len(judged)
    outcomes = [1.0 if p.diff > 0 else 0.0 for p in judged]
    ties = sum(1 for p in judged if p.diff == 0)
    low, high = accuracy_interval(outcomes, [p.record.group for p in judged])
    return {"n": n, "accuracy": sum(outcomes) / n if n else float("nan"), "ci95": [low, high], "model_ties": ties}


def gold_accuracy(pairs: Sequence[ScoredPair]) -> dict[str, Any]:
    """Agreement with the gold order where the data has gold utilities (equal gold left out)."""
    outcomes: list[float] = []
    groups = []
    for p in pairs:
        gc, gr = p.record.gold_chosen, p.record.gold_rejected
        if gc is None or gr is None or gc == gr:
            continue
        outcomes.append(float((p.diff > 0) == (gc > gr) and p.diff != 0))
        groups.append(p.record.group)
    n = len(outcomes)
    low, high = accuracy_interval(outcomes, groups)
    return {"n": n, "accuracy": sum(outcomes) / n if n else float("nan"), "ci95": [low, high]}


def by_bucket(pairs: Sequence[ScoredPair], key: str) -> dict[str, dict[str, Any]]:
    """Accuracy (and gold accuracy when present) per value of ``subset``, ``strength`` or ``margin``.

    Margins are grouped into terciles of their observed values; other keys by exact value.
    """
    groups: dict[str, list[ScoredPair]] = defaultdict(list)
    if key == "margin":
        margins = sorted(p.record.margin for p in pairs if p.record.margin is not None)
        if not margins:
            return {}
        cuts = [margins[len(margins) // 3], margins[2 * len(margins) // 3]]
        for p in pairs:
            m = p.record.margin
            if m is None:
                continue
            label = f"<{cuts[0]:g}" if m < cuts[0] else (f"<{cuts[1]:g}" if m < cuts[1] else f">={cuts[1]:g}")
            groups[label].append(p)
    else:
        for p in pairs:
            value = getattr(p.record, key)
            if value is not None:
                groups[str(value)].append(p)
    out = {}
    for label in sorted(groups):
        summary = accuracy_summary(groups[label])
        gold = gold_accuracy(groups[label])
        if gold["n"]:
            summary["gold_accuracy"] = gold["accuracy"]
            summary["gold_ci95"] = gold["ci95"]
        out[label] = summary
    return out


def reward_stats(pairs: Sequence[ScoredPair]) -> dict[str, float]:
    """Mean and standard deviation of chosen and rejected rewards."""
    chosen = [p.chosen for p in pairs]
    rejected = [p.rejected for p in pairs]

    def sd(xs: list[float]) -> float:
        return statistics.pstdev(xs) if len(xs) > 1 else 0.0

    return {
        "chosen_mean": statistics.fmean(chosen) if chosen else float("nan"),
        "chosen_std": sd(chosen),
        "rejected_mean": statistics.fmean(rejected) if rejected else float("nan"),
        "rejected_std": sd(rejected),
    }
