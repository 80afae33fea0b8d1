"""RewardModel: a Hugging Face backbone with a scalar head, and the one scoring path.

``RewardModel`` is a ``torch.nn.Module`` around a standard ``*ForSequenceClassification``
model (``num_labels=1``). Its ``forward`` maps a padded batch to one reward per row, reading
the scored token from the attention mask (invariant 2, docs/architecture.md): encoders pool their first
token through the backbone's own head (exactly what ``AutoModelForSequenceClassification``
does), decoders apply their ``score`` head at the last real token. Train, eval, score and
serve all go through :meth:`forward`, so there is one definition of "the reward".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rewardlab.data.records import Prompt
from rewardlab.errors import ModelError
from rewardlab.models.backbone import BackboneKind, LoadedBackbone, backbone_kind, load_backbone
from rewardlab.models.export import write_metadata, write_model_dir
from rewardlab.models.first_token import enable_first_token_final_layer
from rewardlab.models.formatting import (
    InputFormat,
    check_chat_template,
    coerce_pairs,
    format_input,
    tokenize_texts,
)
from rewardlab.models.heads import ensure_fp32_head, head_linear, resize_head
from rewardlab.models.io import read_metadata
from rewardlab.models.metadata import check_position_table, typed_load
from rewardlab.models.normalization import normalize_rewards
from rewardlab.models.padding import last_token_index, right_align
from rewardlab.models.precision import autocast, resolve_precision

__all__ = ["RewardModel", "pad_batch"]


# bf16 scoring pads each batch's width up to a multiple of this (never past the model's max_length).
# Fewer distinct shapes let oneDNN reuse its compiled kernels and AMX tiles are 16 rows: on MiniLM,
# 98 -> 116 responses/s at batch 1 and 286 -> 312 at batch 32. fp32 is compute-bound: padding only
# costs there (~5%), so it stays at the longest input.
BF16_PAD_MULTIPLE = 16


def position_limit(config: Any, max_length: int) -> int:
    """``max_length``, capped by the model's ``max_position_embeddings`` when it has one."""
    positions = getattr(config, "max_position_embeddings", None)
    return min(max_length, int(positions)) if isinstance(positions, int) and positions > 0 else max_length


