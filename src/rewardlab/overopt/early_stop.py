"""Early stopping from a small budget of gold (or human) spot checks: where to stop optimizing, and how sure.

A team rarely has the gold for every sample; it can afford a few dozen comparisons. The
rule spends a budget of ``budget`` pairwise spot checks on a ladder of n values (×4 steps:
4, 16, 64, ...): at each rung it draws ``budget / K`` prompts and compares the
best-of-n pick (a random n-subset of the prompt's samples, chosen by the proxy) with a
plain sample from the reference policy, by one gold label (the better gold wins; equal gold
counts half). The operating point is the rung whose picks win most often (the smaller n on
a tie): the win rate against the reference rises with real quality and falls past the peak.
Every rung reports its win rate with a Wilson 95% interval, so a choice that rests on a
handful of labels says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rewardlab.overopt.bon import bon_pick, kl_bon

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
    steps: list[dict[str, Any]]  # per rung: n, labels, win rate against the reference, its interval
    stopped: bool  # the best rung is below the top of the ladder

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        best = next(s for s in self.steps if s["n"] == self.n)
        top = self.steps[-1]
        lo, hi = best["interval"]
        text = (f"with {self.budget} gold spot checks: optimize to n ≈ {self.n} (KL ≈ {self.kl:.1f} nats); its picks "
                f"beat a reference sample in {best['win_rate']:.0%} of {best['labels']} checks (95% CI {lo:.0%}–"
                f"{hi:.0%})")
        if self.stopped:
            text += f", best-of-{top['n']} in {top['win_rate']:.0%}"
        return text


def default_ladder(smallest: int) -> list[int]:
    """4, 16, 64, ... up to the smallest N (which is added when the last ×4 step falls well short of it)."""
    rungs = [4 ** k for k in range(1, 12) if 4 ** k <= smallest]
    if not rungs or rungs[-1] * 2 <= smallest:
        rungs.append(smallest)
    return rungs


def early_stop(proxy: Sequence[np.ndarray], gold: Sequence[np.ndarray], budget: int, *,
               ladder: Sequence[int] | None = None, seed: int = 0) -> EarlyStop:
    """Spend ``budget`` gold checks on ``ladder`` (default :func:`default_ladder`) and pick the best rung."""
    smallest = min(len(p) for p in proxy)
    rungs = sorted({n for n in (ladder or default_ladder(smallest)) if 2 <= n <= smallest})
    if not rungs:
        raise ValueError("the ladder needs at least one n value between 2 and the smallest N")
    per_rung = budget // len(rungs)
    if per_rung < 1:
        raise ValueError(f"a budget of {budget} gold checks is fewer than the ladder's {len(rungs)} rungs")
    rng = np.random.default_rng(seed)
    steps: list[dict[str, Any]] = []
    for n in rungs:
        wins = 0.0
        for _ in range(per_rung):
            j = int(rng.integers(len(proxy)))
            p, g = np.asarray(proxy[j]), np.asarray(gold[j])
            a, b = float(g[bon_pick(p, n, rng)]), float(g[rng.integers(len(g))])
            wins += 1.0 if a > b else 0.5 if a == b else 0.0
        steps.append({"n": n, "labels": per_rung, "win_rate": wins / per_rung,
                      "interval": list(wilson(wins, per_rung))})
    best = max(steps, key=lambda s: (s["win_rate"], -s["n"]))
    return EarlyStop(budget=per_rung * len(rungs), n=best["n"], kl=kl_bon(best["n"]), steps=steps,
                     stopped=best["n"] != rungs[-1])
