"""LoRA reward models with PEFT: adapters on the backbone, the scalar head fully trained and saved.

A known failure elsewhere: the reward head is left out of the adapter, so a reloaded LoRA
reward model scores with a random head. Here the head is always in PEFT's
``modules_to_save`` (fully trainable, saved with the adapter), and a LoRA run writes two
things: ``adapter/`` (the PEFT adapter, head included, for PEFT users) and, at the top of
the model directory, the merged standard export that loads in
``AutoModelForSequenceClassification`` like any rewardlab model. Both give the same scores.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from rewardlab.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from rewardlab.models.reward_model import RewardModel

__all__ = [
    "ADAPTER_DIR", "apply_lora", "default_target_modules", "load_lora_adapter", "merge_lora", "save_lora_adapter",
]

ADAPTER_DIR = "adapter"

#: Attention projections that LoRA adapts by default, by model family (Hu et al. 2021 adapt q and v).
_TARGETS = {
    "bert": ["query", "value"], "roberta": ["query", "value"], "xlm-roberta": ["query", "value"],
    "deberta-v2": ["query_proj", "value_proj"], "distilbert": ["q_lin", "v_lin"], "gpt2": ["c_attn"],
}
_DECODER_TARGETS = ["q_proj", "v_proj"]  # llama, mistral, qwen2, gemma, smollm, ...


def _peft() -> Any:
    try:
        import peft
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigError("model.method=lora needs PEFT: pip install 'rewardlab[lora]'") from exc
    return peft


def _head_name(hf: Any) -> str:
    return "score" if isinstance(getattr(hf, "score", None), torch.nn.Module) else "classifier"


def default_target_modules(hf: Any) -> list[str]:
    """The modules LoRA adapts when ``lora.target_modules`` is unset."""
    names = _TARGETS.get(hf.config.model_type, _DECODER_TARGETS)
    present = {n.rsplit(".", 1)[-1] for n, m in hf.named_modules() if isinstance(m, torch.nn.Linear)}
    if not set(names) & present:
        raise ConfigError(
            f"no default LoRA targets for model type {hf.config.model_type!r}; set lora.target_modules to some of "
            f"its linear layers, e.g. {sorted(present)[:8]}"
        )
    return names


def apply_lora(model: RewardModel, *, r: int, alpha: int, dropout: float,
               target_modules: list[str] | None = None) -> Any:
    """Inject LoRA into ``model.hf`` in place (base weights frozen, head trainable); returns the PeftModel."""
    peft = _peft()
    targets = target_modules or default_target_modules(model.hf)
    config = peft.LoraConfig(
        task_type=peft.TaskType.SEQ_CLS, r=r, lora_alpha=alpha, lora_dropout=dropout,
        target_modules=targets, modules_to_save=[_head_name(model.hf)],
    )
    peft_model = peft.get_peft_model(model.hf, config)
    model.metadata["lora"] = {"r": r, "alpha": alpha, "dropout": dropout, "target_modules": list(targets),
                              "adapter": ADAPTER_DIR}
    return peft_model


def save_lora_adapter(peft_model: Any, model_dir: Path) -> Path:
    """Write the PEFT adapter (LoRA weights and the trained head) to ``model_dir/adapter``."""
    path = model_dir / ADAPTER_DIR
    peft_model.save_pretrained(path)
    if not any(path.glob("adapter_model.*")):
        raise ModelError(f"PEFT wrote no adapter weights to {path}")
    return path


def merge_lora(model: RewardModel, peft_model: Any) -> None:
    """Fold the adapters into the base weights; ``model.hf`` becomes a plain HF model again."""
    merged = peft_model.merge_and_unload()
    model.hf = merged
    # merge_and_unload replaces the head wrapper with the trained copy; the shortcut patch survives
    # on the layer instance because LoRA layers are merged in place.


def load_lora_adapter(model_dir: str | os.PathLike[str]) -> RewardModel:
    """Rebuild a LoRA reward model from its base backbone plus ``adapter/`` (not the merged weights).

    For checking and for PEFT workflows; :meth:`RewardModel.from_pretrained` loads the merged export.
    """
    from rewardlab.models.backbone import load_backbone
    from rewardlab.models.formatting import InputFormat
    from rewardlab.models.io import read_metadata
    from rewardlab.models.reward_model import RewardModel

    peft = _peft()
    path = Path(model_dir)
    meta = read_metadata(path)
    if meta is None or "lora" not in meta:
        raise ModelError(f"{path} is not a rewardlab LoRA model directory (no 'lora' in rewardlab.json)")
    base = meta.get("base_source")
    if not base:
        raise ModelError(f"{path}/rewardlab.json lacks 'base_source'; cannot find the base backbone")
    loaded = load_backbone(base, gguf_file=meta.get("gguf_file"))
    names = (meta.get("heads") or {}).get("names") or ["reward"]
    if len(names) != 1:
        from rewardlab.models.heads import resize_head

        resize_head(loaded.model, len(names))
    adapter = path / ADAPTER_DIR
    if not (adapter / "adapter_model.safetensors").is_file():
        raise ModelError(f"{adapter} has no adapter_model.safetensors; rewardlab loads LoRA adapters only as "
                         "safetensors (never a pickled adapter_model.bin)")
    try:
        peft_model = peft.PeftModel.from_pretrained(loaded.model, str(adapter))
    except Exception as exc:  # peft raises many types for a broken or foreign adapter
        raise ModelError(f"{adapter} cannot be loaded as a LoRA adapter of {base}: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
    hf = peft_model.merge_and_unload()
    fmt = InputFormat.from_dict(meta["input_format"])
    return RewardModel(hf, loaded.tokenizer, input_format=fmt, max_length=int(meta["max_length"]),
                       kind=loaded.kind, metadata=meta)
