"""The few estimators the audit needs, as pure functions over plain float sequences.

Undefined values are made explicit rather than NaN: a correlation with a constant input is
0.0; a standard error from fewer than two values (or two clusters) is infinite, because one
value says nothing about the spread, and so its interval is unbounded and its z is 0.
Writers of JSON turn infinite bounds into ``null`` (JSON has no infinity).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from rewardlab.errors import DataError

__all__ = [
    "Z95",
    "MeanEstimate",
    "cluster_se",
    "fisher_z",
    "mean_difference",
    "mean_estimate",
    "pearson",
    "ranks",
    "slope_z",
    "spearman",
]

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
        """``mean / se``: 0 when ``se`` is infinite (too few values or clusters) or the mean is 0,
        infinite when every value is the same non-zero number."""
        if self.se > 0:
            return self.mean / self.se
        return 0.0 if self.mean == 0 else math.copysign(math.inf, self.mean)


def cluster_se(influence: Sequence[float], clusters: Sequence[Hashable]) -> float:
    """The cluster-robust standard error ``sqrt(G/(G−1) · Σ_g (Σ_{i∈g} ψ_i)²)`` over ``G`` clusters.

    ``influence`` holds each value's contribution ``ψ_i`` to the estimator's error (for a
    mean, ``(x_i − x̄) / n``), so one formula serves every estimator here (Cameron & Miller,
    2015, "A Practitioner's Guide to Cluster-Robust Inference"). Fewer than two clusters
    give ``inf``: the spread between clusters is unknown.
    """
    if len(influence) != len(clusters):
        raise DataError(f"a clustered standard error needs one cluster per value, got {len(clusters)} "
                        f"for {len(influence)}")
    sums: dict[Hashable, float] = {}
    for psi, g in zip(influence, clusters):
        sums[g] = sums.get(g, 0.0) + psi
    k = len(sums)
    if k < 2:
        return math.inf
    return math.sqrt(k / (k - 1) * sum(v * v for v in sums.values()))


def _estimate(mean: float, se: float) -> MeanEstimate:
    return MeanEstimate(mean, se, mean - Z95 * se, mean + Z95 * se)


def mean_estimate(values: Sequence[float], clusters: Sequence[Hashable] | None = None) -> MeanEstimate:
    """Mean, standard error and ``mean ± 1.96 se`` (normal approximation).

    Without ``clusters`` the standard error is ``s / sqrt(n)`` (sample sd). With them it is
    the cluster-robust one, ``sqrt(G/(G−1) · Σ_g (Σ_{i∈g} (x_i − x̄))²) / n`` over ``G``
    clusters (Cameron & Miller, 2015; Miller, 2024, "Adding Error Bars to Evals"): values
    that share a cluster, such as pairs of one prompt that share a response, are not
    independent, and treating them as if they were makes the interval too narrow. Fewer than
    two values (or clusters) give ``se = inf`` and an unbounded interval; no values, a mean of 0.
    """
    n = len(values)
    if clusters is not None and len(clusters) != n:
        raise DataError(f"mean_estimate needs one cluster per value, got {len(clusters)} for {n}")
    if n == 0:
        return _estimate(0.0, math.inf)
    mean = statistics.fmean(values)
    if clusters is None:
        se = statistics.stdev(values) / math.sqrt(n) if n > 1 else math.inf
    else:
        se = cluster_se([(x - mean) / n for x in values], clusters)
    return _estimate(mean, se)


def mean_difference(
    a: Sequence[float], a_clusters: Sequence[Hashable], b: Sequence[float], b_clusters: Sequence[Hashable],
) -> MeanEstimate:
    """``mean(a) − mean(b)`` with a cluster-robust standard error; the samples may share clusters.

    Each value of ``a`` contributes ``(x − ā) / n_a`` and each of ``b`` ``−(x − b̄) / n_b``
    to :func:`cluster_se`, so a cluster on both sides is counted once, as it should be. An
    empty side gives a difference of 0 with ``se = inf``.
    """
    if not a or not b:
        return _estimate(0.0, math.inf)
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    influence = [(x - ma) / len(a) for x in a] + [-(x - mb) / len(b) for x in b]
    return _estimate(ma - mb, cluster_se(influence, [*a_clusters, *b_clusters]))


def slope_z(x: Sequence[float], y: Sequence[float], clusters: Sequence[Hashable]) -> float:
    """The z of the least-squares slope of ``y`` on ``x`` with a cluster-robust standard error.

    A correlation is significant exactly when this slope is, and, unlike Fisher's z, the
    clustered standard error does not assume the points independent. 0.0 when either input
    is constant or there are fewer than two clusters.
    """
    if len(x) != len(y):
        raise DataError(f"a slope needs paired samples of equal length, got {len(x)} and {len(y)}")
    if len(x) < 2:
        return 0.0
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxx = sum((a - mx) ** 2 for a in x)
    if sxx <= 0 or all(b == y[0] for b in y):
        return 0.0
    beta = sum((a - mx) * (b - my) for a, b in zip(x, y)) / sxx
    influence = [(a - mx) * ((b - my) - beta * (a - mx)) / sxx for a, b in zip(x, y)]
    se = cluster_se(influence, clusters)
    if se == 0:
        return math.copysign(math.inf, beta)
    return beta / se


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
