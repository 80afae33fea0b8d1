"""Atomic, checksummed training checkpoints that load without unpickling, so a killed run resumes safely.

A checkpoint is a directory ``step-NNNNNNNN`` holding ``state.safetensors`` (every tensor:
model, optimizer moments, RNG), ``state.json`` (the rest of the state, see
``safe_state.py``) and ``meta.json`` (the run's fingerprint, the config and data hash it
depends on, and a SHA-256 of each state file). It is written into a temporary directory,
each file fsynced, then renamed into place and the parent fsynced, so a kill during the
write never leaves a half-written checkpoint under its final name. On resume the newest
checkpoint whose files match their checksums is used; a truncated or damaged newer one is
skipped with a note. A checkpoint from a different config or data is refused, naming what
differs; so is a ``state.pt`` pickle (older rewardlab versions), which is never loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rewardlab.errors import CheckpointError
from rewardlab.rundir import fsync_dir
from rewardlab.train.safe_state import decode_tree, encode_tree

__all__ = [
    "META_FILE",
    "STATE_FILES",
    "check_compatible",
    "check_train_state",
    "checkpoint_dirs",
    "describe_changes",
    "load_latest",
    "prune_checkpoints",
    "rng_state",
    "save_checkpoint",
    "set_rng_state",
]

TENSORS_FILE = "state.safetensors"
TREE_FILE = "state.json"
META_FILE = "meta.json"
LEGACY_FILE = "state.pt"
STATE_FILES = (TENSORS_FILE, TREE_FILE)


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states in checkpoint-safe types (no NumPy arrays)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return {"python": random.getstate(), "numpy": [str(kind), [int(k) for k in keys], int(pos), int(has_gauss),
                                                   float(cached)],
            "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def save_checkpoint(root: Path, step: int, state: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write ``root/step-{step}`` atomically (fsynced, checksummed) and return its path."""
    from safetensors.torch import save_file

    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:08d}"
    tmp = root / f".tmp-step-{step:08d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    tree, tensors = encode_tree(state)
    save_file(tensors, str(tmp / TENSORS_FILE))
    (tmp / TREE_FILE).write_text(json.dumps(tree), encoding="utf-8")
    for name in STATE_FILES:
        _fsync(tmp / name)
    sums = {name: _sha256(tmp / name) for name in STATE_FILES}
    (tmp / META_FILE).write_text(json.dumps({**meta, "step": step, "sha256": sums}, indent=2, sort_keys=True))
    _fsync(tmp / META_FILE)
    fsync_dir(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    fsync_dir(root)
    return final


def checkpoint_dirs(root: Path) -> list[Path]:
    """Every ``step-*`` directory under ``root``, oldest first (temporary directories are ignored)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("step-*") if p.is_dir())


class _Damaged(Exception):
    """A checkpoint whose files are missing, truncated or do not match their checksums."""


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _Damaged(f"{META_FILE} is unreadable ({exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), dict):
        raise _Damaged(f"{META_FILE} has no checksums")
    return meta


def _verify(path: Path, meta: dict[str, Any]) -> None:
    for name in STATE_FILES:
        file = path / name
        if not file.is_file():
            raise _Damaged(f"{name} is missing")
        if _sha256(file) != meta["sha256"].get(name):
            raise _Damaged(f"{name} does not match its checksum (truncated or changed)")


def _load_state(path: Path) -> dict[str, Any]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path / TENSORS_FILE))
        tree = json.loads((path / TREE_FILE).read_text(encoding="utf-8"))
    except (SafetensorError, OSError, ValueError) as exc:
        raise _Damaged(f"the state files cannot be read ({exc})") from exc
    try:
        state = decode_tree(tree, tensors)
    except CheckpointError as exc:
        raise CheckpointError(f"checkpoint {path}: {exc}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path}: the state is not a mapping")
    return state


#: What a training checkpoint's state holds, and the type of each entry.
_STATE_TYPES: dict[str, type | tuple[type, ...]] = {
    "model": dict, "optimizer": dict, "scheduler": dict, "rng": dict, "step": int, "epoch": int, "batch_pos": int,
    "history": list,
}


def check_train_state(state: Any, path: Path) -> None:
    """A :class:`CheckpointError` unless ``state`` has every entry the training loop restores, of the right type."""
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path}: the state is not a mapping")
    for key, kind in _STATE_TYPES.items():
        value = state.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) or (isinstance(value, int) and value < 0):
            raise CheckpointError(f"checkpoint {path}: the state's {key!r} is missing or malformed")
    if not all(isinstance(v, torch.Tensor) for v in state["model"].values()):
        raise CheckpointError(f"checkpoint {path}: the model state holds something other than tensors")
    rng = state["rng"]
    if not (isinstance(rng.get("torch"), torch.Tensor) and isinstance(rng.get("python"), tuple | list)
            and isinstance(rng.get("numpy"), list) and len(rng["numpy"]) == 5):
        raise CheckpointError(f"checkpoint {path}: the RNG state is malformed")


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix.rstrip("."): d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def describe_changes(old: Any, new: Any, limit: int = 6) -> str:
    """``train.lr 5e-05 -> 3e-05, data.train a -> b``: the dotted keys whose values differ."""
    a, b = _flat(old or {}), _flat(new or {})
    changed = [f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    more = f" and {len(changed) - limit} more" if len(changed) > limit else ""
    return ", ".join(changed[:limit]) + more


def _check_run(path: Path, meta: dict[str, Any], fingerprint: str, config: dict[str, Any] | None,
               train_hash: str | None) -> None:
    if meta.get("fingerprint") == fingerprint:
        return
    reasons = []
    if config is not None and "config" in meta:
        changes = describe_changes(meta["config"], config)
        if changes:
            reasons.append(f"config differs: {changes}")
    if train_hash is not None and meta.get("train_hash") not in (None, train_hash):
        reasons.append(f"the training data changed (hash {str(meta['train_hash'])[:12]} -> {train_hash[:12]})")
    why = "; ".join(reasons) or "its config or data differ"
    raise CheckpointError(f"checkpoint {path} belongs to a run with a different config or data ({why}); resume "
                          "with the same config and data (--resume without --config reuses the run's config.yaml), "
                          "or start a new run directory")


def _refuse_pickle(path: Path) -> None:
    """A checkpoint written by an older rewardlab as a pickle is refused, never loaded."""
    if (path / LEGACY_FILE).exists() and not (path / TENSORS_FILE).exists():
        raise CheckpointError(
            f"checkpoint {path} holds a pickled {LEGACY_FILE} (written by an older rewardlab); pickles are never "
            "loaded because they can run code. Train the run again with --overwrite"
        )


def check_compatible(
    root: Path, fingerprint: str, *, config: dict[str, Any] | None = None, train_hash: str | None = None
) -> None:
    """Refuse a resume into checkpoints of another run before anything is written (reads only ``meta.json``).

    The newest checkpoint with a readable ``meta.json`` decides; damaged ones are left for
    :func:`load_latest` to skip. A pickled ``state.pt`` is refused here too.
    """
    for path in reversed(checkpoint_dirs(root)):
        _refuse_pickle(path)
        try:
            meta = _read_meta(path)
        except _Damaged:
            continue
        _check_run(path, meta, fingerprint, config, train_hash)
        return


def load_latest(
    root: Path, fingerprint: str, *, config: dict[str, Any] | None = None, train_hash: str | None = None,
    log: Callable[[str], Any] = print,
) -> tuple[Path, dict[str, Any]] | None:
    """The newest intact checkpoint under ``root`` and its state; ``None`` when there is none at all.

    Damaged checkpoints (missing, truncated or changed files) are skipped with a note, newest
    first; a checkpoint of another run, or a pickled ``state.pt``, is refused.
    """
    found = checkpoint_dirs(root)
    if not found:
        return None
    problems = []
    for path in reversed(found):
        _refuse_pickle(path)
        try:
            meta = _read_meta(path)
            _check_run(path, meta, fingerprint, config, train_hash)
            _verify(path, meta)
            state = _load_state(path)
        except _Damaged as exc:
            problems.append(f"{path.name}: {exc}")
            log(f"note: checkpoint {path} is incomplete or damaged ({exc}); trying the one before it")
            continue
        if problems:
            log(f"resuming from {path.name}, the newest intact checkpoint")
        return path, state
    raise CheckpointError(f"no intact checkpoint under {root}: {'; '.join(problems)}. Train the run again with "
                          "--overwrite")


def prune_checkpoints(root: Path, keep: int, protect: Path | None = None) -> None:
    """Delete all but the newest ``keep`` checkpoints (never ``protect``)."""
    done = checkpoint_dirs(root)
    for old in done[: max(0, len(done) - keep)]:
        if protect is None or old.resolve() != protect.resolve():
            shutil.rmtree(old, ignore_errors=True)
