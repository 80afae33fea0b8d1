"""rewardlab: train, evaluate, audit and serve reward models for LLM alignment.

The public API is listed in ``__all__``; names are imported lazily so that ``import rewardlab``
(and ``rewardlab --help``) stays fast and does not load torch until a model is needed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "RewardModel": "rewardlab.models",
    "RewardEnsemble": "rewardlab.models",
    "load_model": "rewardlab.models",
    "RewardScorer": "rewardlab.scoring",
    "Ranking": "rewardlab.data",
    "Rating": "rewardlab.data",
    "Label": "rewardlab.data",
    "load_rankings": "rewardlab.data",
    "load_ratings": "rewardlab.data",
    "load_labels": "rewardlab.data",
    "InputFormat": "rewardlab.models",
    "format_input": "rewardlab.models",
    "Comparison": "rewardlab.data",
    "Message": "rewardlab.data",
    "load_comparisons": "rewardlab.data",
    "split_by_prompt": "rewardlab.data",
    "RunConfig": "rewardlab.train",
    "run_training": "rewardlab.train",
    "evaluate": "rewardlab.eval",
    "EvalReport": "rewardlab.eval",
    "SynthConfig": "rewardlab.synth",
    "generate_world": "rewardlab.synth",
    "RewardLabError": "rewardlab.errors",
    "ConfigError": "rewardlab.errors",
    "DataError": "rewardlab.errors",
    "ModelError": "rewardlab.errors",
    "CheckpointError": "rewardlab.errors",
    "TrainingError": "rewardlab.errors",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rewardlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
