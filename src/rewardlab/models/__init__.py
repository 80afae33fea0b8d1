"""Reward models: backbone + scalar head, input formatting, padding-safe pooling, save/load, ensembles."""

from rewardlab.models.ensemble import RewardEnsemble
from rewardlab.models.formatting import InputFormat, format_input
from rewardlab.models.loading import Scorer, load_model
from rewardlab.models.reward_model import RewardModel, pad_batch

__all__ = ["InputFormat", "RewardEnsemble", "RewardModel", "Scorer", "format_input", "load_model", "pad_batch"]
