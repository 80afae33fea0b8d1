"""Validation of ``rewardlab.json``: every value a model directory's loader trusts, checked once, strictly.

A model directory is input like any data file: it may be hand-edited, truncated or crafted.
Anything that would otherwise load and then score wrongly (a fractional ``max_length`` that
truncates every input to the same tokens, a NaN combine weight, an ensemble member outside
the ensemble's directory) or crash later with a raw traceback is a :class:`ModelError` here,
naming the file, the key and what a valid value looks like.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

from rewardlab.errors import ModelError, typed_errors

__all__ = ["MAX_LENGTH_RANGE", "MODEL_TYPES", "check_metadata", "check_position_table", "typed_load"]

F = TypeVar("F", bound=Callable[..., Any])


def typed_load(fn: F) -> F:
    """Decorate a loader ``fn(cls_or_none, path, ...)``: whatever a dependency raises on a broken directory
    (transformers, tokenizers, safetensors, jinja) becomes a :class:`ModelError` naming the path."""

    @functools.wraps(fn)
    def load(*args: Any, **kwargs: Any) -> Any:
        path = next((a for a in args if isinstance(a, str | Path)), kwargs.get("path", kwargs.get("name_or_path")))
        with typed_errors(ModelError, f"{path} cannot be loaded"):
            return fn(*args, **kwargs)

    return load  # type: ignore[return-value]

#: ``max_length`` a model directory may name (as ``model.max_length`` in a run config).
MAX_LENGTH_RANGE = (8, 131072)
MODEL_TYPES = ("reward_model", "ensemble", "embedding_head")
_AGGREGATES = ("mean", "min", "mean_minus_std")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fail(file: Path, key: str, want: str, value: Any) -> ModelError:
    shown = repr(value)
    return ModelError(f"{file}: {key} must be {want}, got {shown[:80]}; re-export the model or fix the file")


def check_metadata(meta: Any, file: Path) -> dict[str, Any]:
    """``meta`` itself when every field a loader reads is well formed; otherwise a :class:`ModelError`."""
    if not isinstance(meta, Mapping):
        raise ModelError(f"{file} must hold a JSON object, got {type(meta).__name__}; re-export the model")
    for key in ("input_format", "max_length"):
        if key not in meta:
            raise ModelError(f"{file} lacks {key!r}; re-export the model")
    low, high = MAX_LENGTH_RANGE
    length = meta["max_length"]
    if not isinstance(length, int) or isinstance(length, bool) or not low <= length <= high:
        raise _fail(file, "max_length", f"a whole number of tokens from {low} to {high}", length)
    from rewardlab.models.formatting import InputFormat

    try:
        InputFormat.from_dict(meta["input_format"])
    except ModelError as exc:
        raise ModelError(f"{file}: {exc}") from None
    kind = meta.get("model_type", "reward_model")
    if kind not in MODEL_TYPES:
        raise _fail(file, "model_type", f"one of {', '.join(MODEL_TYPES)}", kind)
    _check_heads(meta.get("heads"), file)
    _check_normalization(meta.get("normalization"), file)
    if kind == "ensemble":
        _check_ensemble(meta, file)
    return dict(meta)


def _check_heads(heads: Any, file: Path) -> None:
    if heads is None:
        return
    if not isinstance(heads, Mapping):
        raise _fail(file, "heads", "an object with 'names' (and optional 'combine')", heads)
    names = heads.get("names")
    if names is not None and (not isinstance(names, list) or not names
                              or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names)):
        raise _fail(file, "heads.names", "a non-empty list of distinct output names", names)
    combine = heads.get("combine")
    if combine is None:
        return
    if not isinstance(combine, list) or not all(_finite(w) for w in combine):
        raise _fail(file, "heads.combine", "a list of finite numbers (one weight per head output)", combine)
    if len(combine) != len(names or ["reward"]):
        raise _fail(file, "heads.combine", f"one weight per head output ({len(names or ['reward'])})", combine)


def _check_normalization(stats: Any, file: Path) -> None:
    if stats is None:
        return
    ok = isinstance(stats, Mapping) and _finite(stats.get("mean")) and _finite(stats.get("std")) \
        and stats["std"] > 0
    if not ok:
        raise _fail(file, "normalization", "{'mean': a finite number, 'std': a finite number > 0}", stats)


def _plain_name(name: Any) -> bool:
    """A single path component: no separator, not '.' or '..', not absolute on any OS."""
    if not isinstance(name, str) or not name or name in (".", ".."):
        return False
    return len(PurePosixPath(name).parts) == 1 and len(PureWindowsPath(name).parts) == 1 and ":" not in name


def _check_ensemble(meta: Mapping[str, Any], file: Path) -> None:
    members = meta.get("members")
    if not isinstance(members, list) or not members:
        raise _fail(file, "members", "a non-empty list of member directory names", members)
    outside = [m for m in members if not _plain_name(m)]
    if outside:
        raise ModelError(f"{file}: ensemble members must be directories inside the ensemble directory (plain names "
                         f"such as member-0), got {outside[:3]!r}; a member path may not leave the directory")
    if len(set(members)) != len(members):
        raise _fail(file, "members", "distinct member names", members)
    aggregate = meta.get("aggregate", "mean")
    if aggregate not in _AGGREGATES:
        raise _fail(file, "aggregate", f"one of {', '.join(_AGGREGATES)}", aggregate)
    lam = meta.get("lam", 1.0)
    if not _finite(lam) or lam < 0:
        raise _fail(file, "lam", "a finite number >= 0", lam)


def check_position_table(config: Any, max_length: int, source: str) -> None:
    """Refuse a ``max_length`` longer than the backbone's position table (inputs that long would crash scoring)."""
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and 0 < positions < max_length:
        raise ModelError(f"{source}: max_length {max_length} exceeds the model's position table ({positions} "
                         f"positions); inputs that long cannot be scored. Use max_length <= {positions}")
