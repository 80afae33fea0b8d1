"""Pure reward-model losses: tensors in, a scalar (or per-pair) tensor out.

No config reads, no logging: the training loop chooses and combines them.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

__all__ = [
    "Reduction",
    "annotator_bradley_terry",
    "binary_cross_entropy",
    "bradley_terry",
    "davidson",
    "head_orthogonality",
    "masked_mse",
    "odin_disentangle",
    "pairwise_accuracy",
    "plackett_luce",
    "ranking_pairs",
    "rao_kupper",
    "reward_centering",
    "strength_margin",
]

#: Stand-in for -inf in masked log-sum-exp: finite, so gradients stay finite too.
_MASKED = -1e9

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


def plackett_luce(rewards: torch.Tensor, mask: torch.Tensor, *, reduction: Reduction = "mean") -> torch.Tensor:
    """Plackett-Luce negative log-likelihood of rankings, best first.

    Plackett (1975), Luce (1959); for reward models, Zhu et al. (2023). The probability of an
    order is the product over positions of ``exp(r_k) / sum_{j >= k} exp(r_j)``; with K = 2 it
    is exactly Bradley-Terry.

    Args:
        rewards: ``[G, K]`` rewards of each group's responses, ordered best to worst.
        mask: ``[G, K]`` bool, True for real entries (groups shorter than K are padded at the end).
        reduction: over groups; ``none`` returns ``[G]``.
    """
    masked = rewards.masked_fill(~mask, _MASKED)
    # suffix log-sum-exp: lse[k] = log sum_{j >= k} exp(r_j)
    suffix = torch.logcumsumexp(masked.flip(-1), dim=-1).flip(-1)
    terms = torch.where(mask, suffix - masked, torch.zeros_like(masked))
    return _reduce(terms.sum(-1), reduction)


def ranking_pairs(rewards: torch.Tensor, mask: torch.Tensor, *, reduction: Reduction = "mean") -> torch.Tensor:
    """Bradley-Terry over all C(K, 2) pairs of each ranking, each ranking weighted once.

    Ouyang et al. (2022), InstructGPT: a K-way ranking gives C(K, 2) comparisons, put in one
    batch element so that a prompt with many pairs does not dominate (and does not overfit).
    Shapes: ``[G, K], [G, K] -> []`` (``[G]`` with ``reduction="none"``), best first.
    """
    diff = rewards.unsqueeze(-1) - rewards.unsqueeze(-2)  # [G, K, K]: r_i - r_j
    k = rewards.shape[-1]
    upper = torch.ones(k, k, dtype=torch.bool, device=rewards.device).triu(1)  # i better than j when i < j
    valid = upper & mask.unsqueeze(-1) & mask.unsqueeze(-2)
    nll = torch.where(valid, -F.logsigmoid(diff), torch.zeros_like(diff)).sum((-1, -2))
    per_group = nll / valid.sum((-1, -2)).clamp(min=1)
    return _reduce(per_group, reduction)


def davidson(
    chosen: torch.Tensor, rejected: torch.Tensor, tie: torch.Tensor, log_nu: torch.Tensor,
    *, reduction: Reduction = "mean",
) -> torch.Tensor:
    """Tie-aware Bradley-Terry of Davidson (1970).

    ``P(c > r) = e^{r_c} / Z``, ``P(tie) = ν e^{(r_c + r_r)/2} / Z`` with
    ``Z = e^{r_c} + e^{r_r} + ν e^{(r_c + r_r)/2}``. As ``ν -> 0`` it is Bradley-Terry. For a tie
    the order of chosen and rejected does not matter.

    Args:
        chosen, rejected: ``[B]`` rewards; tie: ``[B]`` bool; log_nu: scalar ``log ν``.
    """
    half = (chosen - rejected) / 2
    log_nu = log_nu.expand_as(half)
    log_z = torch.logsumexp(torch.stack([half, -half, log_nu]), dim=0)
    return _reduce(log_z - torch.where(tie, log_nu, half), reduction)


def rao_kupper(
    chosen: torch.Tensor, rejected: torch.Tensor, tie: torch.Tensor, eta: torch.Tensor,
    *, reduction: Reduction = "mean",
) -> torch.Tensor:
    """Tie-aware Bradley-Terry of Rao & Kupper (1967), with threshold ``η = log θ >= 0``.

    ``P(c > r) = σ(d - η)``, ``P(tie) = 1 - σ(d - η) - σ(-d - η)`` with ``d = r_c - r_r``: a
    difference smaller than ``η`` reads as a tie. ``η = 0`` is Bradley-Terry.
    Shapes: ``[B], [B], [B] bool, [] -> []``.
    """
    d = chosen - rejected
    eta = eta.expand_as(d)
    win = F.softplus(eta - d)
    # log P(tie) = log(e^{2η} - 1) - softplus(η - d) - softplus(η + d), with log(e^{2η}-1) written stably
    log_tie_num = 2 * eta + torch.log(-torch.expm1(-2 * eta).clamp(max=-1e-12))
    tie_nll = -(log_tie_num - win - F.softplus(eta + d))
    return _reduce(torch.where(tie, tie_nll, win), reduction)


def annotator_bradley_terry(
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    log_temperature: torch.Tensor,
    bias_diff: torch.Tensor | None = None,
    *,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Bradley-Terry with each pair's annotator noise: ``-log σ((r_c + b_c - r_r - b_r) / T_a)``.

    The annotator model of the synthetic world (and of Dawid & Skene-style label models):
    annotator ``a`` prefers ``i`` when ``r_i + b_i(a) + noise > r_j + b_j(a) + noise`` with noise of
    scale ``T_a``. A noisy annotator's labels pull the rewards less.

    Args:
        chosen, rejected: ``[B]`` rewards; log_temperature: ``[B]`` ``log T_a`` of each pair's
            annotator; bias_diff: optional ``[B]`` ``b_c(a) - b_r(a)``.
    """
    diff = chosen - rejected
    if bias_diff is not None:
        diff = diff + bias_diff
    return _reduce(-F.logsigmoid(diff * torch.exp(-log_temperature)), reduction)


