"""The one explicit training loop (no ``transformers.Trainer``), on accelerate.

Each step: every sequence of a micro-batch (chosen and rejected of a pair, all K responses
of a ranking, ...) goes through the model in one forward pass, ``TrainModule`` turns the
rewards into the configured objective's loss, gradients accumulate over
``grad_accum`` micro-batches, then clip, step, schedule. The batch plan is a pure function
of the seed and epoch, and checkpoints hold every state that changes, so a killed run that
resumes from its latest checkpoint ends with the same weights as an unbroken run.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rewardlab import rundir
from rewardlab.errors import CheckpointError, TrainingError, typed_errors
from rewardlab.models.precision import autocast, resolve_precision
from rewardlab.models.reward_model import RewardModel
from rewardlab.objectives import bradley_terry, pairwise_accuracy
from rewardlab.train.batching import epoch_batches
from rewardlab.train.checkpoint import (
    check_train_state,
    load_latest,
    prune_checkpoints,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from rewardlab.train.config import OptimConfig
from rewardlab.train.examples import Batch, Examples
from rewardlab.train.pairs import TokenizedPairs
from rewardlab.train.train_module import TrainModule

__all__ = ["LoopResult", "train_loop"]


@dataclass
class LoopResult:
    """What the loop measured. ``pairs_per_s`` counts training compute only (no eval, no saving)."""

    steps: int
    pairs_seen: int
    train_seconds: float
    pairs_per_s: float
    final_loss: float
    history: list[dict[str, Any]] = field(default_factory=list)
    resumed_from: int | None = None
    precision: str = "fp32"


def _schedule(optimizer: torch.optim.Optimizer, cfg: OptimConfig, total_steps: int) -> Any:
    from transformers import get_scheduler

    name = "constant_with_warmup" if cfg.schedule == "constant" else cfg.schedule
    warmup = round(cfg.warmup_ratio * total_steps)
    return get_scheduler(name, optimizer, num_warmup_steps=warmup, num_training_steps=total_steps)


def _micro_batch(
    module: Any, batch: Batch, prec: str, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, accuracy) of one micro-batch: one forward over all of its sequences."""
    with autocast(prec, device):  # type: ignore[arg-type]
        return module(batch.input_ids.to(device), batch.attention_mask.to(device), batch.slots.to(device),
                      batch.values.to(device))


@torch.no_grad()
def eval_pairs(model: RewardModel, pairs: TokenizedPairs, batch_size: int, prec: str) -> dict[str, float]:
    """Mean BT loss and accuracy on tokenized pairs (used for periodic evaluation)."""
    chosen = model.score_ids(pairs.chosen, batch_size=batch_size, precision=prec)
    rejected = model.score_ids(pairs.rejected, batch_size=batch_size, precision=prec)
    c, r = torch.tensor(chosen), torch.tensor(rejected)
    return {"loss": float(bradley_terry(c, r)), "accuracy": float(pairwise_accuracy(c, r))}


