"""The severity scale shared by every audit verdict, and the significance bar before one.

A verdict is only given to an effect that is both statistically clear and large enough to
matter; each probe and the length analysis map their own measures onto this one scale with
documented thresholds (``audit/probes.py``, ``audit/length.py``).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["MIN_CLUSTERS", "SEVERITIES", "SIGNIFICANCE_Z", "Severity", "level", "worst"]

Severity = Literal["none", "low", "medium", "high"]

#: Severity names, mildest first.
SEVERITIES: tuple[Severity, ...] = ("none", "low", "medium", "high")

#: |estimate| / standard error needed before any verdict. 3.0 (two-sided p ≈ 0.003) rather
#: than 1.96, so the six probes and the length check on a noisy but unbiased scorer raise a
#: false alarm well under 5% of the time (a Bonferroni-style correction for ~7 tests).
SIGNIFICANCE_Z = 3.0

#: Distinct prompts (the clusters of the standard errors) needed before any verdict. Pairs of
#: one prompt share responses, so they are not independent evidence; with a handful of
#: prompts the clustered standard error is itself too uncertain to test against (with one
#: it is undefined), however many pairs there are.
MIN_CLUSTERS = 10


def level(value: float, levels: tuple[tuple[float, Severity], ...]) -> Severity:
    """The first severity whose threshold ``value`` reaches (``levels`` highest first), else ``"none"``."""
    for threshold, name in levels:
        if value >= threshold:
            return name
    return "none"


def worst(*severities: Severity) -> Severity:
    """The most severe of ``severities``."""
    return max(severities, key=SEVERITIES.index, default="none")
