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
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

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

__all__ = ["LoopResult", "Position", "configure_optimizer", "restore", "train_loop"]


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


@dataclass
class Position:
    """Where training is: saved in every checkpoint and restored on resume."""

    step: int = 0
    epoch: int = 0
    batch_pos: int = 0  # micro-batches of this epoch's plan already done
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Meter:
    """Running totals for the result and the progress bar."""

    seconds: float = 0.0
    pairs: int = 0
    last_loss: float = float("nan")
    ema_loss: float | None = None
    ema_acc: float | None = None

    def add(self, seconds: float, pairs: int, loss: float, accuracy: float) -> None:
        self.seconds, self.pairs, self.last_loss = self.seconds + seconds, self.pairs + pairs, loss
        self.ema_loss = loss if self.ema_loss is None else 0.9 * self.ema_loss + 0.1 * loss
        self.ema_acc = accuracy if self.ema_acc is None else 0.9 * self.ema_acc + 0.1 * accuracy


def configure_optimizer(model: TrainModule, optim: OptimConfig, total_steps: int,
                        device: torch.device) -> tuple[torch.optim.Optimizer, Any]:
    """AdamW over the trainable parameters in three groups, and its learning-rate schedule.

    Weight decay applies to matrices only (not norms or biases); the loss's own scalars (tie ν/η,
    annotator temperatures) get ``loss.param_lr``: at the backbone's rate they would barely move
    in one epoch. Frozen parameters (LoRA's backbone, frozen embeddings) are left out.
    """
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    loss_params: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if not name.startswith("rm."):
            loss_params.append(p)
            continue
        (no_decay if p.ndim < 2 or "norm" in name.lower() else decay).append(p)
    groups: list[dict[str, Any]] = [{"params": decay, "weight_decay": optim.weight_decay},
                                    {"params": no_decay, "weight_decay": 0.0}]
    if loss_params:
        groups.append({"params": loss_params, "weight_decay": 0.0, "lr": model.cfg.param_lr})
    # The fused kernel (one pass over all parameters) is available on CPU and CUDA in recent torch.
    optimizer = torch.optim.AdamW(groups, lr=optim.lr, fused=device.type in ("cpu", "cuda"))
    return optimizer, _schedule(optimizer, optim, total_steps)


def restore(state: dict[str, Any], found: Path, acc: Any, ddp_model: Any, optimizer: Any, scheduler: Any) -> Position:
    """Load a checkpoint's model, optimizer, schedule and RNG state; the position it was saved at."""
    check_train_state(state, found)
    with typed_errors(CheckpointError, f"checkpoint {found} does not fit this run's model and optimizer"):
        acc.unwrap_model(ddp_model).load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
    return Position(state["step"], state["epoch"], state["batch_pos"], state["history"])


def _plan(train: Examples, optim: OptimConfig, epoch: int, world: int) -> list[list[int]]:
    """Every process's batches of one epoch (the caller takes its own share)."""
    groups = train.groups if optim.group_by_prompt else None
    return epoch_batches(train.lengths(), optim.batch_size, seed=optim.seed, epoch=epoch,
                         bucket=optim.bucket_by_length, world_size=world, groups=groups)