def pad_multiple(precision: str) -> int:
    """The width multiple :func:`pad_batch` rounds scoring batches up to at this resolved precision."""
    return BF16_PAD_MULTIPLE if precision == "bf16" else 1


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int, *, multiple_of: int = 1,
              max_width: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id lists to the longest one: ``(input_ids [B, T], attention_mask [B, T])``.

    ``multiple_of`` rounds ``T`` up (extra columns are padding, masked out), but never past
    ``max_width`` when that is given (nor below the longest sequence).
    """
    longest = max((len(s) for s in sequences), default=0)
    width = -(-longest // multiple_of) * multiple_of if longest else 0
    if max_width is not None:
        width = max(longest, min(width, max_width))
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


class RewardModel(torch.nn.Module):
    """A backbone + scalar head that maps (prompt, response) to a reward."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        input_format: InputFormat,
        max_length: int,
        kind: BackboneKind | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.hf = model
        self.tokenizer = tokenizer
        self.input_format = input_format
        self.max_length = int(max_length)
        self.kind: BackboneKind = kind or backbone_kind(model.config)
        self.metadata: dict[str, Any] = dict(metadata or {})
        if self.kind == "decoder" and not isinstance(getattr(model, "score", None), torch.nn.Module):
            raise ModelError(f"{type(model).__name__} has no 'score' head; rewardlab cannot read its reward")
        if tokenizer.pad_token_id is None:
            raise ModelError("the tokenizer has no pad token")
        source = str(self.metadata.get("source") or self.metadata.get("backbone") or type(model).__name__)
        check_position_table(model.config, self.max_length, source)
        if input_format.kind == "chat_template":
            check_chat_template(tokenizer, source)  # a template that fails (or the sandbox refuses) fails now
        # Encoders read one position: skip the rest of the final layer (exact; see first_token.py).
        self.first_token_shortcut = self.kind == "encoder" and enable_first_token_final_layer(model, self.pad_id)
        heads = self.metadata.get("heads") or {}
        self.head_names: tuple[str, ...] = tuple(heads.get("names") or ("reward",))
        combine = heads.get("combine")
        self.combine: tuple[float, ...] | None = tuple(float(w) for w in combine) if combine else None
        if head_linear(model).out_features != len(self.head_names):
            raise ModelError(
                f"the head has {head_linear(model).out_features} outputs but rewardlab.json names "
                f"{len(self.head_names)} ({list(self.head_names)})"
            )

    # ----------------------------------------------------------------------------- loading
    @classmethod
    @typed_load
    def from_backbone(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        gguf_file: str | None = None,
        max_length: int = 256,
        input_format: str = "auto",
        dropout: bool = False,
        trust_remote_code: bool = False,
    ) -> RewardModel:
        """A new reward model: the backbone's weights plus a freshly initialised scalar head.

        ``trust_remote_code`` lets a backbone run the Python code it ships (off: such a backbone is refused).
        """
        loaded = load_backbone(name_or_path, gguf_file=gguf_file, dropout=dropout,
                               trust_remote_code=trust_remote_code)
        fmt = InputFormat.for_tokenizer(loaded.tokenizer, input_format)
        meta = {"backbone": str(name_or_path), **({"gguf_file": gguf_file} if gguf_file else {})}
        return cls._from_loaded(loaded, fmt, max_length, meta)

    @classmethod
    def _from_loaded(
        cls, loaded: LoadedBackbone, fmt: InputFormat, max_length: int, meta: dict[str, Any]
    ) -> RewardModel:
        return cls(
            loaded.model, loaded.tokenizer, input_format=fmt, max_length=max_length, kind=loaded.kind,
            metadata=meta,
        )

    @classmethod
    @typed_load
    def from_pretrained(cls, path: str | os.PathLike[str]) -> RewardModel:
        """Load a model directory written by :meth:`save_pretrained` (or a plain HF reward model)."""
        meta = read_metadata(Path(path)) if Path(path).is_dir() else None
        cls._check_single(Path(path), meta)
        loaded = load_backbone(path, new_head=False, own_export=meta is not None)
        if meta is None:
            archs = getattr(loaded.model.config, "architectures", None) or []
            if not any("ForSequenceClassification" in a for a in archs):
                raise ModelError(
                    f"{path} is neither a rewardlab model directory (no rewardlab.json) nor a "
                    "sequence-classification reward model; to start from a backbone use "
                    "RewardModel.from_backbone or `rewardlab train`"
                )
            fmt = InputFormat.for_tokenizer(loaded.tokenizer, "auto")
            return cls._from_loaded(loaded, fmt, 512, {"source": str(path)})
        fmt = InputFormat.from_dict(meta["input_format"])
        return cls._from_loaded(loaded, fmt, int(meta["max_length"]), meta)

    @staticmethod
    def _check_single(path: Path, meta: dict[str, Any] | None) -> None:
        kind = (meta or {}).get("model_type", "reward_model")
        if kind != "reward_model":
            raise ModelError(f"{path} holds a {kind} model, not a single RewardModel; open it with "
                             "rewardlab.models.load_model(path)")

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        """Write a standard HF model directory plus ``rewardlab.json`` and a model card."""
        return write_model_dir(self, Path(path))

    def write_metadata(self, path: str | os.PathLike[str]) -> None:
        """(Re)write ``rewardlab.json`` and the model card, leaving the weights alone (e.g. after evaluation)."""
        write_metadata(self, Path(path))

    # ----------------------------------------------------------------------------- inputs
    def format(self, prompt: Prompt, response: str) -> str:
        """The exact input text for one (prompt, response) pair."""
        return format_input(prompt, response, self.input_format, self.tokenizer)

    def encode(
        self, prompts: Sequence[Prompt], responses: Sequence[str], *, truncate: bool = True
    ) -> list[list[int]]:
        """Token ids for each pair, truncated from the left to ``max_length`` when ``truncate``."""
        if len(prompts) != len(responses):
            raise ModelError(f"got {len(prompts)} prompts but {len(responses)} responses")
        texts = [self.format(p, r) for p, r in zip(prompts, responses)]
        return tokenize_texts(self.tokenizer, texts, self.input_format, self.max_length, truncate=truncate)

    @property
    def pad_id(self) -> int:
        return int(self.tokenizer.pad_token_id)

    @property
    def pad_limit(self) -> int:
        """The widest a scoring batch is padded to: max_length, and never past the position table."""
        return position_limit(self.hf.config, self.max_length)

    # ----------------------------------------------------------------------------- heads
    def set_heads(self, names: Sequence[str], combine: Sequence[float] | None = None, *, seed: int = 0) -> None:
        """Name the head's outputs (resizing it) and how they combine into one reward.

        One output (``("reward",)``) is the ordinary reward model. Several outputs are rating
        attributes (HelpSteer-style); the reward is ``sum_a combine[a] * output[a]``, or the
        first output when ``combine`` is unset.
        """
        if combine is not None and len(combine) != len(names):
            raise ModelError(f"{len(combine)} combine weights for {len(names)} head outputs")
        resize_head(self.hf, len(names), seed=seed)
        if len(names) > 1:  # plain transformers users see which logit is which attribute
            self.hf.config.id2label = dict(enumerate(names))
            self.hf.config.label2id = {n: i for i, n in enumerate(names)}
        self.head_names = tuple(names)
        self.combine = tuple(float(w) for w in combine) if combine is not None else None
        self.metadata["heads"] = {"names": list(self.head_names),
                                  "combine": list(self.combine) if self.combine else None}

    def combine_outputs(self, outputs: torch.Tensor) -> torch.Tensor:
        """The reward from per-output values: ``[B, H] -> [B]`` (the one place attributes combine)."""
        if self.combine is None:
            return outputs[:, 0]
        weights = torch.tensor(self.combine, dtype=outputs.dtype, device=outputs.device)
        return outputs[:, : len(self.combine)] @ weights

    # ----------------------------------------------------------------------------- forward
    def outputs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Every head output for a padded batch (any padding side): ``[B, T], [B, T] -> [B, H]`` float32."""
        ids, mask = right_align(input_ids, attention_mask, self.pad_id)
        ensure_fp32_head(self.hf)  # rewards at fp32 resolution under bf16 autocast
        if self.kind == "encoder":
            return self.hf(input_ids=ids, attention_mask=mask).logits.float()
        hidden = self.hf.base_model(input_ids=ids, attention_mask=mask).last_hidden_state
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        pooled = hidden[rows, last_token_index(mask)]
        return self.hf.score(pooled).float()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Rewards for a padded batch (any padding side): ``[B, T], [B, T] -> [B]`` float32."""
        return self.combine_outputs(self.outputs(input_ids, attention_mask))

    @torch.no_grad()
    def output_ids(
        self, sequences: Sequence[Sequence[int]], *, batch_size: int = 32, precision: str = "auto"
    ) -> torch.Tensor:
        """Every head output for tokenized inputs, batched longest-first: ``[N, H]`` in input order."""
        device = next(self.parameters()).device
        prec = resolve_precision(precision, device)
        was_training = self.training
        self.eval()
        order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
        out = torch.zeros(len(sequences), len(self.head_names))
        try:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                ids, mask = pad_batch([sequences[i] for i in idx], self.pad_id,
                                      multiple_of=pad_multiple(prec), max_width=self.pad_limit)
                with autocast(prec, device):
                    values = self.outputs(ids.to(device), mask.to(device))
                out[torch.tensor(idx)] = values.float().cpu()
        finally:
            self.train(was_training)
        return out

    def score_ids(
        self, sequences: Sequence[Sequence[int]], *, batch_size: int = 32, precision: str = "auto"
    ) -> list[float]:
        """Rewards for tokenized inputs, batched longest-first, returned in input order."""
        outputs = self.output_ids(sequences, batch_size=batch_size, precision=precision)
        return [float(r) for r in self.combine_outputs(outputs).tolist()]

    def score_attributes(
        self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32, precision: str = "auto"
    ) -> list[dict[str, float]]:
        """Every named head output per (prompt, response), e.g. one value per rating attribute."""
        outputs = self.output_ids(self.encode(prompts, responses), batch_size=batch_size, precision=precision)
        return [dict(zip(self.head_names, (float(v) for v in row))) for row in outputs.tolist()]

    def score(
        self,
        prompts: Sequence[Prompt],
        responses: Sequence[str],
        *,
        batch_size: int = 32,
        precision: str = "auto",
        normalize: bool = False,
    ) -> list[float]:
        """One reward per (prompt, response). ``normalize`` applies the saved reward statistics.

        ``score("q", "a")`` scores one pair and ``score("q", ["a", "b"])`` several responses to one
        prompt; a prompt is a string or chat messages (``Message``\\ s or ``{"role", "content"}`` dicts).
        """
        prompts, responses = coerce_pairs(prompts, responses)
        rewards = self.score_ids(self.encode(prompts, responses), batch_size=batch_size, precision=precision)
        return self.normalize(rewards) if normalize else rewards

    def normalize(self, rewards: Sequence[float]) -> list[float]:
        """``(r - mean) / std`` with the saved reward statistics (``models/normalization.py``)."""
        return normalize_rewards(rewards, self.metadata)
