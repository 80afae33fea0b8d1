"""A Bayesian reward model for the lab: a last-layer Laplace posterior on a frozen-embedding MLP head.

The head computes ``r(x) = wᵀφ(x) + b`` with ``φ`` its hidden layer (Linear → GELU). Keeping
everything below the last layer fixed at the trained weights, the Bradley-Terry log-likelihood
of the training pairs is concave in ``w``; its Laplace approximation around the trained ``w``
is Gaussian with precision

    H = Σ_pairs p(1 − p)·(φ_c − φ_r)(φ_c − φ_r)ᵀ + λ·I,    p = σ(r_c − r_r),

(``λ`` the prior precision; Daxberger et al., 2021, "Laplace Redux"). A response's reward then
has posterior standard deviation ``sqrt(φ(x)ᵀ H⁻¹ φ(x))``: large where the training pairs did
not constrain the reward (inputs unlike the training data), which is where a policy finds the
proxy's errors. The conservative score is ``r(x) − κ·std(x)``, the Bayesian counterpart of an
ensemble's mean − λ·var (Yang et al., 2024, "Bayesian reward models for LLM alignment").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from rewardlab.errors import ModelError

__all__ = ["LaplaceHead", "fit_laplace", "pair_embeddings"]


class LaplaceHead:
    """The posterior of a trained MLP head's last layer: mean rewards, their std, and the conservative score."""

    def __init__(self, head: Any, covariance: np.ndarray) -> None:
        self.head = head
        self.covariance = covariance

    def features(self, emb: np.ndarray) -> np.ndarray:
        """``φ(x)``: the head's hidden activations ``[N, hidden]`` (float64)."""
        with torch.inference_mode():
            x = torch.from_numpy(np.asarray(emb, dtype=np.float32))
            z = (x - self.head.shift) / self.head.scale
            hidden = self.head.net[1](self.head.net[0](z))
        return hidden.double().numpy()

    def std(self, emb: np.ndarray) -> np.ndarray:
        phi = self.features(emb)
        return np.sqrt(np.maximum(np.einsum("nd,de,ne->n", phi, self.covariance, phi), 0.0))

    def conservative(self, emb: np.ndarray, kappa: float) -> np.ndarray:
        """``r(x) − κ·std(x)``."""
        return np.asarray(self.head.predict(emb), dtype=np.float64) - kappa * self.std(emb)


def fit_laplace(head: Any, chosen_emb: np.ndarray, rejected_emb: np.ndarray, *,
                prior_precision: float = 1.0) -> LaplaceHead:
    """The last-layer Laplace posterior of ``head`` given its training pairs' embeddings (``[P, D]`` each)."""
    if not hasattr(head, "net") or len(head.net) != 3:
        raise ModelError("the Laplace posterior needs a frozen-embedding MLP head (embedding.head=mlp)")
    if prior_precision <= 0:
        raise ModelError(f"the prior precision must be > 0, got {prior_precision}")
    probe = LaplaceHead(head, np.zeros((0, 0)))
    diff = probe.features(chosen_emb) - probe.features(rejected_emb)  # [P, hidden]
    margin = np.asarray(head.predict(chosen_emb), dtype=np.float64) - np.asarray(head.predict(rejected_emb),
                                                                                  dtype=np.float64)
    p = 1.0 / (1.0 + np.exp(-margin))
    weight = p * (1.0 - p)
    precision = (diff * weight[:, None]).T @ diff + prior_precision * np.eye(diff.shape[1])
    return LaplaceHead(head, np.linalg.inv(precision))


def pair_embeddings(model: Any, pairs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of each pair's chosen and rejected response (through the model's embedding cache), at fp32
    as the head was trained (those embeddings are already in the cache)."""
    prompts = [p.prompt for p in pairs]
    chosen = model.embed(prompts, [p.chosen for p in pairs])
    rejected = model.embed(prompts, [p.rejected for p in pairs])
    return chosen, rejected
