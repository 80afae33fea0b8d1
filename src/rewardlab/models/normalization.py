"""Reward normalization: the one place ``(r - mean) / std`` is applied (invariant 3, docs/architecture.md).

Every model kind (``RewardModel``, ``RewardEnsemble``, ``EmbeddingRewardModel``) keeps its
statistics in ``metadata["normalization"]`` and normalizes through this function; raw rewards
are what an exported Hugging Face model returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rewardlab.errors import ModelError

__all__ = ["normalize_rewards"]


def normalize_rewards(rewards: Sequence[float], metadata: Mapping[str, Any]) -> list[float]:
    """``(r - mean) / std`` with the statistics saved in ``metadata["normalization"]``."""
    stats = metadata.get("normalization")
    if not stats:
        raise ModelError("this model has no reward statistics; it was not trained and evaluated by rewardlab")
    mean, std = float(stats["mean"]), float(stats["std"]) or 1.0
    return [(r - mean) / std for r in rewards]
