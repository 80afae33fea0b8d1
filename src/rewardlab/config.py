"""Typed configs: frozen dataclasses built from YAML plus dotted ``--set key=value`` overrides.

Loading is strict. An unknown key, a value of the wrong type, NaN or infinity, or an invalid
choice raises :class:`~rewardlab.errors.ConfigError` naming the dotted field (and the closest
valid key for typos), so a misspelt option can never be silently ignored.

Paths: a config class may list its path-valued keys in ``PATH_KEYS``. A relative path in a
YAML file is read from that file's folder (as every config system users know does); one
given with ``--set`` from the current directory. Either becomes absolute when it exists (or
plainly names a file), so a saved config means the same from any directory; other values
(hub ids such as ``Anthropic/hh-rlhf``, ``synth``, ``builtin:NAME``) are left as they are.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import math
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import yaml

from rewardlab.errors import ConfigError

__all__ = ["apply_overrides", "config_from_dict", "config_to_dict", "load_config", "merge_dicts", "resolve_paths"]

T = TypeVar("T")


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A plain, YAML-safe dict of a config (tuples become lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return {k: plain(v) for k, v in dataclasses.asdict(cfg).items()}


def config_from_dict(cls: type[T], data: Any, prefix: str = "") -> T:
    """Build dataclass ``cls`` from a mapping, checking every key and value."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {prefix + close[0]!r}?" if close else f"; valid keys: {', '.join(fields)}"
            raise ConfigError(f"unknown config key {dotted!r}{hint}")
        kwargs[key] = _coerce(hints[key], value, dotted)
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid {prefix.rstrip('.') or 'config'}: {exc}") from exc


def _coerce(tp: Any, value: Any, dotted: str) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return config_from_dict(tp, value, dotted + ".")  # type: ignore[arg-type]
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(arg, value, dotted)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{dotted}: {value!r} matches none of {args}")
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise ConfigError(f"{dotted} must be one of {', '.join(map(repr, choices))}; got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{dotted} must be a list, got {value!r}")
        inner = get_args(tp)[0] if get_args(tp) else Any
        return tuple(_coerce(inner, v, f"{dotted}[{i}]") for i, v in enumerate(value))
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{dotted} must be a mapping, got {value!r}")
        return dict(value)
    return _scalar(tp, value, dotted)


def _scalar(tp: Any, value: Any, dotted: str) -> Any:
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{dotted} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{dotted} must be an integer, got {value!r}")
    if tp is float:
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):  # YAML 1.1 reads '1e-4' (no dot) as a string
            with contextlib.suppress(ValueError):
                number = float(value)
        if number is None:
            raise ConfigError(f"{dotted} must be a number, got {value!r}")
        if not math.isfinite(number):
            raise ConfigError(f"{dotted} must be a finite number, got {value!r}")
        return number
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{dotted} must be a string, got {value!r}")
    raise ConfigError(f"{dotted}: unsupported config type {tp!r}")  # pragma: no cover


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` strings (values parsed as YAML scalars) to a nested dict copy."""
    out: dict[str, Any] = _deep_copy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key.subkey=value")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise ConfigError(f"override {item!r} has an empty key part")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: cannot parse value: {exc}") from exc
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = value
    return out


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}


def merge_dicts(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``top`` laid over it, section by section (nested mappings merge, other values replace)."""
    out = dict(base)
    for k, v in top.items():
        out[k] = merge_dicts(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else v
    return out


#: Values of path keys that are names, never paths.
_NOT_PATHS = ("synth", "default", "minilm", "smollm2", "auto", "none", "off", "")
_PATH_SUFFIXES = (".jsonl", ".gz", ".json", ".csv", ".parquet", ".yaml", ".yml", ".gguf", ".safetensors", ".txt")


def _resolve_path(value: str, folder: Path) -> str:
    if value.lower() in _NOT_PATHS or ":" in value.split("/", 1)[0]:  # builtin:NAME, hf://, C:
        return value
    path = Path(os.path.expanduser(value))
    if path.is_absolute():
        return str(path)
    candidate = folder / path
    plainly_a_path = value.startswith((".", "~")) or value.lower().endswith(_PATH_SUFFIXES)
    if candidate.exists() or plainly_a_path:
        return str(candidate.resolve())
    return value  # a hub id (owner/name) or a name the consumer knows


def resolve_paths(data: dict[str, Any], keys: typing.Iterable[str], folder: Path) -> dict[str, Any]:
    """A copy of ``data`` with each dotted key of ``keys`` that holds a relative path made absolute from ``folder``."""
    out = _deep_copy(data)
    for dotted in keys:
        *sections, last = dotted.split(".")
        node: Any = out
        for part in sections:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(last), str):
            node[last] = _resolve_path(node[last], folder)
    return out


def _read_yaml(file: Path) -> dict[str, Any]:
    if not file.is_file():
        raise ConfigError(f"config file {file} does not exist")
    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file} is not valid YAML: {exc}") from exc
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{file} must hold a mapping at the top level")
    return loaded or {}


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None, *,
                base: Mapping[str, Any] | None = None) -> T:
    """Load ``cls`` from ``base`` (e.g. embedded defaults), an optional YAML file and dotted overrides, strictly.

    Later sources win key by key. Path keys (``cls.PATH_KEYS``) of the file resolve against
    the file's folder, those of the overrides against the current directory.
    """
    keys = tuple(getattr(cls, "PATH_KEYS", ()))
    data: dict[str, Any] = dict(base or {})
    if path is not None:
        file = Path(path)
        data = merge_dicts(data, resolve_paths(_read_yaml(file), keys, file.resolve().parent))
    with_overrides = apply_overrides(data, overrides or [])
    touched = apply_overrides({}, overrides or [])
    merged = merge_dicts(with_overrides, resolve_paths(touched, keys, Path.cwd()))
    return config_from_dict(cls, merged)