def masked_mse(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, *, reduction: Reduction = "mean"
) -> torch.Tensor:
    """Mean squared error over the observed entries only (multi-attribute ratings, HelpSteer-style).

    Shapes: ``[B, A], [B, A], [B, A] bool -> []`` (``mean`` divides by the number of observed
    entries) or ``[B, A]`` with ``reduction="none"`` (missing entries are 0).
    """
    err = torch.where(mask, (pred - target) ** 2, torch.zeros_like(pred))
    if reduction == "mean":
        return err.sum() / mask.sum().clamp(min=1)
    return _reduce(err, reduction)


def binary_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, *, weights: torch.Tensor | None = None, reduction: Reduction = "mean"
) -> torch.Tensor:
    """``-[y log σ(r) + (1 - y) log(1 - σ(r))]``: good/bad labels, or chosen = 1 / rejected = 0.

    The pairwise "classification" reward model of Sun, Shen & Ton (2025) trains each response
    of a pair alone with this loss. Shapes: ``[B], [B] -> []``.
    """
    return _reduce(F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), reduction="none"),
                   reduction, weights)


def strength_margin(strength: int | None, table: tuple[float, ...]) -> float:
    """The Llama-2 margin for a preference-strength rating (Touvron et al. 2023, Table 28).

    ``table[s]`` is the margin for strength ``s`` (Llama 2: 0, 1/3, 2/3, 1 for "negligibly
    better" ... "significantly better"); missing strength gives 0, strengths past the table
    the last entry.
    """
    if strength is None or not table:
        return 0.0
    return float(table[min(max(int(strength), 0), len(table) - 1)])


def odin_disentangle(
    quality_diff: torch.Tensor,
    length_diff_head: torch.Tensor,
    length_diff: torch.Tensor,
    *,
    quality_coef: float = 1.0,
    length_coef: float = 1.0,
    floor: float = 1.0,
) -> torch.Tensor:
    """ODIN's correlation terms: ``λ_Q·|ρ(Δr_Q, ΔL)| − λ_L·ρ(Δr_L, ΔL)``.

    Chen et al. (2024), "ODIN: Disentangled Reward Mitigates Hacking in RLHF": the reward is
    split into a quality head ``r_Q`` and a length head ``r_L``, the Bradley-Terry loss is put on
    their sum, the length head is pushed to explain length and the quality head to be
    uncorrelated with it. Here the correlations are taken over within-pair *differences*
    (chosen minus rejected), so a shared prompt's length cancels and only the responses'
    length difference counts.

    The reward differences' standard deviation is floored at ``sqrt(floor)`` (reward units) in
    the correlation: a plain correlation's gradient grows like ``1 / std`` and, at
    initialisation, when the heads' outputs are tiny, it swamps the Bradley-Terry signal
    (measured: the model then learns nothing). The length differences are standardised first.

    Args:
        quality_diff: ``[B]`` ``r_Q(chosen) - r_Q(rejected)``.
        length_diff_head: ``[B]`` ``r_L(chosen) - r_L(rejected)``.
        length_diff: ``[B]`` token-count difference of the two responses.
    """
    z = length_diff.to(quality_diff.dtype)
    z = (z - z.mean()) / (z.std(unbiased=False) + 1e-8)
    return (quality_coef * _floored_correlation(quality_diff, z, floor).abs()
            - length_coef * _floored_correlation(length_diff_head, z, floor))


def _floored_correlation(x: torch.Tensor, z: torch.Tensor, floor: float) -> torch.Tensor:
    """Correlation of ``x`` with a standardised ``z``, dividing by ``max(std(x), sqrt(floor))``.

    Above the floor this is the plain correlation (scale-free, so shrinking ``x`` cannot lower
    it); below it, the gradient stays bounded.
    """
    xc = x - x.mean()
    sd = torch.sqrt((xc * xc).mean())
    return (xc * z).mean() / torch.clamp(sd, min=floor**0.5)


def head_orthogonality(w_quality: torch.Tensor, w_length: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """ODIN's orthogonality term ``|cos(W_Q, W_L)|`` between the two heads' weight vectors ``[H], [H] -> []``.

    Chen et al. (2024) penalise ``|W_Q^T W_L|``; the cosine is the same idea made scale-free,
    so the term cannot be lowered just by shrinking the length head.
    """
    return (w_quality @ w_length).abs() / (w_quality.norm() * w_length.norm() + eps)
