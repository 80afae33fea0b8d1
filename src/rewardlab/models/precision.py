"""Device and numeric precision choices, made once and passed in (never read globally)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Literal

import torch

from rewardlab.errors import ConfigError

__all__ = ["Precision", "autocast", "cast_linear_weights", "cpu_has_fast_bf16", "resolve_precision"]

Precision = Literal["auto", "fp32", "bf16"]


@lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 matmul (AMX or AVX512-BF16), where bf16 autocast pays off.

    Without these instructions bf16 on CPU is emulated and slower than fp32.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags for f in (" amx_bf16", " avx512_bf16"))


def resolve_precision(requested: str, device: torch.device) -> Literal["fp32", "bf16"]:
    """Turn ``auto`` into ``bf16`` where the hardware runs it fast, else ``fp32``."""
    if requested not in ("auto", "fp32", "bf16"):
        raise ConfigError(f"precision must be auto, fp32 or bf16, got {requested!r}")
    if requested != "auto":
        return requested  # type: ignore[return-value]
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return "fp32"


@contextlib.contextmanager
def autocast(precision: Literal["fp32", "bf16"], device: torch.device) -> Iterator[None]:
    """bf16 autocast on the device when asked for, a no-op for fp32."""
    if precision == "bf16":
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
    else:
        yield


def cast_linear_weights(module: torch.nn.Module, dtype: torch.dtype = torch.bfloat16) -> int:
    """Store every ``nn.Linear`` weight and bias in ``dtype`` once, for inference under autocast.

    bf16 autocast casts a linear layer's fp32 weight and bias to bf16 on every forward (its cast
    cache lives only as long as one ``autocast`` block); on MiniLM that re-cast is most of a
    batch-1 forward. Stored in bf16, they are cast once, and scores are bit-identical, because
    autocast would have rounded them the same way. Only ``nn.Linear`` layers are touched
    (embeddings and norms stay fp32), and a layer whose weight is shared with another kind of
    module (tied input/output embeddings) is skipped. The module is then for bf16-autocast
    inference only: do not train it or run it in fp32. Returns the number of layers cast.
    """
    elsewhere = {id(p) for m in module.modules() if not isinstance(m, torch.nn.Linear)
                 for p in m.parameters(recurse=False)}
    cast = 0
    for layer in module.modules():
        if not isinstance(layer, torch.nn.Linear):
            continue
        params = [p for p in (layer.weight, layer.bias) if p is not None]
        if any(id(p) in elsewhere for p in params) or not all(p.dtype.is_floating_point for p in params):
            continue
        layer.to(dtype)
        cast += 1
    return cast
