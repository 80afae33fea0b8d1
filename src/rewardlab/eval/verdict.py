"""The held-out accuracy verdict bands that reward-model practitioners use, judged with their uncertainty.

<65% risky (too noisy to optimise against), 65-70% weak, >=70% usable, >=75% solid,
>=80% excellent. The bands judge accuracy against the *labels*; read them beside the
labels' own noise ceiling, which no model can beat.

An accuracy is a sample: 46 pairs at 80.4% are as consistent with a usable model as with an
excellent one. :func:`judge` therefore gives a band only when the accuracy's 95% interval
lies inside one band; an interval that straddles bands is ``"uncertain"`` and says between
which, and one wholly below 50% is ``"inverted"``: the model prefers the rejected responses,
which is worse than no model. The interval (:func:`accuracy_interval`) is Wilson's score
interval on the Kish effective sample size, so pairs that share a prompt, which are not
independent evidence, count for less (Wilson, 1927; Kish, 1965; Cameron & Miller, 2015).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from rewardlab.audit.stats import Z95, cluster_se

__all__ = ["BANDS", "INVERTED", "UNCERTAIN", "VERDICTS", "Verdict", "accuracy_interval", "band_range", "judge",
           "verdict", "wilson_interval"]

BANDS = ((0.80, "excellent"), (0.75, "solid"), (0.70, "usable"), (0.65, "weak"), (0.0, "risky"))
#: The accuracy's interval lies wholly below chance.
INVERTED = "inverted"
#: The accuracy's interval straddles two or more bands.
UNCERTAIN = "uncertain"
#: Every verdict name, as written in eval JSON (and used as a CSS class by the report).
VERDICTS = (*(name for _, name in BANDS), UNCERTAIN, INVERTED)


def verdict(accuracy: float) -> str:
    """The band name for a pairwise accuracy in [0, 1] (its point estimate alone)."""
    for threshold, name in BANDS:
        if accuracy >= threshold:
            return name
    return "risky"


def band_range(name: str) -> str:
    """The accuracy range of a verdict band, for example ``70–75%`` or ``≥80%``."""
    for i, (threshold, band) in enumerate(BANDS):
        if band != name:
            continue
        if i == 0:
            return f"≥{100 * threshold:.0f}%"
        upper = BANDS[i - 1][0]
        return f"<{100 * upper:.0f}%" if threshold == 0 else f"{100 * threshold:.0f}–{100 * upper:.0f}%"
    return "unknown band"


def wilson_interval(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``p`` over ``n`` (possibly effective, fractional) trials.

    Unlike ``p ± z·se`` it stays inside [0, 1] and does not collapse to a point at 0% or 100%.
    ``(0, 1)`` when ``n`` is 0.
    """
    if n <= 0 or math.isnan(p):
        return 0.0, 1.0
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_interval(outcomes: Sequence[float], groups: Sequence[Hashable] | None = None) -> tuple[float, float]:
    """The 95% interval of the mean of ``outcomes`` (1 right, 0 wrong; 0.5 allowed).

    With ``groups`` (each pair's prompt), the sample size is divided by the design effect, the
    ratio of the prompt-clustered variance of the mean to the independent one (never below 1):
    ten pairs of one prompt that all go the same way are closer to one observation than ten.
    """
    n = len(outcomes)
    if n == 0:
        return 0.0, 1.0
    p = sum(outcomes) / n
    n_eff = float(n)
    iid_var = sum((x - p) ** 2 for x in outcomes) / (n * n)
    if groups is not None and iid_var > 0:
        clustered = cluster_se([(x - p) / n for x in outcomes], groups)
        if math.isfinite(clustered):
            n_eff = n / max(1.0, clustered * clustered / iid_var)
    return wilson_interval(p, n_eff)


@dataclass(frozen=True)
class Verdict:
    """A band, ``"uncertain"`` or ``"inverted"``, with the interval behind it and a sentence to show."""

    name: str
    low: float
    high: float
    text: str


def judge(accuracy: float, low: float, high: float) -> Verdict:
    """The verdict for ``accuracy`` with 95% interval ``[low, high]``.

    ``high < 0.5``: ``"inverted"``. Both ends in one band: that band. Otherwise ``"uncertain"``,
    with a text naming the bands at the two ends.
    """
    if math.isnan(accuracy):
        return Verdict(UNCERTAIN, low, high, "no accuracy: nothing was evaluated")
    if high < 0.5:
        return Verdict(INVERTED, low, high, "inverted: the model prefers the rejected responses "
                                            "(significantly below chance)")
    bottom, top = verdict(low), verdict(high)
    if bottom == top:
        below = " (below chance, though not significantly)" if accuracy < 0.5 else ""
        return Verdict(bottom, low, high, bottom + below)
    return Verdict(UNCERTAIN, low, high, f"between {bottom} and {top}: too few pairs to tell")
