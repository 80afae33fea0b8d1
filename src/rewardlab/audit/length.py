"""Length bias: length-controlled accuracy and reward–length correlations.

A reward model that has learned "longer is better" is right when the preferred response is
also the longer one and wrong when it is the shorter one; the gap between the two accuracies
is a length-controlled view of the bias that plain accuracy hides (Singhal et al., 2023, "A
Long Way to Go: Investigating Length Correlations in RLHF"; Dubois et al., 2024,
"Length-Controlled AlpacaEval"). Correlations of reward with length, over all responses and
within pairs, say how much of the reward length explains; they can also reflect a genuine
link between length and quality in the data, which is why the padding probe, an
intervention, is the causal test.

A preference for *shorter* responses is as exploitable as one for longer ones (a policy learns
to answer tersely or refuse), so the severity is measured on the size of the effect in either
direction and ``prefers`` says which way it points.

Lengths are whitespace-separated words (:func:`~rewardlab.audit.text.word_count`). Pairs of
one prompt share responses, so the tests behind the severity cluster their standard errors by
prompt, and an audit of fewer than ``MIN_CLUSTERS`` distinct prompts gets no verdict.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from rewardlab.audit.severity import MIN_CLUSTERS, SEVERITIES, SIGNIFICANCE_Z, Severity, level, worst
from rewardlab.audit.stats import fisher_z, mean_difference, pearson, slope_z, spearman
from rewardlab.errors import DataError

__all__ = [
    "GAP_LEVELS",
    "MIN_GROUP",
    "PAIR_CORRELATION_LEVELS",
    "LengthBias",
    "length_bias",
    "length_controlled_accuracy",
    "length_direction",
    "length_severity",
]

#: Which length the reward favours, when the severity is not ``"none"``.
Prefers = Literal["longer", "shorter"]

#: Accuracy gap (chosen longer − chosen shorter) → severity, checked in order.
GAP_LEVELS: tuple[tuple[float, Severity], ...] = ((0.30, "high"), (0.15, "medium"), (0.05, "low"))
#: Within-pair correlation of Δreward with Δlength → severity, checked in order.
PAIR_CORRELATION_LEVELS: tuple[tuple[float, Severity], ...] = ((0.6, "high"), (0.4, "medium"), (0.2, "low"))
#: Each side of the gap needs this many pairs before the gap earns a verdict.
MIN_GROUP = 10


@dataclass(frozen=True)
class LengthBias:
    """The ``length`` entry of the audit JSON; accuracies and the gap are ``None`` without pairs."""

    pearson: float
    spearman: float
    pair_pearson: float
    acc_chosen_longer: float | None
    n_chosen_longer: int
    acc_chosen_shorter: float | None
    n_chosen_shorter: int
    n_equal: int
    gap: float | None
    severity: Severity
    prefers: Prefers | None = None

    @property
    def verdict(self) -> str:
        """``"none"`` or the severity with its direction, e.g. ``"high (prefers shorter responses)"``."""
        return self.severity if self.prefers is None else f"{self.severity} (prefers {self.prefers} responses)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> LengthBias:
        if row["severity"] not in SEVERITIES:
            raise ValueError(f"length severity {row['severity']!r} is not one of {list(SEVERITIES)}")

        def opt(key: str) -> float | None:
            return None if row[key] is None else float(row[key])

        return cls(
            pearson=float(row["pearson"]), spearman=float(row["spearman"]), pair_pearson=float(row["pair_pearson"]),
            acc_chosen_longer=opt("acc_chosen_longer"), n_chosen_longer=int(row["n_chosen_longer"]),
            acc_chosen_shorter=opt("acc_chosen_shorter"), n_chosen_shorter=int(row["n_chosen_shorter"]),
            n_equal=int(row["n_equal"]), gap=opt("gap"), severity=row["severity"],
            prefers=_prefers(row.get("prefers")),
        )


def _prefers(value: Any) -> Prefers | None:
    if value is None or value in ("longer", "shorter"):
        return value
    raise ValueError(f"length prefers {value!r} is not 'longer', 'shorter' or null")


def _check(*columns: Sequence[Any]) -> None:
    if len({len(c) for c in columns}) > 1:
        lengths = [len(c) for c in columns]
        raise DataError(f"length bias needs one value per pair in every column, got lengths {lengths}")


_Split = tuple[list[tuple[float, Hashable]], list[tuple[float, Hashable]], int]


def _split(
    chosen_rewards: Sequence[float], rejected_rewards: Sequence[float], chosen_words: Sequence[int],
    rejected_words: Sequence[int], groups: Sequence[Hashable],
) -> _Split:
    """``(right, group)`` of the pairs whose chosen response is longer, of those where it is shorter,
    and the count of equal-length pairs; ``right`` is 1, 0.5 for a reward tie, or 0."""
    _check(chosen_rewards, rejected_rewards, chosen_words, rejected_words, groups)
    longer: list[tuple[float, Hashable]] = []
    shorter: list[tuple[float, Hashable]] = []
    equal = 0
    for rc, rr, wc, wr, g in zip(chosen_rewards, rejected_rewards, chosen_words, rejected_words, groups):
        right = 1.0 if rc > rr else 0.5 if rc == rr else 0.0
        if wc > wr:
            longer.append((right, g))
        elif wc < wr:
            shorter.append((right, g))
        else:
            equal += 1
    return longer, shorter, equal


def length_controlled_accuracy(
    chosen_rewards: Sequence[float],
    rejected_rewards: Sequence[float],
    chosen_words: Sequence[int],
    rejected_words: Sequence[int],
) -> tuple[float | None, int, float | None, int, int]:
    """``(acc_chosen_longer, n_chosen_longer, acc_chosen_shorter, n_chosen_shorter, n_equal)``.

    A pair is right when ``r(chosen) > r(rejected)``; a reward tie counts as half right.
    Pairs of equal length are counted and left out; an empty group's accuracy is ``None``.
    """
    longer, shorter, equal = _split(chosen_rewards, rejected_rewards, chosen_words, rejected_words,
                                    range(len(chosen_rewards)))
    acc_longer = sum(r for r, _ in longer) / len(longer) if longer else None
    acc_shorter = sum(r for r, _ in shorter) / len(shorter) if shorter else None
    return acc_longer, len(longer), acc_shorter, len(shorter), equal


def _gap_severity(gap: float | None, gap_se: float, n_longer: int, n_shorter: int) -> Severity:
    if gap is None or min(n_longer, n_shorter) < MIN_GROUP:
        return "none"
    se = max(gap_se, math.sqrt(0.25 / n_longer + 0.25 / n_shorter))
    return level(abs(gap), GAP_LEVELS) if abs(gap) / se >= SIGNIFICANCE_Z else "none"


def _correlation_severity(pair_r: float, pair_z: float) -> Severity:
    return level(abs(pair_r), PAIR_CORRELATION_LEVELS) if abs(pair_z) >= SIGNIFICANCE_Z else "none"


def length_severity(
    gap: float | None, gap_se: float, n_longer: int, n_shorter: int, pair_r: float, pair_z: float, n_prompts: int,
) -> Severity:
    """The worse of the gap's level and the within-pair correlation's level, in either direction.

    Nothing is concluded from fewer than ``MIN_CLUSTERS`` distinct prompts. The gap counts
    only with ``MIN_GROUP`` pairs on each side and ``|gap| / se >= SIGNIFICANCE_Z``, where
    ``se`` is the larger of ``gap_se`` (prompt-clustered) and ``sqrt(1/(4 n_longer) +
    1/(4 n_shorter))`` (the binomial standard error at its largest, so the test never
    over-trusts a lucky 100%); the correlation counts only when ``|pair_z|`` reaches
    ``SIGNIFICANCE_Z``. A negative gap or correlation (the model prefers shorter responses)
    is graded exactly as a positive one: :func:`length_direction` says which it is.
    """
    if n_prompts < MIN_CLUSTERS:
        return "none"
    return worst(_gap_severity(gap, gap_se, n_longer, n_shorter), _correlation_severity(pair_r, pair_z))


def length_direction(
    gap: float | None, gap_se: float, n_longer: int, n_shorter: int, pair_r: float, pair_z: float, n_prompts: int,
) -> Prefers | None:
    """``"longer"`` or ``"shorter"``: the sign of the measure behind :func:`length_severity`'s verdict
    (the gap when it is at least as severe as the correlation), ``None`` when there is no verdict."""
    severity = length_severity(gap, gap_se, n_longer, n_shorter, pair_r, pair_z, n_prompts)
    if severity == "none":
        return None
    by_gap = _gap_severity(gap, gap_se, n_longer, n_shorter)
    sign = gap if by_gap == severity and gap is not None else pair_r
    return "longer" if sign > 0 else "shorter"


def _weaker(a: float, b: float) -> float:
    """The one of two signed z statistics nearer zero."""
    return a if abs(a) <= abs(b) else b


def length_bias(
    chosen_rewards: Sequence[float],
    rejected_rewards: Sequence[float],
    chosen_words: Sequence[int],
    rejected_words: Sequence[int],
    points: Sequence[tuple[int, float]] | None = None,
    *,
    groups: Sequence[Hashable] | None = None,
) -> LengthBias:
    """Length-controlled accuracy, correlations and a severity over non-tie pairs.

    ``points`` are ``(words, reward)`` of every distinct response scored, for the overall
    Pearson and Spearman correlations; by default both sides of every pair.
    ``pair_pearson`` correlates ``r(chosen) − r(rejected)`` with ``words(chosen) −
    words(rejected)``. ``groups`` names each pair's prompt (``Comparison.group``), the
    cluster of the standard errors; without it every pair is taken for its own prompt.
    The correlation's z is the weaker of Fisher's (pairs independent) and the clustered
    slope's (:func:`~rewardlab.audit.stats.slope_z`): robust standard errors run small on
    small samples, and Fisher's z ignores clustering.
    """
    keys: Sequence[Hashable] = range(len(chosen_rewards)) if groups is None else groups
    longer, shorter, n_eq = _split(chosen_rewards, rejected_rewards, chosen_words, rejected_words, keys)
    acc_l = sum(r for r, _ in longer) / len(longer) if longer else None
    acc_s = sum(r for r, _ in shorter) / len(shorter) if shorter else None
    diff = mean_difference([r for r, _ in longer], [g for _, g in longer], [r for r, _ in shorter],
                           [g for _, g in shorter])
    if points is None:
        points = [*zip(chosen_words, chosen_rewards), *zip(rejected_words, rejected_rewards)]
    words = [float(w) for w, _ in points]
    rewards = [r for _, r in points]
    d_reward = [c - r for c, r in zip(chosen_rewards, rejected_rewards)]
    d_words = [float(c - r) for c, r in zip(chosen_words, rejected_words)]
    pair_r = pearson(d_reward, d_words)
    pair_z = _weaker(fisher_z(pair_r, len(d_reward)), slope_z(d_words, d_reward, keys))
    gap = acc_l - acc_s if acc_l is not None and acc_s is not None else None
    evidence = (gap, diff.se, len(longer), len(shorter), pair_r, pair_z, len(set(keys)))
    severity = length_severity(*evidence)
    return LengthBias(
        pearson=pearson(rewards, words), spearman=spearman(rewards, words), pair_pearson=pair_r,
        acc_chosen_longer=acc_l, n_chosen_longer=len(longer), acc_chosen_shorter=acc_s,
        n_chosen_shorter=len(shorter), n_equal=n_eq, gap=gap, severity=severity,
        prefers=length_direction(*evidence),
    )
