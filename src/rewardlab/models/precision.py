"""Device and numeric precision choices, made once and passed in (never read globally)."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import torch

from rewardlab.errors import ConfigError
from rewardlab.precisions import PRECISIONS, Precision

__all__ = ["PRECISIONS", "Precision", "autocast", "cast_linear_weights", "cpu_has_fast_bf16", "resolve_precision",
           "scoring_device", "store_bf16_weights"]



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
    if requested not in PRECISIONS:
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


def cast_linear_weights(module: torch.nn.Module, dtype: torch.dtype = torch.bfloat16, *,
                        skip: Collection[torch.nn.Module] = ()) -> int:
    """Store every ``nn.Linear`` weight and bias in ``dtype`` once, for inference under autocast.

    bf16 autocast casts a linear layer's fp32 weight and bias to bf16 on every forward (its cast
    cache lives only as long as one ``autocast`` block); on MiniLM that re-cast is most of a
    batch-1 forward. Stored in bf16, they are cast once, and scores are bit-identical, because
    autocast would have rounded them the same way. Only ``nn.Linear`` layers are touched
    (embeddings and norms stay fp32), and a layer whose weight is shared with another kind of
    module (tied input/output embeddings) is skipped. The module is then for bf16-autocast
    inference only: do not train it or run it in fp32. Layers in ``skip`` (a reward head that
    runs in fp32) are left alone. Returns the number of layers cast.
    """
    skipped = {id(m) for m in skip}
    elsewhere = {id(p) for m in module.modules() if not isinstance(m, torch.nn.Linear)
                 for p in m.parameters(recurse=False)}
    cast = 0
    for layer in module.modules():
        if not isinstance(layer, torch.nn.Linear) or id(layer) in skipped:
            continue
        params = [p for p in (layer.weight, layer.bias) if p is not None]
        if any(id(p) in elsewhere for p in params) or not all(p.dtype.is_floating_point for p in params):
            continue
        layer.to(dtype)
        cast += 1
    return cast


def store_bf16_weights(model: Any) -> int:
    """:func:`cast_linear_weights` on every network of a loaded reward model, for bf16 scoring only.

    Handles a ``RewardModel`` (itself), a ``RewardEnsemble`` (each member) and an
    ``EmbeddingRewardModel`` (its embedder's backbone). Only for a model this process loaded for
    scoring and owns: afterwards it scores at bf16 only (fp32 scoring or training would fail on
    mixed dtypes). Returns the number of layers cast.
    """
    return sum(cast_linear_weights(net, skip=_heads(net)) for net in _networks(model))


def _heads(net: torch.nn.Module) -> list[torch.nn.Module]:
    """A reward model's final head layer, which runs in fp32 (models.heads.ensure_fp32_head)."""
    from rewardlab.models.heads import head_linear

    hf = getattr(net, "hf", None)
    return [head_linear(hf)] if hf is not None else []


def scoring_device(model: Any) -> torch.device:
    """The device a loaded reward model (any kind) scores on: its first parameter's."""
    for net in _networks(model):
        for param in net.parameters():
            return param.device
    return torch.device("cpu")


def _networks(model: Any) -> list[torch.nn.Module]:
    if isinstance(model, torch.nn.Module):
        nets: list[Any] = [model]
    elif hasattr(model, "members"):
        nets = list(model.members)
    elif hasattr(model, "embedder"):
        nets = [model.embedder.model]
    else:
        nets = []
    return [net for net in nets if isinstance(net, torch.nn.Module)]
