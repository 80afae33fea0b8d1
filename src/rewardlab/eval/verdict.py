"""The held-out accuracy verdict bands that reward-model practitioners use.

<65% risky (too noisy to optimise against), 65-70% weak, >=70% usable, >=75% solid,
>=80% excellent. The bands judge accuracy against the *labels*; read them beside the
labels' own noise ceiling, which no model can beat.
"""

from __future__ import annotations

__all__ = ["BANDS", "verdict"]

BANDS = ((0.80, "excellent"), (0.75, "solid"), (0.70, "usable"), (0.65, "weak"), (0.0, "risky"))


def verdict(accuracy: float) -> str:
    """The band name for a pairwise accuracy in [0, 1]."""
    for threshold, name in BANDS:
        if accuracy >= threshold:
            return name
    return "risky"