def train_loop(
    model: TrainModule,
    train: Examples,
    *,
    optim: OptimConfig,
    run_dir: Path,
    fingerprint: str,
    eval_set: TokenizedPairs | None = None,
    resume: bool = False,
    accelerator: Any = None,
    config: dict[str, Any] | None = None,
    train_hash: str | None = None,
    log: Callable[[str], Any] = print,
) -> LoopResult:
    """Train ``model`` (the reward model and its loss parameters) on ``train`` in place.

    ``config`` and ``train_hash`` (what ``fingerprint`` was made from) are saved with each
    checkpoint so that a refused resume can name what differs. ``resume`` with no checkpoint
    yet starts from the first step.
    """
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    acc = accelerator or Accelerator(cpu=not torch.cuda.is_available())
    device = acc.device
    prec = resolve_precision(optim.precision, device)
    torch.manual_seed(optim.seed)
    world = acc.num_processes
    batches_per_epoch = len(epoch_batches(train.lengths(), optim.batch_size, seed=optim.seed, epoch=0,
                                          bucket=optim.bucket_by_length, world_size=world)) // world
    if batches_per_epoch == 0:
        raise TrainingError(
            f"{len(train)} training pairs make no full batch per process "
            f"(batch_size {optim.batch_size}, {world} processes); lower train.batch_size"
        )
    steps_per_epoch = max(1, batches_per_epoch // optim.grad_accum)
    total_steps = optim.max_steps or steps_per_epoch * optim.epochs
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    loss_params: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:  # frozen backbone weights under LoRA
            continue
        if not name.startswith("rm."):  # the loss's own parameters (tie ν/η, annotator temperatures)
            loss_params.append(p)
            continue
        (no_decay if p.ndim < 2 or "norm" in name.lower() else decay).append(p)
    groups: list[dict[str, Any]] = [{"params": decay, "weight_decay": optim.weight_decay},
                                    {"params": no_decay, "weight_decay": 0.0}]
    if loss_params:
        # A handful of scalars: at the backbone's learning rate they would barely move in one epoch.
        groups.append({"params": loss_params, "weight_decay": 0.0, "lr": model.cfg.param_lr})
    # The fused kernel (one pass over all parameters) is available on CPU and CUDA in recent torch.
    optimizer = torch.optim.AdamW(groups, lr=optim.lr, fused=device.type in ("cpu", "cuda"))
    scheduler = _schedule(optimizer, optim, total_steps)
    ddp_model, optimizer = acc.prepare(model, optimizer)
    ckpt_root = run_dir / rundir.CHECKPOINTS
    step, epoch, batch_pos, history, resumed_from = 0, 0, 0, [], None
    loaded = load_latest(ckpt_root, fingerprint, config=config, train_hash=train_hash, log=log) if resume else None
    if resume and loaded is None:
        log(f"--resume: no checkpoint under {ckpt_root} yet; training from the first step")
    if loaded is not None:
        found, state = loaded
        check_train_state(state, found)
        with typed_errors(CheckpointError, f"checkpoint {found} does not fit this run's model and optimizer"):
            acc.unwrap_model(ddp_model).load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            set_rng_state(state["rng"])
        step, epoch, batch_pos, history = state["step"], state["epoch"], state["batch_pos"], state["history"]
        log(f"resuming from {found.name} (step {step})")
        resumed_from = step

    def checkpoint(tag_step: int) -> Path | None:
        acc.wait_for_everyone()
        if not acc.is_main_process:
            return None
        state = {
            "model": acc.unwrap_model(ddp_model).state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": rng_state(),
            "step": tag_step, "epoch": epoch, "batch_pos": batch_pos, "history": history,
        }
        meta = {"fingerprint": fingerprint, "epoch": epoch, "config": config, "train_hash": train_hash}
        path = save_checkpoint(ckpt_root, tag_step, state, meta)
        prune_checkpoints(ckpt_root, optim.keep_checkpoints, protect=path)
        return path

    writer = _tensorboard(run_dir, acc.is_main_process, purge_step=step)
    bar = tqdm(total=total_steps, initial=step, disable=not (optim.progress and acc.is_main_process),
               desc="train", unit="step", dynamic_ncols=True,
               mininterval=1.0 if sys.stderr.isatty() else 30.0)  # a log file gets a line per 30 s, not per step
    ddp_model.train()
    train_seconds, pairs_seen, last_loss = 0.0, 0, float("nan")
    ema_loss: float | None = None
    ema_acc: float | None = None
    while step < total_steps:
        plan = epoch_batches(train.lengths(), optim.batch_size, seed=optim.seed, epoch=epoch,
                             bucket=optim.bucket_by_length, world_size=world)[acc.process_index :: world]
        plan = plan[: steps_per_epoch * optim.grad_accum]
        while batch_pos < len(plan) and step < total_steps:
            t0 = time.perf_counter()
            group = plan[batch_pos : batch_pos + optim.grad_accum]
            step_loss, step_acc, step_pairs = 0.0, 0.0, 0
            for k, indices in enumerate(group):
                batch = Batch.collate(train, indices, model.rm.pad_id)
                sync = k == len(group) - 1
                ctx = contextlib.nullcontext() if sync or world == 1 else acc.no_sync(ddp_model)
                with ctx:
                    loss, accuracy = _micro_batch(ddp_model, batch, prec, device)
                    if _any_rank_non_finite(loss, acc, world):
                        good = checkpoint(step)
                        raise TrainingError(
                            f"the loss became {_describe(loss)} at step {step} (epoch {epoch}); training stopped. "
                            f"The last good state is saved at {good or ckpt_root}. Lower train.lr, use "
                            "train.precision=fp32, or check the data for extreme margins."
                        )
                    acc.backward(loss / len(group))
                step_loss += loss.item() / len(group)
                step_acc += float(accuracy) / len(group)
                step_pairs += batch.size
            grad_norm = acc.clip_grad_norm_(ddp_model.parameters(), optim.grad_clip)
            if grad_norm is not None and not torch.isfinite(torch.as_tensor(grad_norm)):
                optimizer.zero_grad(set_to_none=True)
                good = checkpoint(step)
                raise TrainingError(
                    f"gradients became non-finite at step {step} (epoch {epoch}); training stopped. "
                    f"The last good state is saved at {good or ckpt_root}. Lower train.lr or use fp32."
                )
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            batch_pos += len(group)
            train_seconds += time.perf_counter() - t0
            pairs_seen += step_pairs * world
            last_loss = step_loss
            ema_loss = step_loss if ema_loss is None else 0.9 * ema_loss + 0.1 * step_loss
            ema_acc = step_acc if ema_acc is None else 0.9 * ema_acc + 0.1 * step_acc
            bar.update(1)
            bar.set_postfix(loss=f"{ema_loss:.3f}", acc=f"{ema_acc:.3f}",
                            pairs_s=f"{pairs_seen / max(train_seconds, 1e-9):.1f}", refresh=False)
            if step % optim.log_every == 0 or step == total_steps:
                entry = {"step": step, "epoch": epoch, "loss": step_loss, "accuracy": step_acc,
                         "lr": scheduler.get_last_lr()[0], "grad_norm": float(grad_norm or 0.0)}
                history.append(entry)
                _log(writer, "train", entry, step)
            if eval_set is not None and optim.eval_every and step % optim.eval_every == 0:
                if acc.is_main_process:
                    sub = eval_set.subset(range(min(len(eval_set), optim.eval_pairs)))
                    result = eval_pairs(acc.unwrap_model(ddp_model).rm, sub, optim.batch_size * 2, prec)
                    history.append({"step": step, "eval_loss": result["loss"], "eval_accuracy": result["accuracy"]})
                    _log(writer, "eval", result, step)
                acc.wait_for_everyone()
                ddp_model.train()
            if step % optim.save_every == 0 and step < total_steps:
                checkpoint(step)
        if batch_pos >= len(plan):
            epoch, batch_pos = epoch + 1, 0
    bar.close()
    if writer is not None:
        writer.close()
    if acc.is_main_process:
        rundir.write_text_atomic(run_dir / rundir.HISTORY, "".join(json.dumps(h) + "\n" for h in history))
    acc.wait_for_everyone()
    return LoopResult(
        steps=step, pairs_seen=pairs_seen, train_seconds=train_seconds,
        pairs_per_s=pairs_seen / train_seconds if train_seconds > 0 else 0.0,
        final_loss=last_loss if not math.isnan(last_loss) else float("nan"),
        history=history, resumed_from=resumed_from, precision=prec,
    )


def _any_rank_non_finite(loss: torch.Tensor, acc: Any, world: int) -> bool:
    """Whether the loss is NaN/inf on any process (all ranks must agree, or the stop would deadlock)."""
    bad = torch.tensor([0.0 if bool(torch.isfinite(loss)) else 1.0], device=loss.device)
    if world > 1:
        bad = acc.reduce(bad, reduction="sum")
    return bool(bad.item() > 0)


def _describe(loss: torch.Tensor) -> str:
    value = loss.item()
    return str(value) if not math.isfinite(value) else f"non-finite on another process (here {value:.4f})"


def _tensorboard(run_dir: Path, main: bool, purge_step: int) -> Any:
    if not main:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(run_dir / rundir.TENSORBOARD), purge_step=purge_step or None)


def _log(writer: Any, prefix: str, values: dict[str, Any], step: int) -> None:
    if writer is None:
        return
    for key, value in values.items():
        if key not in ("step", "epoch") and isinstance(value, int | float):
            writer.add_scalar(f"{prefix}/{key}", value, step)
