"""Atomic training checkpoints, so a killed run can resume to the same result.

A checkpoint is a directory ``step-NNNNNNNN`` holding ``state.pt`` (model, optimizer,
scheduler and RNG states plus the loop position) and ``meta.json``. It is written to a
temporary directory and renamed into place, so a kill during the write never leaves a
half-written checkpoint that resume would pick up.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rewardlab.errors import CheckpointError

__all__ = ["latest_checkpoint", "load_checkpoint", "prune_checkpoints", "rng_state", "save_checkpoint", "set_rng_state"]


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def save_checkpoint(root: Path, step: int, state: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write ``root/step-{step}`` atomically and return its path."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:08d}"
    tmp = root / f".tmp-step-{step:08d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    torch.save(state, tmp / "state.pt")
    (tmp / "meta.json").write_text(json.dumps({**meta, "step": step}, indent=2, sort_keys=True))
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def latest_checkpoint(root: Path) -> Path | None:
    """The newest complete checkpoint under ``root`` (temporary directories are ignored)."""
    if not root.is_dir():
        return None
    done = sorted(p for p in root.glob("step-*") if (p / "meta.json").exists() and (p / "state.pt").exists())
    return done[-1] if done else None


def load_checkpoint(path: Path, expected_fingerprint: str) -> dict[str, Any]:
    """Load ``state.pt``, refusing a checkpoint from a run with a different config or data."""
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"checkpoint {path} is unreadable: {exc}") from exc
    if meta.get("fingerprint") != expected_fingerprint:
        raise CheckpointError(
            f"checkpoint {path} belongs to a run with a different config or data; "
            "resume with the same config and data, or start a new run directory"
        )
    try:
        state: dict[str, Any] = torch.load(path / "state.pt", map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise CheckpointError(f"checkpoint {path} is corrupt: {exc}") from exc
    return state


def prune_checkpoints(root: Path, keep: int, protect: Path | None = None) -> None:
    """Delete all but the newest ``keep`` checkpoints (never ``protect``)."""
    done = sorted(p for p in root.glob("step-*") if p.is_dir())
    for old in done[: max(0, len(done) - keep)]:
        if protect is None or old.resolve() != protect.resolve():
            shutil.rmtree(old, ignore_errors=True)