def _steps_per_epoch(train: Examples, optim: OptimConfig, world: int) -> int:
    batches = len(_plan(train, optim, 0, world)) // world
    if batches == 0:
        raise TrainingError(f"{len(train)} training pairs make no full batch per process "
                            f"(batch_size {optim.batch_size}, {world} processes); lower train.batch_size")
    return max(1, batches // optim.grad_accum)


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

    acc = accelerator or Accelerator(cpu=not torch.cuda.is_available())
    device, world = acc.device, acc.num_processes
    prec = resolve_precision(optim.precision, device)
    torch.manual_seed(optim.seed)
    steps_per_epoch = _steps_per_epoch(train, optim, world)
    total_steps = optim.max_steps or steps_per_epoch * optim.epochs
    optimizer, scheduler = configure_optimizer(model, optim, total_steps, device)
    ddp_model, optimizer = acc.prepare(model, optimizer)
    ckpt_root = run_dir / rundir.CHECKPOINTS
    pos, resumed_from = Position(), None
    loaded = load_latest(ckpt_root, fingerprint, config=config, train_hash=train_hash, log=log) if resume else None
    if resume and loaded is None:
        log(f"--resume: no checkpoint under {ckpt_root} yet; training from the first step")
    if loaded is not None:
        pos = restore(loaded[1], loaded[0], acc, ddp_model, optimizer, scheduler)
        resumed_from = pos.step
        log(f"resuming from {loaded[0].name} (step {pos.step})")

    def checkpoint() -> Path | None:
        acc.wait_for_everyone()
        if not acc.is_main_process:
            return None
        state = {"model": acc.unwrap_model(ddp_model).state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "rng": rng_state(), "step": pos.step, "epoch": pos.epoch,
                 "batch_pos": pos.batch_pos, "history": pos.history}
        meta = {"fingerprint": fingerprint, "epoch": pos.epoch, "config": config, "train_hash": train_hash}
        path = save_checkpoint(ckpt_root, pos.step, state, meta)
        prune_checkpoints(ckpt_root, optim.keep_checkpoints, protect=path)
        return path

    writer = _tensorboard(run_dir, acc.is_main_process, purge_step=pos.step)
    bar = tqdm(total=total_steps, initial=pos.step, disable=not (optim.progress and acc.is_main_process),
               desc="train", unit="step", dynamic_ncols=True,
               mininterval=1.0 if sys.stderr.isatty() else 30.0)  # a log file gets a line per 30 s, not per step
    meter = _Meter()
    ddp_model.train()
    while pos.step < total_steps:
        plan = _plan(train, optim, pos.epoch, world)[acc.process_index :: world]
        plan = plan[: steps_per_epoch * optim.grad_accum]
        while pos.batch_pos < len(plan) and pos.step < total_steps:
            t0 = time.perf_counter()
            group = plan[pos.batch_pos : pos.batch_pos + optim.grad_accum]
            loss, accuracy, pairs = _accumulate(ddp_model, train, group, model.rm.pad_id, prec, acc, world,
                                                stop=lambda what: _stopped(what, pos, checkpoint() or ckpt_root))
            grad_norm = _optimizer_step(ddp_model, optimizer, scheduler, acc, optim.grad_clip,
                                        stop=lambda what: _stopped(what, pos, checkpoint() or ckpt_root))
            pos.step, pos.batch_pos = pos.step + 1, pos.batch_pos + len(group)
            meter.add(time.perf_counter() - t0, pairs * world, loss, accuracy)
            bar.update(1)
            bar.set_postfix(loss=f"{meter.ema_loss:.3f}", acc=f"{meter.ema_acc:.3f}",
                            pairs_s=f"{meter.pairs / max(meter.seconds, 1e-9):.1f}", refresh=False)
            if pos.step % optim.log_every == 0 or pos.step == total_steps:
                entry = {"step": pos.step, "epoch": pos.epoch, "loss": loss, "accuracy": accuracy,
                         "lr": scheduler.get_last_lr()[0], "grad_norm": grad_norm}
                pos.history.append(entry)
                _log(writer, "train", entry, pos.step)
            if eval_set is not None and optim.eval_every and pos.step % optim.eval_every == 0:
                _periodic_eval(acc, ddp_model, eval_set, optim, prec, pos, writer)
            if pos.step % optim.save_every == 0 and pos.step < total_steps:
                checkpoint()
        if pos.batch_pos >= len(plan):
            pos.epoch, pos.batch_pos = pos.epoch + 1, 0
    bar.close()
    if writer is not None:
        writer.close()
    if acc.is_main_process:
        rundir.write_jsonl(run_dir / rundir.HISTORY, pos.history)
    acc.wait_for_everyone()
    return LoopResult(steps=pos.step, pairs_seen=meter.pairs, train_seconds=meter.seconds,
                      pairs_per_s=meter.pairs / meter.seconds if meter.seconds > 0 else 0.0,
                      final_loss=meter.last_loss, history=pos.history, resumed_from=resumed_from, precision=prec)


def _accumulate(ddp_model: Any, train: Examples, group: list[list[int]], pad_id: int, prec: str, acc: Any,
                world: int, stop: Callable[[str], TrainingError]) -> tuple[float, float, int]:
    """Forward and backward over one optimizer step's micro-batches; (mean loss, mean accuracy, pairs).

    Gradients synchronise across processes only on the last micro-batch. ``loss.item()`` syncs the
    device once per micro-batch: free on CPU, and the loss is needed on the host anyway for the
    non-finite check, which every process must agree on before any of them stops.
    """
    total_loss, total_acc, pairs = 0.0, 0.0, 0
    device = acc.device
    for k, indices in enumerate(group):
        batch = Batch.collate(train, indices, pad_id)
        last = k == len(group) - 1
        with contextlib.nullcontext() if last or world == 1 else acc.no_sync(ddp_model):
            loss, accuracy = _micro_batch(ddp_model, batch, prec, device)
            if _any_rank_non_finite(loss, acc, world):
                raise stop(f"the loss became {_describe(loss)}")
            acc.backward(loss / len(group))
        total_loss += loss.item() / len(group)
        total_acc += float(accuracy) / len(group)
        pairs += batch.size
    return total_loss, total_acc, pairs


def _optimizer_step(ddp_model: Any, optimizer: Any, scheduler: Any, acc: Any, clip: float,
                    stop: Callable[[str], TrainingError]) -> float:
    """Clip, refuse non-finite gradients, step the optimizer and the schedule; the gradient norm."""
    grad_norm = acc.clip_grad_norm_(ddp_model.parameters(), clip)
    if grad_norm is not None and not torch.isfinite(torch.as_tensor(grad_norm)):
        optimizer.zero_grad(set_to_none=True)
        raise stop("gradients became non-finite")
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return float(grad_norm or 0.0)


def _stopped(what: str, pos: Position, saved: Path) -> TrainingError:
    """The error that stops training, after the last good state was saved at ``saved``."""
    return TrainingError(
        f"{what} at step {pos.step} (epoch {pos.epoch}); training stopped. The last good state is saved at "
        f"{saved}. Lower train.lr, use train.precision=fp32, or check the data for extreme margins."
    )


def _periodic_eval(acc: Any, ddp_model: Any, eval_set: TokenizedPairs, optim: OptimConfig, prec: str,
                   pos: Position, writer: Any) -> None:
    """Held-out loss and accuracy on the first ``eval_pairs`` pairs (main process), into the history."""
    if acc.is_main_process:
        sub = eval_set.subset(range(min(len(eval_set), optim.eval_pairs)))
        result = eval_pairs(acc.unwrap_model(ddp_model).rm, sub, optim.batch_size * 2, prec)
        pos.history.append({"step": pos.step, "eval_loss": result["loss"], "eval_accuracy": result["accuracy"]})
        _log(writer, "eval", result, pos.step)
    acc.wait_for_everyone()
    ddp_model.train()


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
