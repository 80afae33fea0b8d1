"""``rewardlab train``: the run's config, training, evaluation on the held-out pairs, and what follows.

Sits above train and eval (the layers of docs/architecture.md) so neither needs to know about the other.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab import rundir
from rewardlab.audit import AuditReport
from rewardlab.config import load_config
from rewardlab.errors import ConfigError
from rewardlab.eval import EvalReport, ScoredPair
from rewardlab.eval.suite_run import SuiteResult
from rewardlab.models.precision import resolve_precision
from rewardlab.models.train_prompts import write_train_prompts
from rewardlab.pipeline import evaluate_dataset
from rewardlab.train import RunConfig, TrainResult, run_training

__all__ = ["RunOutcome", "load_run_config", "train_and_evaluate"]


@dataclass
class RunOutcome:
    train: TrainResult
    report: EvalReport | None
    eval_seconds: float
    audit: AuditReport | None = None  # when the probes ran
    suite: SuiteResult | None = None  # when a suite ran
    page: Path | None = None  # report.html


def load_run_config(config: str | Path | None, overrides: Sequence[str] = (), *, base: dict[str, Any] | None = None,
                    resume_dir: str | Path | None = None) -> RunConfig:
    """The run config: ``config`` (a YAML file) over ``base``, then the ``--set`` overrides.

    Resuming without a config reuses the run's own resolved ``config.yaml`` (the overrides still
    apply on top), so a resumed run trains with the settings it started with.
    """
    if config is None and resume_dir is not None:
        saved = Path(resume_dir) / rundir.CONFIG
        if not saved.is_file():
            raise ConfigError(f"--resume without --config reuses {saved}, which does not exist; is --out {resume_dir} "
                              "a run directory?")
        config, base = saved, None
    return load_config(RunConfig, config, list(overrides), base=base)


def _headline_metrics(report: EvalReport) -> dict[str, float]:
    out = {"heldout_accuracy": report.accuracy, "ece": report.ece, "ece_calibrated": report.ece_calibrated,
           "temperature": report.temperature}
    if report.gold:
        out["gold_accuracy"] = report.gold["accuracy"]
    return {k: float(v) for k, v in out.items() if not math.isnan(v)}


def _normalization(pairs: list[ScoredPair]) -> dict[str, float]:
    rewards = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    return {"mean": statistics.fmean(rewards), "std": statistics.pstdev(rewards) or 1.0,
            "n": float(len(rewards)), "source": "held-out responses"}  # type: ignore[dict-item]


def train_and_evaluate(
    cfg: RunConfig, run_dir: str | Path, *, resume: bool = False, overwrite: bool = False,
    keep: tuple[str, ...] = (), log: Callable[[str], Any] = print,
) -> RunOutcome:
    """Train, evaluate on the held-out pairs, and record metrics and reward statistics with the model.

    The run directory must be empty unless ``resume`` (continue it) or ``overwrite`` (its
    owned entries are removed first; ``keep`` names entries this call's caller wrote and that
    must stay, such as the demo's ``data/``). ``run.json`` says whether the run is running,
    finished, failed or interrupted.
    """
    from accelerate import PartialState

    from rewardlab.pipeline.after_training import check_suite

    run = Path(run_dir)
    main = PartialState().is_main_process
    rundir.prepare_run_dir(run, resume=resume, overwrite=overwrite, keep=keep)
    check_suite(cfg)
    if main and overwrite:
        removed = rundir.clear_owned(run, keep=keep)
        if removed:
            log(f"--overwrite: removed {', '.join(removed)} from {run}")
    try:
        outcome = _train_and_evaluate(cfg, run, resume=resume, log=log, main=main)
    except BaseException as exc:
        if main and run.is_dir() and (rundir.read_status(run) or {}).get("state") == "running":
            state: rundir.RunState = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            rundir.write_status(run, state, error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    if main:
        rundir.write_status(run, "finished")
    return outcome


def _train_and_evaluate(cfg: RunConfig, run_dir: Path, *, resume: bool, log: Callable[[str], Any],
                        main: bool) -> RunOutcome:
    def start() -> None:
        rundir.write_status(run_dir, "running", resumed=resume)

    if cfg.ensemble.members > 1:
        from rewardlab.train.ensemble import run_ensemble

        result = run_ensemble(cfg, run_dir, resume=resume, log=log, on_start=start)
    else:
        result = run_training(cfg, run_dir, resume=resume, log=log, on_start=start)
    if not main:
        return RunOutcome(result, None, 0.0)  # evaluation and reporting happen once, on the main process
    loop = result.loop
    kind = cfg.loss.records
    write_train_prompts(result.model_dir, result.data.train)  # so eval can warn about training prompts
    log(f"trained {loop.steps} steps on {len(result.data.train)} {kind} in {loop.train_seconds:.0f}s "
        f"({loop.pairs_per_s:.1f} {kind}/s, {loop.precision})")
    if not result.data.heldout:
        return RunOutcome(result, None, 0.0)
    t0 = time.perf_counter()
    import torch

    precision = resolve_precision(cfg.eval.precision, torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    done = evaluate_dataset(result.model, result.data.heldout, batch_size=cfg.eval.batch_size,
                            precision=precision, seed=cfg.data.split_seed)
    report, pairs = done.report, done.pairs
    seconds = time.perf_counter() - t0
    model = result.model
    model.metadata["normalization"] = _normalization(pairs)
    model.metadata["metrics"] = _headline_metrics(report)
    model.write_metadata(result.model_dir)
    metrics = {"train": {"steps": loop.steps, kind: len(result.data.train), "examples_per_s": loop.pairs_per_s,
                         "objective": cfg.loss.name, "method": cfg.model.method,
                         "ensemble": cfg.ensemble.members,
                         "train_seconds": loop.train_seconds, "final_loss": loop.final_loss,
                         "precision": loop.precision},
               "eval": done.to_dict(), "eval_seconds": seconds, "eval_precision": precision}
    rundir.write_json(run_dir / rundir.METRICS, metrics)
    log(done.render("Held-out evaluation"))
    from rewardlab.pipeline.after_training import audit_run

    audit, suite, page = audit_run(cfg, run_dir, model, pairs, precision=precision, log=log)
    return RunOutcome(result, report, seconds, audit, suite, page)
