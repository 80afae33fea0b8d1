"""From scores to findings: one scorer's curves, fits and peak; ensemble rules; the verdict a team can act on.

For each scorer (the proxy, each conservative ensemble rule) :func:`analyse` computes the
best-of-n curve (unbiased, prompt-bootstrapped), the tilted-policy curve, both of Gao et
al.'s fits, and the *observed* peak: the n with the highest expected gold. The gold lost
past the peak (gold at the peak minus gold at the largest n) comes with a paired prompt
bootstrap interval; the gold is said to turn down only when that interval excludes 0.

Ensemble rules (:func:`aggregate_members`): each member's scores are first standardised by
that member's mean and standard deviation over every candidate sample of the study (members
trained with different seeds drift in offset and scale, which would otherwise dominate the
spread); then ``mean``, worst-case ``min``, and Coste et al.'s uncertainty-weighted
``mean_minus_var``: mean − λ·variance, the population variance across members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from rewardlab.overopt.bon import BonCurve, bootstrap_band, curve_from, kl_bon, per_prompt_bon
from rewardlab.overopt.fits import Fit, fit_bon, fit_rl
from rewardlab.overopt.tilted import TiltedCurve, tilted_curve

__all__ = ["RULES", "Findings", "aggregate_members", "analyse", "kl_budget", "verdict"]

Rule = Literal["mean", "min", "mean_minus_var"]
RULES: tuple[Rule, ...] = ("mean", "min", "mean_minus_var")


@dataclass(frozen=True)
class Findings:
    """Everything the lab reports for one scorer."""

    name: str
    bon: BonCurve
    tilted: TiltedCurve
    bon_fit: Fit
    rl_fit: Fit
    peak_n: int  # the n with the highest expected gold (observed)
    peak_kl: float
    gold_at_peak: float
    gold_at_max: float  # at the largest n
    gold_lost: float  # gold_at_peak − gold_at_max
    gold_lost_band: tuple[float, float]  # paired prompt bootstrap, 95%
    proxy_gain: float  # proxy at the largest n − proxy at n = 1
    turns_down: bool  # the gold lost is significantly above 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "best_of_n": self.bon.to_dict(), "tilted": self.tilted.to_dict(),
            "fits": {"best_of_n": self.bon_fit.to_dict(), "rl": self.rl_fit.to_dict()},
            "peak": {"n": self.peak_n, "kl": self.peak_kl, "gold": self.gold_at_peak},
            "gold_at_max_n": self.gold_at_max, "gold_lost": self.gold_lost, "gold_lost_band": list(self.gold_lost_band),
            "proxy_gain": self.proxy_gain, "turns_down": self.turns_down,
        }


def analyse(name: str, proxy: Sequence[Any], gold: Sequence[Any], ns: Sequence[int], *,
            bootstrap: int = 200, seed: int = 0, betas: Sequence[float] | None = None) -> Findings:
    """Curves, fits and the observed peak of one scorer over every prompt's candidates."""
    per_p, per_g = per_prompt_bon(proxy, gold, ns)
    bon = curve_from(per_p, per_g, ns, bootstrap=bootstrap, seed=seed)
    tilted = tilted_curve(proxy, gold, betas)
    base = bon.gold[0]
    bon_fit = fit_bon(bon.d, [g - base for g in bon.gold])
    reference = float(np.mean([np.mean(g) for g in gold]))  # the tilted policy at β = ∞ is the sample mean
    rl_fit = fit_rl(tilted.d, [g - reference for g in tilted.gold])
    peak = int(np.argmax(per_g.mean(0)))
    lost_per_prompt = per_g[:, peak] - per_g[:, -1]
    band = bootstrap_band(lost_per_prompt[:, None], bootstrap, seed)[0]
    lost = float(lost_per_prompt.mean())
    return Findings(name=name, bon=bon, tilted=tilted, bon_fit=bon_fit, rl_fit=rl_fit, peak_n=int(ns[peak]),
                    peak_kl=kl_bon(ns[peak]), gold_at_peak=float(per_g[:, peak].mean()),
                    gold_at_max=float(per_g[:, -1].mean()), gold_lost=lost, gold_lost_band=band,
                    proxy_gain=float(per_p[:, -1].mean() - per_p[:, 0].mean()), turns_down=band[0] > 0)


