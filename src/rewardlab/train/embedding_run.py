"""``model.method=embedding`` inside a run: frozen embeddings + a small head, saved like any model.

The run directory gets the same ``config.yaml``, ``data_report.json`` and ``model/`` as a
fine-tuning run, so eval, score and serve treat the result like any other reward model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rewardlab import rundir
from rewardlab.errors import ConfigError
from rewardlab.train.config import RunConfig
from rewardlab.train.data import RunData, data_hash
from rewardlab.train.embedding import train_embedding_head
from rewardlab.train.loop import LoopResult
from rewardlab.train.records import TrainResult, write_run_records

__all__ = ["run_embedding"]


def run_embedding(cfg: RunConfig, run: Path, data: RunData, acc: Any, log: Callable[[str], Any]) -> Any:
    """Train the embedding head ``cfg.embedding`` describes on ``data`` and save it to ``run/model``."""

    if cfg.loss.records not in ("pairs", "labels") or cfg.loss.name == "tie_bt":
        raise ConfigError(
            f"model.method=embedding trains on pairs (embedding.loss=bradley_terry|classification) or good/bad "
            f"labels (loss.name=classification), not loss.name={cfg.loss.name}"
        )
    train_hash = data_hash(data.train)
    if acc.is_main_process:
        write_run_records(run, cfg, data, train_hash)
    model, timings = train_embedding_head(
        data.train, cfg.embedding, backbone=cfg.model.backbone, gguf_file=cfg.model.gguf_file,
        max_length=cfg.model.max_length, input_format=cfg.model.input_format, seed=cfg.train.seed,
        precision=cfg.train.precision, log=log,
    )
    model.metadata["data_hash"] = train_hash
    model.metadata["timings"] = timings
    model_dir = run / rundir.MODEL
    if acc.is_main_process:
        with rundir.atomic_dir(model_dir) as tmp:
            model.save_pretrained(tmp)
    acc.wait_for_everyone()
    seconds = timings["embed_seconds"] + timings["train_seconds"]
    loop = LoopResult(steps=cfg.embedding.epochs if cfg.embedding.head == "mlp" else cfg.embedding.trees,
                      pairs_seen=len(data.train), train_seconds=seconds,
                      pairs_per_s=len(data.train) / max(seconds, 1e-9), final_loss=float("nan"),
                      precision=model.metadata["embedding"]["precision"])
    return TrainResult(run_dir=run, model_dir=model_dir, model=model, loop=loop, data=data)
