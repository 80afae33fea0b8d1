"""``--ensemble K``: train K members (different seeds, optionally bootstrap resamples) into one directory.

Each member is an ordinary run under ``RUN/members/k`` (its own checkpoints, so a killed
ensemble resumes member by member); the finished members move into ``RUN/model/member-k``
and the ensemble's ``rewardlab.json`` records how to aggregate them (models/ensemble.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from rewardlab import rundir
from rewardlab.config import config_to_dict, load_config
from rewardlab.errors import CheckpointError
from rewardlab.models.ensemble import RewardEnsemble
from rewardlab.train.checkpoint import describe_changes
from rewardlab.train.config import EnsembleConfig, RunConfig
from rewardlab.train.data import RunData, load_run_data
from rewardlab.train.loop import LoopResult
from rewardlab.train.run import TrainResult, fingerprint_config, run_training

__all__ = ["bootstrap", "run_ensemble"]


def bootstrap(records: list[Any], seed: int) -> list[Any]:
    """A resample with replacement of the records, drawn by prompt (a prompt's records stay together)."""
    groups: dict[str, list[Any]] = {}
    for r in records:
        groups.setdefault(r.group, []).append(r)
    keys = list(groups)
    rng = random.Random(f"rewardlab.bootstrap/{seed}")
    return [r for _ in keys for r in groups[rng.choice(keys)]]


def run_ensemble(cfg: RunConfig, run_dir: str | Path, *, resume: bool = False,
                 log: Callable[[str], Any] = print, on_start: Callable[[], Any] | None = None) -> TrainResult:
    """Train ``cfg.ensemble.members`` members and save them as one ensemble directory."""
    run = Path(run_dir)
    ens = cfg.ensemble
    data = load_run_data(cfg)
    if resume and (run / rundir.CONFIG).is_file():
        saved = load_config(RunConfig, run / rundir.CONFIG)
        if fingerprint_config(saved) != fingerprint_config(cfg):
            raise CheckpointError(f"{run} belongs to an ensemble run with a different config "
                                  f"({describe_changes(fingerprint_config(saved), fingerprint_config(cfg))}); resume "
                                  "with the same config (--resume without --config reuses the run's config.yaml)")
    if on_start is not None:
        on_start()
    rundir.write_text_atomic(run / rundir.CONFIG, yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    member_dirs, results = [], []
    for k in range(ens.members):
        seed = cfg.train.seed + k
        member_cfg = replace(cfg, train=replace(cfg.train, seed=seed), ensemble=EnsembleConfig())
        train = bootstrap(data.train, seed) if ens.bootstrap else list(data.train)
        member_data = RunData(train=train, heldout=list(data.heldout), notes=list(data.notes),
                              counts=dict(data.counts), world=data.world)
        member_run = run / rundir.MEMBERS / str(k)
        done = (member_run / rundir.MODEL / "rewardlab.json").exists()
        if resume and done:
            log(f"ensemble member {k + 1}/{ens.members}: already trained")
            member_dirs.append(member_run / rundir.MODEL)
            continue
        log(f"ensemble member {k + 1}/{ens.members} (seed {seed}{', bootstrap' if ens.bootstrap else ''})")
        checkpoints = member_run / rundir.CHECKPOINTS
        has_ckpt = checkpoints.exists() and any(checkpoints.glob("step-*"))
        result = run_training(member_cfg, member_run, resume=resume and has_ckpt, data=member_data,
                              log=lambda m, k=k: log(f"  [{k}] {m}"))  # type: ignore[misc]
        results.append(result)
        member_dirs.append(result.model_dir)
    model_dir = run / rundir.MODEL
    ensemble = RewardEnsemble.assemble(
        member_dirs, model_dir, aggregate=ens.aggregate, lam=ens.lam,
        metadata={"backbone": cfg.model.backbone, "ensemble": {"members": ens.members, "bootstrap": ens.bootstrap}},
    )
    loops = [r.loop for r in results]
    total = LoopResult(
        steps=sum(lp.steps for lp in loops), pairs_seen=sum(lp.pairs_seen for lp in loops),
        train_seconds=sum(lp.train_seconds for lp in loops),
        pairs_per_s=(sum(lp.pairs_seen for lp in loops) / max(sum(lp.train_seconds for lp in loops), 1e-9)),
        final_loss=loops[-1].final_loss if loops else float("nan"),
        precision=loops[-1].precision if loops else "fp32",
    )
    return TrainResult(run_dir=run, model_dir=model_dir, model=ensemble, loop=total, data=data)
