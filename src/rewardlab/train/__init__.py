"""Training: run config, length-bucketed batching, the explicit loop, checkpoints and resume."""

from rewardlab.train.config import DataConfig, EvalConfig, LossConfig, ModelConfig, OptimConfig, RunConfig
from rewardlab.train.run import TrainResult, run_training

__all__ = [
    "DataConfig",
    "EvalConfig",
    "LossConfig",
    "ModelConfig",
    "OptimConfig",
    "RunConfig",
    "TrainResult",
    "run_training",
]
