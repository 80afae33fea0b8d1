"""Pure reward-model losses: tensors in, a scalar (or per-pair) tensor out.

No config reads, no logging: the training loop chooses and combines them.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

__all__ = ["Reduction", "bradley_terry", "pairwise_accuracy", "reward_centering"]

Reduction = Literal["mean", "sum", "none"]


def _reduce(values: torch.Tensor, reduction: Reduction, weights: torch.Tensor | None = None) -> torch.Tensor:
    if weights is not None:
        values = values * weights
        if reduction == "mean":
            return values.sum() / weights.sum().clamp(min=1e-12)
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def bradley_terry(
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    margin: torch.Tensor | None = None,
    *,
    weights: torch.Tensor | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Bradley-Terry negative log-likelihood ``-log σ(r_c - r_r - m)``.

    Bradley & Terry (1952); as a reward-model loss, Ouyang et al. (2022). The optional margin
    ``m`` (Touvron et al. 2023, Llama 2) asks the chosen reward to lead by at least ``m``.

    Args:
        chosen: ``[B]`` rewards of the preferred responses.
        rejected: ``[B]`` rewards of the dispreferred responses.
        margin: optional ``[B]`` per-pair margins.
        weights: optional ``[B]`` per-pair weights; ``mean`` then divides by their sum.
        reduction: ``mean``, ``sum`` or ``none`` (``[B]``).
    """
    diff = chosen - rejected
    if margin is not None:
        diff = diff - margin
    return _reduce(-F.logsigmoid(diff), reduction, weights)


def reward_centering(chosen: torch.Tensor, rejected: torch.Tensor, *, reduction: Reduction = "mean") -> torch.Tensor:
    """Auxiliary loss ``(r_c + r_r)^2`` that keeps rewards centred on zero.

    Eisenstein et al. (2023), "Helping or Herding?": BT is invariant to a shift of all rewards,
    so without it the offset drifts; multiply by a small coefficient (e.g. 0.01).
    Shapes: ``[B], [B] -> []`` (or ``[B]`` with ``reduction="none"``).
    """
    return _reduce((chosen + rejected) ** 2, reduction)


def pairwise_accuracy(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """Fraction of pairs with ``r_c > r_r``; exact ties count as wrong. ``[B], [B] -> []``."""
    return (chosen > rejected).float().mean()
