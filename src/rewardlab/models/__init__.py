"""Reward models: backbone + scalar head, input formatting, padding-safe pooling, save/load."""

from rewardlab.models.formatting import InputFormat, format_input
from rewardlab.models.reward_model import RewardModel, pad_batch

__all__ = ["InputFormat", "RewardModel", "format_input", "pad_batch"]
