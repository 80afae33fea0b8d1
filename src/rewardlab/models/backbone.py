"""Load any Hugging Face backbone as a sequence-classification model with one output.

The backbone keeps its own ``*ForSequenceClassification`` head class, so the saved model is
a standard Hugging Face directory (DESIGN invariant 3). What rewardlab adds on load:
dropout off (a reward model trains faster and more stably without it), a dedicated pad
token for decoders whose pad equals EOS (invariant 2), and right-side padding / left-side
truncation so over-long inputs keep the end of the response.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from rewardlab.errors import ModelError

__all__ = ["BackboneKind", "LoadedBackbone", "backbone_kind", "disable_dropout", "load_backbone"]

BackboneKind = Literal["encoder", "decoder"]
PAD_TOKEN = "<|rewardlab_pad|>"


@dataclass
class LoadedBackbone:
    model: Any  # transformers.PreTrainedModel (a *ForSequenceClassification)
    tokenizer: Any  # transformers.PreTrainedTokenizerBase
    kind: BackboneKind


def backbone_kind(config: Any) -> BackboneKind:
    """Decoders score the last real token through ``score``; encoders pool their first token."""
    archs = " ".join(getattr(config, "architectures", None) or [])
    if getattr(config, "is_decoder", False) or "CausalLM" in archs or "LMHead" in archs:
        return "decoder"
    if config.model_type in _DECODER_TYPES:
        return "decoder"
    return "encoder"


_DECODER_TYPES = {
    "llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen2_moe", "gemma", "gemma2", "gemma3_text",
    "phi", "phi3", "gpt2", "gpt_neox", "gptj", "opt", "falcon", "olmo", "olmo2", "starcoder2",
    "stablelm", "granite", "smollm3", "bloom", "mpt",
}


def disable_dropout(config: Any, model: torch.nn.Module | None = None) -> None:
    """Set every dropout probability in a config (and module) to zero."""
    for name in list(vars(config)):
        if "dropout" in name and isinstance(getattr(config, name), float):
            setattr(config, name, 0.0)
    if model is not None:
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0


def _quiet_transformers() -> Any:
    import transformers

    previous = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    return previous


def load_backbone(
    name_or_path: str | os.PathLike[str],
    *,
    gguf_file: str | None = None,
    dropout: bool = False,
    new_head: bool = True,
) -> LoadedBackbone:
    """Load a model directory or hub id (optionally a GGUF file inside it) with a 1-output head.

    ``new_head=False`` is used for rewardlab's own saved directories, whose head is trained.
    """
    import transformers
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    source = str(name_or_path)
    kwargs: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
    previous = _quiet_transformers()
    try:
        try:
            config = AutoConfig.from_pretrained(source, **kwargs)
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        except (OSError, ValueError) as exc:
            hint = "" if Path(source).exists() else " (not a local directory; hub ids need network access)"
            raise ModelError(f"cannot load backbone {source!r}{hint}: {exc}") from exc
        if new_head:
            config.num_labels = 1
        kind = backbone_kind(config)
        if not dropout:
            disable_dropout(config)
        added_pad = _ensure_pad_token(tokenizer, kind)
        try:
            model = AutoModelForSequenceClassification.from_pretrained(
                source, config=config, dtype=torch.float32, **kwargs
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{source!r} cannot be loaded as a sequence-classification model: {exc}") from exc
    finally:
        transformers.logging.set_verbosity(previous)
    if gguf_file:
        _forget_gguf_quantization(model)
    if added_pad:
        model.resize_token_embeddings(len(tokenizer))
        # The old padding_idx was EOS, whose embedding row would never get a gradient.
        model.get_input_embeddings().padding_idx = tokenizer.pad_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
    if not dropout:
        disable_dropout(model.config, model)
    tokenizer.padding_side = "right"
    tokenizer.truncation_side = "left"
    return LoadedBackbone(model=model, tokenizer=tokenizer, kind=kind)


def _forget_gguf_quantization(model: Any) -> None:
    """GGUF weights are dequantized to float32 on load; drop the marker that blocks ``save_pretrained``.

    transformers keeps a (non-serializable) GGUF quantizer on the model although its tensors
    are plain float32, so the exported directory is an ordinary safetensors model.
    """
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        delattr(model.config, "quantization_config")


def _ensure_pad_token(tokenizer: Any, kind: BackboneKind) -> bool:
    """Give the tokenizer a pad token distinct from EOS; True when one was added."""
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    if pad is not None and (kind == "encoder" or pad != eos):
        return False
    tokenizer.add_special_tokens({"pad_token": PAD_TOKEN})
    return True
