"""One training run: data -> length policy -> tokenize -> loop -> saved model directory.

The run directory holds ``config.yaml`` (resolved), ``data_report.json``,
``train_history.jsonl``, ``tensorboard/``, ``checkpoints/`` and ``model/``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from rewardlab.config import config_to_dict
from rewardlab.data import Comparison, LengthReport, apply_length_policy
from rewardlab.errors import ConfigError
from rewardlab.models.local import resolve_backbone
from rewardlab.models.reward_model import RewardModel
from rewardlab.train.config import RunConfig
from rewardlab.train.data import RunData, data_hash, load_run_data
from rewardlab.train.loop import LoopResult, train_loop
from rewardlab.train.pairs import tokenize_pairs

__all__ = ["TrainResult", "apply_lengths", "build_model", "run_training"]


@dataclass
class TrainResult:
    run_dir: Path
    model_dir: Path
    model: RewardModel
    loop: LoopResult
    data: RunData
    lengths: dict[str, LengthReport] = field(default_factory=dict)


def build_model(cfg: RunConfig) -> RewardModel:
    """A fresh reward model for the run's backbone, head initialised from the run's seed."""
    source, gguf = resolve_backbone(cfg.model.backbone, cfg.model.gguf_file)
    torch.manual_seed(cfg.train.seed)
    model = RewardModel.from_backbone(
        source, gguf_file=gguf, max_length=cfg.model.max_length, input_format=cfg.model.input_format,
        dropout=cfg.model.dropout,
    )
    model.metadata["backbone"] = cfg.model.backbone if cfg.model.backbone != "default" else "all-MiniLM-L6-v2"
    return model


def apply_lengths(
    model: RewardModel, records: list[Comparison], policy: str
) -> tuple[list[Comparison], LengthReport]:
    """Apply the over-length policy with true (untruncated) token counts."""
    prompts = [r.prompt for r in records]
    chosen = model.encode(prompts, [r.chosen for r in records], truncate=False)
    rejected = model.encode(prompts, [r.rejected for r in records], truncate=False)
    cost = {id(r): max(len(c), len(j)) for r, c, j in zip(records, chosen, rejected)}
    return apply_length_policy(records, lambda r: cost[id(r)], model.max_length, policy)  # type: ignore[arg-type]


def _fingerprint(cfg: RunConfig, train_hash: str) -> str:
    """Identifies what a checkpoint depends on (not cosmetic settings like the progress bar)."""
    d = config_to_dict(cfg)
    d["train"].pop("progress", None)
    d.pop("eval", None)
    return hashlib.sha256(json.dumps([d, train_hash], sort_keys=True).encode()).hexdigest()[:16]


def _silent(_: str) -> None:
    """Only the main process talks; the others train quietly."""


def run_training(
    cfg: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    data: RunData | None = None,
    log: Callable[[str], Any] = print,
) -> TrainResult:
    """Train a reward model as ``cfg`` says and save it to ``run_dir/model``."""
    from accelerate import Accelerator

    run = Path(run_dir)
    if not resume and (run / "checkpoints").exists() and any((run / "checkpoints").glob("step-*")):
        raise ConfigError(f"{run} already holds checkpoints; pass --resume to continue it or choose a new --out")
    acc = Accelerator(cpu=not torch.cuda.is_available())
    if not acc.is_main_process:
        log = _silent
    if acc.is_main_process:
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    data = data or load_run_data(cfg)
    for note in data.notes:
        log(note)
    model = build_model(cfg)
    lengths: dict[str, LengthReport] = {}
    data.train, lengths["train"] = apply_lengths(model, data.train, cfg.data.overlong)
    if data.heldout:
        data.heldout, lengths["heldout"] = apply_lengths(model, data.heldout, cfg.data.overlong)
    for name, report in lengths.items():
        log(f"{name}: {report.summary()}")
    train_hash = data_hash(data.train)
    if acc.is_main_process:
        summary = {"notes": data.notes, "counts": data.counts, "train_hash": train_hash,
                   "lengths": {k: v.summary() for k, v in lengths.items()}}
        (run / "data_report.json").write_text(json.dumps(summary, indent=2))
    train_pairs = tokenize_pairs(model, data.train)
    eval_pairs = tokenize_pairs(model, data.heldout) if cfg.train.eval_every and data.heldout else None
    result = train_loop(
        model, train_pairs, optim=cfg.train, loss_cfg=cfg.loss, run_dir=run,
        fingerprint=_fingerprint(cfg, train_hash), eval_set=eval_pairs, resume=resume, accelerator=acc,
    )
    model = acc.unwrap_model(model)
    model.metadata.update({
        "data_hash": train_hash,
        "train": {"pairs": len(data.train), "steps": result.steps, "pairs_per_s": round(result.pairs_per_s, 3),
                  "precision": result.precision},
    })
    model_dir = run / "model"
    if acc.is_main_process:
        model.save_pretrained(model_dir)
    acc.wait_for_everyone()
    return TrainResult(run_dir=run, model_dir=model_dir, model=model, loop=result, data=data, lengths=lengths)
