"""The scalar (or multi-output) head inside a Hugging Face sequence-classification model.

rewardlab keeps the head where transformers puts it (``classifier``, ``classifier.out_proj``
or ``score``), so the exported directory stays a standard ``*ForSequenceClassification``.
These helpers find that final linear layer and change its number of outputs: a
multi-attribute model has one output per rating attribute, and annotator-aware training
adds one bias output per annotator that is cut away again before export.
"""

from __future__ import annotations

from typing import Any

import torch

from rewardlab.errors import ModelError

__all__ = ["ensure_fp32_head", "head_linear", "resize_head"]


def _locate(model: Any) -> tuple[Any, str, torch.nn.Linear]:
    """(parent module, attribute name, final linear layer) of the classification head."""
    for name in ("score", "classifier"):
        module = getattr(model, name, None)
        if isinstance(module, torch.nn.Linear):
            return model, name, module
        out_proj = getattr(module, "out_proj", None)
        if isinstance(out_proj, torch.nn.Linear):
            return module, "out_proj", out_proj
    raise ModelError(
        f"cannot find the classification head of {type(model).__name__} (looked for score, classifier, "
        "classifier.out_proj)"
    )


def head_linear(model: Any) -> torch.nn.Linear:
    """The final linear layer of the head: ``hidden -> num_labels`` (inside a PEFT wrapper, the trained copy)."""
    for name in ("score", "classifier"):
        module = getattr(model, name, None)
        copies = getattr(module, "modules_to_save", None)  # PEFT's ModulesToSaveWrapper (LoRA runs)
        if copies is not None and len(copies):
            inner = next(iter(copies.values()))  # rewardlab trains one adapter ("default")
            return inner if isinstance(inner, torch.nn.Linear) else _locate_inner(inner)
    return _locate(model)[2]


def _locate_inner(module: Any) -> torch.nn.Linear:
    out_proj = getattr(module, "out_proj", None)
    if isinstance(out_proj, torch.nn.Linear):
        return out_proj
    raise ModelError(f"cannot find the final linear layer inside {type(module).__name__}")


@torch.no_grad()
def resize_head(model: Any, outputs: int, *, init_std: float = 0.02, seed: int = 0) -> None:
    """Give the head ``outputs`` outputs, keeping the first ``min(old, new)`` rows as they are.

    New rows are drawn from ``N(0, init_std)`` with their own generator (seeded), so
    resizing does not shift the global random stream. Updates ``config.num_labels`` too.
    """
    if outputs < 1:
        raise ModelError(f"a head needs at least one output, got {outputs}")
    parent, name, old = _locate(model)
    if old.out_features == outputs:
        return
    new = torch.nn.Linear(old.in_features, outputs, bias=old.bias is not None,
                          device=old.weight.device, dtype=old.weight.dtype)
    gen = torch.Generator().manual_seed(seed)
    new.weight.copy_(torch.randn(new.weight.shape, generator=gen) * init_std)
    if new.bias is not None:
        new.bias.zero_()
    keep = min(old.out_features, outputs)
    new.weight[:keep] = old.weight[:keep]
    if new.bias is not None and old.bias is not None:
        new.bias[:keep] = old.bias[:keep]
    setattr(parent, name, new)
    model.config.num_labels = outputs
    model.config.id2label = {i: f"LABEL_{i}" for i in range(outputs)}
    model.config.label2id = {v: k for k, v in model.config.id2label.items()}


_FP32_MARK = "_rewardlab_fp32_head"


def _fp32_head_hook(module: torch.nn.Linear, args: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
    """Recompute a head that autocast ran in bf16/fp16 in fp32 (same inputs, fp32 weights)."""
    if output.dtype == torch.float32:
        return output
    features = args[0]
    with torch.autocast(device_type=features.device.type, enabled=False):
        bias = None if module.bias is None else module.bias.float()
        return torch.nn.functional.linear(features.float(), module.weight.float(), bias)


def ensure_fp32_head(model: Any) -> None:
    """Make the final head layer run in fp32 even under low-precision autocast (idempotent).

    Under bf16 autocast a linear head returns a bf16 reward: rounded to 2^-7 of its magnitude
    (0.016 for rewards between 2 and 4), so close responses tie in best-of-n and in accuracy.
    A forward hook recomputes the head's few outputs in fp32 from the same features, so the
    body keeps its bf16 speed and the reward keeps fp32 resolution. In fp32 nothing changes.
    Called on every forward because the head module can be replaced (``resize_head``, PEFT).
    """
    head = head_linear(model)
    if not getattr(head, _FP32_MARK, False):
        head.register_forward_hook(_fp32_head_hook)
        setattr(head, _FP32_MARK, True)
