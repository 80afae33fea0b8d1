"""What RL would converge to, for free: the KL-regularized optimum over the same candidates.

RL with a KL penalty ``β`` maximises ``E[r] − β·KL(π ‖ π_ref)``, whose optimum is the tilted
policy ``π_β(y) ∝ π_ref(y)·exp(r(y)/β)`` (Korbak et al., 2022; Rafailov et al., 2023). With
``π_ref`` uniform over a prompt's ``N`` sampled candidates the optimum is exact over them:
weights ``w ∝ exp(r/β)``, its KL ``Σ w·log(N·w)`` (nats), and its expected proxy and gold
``Σ w·r`` and ``Σ w·gold``. Sweeping ``β`` from large (the reference) to small (the argmax)
traces the proxy and gold an RL run would reach at each KL budget. The KL is capped at
``log N``: beyond that the candidates, not the policy, are the limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["TiltedCurve", "default_betas", "tilted_curve", "tilted_point"]


def tilted_point(proxy: Sequence[float], gold: Sequence[float], beta: float) -> tuple[float, float, float]:
    """``(KL, E[proxy], E[gold])`` of ``π_β ∝ exp(proxy/β)`` over one prompt's candidates (uniform reference)."""
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    r = np.asarray(proxy, dtype=np.float64)
    g = np.asarray(gold, dtype=np.float64)
    logits = r / beta
    logits -= logits.max()
    w = np.exp(logits)
    w /= w.sum()
    nz = w > 0
    kl = float(np.sum(w[nz] * np.log(len(r) * w[nz])))
    return max(kl, 0.0), float(w @ r), float(w @ g)


def default_betas(proxy: Sequence[Sequence[float]], points: int = 24) -> list[float]:
    """β from 30× to 1/300× the proxy's typical within-prompt spread, log-spaced (large β first)."""
    spreads = [float(np.std(p)) for p in proxy if len(p) > 1]
    scale = float(np.median(spreads)) if spreads and np.median(spreads) > 0 else 1.0
    return [float(b) for b in scale * np.logspace(math.log10(30), math.log10(1 / 300), points)]


@dataclass(frozen=True)
class TiltedCurve:
    """The tilted policy over many prompts: for each β, mean KL, proxy and gold over prompts."""

    betas: list[float]
    kl: list[float]
    proxy: list[float]
    gold: list[float]
    n_prompts: int

    @property
    def d(self) -> list[float]:
        return [math.sqrt(k) for k in self.kl]

    def to_dict(self) -> dict[str, object]:
        return {"beta": self.betas, "kl": self.kl, "d": self.d, "proxy": self.proxy, "gold": self.gold,
                "n_prompts": self.n_prompts}


def tilted_curve(proxy: Sequence[Sequence[float]], gold: Sequence[Sequence[float]],
                 betas: Sequence[float] | None = None) -> TiltedCurve:
    """The tilted optimum for each β, averaged over prompts (each prompt its own uniform reference)."""
    if not proxy or len(proxy) != len(gold):
        raise ValueError("need proxy and gold scores for the same, non-empty list of prompts")
    betas = list(betas) if betas is not None else default_betas(proxy)
    kl, pr, go = [], [], []
    for beta in betas:
        points = np.array([tilted_point(p, g, beta) for p, g in zip(proxy, gold)])
        kl.append(float(points[:, 0].mean()))
        pr.append(float(points[:, 1].mean()))
        go.append(float(points[:, 2].mean()))
    return TiltedCurve(betas=[float(b) for b in betas], kl=kl, proxy=pr, gold=go, n_prompts=len(proxy))
