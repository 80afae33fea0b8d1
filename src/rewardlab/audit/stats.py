"""The few estimators the audit needs, as pure functions over plain float sequences.

Undefined values are made explicit rather than NaN (which JSON cannot carry): a correlation
with a constant input is 0.0, a mean of nothing is 0.0 with a zero-width interval.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from rewardlab.errors import DataError

__all__ = ["Z95", "MeanEstimate", "fisher_z", "mean_estimate", "pearson", "ranks", "spearman"]

#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class MeanEstimate:
    """A sample mean with its standard error and normal-approximation 95% interval."""

    mean: float
    se: float
    low: float
    high: float

    @property
    def z(self) -> float:
        """``mean / se``; infinite when every value is the same non-zero number, 0 for all zeros."""
        if self.se > 0:
            return self.mean / self.se
        return 0.0 if self.mean == 0 else math.copysign(math.inf, self.mean)


def mean_estimate(values: Sequence[float], clusters: Sequence[Hashable] | None = None) -> MeanEstimate:
    """Mean, standard error and ``mean ± 1.96 se`` (normal approximation).

    Without ``clusters`` the standard error is ``s / sqrt(n)`` (sample sd). With them it is
    the cluster-robust one, ``sqrt(G/(G−1) · Σ_g (Σ_{i∈g} (x_i − x̄))²) / n`` over ``G``
    clusters (Cameron & Miller, 2015; Miller, 2024, "Adding Error Bars to Evals"): values
    that share a cluster, such as pairs of one prompt that share a response, are not
    independent, and treating them as if they were makes the interval too narrow.
    """
    n = len(values)
    if n == 0:
        return MeanEstimate(0.0, 0.0, 0.0, 0.0)
    if clusters is not None and len(clusters) != n:
        raise DataError(f"mean_estimate needs one cluster per value, got {len(clusters)} for {n}")
    mean = statistics.fmean(values)
    if clusters is None:
        se = statistics.stdev(values) / math.sqrt(n) if n > 1 else 0.0
    else:
        sums: dict[Hashable, float] = {}
        for x, g in zip(values, clusters):
            sums[g] = sums.get(g, 0.0) + (x - mean)
        k = len(sums)
        se = math.sqrt(k / (k - 1) * sum(v * v for v in sums.values())) / n if k > 1 else 0.0
    return MeanEstimate(mean, se, mean - Z95 * se, mean + Z95 * se)


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's product-moment correlation of paired samples; 0.0 when either is constant."""
    if len(x) != len(y):
        raise DataError(f"a correlation needs paired samples of equal length, got {len(x)} and {len(y)}")
    n = len(x)
    if n < 2:
        return 0.0
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx <= 0 or syy <= 0:
        return 0.0
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties given the average of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson on average ranks, Spearman 1904); 0.0 if constant."""
    return pearson(ranks(x), ranks(y))


def fisher_z(r: float, n: int) -> float:
    """The z statistic of a correlation ``r`` over ``n`` points: ``atanh(r) * sqrt(n - 3)`` (Fisher 1915)."""
    if n <= 3:
        return 0.0
    r = max(-0.999999, min(0.999999, r))
    return math.atanh(r) * math.sqrt(n - 3)
