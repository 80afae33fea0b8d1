"""Load any Hugging Face backbone as a sequence-classification model with one output.

The backbone keeps its own ``*ForSequenceClassification`` head class, so the saved model is
a standard Hugging Face directory (invariant 3, docs/architecture.md). What rewardlab adds on load:
dropout off (a reward model trains faster and more stably without it), a dedicated pad
token for decoders whose pad equals EOS (invariant 2), and right-side padding / left-side
truncation so over-long inputs keep the end of the response.

Loading is safe and strict. ``trust_remote_code`` is passed as ``False`` to every
transformers call unless the caller sets it, so a directory that ships Python code is
refused (never run, and transformers never asks on stdin). A trained model whose weights
lack a parameter (the reward head, say) is a :class:`ModelError` naming it, never a model
with a random head; so is a tokenizer that maps ordinary words to the unknown token (its
vocabulary files are missing) and any failure transformers raises for a broken directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from rewardlab.errors import ModelError

__all__ = ["TOKENIZER_FILES", "BackboneKind", "LoadedBackbone", "backbone_kind", "check_finite_weights",
           "check_loaded_weights",
           "check_tokenizer", "disable_dropout", "load_backbone"]

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


#: Parameters a new reward head brings (and a base model's checkpoint may lack): the head and the pooler.
_HEAD_PARTS = ("classifier", "score", "pooler")
#: Files that hold a tokenizer's vocabulary (one is enough).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model",
                   "sentencepiece.bpe.model")
_PROBE = "The quick brown fox jumps over the lazy dog, and the answer is four."


def _is_head(key: str) -> bool:
    return any(part in key.split(".") for part in _HEAD_PARTS)


def check_loaded_weights(info: dict[str, Any], source: str, *, new_head: bool) -> None:
    """Refuse a model whose checkpoint lacks parameters (transformers would initialise them at random).

    A fresh backbone may lack only the head and pooler it gets now; a trained model lacks nothing.
    """
    missing = sorted(info.get("missing_keys") or ())
    if new_head:
        missing = [k for k in missing if not _is_head(k)]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        head_only = all(_is_head(k) for k in missing)
        what = "the reward head" if head_only else "parameters"
        fix = ("a base model without a trained head starts a new reward model with RewardModel.from_backbone or "
               "`rewardlab train`; a rewardlab directory that lost its head must be re-exported or retrained"
               if head_only else "the directory is incomplete or was saved from another model: re-export or retrain it")
        raise ModelError(
            f"{source}: the weights lack {what} ({shown}); loading it would give those parameters random values. "
            f"{fix[0].upper()}{fix[1:]}"
        )


def check_finite_weights(model: torch.nn.Module, source: str) -> None:
    """Refuse weights holding NaN or infinity: every reward computed through them would be NaN."""
    bad = [name for name, p in model.named_parameters() if p.is_floating_point() and not torch.isfinite(p).all()]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ModelError(f"{source}: the weights hold NaN or infinite values ({shown}); every reward would be NaN. "
                         "Re-export or retrain the model")


def check_tokenizer(tokenizer: Any, config: Any, source: str) -> None:
    """Refuse a tokenizer whose vocabulary is missing: it would map every word to the unknown token."""
    vocab = getattr(config, "vocab_size", None)
    size = len(tokenizer)
    if isinstance(vocab, int) and vocab > 1000 and size < vocab // 2:
        raise ModelError(f"{source}: the tokenizer has {size} tokens but the model's embedding has {vocab}; its "
                         f"vocabulary files ({', '.join(TOKENIZER_FILES[:3])}, ...) are missing or incomplete")
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is not None:
        ids = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]
        if ids and all(i == unk for i in ids):
            raise ModelError(f"{source}: the tokenizer maps every word to its unknown token {tokenizer.unk_token!r}; "
                             f"its vocabulary files ({', '.join(TOKENIZER_FILES[:3])}, ...) are missing")


def _remote_code(path: Path) -> str | None:
    """The file and classes through which a local directory asks to run its own Python code, if it does."""
    import json

    for name in ("config.json", "tokenizer_config.json"):
        try:
            data = json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("auto_map"):
            return f"{name} (auto_map: {json.dumps(data['auto_map'])[:120]})"
    return None


def _local_files_problem(path: Path, gguf_file: str | None, own_export: bool) -> str | None:
    """What is missing from a local model directory, checked before transformers guesses around it."""
    if not path.is_dir():
        return "is not a directory"
    if gguf_file:
        return None if (path / gguf_file).is_file() else f"has no GGUF file {gguf_file!r}"
    if not (path / "config.json").is_file():
        return "has no config.json (not a Hugging Face model directory)"
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        return f"has no tokenizer files (one of {', '.join(TOKENIZER_FILES)})"
    if own_export and not any(path.glob("model*.safetensors")):
        bins = " (its pytorch_model.bin is a pickle, which is never loaded)" if any(path.glob("*.bin")) else ""
        return f"has no model.safetensors{bins}; rewardlab model directories store their weights as safetensors"
    return None


def load_backbone(
    name_or_path: str | os.PathLike[str],
    *,
    gguf_file: str | None = None,
    dropout: bool = False,
    new_head: bool = True,
    trust_remote_code: bool = False,
    own_export: bool = False,
) -> LoadedBackbone:
    """Load a model directory or hub id (optionally a GGUF file inside it) with a 1-output head.

    ``new_head=False`` is used for trained reward models, whose head must be in the weights;
    ``own_export`` for rewardlab's own directories (safetensors only). ``trust_remote_code``
    lets transformers run Python code shipped with the model; it is off unless set.
    """
    import transformers
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    from rewardlab.data.sources import looks_local

    source = str(name_or_path)
    path = Path(source).expanduser()
    if path.exists():
        problem = _local_files_problem(path, gguf_file, own_export)
        if problem:
            raise ModelError(f"{source} {problem}")
        remote = None if trust_remote_code else _remote_code(path)
        if remote:
            raise ModelError(f"{source} ships its own Python code ({remote}), which rewardlab does not run; if you "
                             "trust its author, set model.trust_remote_code=true (RewardModel.from_backbone("
                             "..., trust_remote_code=True))")
    elif looks_local(path) or own_export:
        raise ModelError(f"{source}: no such model directory")
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code, **({"gguf_file": gguf_file} if gguf_file else {})}
    previous = _quiet_transformers()
    try:
        try:
            config = AutoConfig.from_pretrained(source, **kwargs)
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        except Exception as exc:  # transformers raises many types for a broken or foreign directory
            hint = "" if path.exists() else " (not a local directory; hub ids need network access)"
            raise ModelError(f"cannot load backbone {source!r}{hint}: {_first_line(exc)}") from exc
        check_tokenizer(tokenizer, config, source)
        if new_head:
            config.num_labels = 1
        kind = backbone_kind(config)
        if not dropout:
            disable_dropout(config)
        added_pad = _ensure_pad_token(tokenizer, kind)
        if own_export:
            kwargs["use_safetensors"] = True  # never a pickled pytorch_model.bin
        try:
            model, info = AutoModelForSequenceClassification.from_pretrained(
                source, config=config, dtype=torch.float32, output_loading_info=True, **kwargs
            )
        except Exception as exc:  # truncated or empty safetensors, shape mismatches, pickles, unknown types
            raise ModelError(f"{source!r} cannot be loaded as a sequence-classification model: "
                             f"{_first_line(exc)}") from exc
    finally:
        transformers.logging.set_verbosity(previous)
    check_loaded_weights(info, source, new_head=new_head)
    check_finite_weights(model, source)
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


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (transformers appends long reports), with its type."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


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