def aggregate_members(members: Sequence[Sequence[np.ndarray]], rule: Rule, lam: float = 1.0) -> list[np.ndarray]:
    """Per prompt, the ensemble score under ``rule`` from ``members[m][prompt]`` (standardised per member first)."""
    if not members:
        raise ValueError("an ensemble needs at least one member")
    standardised = []
    for scores in members:
        pooled = np.concatenate(list(scores))
        std = float(pooled.std()) or 1.0
        standardised.append([(s - pooled.mean()) / std for s in scores])
    out = []
    for j in range(len(members[0])):
        stack = np.stack([m[j] for m in standardised])  # [M, N]
        if rule == "mean":
            out.append(stack.mean(0))
        elif rule == "min":
            out.append(stack.min(0))
        elif rule == "mean_minus_var":
            out.append(stack.mean(0) - lam * stack.var(0))
        else:
            raise ValueError(f"unknown ensemble rule {rule!r}; choose one of {', '.join(RULES)}")
    return out


def kl_budget(f: Findings) -> dict[str, Any]:
    """What a KL budget does: the KL-regularized policy's best gold and its KL, beside best-of-n at the same KL.

    Gao et al. found that a KL penalty acts like early stopping (it moves along the same gold-vs-KL
    frontier) rather than improving the frontier; this compares the two on this model's samples.
    """
    t = f.tilted
    k = int(np.argmax(t.gold))
    kl, gold = t.kl[k], t.gold[k]
    bon_gold = float(np.interp(kl, f.bon.kl, f.bon.gold))
    falls = t.gold[-1] < gold - 1e-9
    cap = (f"a KL budget of about {kl:.1f} nats holds the KL-regularized policy at its best gold ({gold:.3f}); "
           f"past it the gold falls to {t.gold[-1]:.3f} at {t.kl[-1]:.1f} nats" if falls else
           f"the KL-regularized policy's gold keeps rising up to {t.kl[-1]:.1f} nats ({t.gold[-1]:.3f}): no cap needed")
    same = "about the same as" if abs(gold - bon_gold) < 0.02 else ("above" if bon_gold > gold else "below")
    line = (f"{cap}; at that KL, best-of-n reaches {bon_gold:.3f}, {same} the KL-regularized optimum (a KL "
            "penalty moves along the gold-vs-KL frontier rather than lifting it, as Gao et al. found)"
            if same == "about the same as" else
            f"{cap}; at that KL, best-of-n reaches {bon_gold:.3f}, {same} the KL-regularized optimum")
    return {"kl": kl, "gold": gold, "beta": t.betas[k], "best_of_n_gold_at_kl": bon_gold, "caps": falls,
            "line": line}


def verdict(f: Findings) -> dict[str, Any]:
    """The operating point a team can act on, in one line, with the numbers behind it."""
    largest = f.bon.ns[-1]
    if f.turns_down:
        lo, hi = f.gold_lost_band
        line = (f"optimize to at most n ≈ {f.peak_n} (KL ≈ {f.peak_kl:.1f} nats) against {f.name}: past it the gold "
                f"falls by {f.gold_lost:.2f} (95% CI {lo:.2f}–{hi:.2f}) by n = {largest} while the proxy keeps "
                f"rising (+{f.proxy_gain:.2f} over n = 1)")
        return {"line": line, "n": f.peak_n, "kl": f.peak_kl, "over_optimizes": True, "kl_budget": kl_budget(f)}
    fit = f.bon_fit
    beyond = f" (the fit puts a peak beyond: {fit.reason})" if fit.d_peak is None and "beyond" in fit.reason else ""
    line = (f"no over-optimization of {f.name} up to n = {largest} (KL ≈ {kl_bon(largest):.1f} nats): the gold does "
            f"not fall significantly past its best (n ≈ {f.peak_n}){beyond}")
    return {"line": line, "n": largest, "kl": kl_bon(largest), "over_optimizes": False, "kl_budget": kl_budget(f)}
