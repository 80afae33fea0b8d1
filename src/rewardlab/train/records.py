"""What a training run leaves behind: its result object and its records in the run directory.

Shared by the fine-tuning path (``train/run.py``) and the frozen-embedding path
(``train/embedding_run.py``), which both write ``config.yaml`` and ``data_report.json`` the
same way and return the same :class:`TrainResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rewardlab import rundir
from rewardlab.config import config_to_dict
from rewardlab.data import LengthReport
from rewardlab.models.loading import Scorer
from rewardlab.train.config import RunConfig
from rewardlab.train.data import RunData
from rewardlab.train.loop import LoopResult

__all__ = ["TrainResult", "write_run_records"]


@dataclass
class TrainResult:
    run_dir: Path
    model_dir: Path
    model: Scorer  # RewardModel; RewardEnsemble (ensemble.members > 1); EmbeddingRewardModel (method embedding)
    loop: LoopResult
    data: RunData
    lengths: dict[str, LengthReport] = field(default_factory=dict)



def write_run_records(run: Path, cfg: RunConfig, data: RunData, train_hash: str,
                      lengths: dict[str, str] | None = None) -> None:
    """``config.yaml`` and ``data_report.json``: what the run was asked to do and what it read.

    ``lengths`` is what the length policy did to each split (one line each); the frozen-embedding
    path, which measures no token lengths, leaves it empty.
    """
    rundir.write_text_atomic(run / rundir.CONFIG, yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    rundir.write_data_report(run, rundir.DataReportFile(notes=list(data.notes), counts=dict(data.counts),
                                                        train_hash=train_hash, lengths=dict(lengths or {})))
