"""Best-of-n with every sample used: the unbiased estimator, its KL, and a prompt bootstrap.

With ``N`` scored candidates for a prompt, the best-of-``n`` policy (draw ``n`` of them, keep
the one the proxy scores highest) has an exact expectation over all ``C(N, n)`` subsets
(Nakano et al., 2021; Gao, Schulman & Hilton, 2022, appendix): sort the candidates by proxy
score, ascending, and the ``i``-th (1-based) is the pick of a random ``n``-subset with
probability ``C(i−1, n−1) / C(N, n)``. Candidates with equal proxy scores are picked at
random among themselves, so their gold is replaced by the tie group's mean, which keeps the
estimator exact.

The KL divergence of best-of-``n`` from the sampling policy is ``log n − (n−1)/n`` (nats;
Stiennon et al., 2020), the usual x axis as ``d = √KL``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BonCurve",
    "bon_curve",
    "bon_expectation",
    "bon_pick",
    "bon_weights",
    "bootstrap_band",
    "curve_from",
    "kl_bon",
    "log_spaced_ns",
    "n_for_kl",
    "per_prompt_bon",
]


def kl_bon(n: float) -> float:
    """KL(best-of-n ‖ reference) in nats: ``log n − (n − 1)/n``."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return math.log(n) - (n - 1) / n


def n_for_kl(kl: float) -> float:
    """The (real) ``n`` whose best-of-n KL is ``kl`` (``kl_bon`` is increasing; bisection)."""
    if kl <= 0:
        return 1.0
    lo, hi = 1.0, 2.0
    while kl_bon(hi) < kl:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if kl_bon(mid) < kl else (lo, mid)
    return (lo + hi) / 2


def bon_weights(big_n: int, n: int) -> np.ndarray:
    """``w[i-1] = C(i−1, n−1) / C(N, n)`` for ``i = 1..N``: the chance that the ``i``-th smallest is picked."""
    if not 1 <= n <= big_n:
        raise ValueError(f"best-of-n needs 1 <= n <= N, got n={n}, N={big_n}")
    lf = _log_factorials(big_n)
    i = np.arange(n, big_n + 1)  # below n the weight is 0: fewer than n − 1 candidates rank under i
    log_w = (lf[i - 1] - lf[n - 1] - lf[i - n]) - (lf[big_n] - lf[n] - lf[big_n - n])
    w = np.zeros(big_n)
    w[n - 1:] = np.exp(log_w)
    return w / w.sum()  # exact up to rounding; renormalised so the weights sum to 1


def _log_factorials(big_n: int) -> np.ndarray:
    """``log k!`` for ``k = 0..N`` (a running sum of logs: exact enough and no special functions)."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, big_n + 1, dtype=np.float64)))])


def _tie_mean(sorted_key: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` with each run of equal ``sorted_key`` replaced by the run's mean."""
    out = values.astype(np.float64).copy()
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    ends = np.r_[starts[1:], len(sorted_key)]
    for s, e in zip(starts, ends):
        if e - s > 1:
            out[s:e] = out[s:e].mean()
    return out


