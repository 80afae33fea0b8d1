"""``load_model``: open any rewardlab model directory with the right class.

Every kind of reward model rewardlab trains (fine-tuned or LoRA-merged ``RewardModel``, a
``RewardEnsemble``, an ``EmbeddingRewardModel``) answers the same ``score(prompts,
responses)`` call, so eval, score and serve take whatever this returns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rewardlab import rundir
from rewardlab.data.records import Prompt
from rewardlab.models.io import METADATA_FILE, read_metadata
from rewardlab.scoring import RewardScorer

__all__ = ["BoundScorer", "Scorer", "load_model"]


@runtime_checkable
class Scorer(RewardScorer, Protocol):
    """A reward model loaded from a directory: the scorer contract, its metadata, and saving.

    ``RewardModel``, ``RewardEnsemble`` and ``EmbeddingRewardModel`` satisfy it.
    """

    metadata: dict[str, Any]

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path: ...

    def write_metadata(self, path: Path) -> None:
        """(Re)write ``rewardlab.json`` and the model card from ``metadata``, leaving the weights alone."""
        ...


def load_model(path: str | os.PathLike[str]) -> Scorer:
    """A ``RewardModel``, ``RewardEnsemble`` or ``EmbeddingRewardModel``, by the directory's ``rewardlab.json``."""
    root = Path(path)
    _check_not_a_run_dir(root)
    meta = read_metadata(root) if root.is_dir() else None
    kind = (meta or {}).get("model_type", "reward_model")
    if kind == "ensemble":
        from rewardlab.models.ensemble import RewardEnsemble

        return RewardEnsemble.from_pretrained(root)
    if kind == "embedding_head":
        from rewardlab.models.embedding_model import EmbeddingRewardModel

        return EmbeddingRewardModel.from_pretrained(root)
    from rewardlab.models.reward_model import RewardModel

    return RewardModel.from_pretrained(root)


def _check_not_a_run_dir(root: Path) -> None:
    """A run directory (train/demo output) given where its model directory belongs: say which one was meant."""
    from rewardlab.errors import ModelError

    if root.is_dir() and not (root / METADATA_FILE).exists() and not (root / "config.json").exists() \
            and (root / rundir.MODEL / METADATA_FILE).is_file():
        raise ModelError(f"{root} is a run directory, not a model directory; did you mean {root / rundir.MODEL}?")


class BoundScorer:
    """A model whose ``score`` always gets some options (e.g. ``precision="bf16"``).

    The audit, suites and RewardBench scoring call ``score(prompts, responses, batch_size=...)``
    only, so they work with any scorer; this carries the run's precision through to them.
    """

    def __init__(self, model: RewardScorer, **options: Any) -> None:
        self.model = model
        self.options = options

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32,
              **options: Any) -> list[float]:
        return list(self.model.score(prompts, responses, batch_size=batch_size, **{**self.options, **options}))
