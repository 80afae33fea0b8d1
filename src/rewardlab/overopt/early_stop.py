"""Early stopping from a small budget of gold (or human) spot checks: where to stop optimizing, and how sure.

A team rarely has the gold for every sample; it can afford a few dozen comparisons. The
rule spends a budget of ``budget`` pairwise spot checks along a log-spaced ladder of n
values: at each rung ``n_k`` it draws ``budget / (K − 1)`` prompts, and for each compares
the best-of-``n_k`` pick with the best-of-``n_{k−1}`` pick (each a fresh random subset of the
prompt's samples, chosen by the proxy) with one gold label (the better gold wins; equal gold
counts half). It climbs while the larger n wins at least half of its comparisons and stops
at the first rung that loses: the operating point is the rung before. Each step reports its
win rate with a Wilson 95% interval, so a stop that rests on a handful of labels says so.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rewardlab.overopt.bon import kl_bon

__all__ = ["EarlyStop", "early_stop", "wilson"]


def wilson(wins: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a win rate ``wins / n`` (half wins allowed)."""
    if n <= 0:
        return 0.0, 1.0
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class EarlyStop:
    """The chosen operating point and the evidence for it."""

    budget: int  # gold comparisons spent
    n: int
    kl: float
    steps: list[dict[str, Any]]  # per rung: n, previous n, labels, win rate, its interval
    stopped: bool  # a rung lost (False: the ladder was climbed to the top)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        if not self.stopped:
            return (f"with {self.budget} gold spot checks: no rung of the ladder lost, so up to n = {self.n} "
                    f"(KL ≈ {self.kl:.1f} nats) is supported")
        last = self.steps[-1]
        lo, hi = last["interval"]
        return (f"with {self.budget} gold spot checks: stop at n ≈ {self.n} (KL ≈ {self.kl:.1f} nats); best-of-"
                f"{last['n']} beat best-of-{last['previous']} in only {last['win_rate']:.0%} of {last['labels']} "
                f"checks (95% CI {lo:.0%}–{hi:.0%})")


def _pick(proxy: np.ndarray, gold: np.ndarray, n: int, rng: np.random.Generator) -> float:
    subset = rng.choice(len(proxy), size=n, replace=False)
    best = subset[proxy[subset] == proxy[subset].max()]
    return float(gold[rng.choice(best)])


def early_stop(proxy: Sequence[np.ndarray], gold: Sequence[np.ndarray], budget: int, *,
               ladder: Sequence[int] | None = None, seed: int = 0) -> EarlyStop:
    """Spend ``budget`` pairwise gold checks climbing ``ladder`` (default: 1, 2, 4, ... up to the smallest N)."""
    if budget < 2:
        raise ValueError(f"the early-stopping budget must be at least 2 comparisons, got {budget}")
    smallest = min(len(p) for p in proxy)
    rungs = list(ladder) if ladder is not None else [2 ** k for k in range(int(math.log2(smallest)) + 1)]
    rungs = sorted({n for n in rungs if 1 <= n <= smallest})
    if len(rungs) < 2:
        raise ValueError("the ladder needs at least two n values within the candidates")
    per_rung = max(1, budget // (len(rungs) - 1))
    rng = np.random.default_rng(seed)
    steps: list[dict[str, Any]] = []
    chosen, spent = rungs[0], 0
    for previous, n in itertools.pairwise(rungs):
        if spent + per_rung > budget:
            break
        wins = 0.0
        for _ in range(per_rung):
            j = int(rng.integers(len(proxy)))
            p, g = np.asarray(proxy[j]), np.asarray(gold[j])
            a, b = _pick(p, g, n, rng), _pick(p, g, previous, rng)
            wins += 1.0 if a > b else 0.5 if a == b else 0.0
        spent += per_rung
        rate = wins / per_rung
        steps.append({"n": n, "previous": previous, "labels": per_rung, "win_rate": rate,
                      "interval": list(wilson(wins, per_rung))})
        if rate < 0.5:
            return EarlyStop(budget=spent, n=chosen, kl=kl_bon(chosen), steps=steps, stopped=True)
        chosen = n
    return EarlyStop(budget=spent, n=chosen, kl=kl_bon(chosen), steps=steps, stopped=False)