def bon_expectation(proxy: Sequence[float], gold: Sequence[float], ns: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(E[proxy of the pick], E[gold of the pick])`` of best-of-n for each ``n`` in ``ns``, one prompt."""
    p = np.asarray(proxy, dtype=np.float64)
    g = np.asarray(gold, dtype=np.float64)
    if p.shape != g.shape or p.ndim != 1:
        raise ValueError("proxy and gold must be 1-d and of the same length")
    order = np.argsort(p, kind="stable")
    ps, gs = p[order], _tie_mean(p[order], g[order])
    exp_p, exp_g = np.empty(len(ns)), np.empty(len(ns))
    for k, n in enumerate(ns):
        w = bon_weights(len(p), int(n))
        exp_p[k], exp_g[k] = float(w @ ps), float(w @ gs)
    return exp_p, exp_g


def bon_pick(proxy: np.ndarray, n: int, rng: np.random.Generator) -> int:
    """The index a best-of-n policy picks: the proxy's best of a random n-subset (ties broken at random)."""
    subset = rng.choice(len(proxy), size=n, replace=False)
    best = subset[proxy[subset] == proxy[subset].max()]
    return int(rng.choice(best))


def log_spaced_ns(big_n: int, points: int = 24) -> list[int]:
    """About ``points`` distinct integers from 1 to ``big_n``, evenly spaced in log n."""
    if big_n < 1:
        raise ValueError("N must be >= 1")
    grid = np.unique(np.round(np.logspace(0, math.log10(big_n), points)).astype(int))
    return [int(n) for n in grid if 1 <= n <= big_n]


@dataclass(frozen=True)
class BonCurve:
    """Best-of-n over many prompts: the mean over prompts, with a prompt-bootstrap band (2.5–97.5%)."""

    ns: list[int]
    kl: list[float]
    proxy: list[float]
    gold: list[float]
    proxy_band: list[tuple[float, float]]
    gold_band: list[tuple[float, float]]
    n_prompts: int

    @property
    def d(self) -> list[float]:
        """√KL, the x axis of Gao et al.'s plots."""
        return [math.sqrt(k) for k in self.kl]

    def to_dict(self) -> dict[str, object]:
        return {"n": self.ns, "kl": self.kl, "d": self.d, "proxy": self.proxy, "gold": self.gold,
                "proxy_band": [list(b) for b in self.proxy_band], "gold_band": [list(b) for b in self.gold_band],
                "n_prompts": self.n_prompts}


def per_prompt_bon(proxy: Sequence[Sequence[float]], gold: Sequence[Sequence[float]],
                   ns: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """``[prompts, len(ns)]`` arrays of each prompt's best-of-n expected proxy and gold."""
    if not proxy or len(proxy) != len(gold):
        raise ValueError("need proxy and gold scores for the same, non-empty list of prompts")
    per_p = np.empty((len(proxy), len(ns)))
    per_g = np.empty((len(proxy), len(ns)))
    for j, (p, g) in enumerate(zip(proxy, gold)):
        per_p[j], per_g[j] = bon_expectation(p, g, ns)
    return per_p, per_g


def bon_curve(proxy: Sequence[Sequence[float]], gold: Sequence[Sequence[float]], ns: Sequence[int], *,
              bootstrap: int = 200, seed: int = 0) -> BonCurve:
    """Best-of-n curves averaged over prompts (each with its own N ≥ max(ns)), bootstrapped over prompts."""
    return curve_from(*per_prompt_bon(proxy, gold, ns), ns, bootstrap=bootstrap, seed=seed)


def curve_from(per_p: np.ndarray, per_g: np.ndarray, ns: Sequence[int], *, bootstrap: int = 200,
               seed: int = 0) -> BonCurve:
    """The curve from per-prompt expectations (:func:`per_prompt_bon`): means and bootstrap bands."""
    band_p, band_g = _bootstrap(per_p, bootstrap, seed), _bootstrap(per_g, bootstrap, seed)
    return BonCurve(ns=[int(n) for n in ns], kl=[kl_bon(n) for n in ns], proxy=per_p.mean(0).tolist(),
                    gold=per_g.mean(0).tolist(), proxy_band=band_p, gold_band=band_g, n_prompts=len(per_p))


def bootstrap_band(per_prompt: np.ndarray, rounds: int = 200, seed: int = 0) -> list[tuple[float, float]]:
    """2.5% and 97.5% quantiles of the mean over prompts (rows), prompts resampled with replacement."""
    return _bootstrap(np.asarray(per_prompt, dtype=np.float64).reshape(len(per_prompt), -1), rounds, seed)


def _bootstrap(per_prompt: np.ndarray, rounds: int, seed: int) -> list[tuple[float, float]]:
    """2.5% and 97.5% quantiles of the prompt-resampled mean, per column."""
    if rounds < 1 or len(per_prompt) < 2:
        mean = per_prompt.mean(0)
        return [(float(m), float(m)) for m in mean]
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per_prompt), size=(rounds, len(per_prompt)))
    means = per_prompt[idx].mean(1)
    lo, hi = np.quantile(means, [0.025, 0.975], axis=0)
    return [(float(a), float(b)) for a, b in zip(lo, hi)]
