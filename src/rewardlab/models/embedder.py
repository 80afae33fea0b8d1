"""A frozen backbone that turns (prompt, response) pairs into fixed embedding vectors.

Sun, Shen & Ton (2025), "Rethinking Bradley-Terry Models in Preference-Based Reward Modeling",
train small heads (MLPs, gradient-boosted trees) on embeddings from a frozen model: far cheaper
than fine-tuning, and the embedding of each input is computed once. Inputs are the same text
as the fine-tuned :class:`~rewardlab.models.RewardModel` reads (``format_input``, truncated from
the left at ``max_length``), pooled from the backbone's last hidden states:

- ``mean`` over real tokens (sentence-transformers style; the default for encoders),
- ``last`` real token (the default for decoders, whose last position has seen the whole input),
- ``cls``, the first token,

then L2-normalised to float32. Every vector goes through an :class:`EmbeddingCache`, so only
texts not seen before reach the backbone.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from rewardlab.data.records import Prompt
from rewardlab.errors import ConfigError, ModelError
from rewardlab.models.backbone import BackboneKind, backbone_kind, load_backbone
from rewardlab.models.embedding_cache import EmbeddingCache, cache_key
from rewardlab.models.formatting import InputFormat, format_input
from rewardlab.models.padding import last_token_index
from rewardlab.models.precision import autocast, resolve_precision
from rewardlab.models.reward_model import pad_batch, pad_multiple, position_limit

__all__ = ["EmbedStats", "Embedder", "Pooling", "pool_hidden", "resolve_pooling", "weights_fingerprint"]

Pooling = Literal["mean", "cls", "last"]
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")


def resolve_pooling(requested: str, kind: BackboneKind) -> Pooling:
    """``auto`` is mean pooling for encoders and the last real token for decoders."""
    if requested == "auto":
        return "mean" if kind == "encoder" else "last"
    if requested not in ("mean", "cls", "last"):
        raise ConfigError(f"embedding.pooling must be auto, mean, cls or last, got {requested!r}")
    return requested  # type: ignore[return-value]


def pool_hidden(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    """Pool right-padded hidden states to one L2-normalised float32 vector per row.

    Args:
        hidden: ``[B, T, H]`` last hidden states.
        attention_mask: ``[B, T]`` with 1 for real tokens, right-padded (real tokens first).
        pooling: ``mean`` over real tokens, ``last`` real token, or ``cls`` (position 0).

    Returns:
        ``[B, H]`` float32 with unit L2 norm per row.
    """
    hidden = hidden.float()
    if pooling == "mean":
        mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
    elif pooling == "last":
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        pooled = hidden[rows, last_token_index(attention_mask)]
    else:
        pooled = hidden[:, 0]
    return F.normalize(pooled, dim=-1)


def weights_fingerprint(source: str, gguf_file: str | None) -> str:
    """A short hash of the weight files' names, sizes and mtimes, so re-trained weights miss the cache.

    Hub ids (no local directory) give ``hub``: their revision is part of the id string instead.
    """
    folder = Path(source)
    if not folder.is_dir():
        return "hub"
    files = [folder / gguf_file] if gguf_file else sorted(p for p in folder.iterdir() if p.suffix in _WEIGHT_SUFFIXES)
    parts = [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files if p.is_file()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@dataclass
class EmbedStats:
    """Counters over an embedder's lifetime: distinct texts served from the cache vs. computed."""

    cache_hits: int = 0
    computed: int = 0


class Embedder:
    """A frozen Hugging Face backbone + pooling: ``embed(prompts, responses) -> [N, D]`` float32."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        input_format: InputFormat,
        max_length: int,
        pooling: Pooling,
        embedder_id: str,
        cache: EmbeddingCache | None = None,
    ) -> None:
        if tokenizer.pad_token_id is None:
            raise ModelError("the tokenizer has no pad token")
        self.model = model.eval()
        self.model.requires_grad_(False)
        self.tokenizer = tokenizer
        self.input_format = input_format
        self.max_length = int(max_length)
        self.pooling: Pooling = pooling
        self.id = embedder_id
        self.cache = cache
        self.stats = EmbedStats()

    @classmethod
    def from_backbone(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        gguf_file: str | None = None,
        pooling: str = "auto",
        max_length: int = 256,
        input_format: str = "auto",
        cache: EmbeddingCache | None = None,
    ) -> Embedder:
        """Load a backbone (a directory, hub id or GGUF file) as a frozen embedder."""
        loaded = load_backbone(name_or_path, gguf_file=gguf_file)
        fmt = InputFormat.for_tokenizer(loaded.tokenizer, input_format)
        resolved = resolve_pooling(pooling, loaded.kind)
        source = str(name_or_path)
        revision = getattr(loaded.model.config, "_commit_hash", None)
        weights = weights_fingerprint(source, gguf_file) + (f"@{revision}" if revision else "")
        embedder_id = (
            f"{source}|gguf={gguf_file or '-'}|weights={weights}"
            f"|pooling={resolved}|max_length={int(max_length)}|special_tokens={fmt.add_special_tokens}"
        )
        return cls(loaded.model, loaded.tokenizer, input_format=fmt, max_length=max_length, pooling=resolved,
                   embedder_id=embedder_id, cache=cache)

    @classmethod
    def from_saved(
        cls,
        path: str | os.PathLike[str],
        *,
        embedder_id: str,
        input_format: InputFormat,
        max_length: int,
        pooling: Pooling,
        cache: EmbeddingCache | None = None,
    ) -> Embedder:
        """Load a directory written by :meth:`save`, keeping the id it was saved with (so the cache hits)."""
        loaded = load_backbone(path)
        return cls(loaded.model, loaded.tokenizer, input_format=input_format, max_length=max_length,
                   pooling=pooling, embedder_id=embedder_id, cache=cache)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the backbone (without any classification head) and its tokenizer into ``path``."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        self.model.base_model.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        return out

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def kind(self) -> BackboneKind:
        return backbone_kind(self.model.config)

    def to(self, device: str | torch.device) -> Embedder:
        self.model.to(device)
        return self

    # ----------------------------------------------------------------------------- inputs
    def format(self, prompt: Prompt, response: str) -> str:
        """The exact input text for one (prompt, response) pair (the same as ``RewardModel.format``)."""
        return format_input(prompt, response, self.input_format, self.tokenizer)

    def tokenize(self, texts: Sequence[str], *, truncate: bool = True) -> list[list[int]]:
        """Token ids per text, truncated from the left to ``max_length`` (keeps the response end)."""
        if not texts:
            return []
        enc = self.tokenizer(
            list(texts), add_special_tokens=self.input_format.add_special_tokens, truncation=truncate,
            max_length=self.max_length if truncate else None, verbose=truncate,
        )
        return [list(ids) for ids in enc["input_ids"]]

    def encode(self, prompts: Sequence[Prompt], responses: Sequence[str], *, truncate: bool = True) -> list[list[int]]:
        """Token ids for each pair, like ``RewardModel.encode`` (for length checks before training)."""
        if len(prompts) != len(responses):
            raise ModelError(f"got {len(prompts)} prompts but {len(responses)} responses")
        return self.tokenize([self.format(p, r) for p, r in zip(prompts, responses)], truncate=truncate)

    # ----------------------------------------------------------------------------- embedding
    def embed(
        self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 64, precision: str = "auto"
    ) -> np.ndarray:
        """``[N, D]`` float32 embeddings of the (prompt, response) pairs, in input order."""
        if len(prompts) != len(responses):
            raise ModelError(f"got {len(prompts)} prompts but {len(responses)} responses")
        texts = [self.format(p, r) for p, r in zip(prompts, responses)]
        return self.embed_texts(texts, batch_size=batch_size, precision=precision)

    def embed_texts(self, texts: Sequence[str], *, batch_size: int = 64, precision: str = "auto") -> np.ndarray:
        """``[N, D]`` float32 embeddings of formatted texts; each distinct text is computed at most once.

        bf16 embeddings are cached apart from fp32 ones (they differ slightly).
        """
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        prec = resolve_precision(precision, self.device)
        namespace = self.id if prec == "fp32" else f"{self.id}|precision={prec}"
        unique = list(dict.fromkeys(texts))
        keys = [cache_key(namespace, t) for t in unique]
        found = self.cache.get_many(keys) if self.cache is not None else {}
        vectors = {k: v for k, v in found.items() if v.shape == (self.dim,)}  # a stale width is recomputed
        missing = [i for i, k in enumerate(keys) if k not in vectors]
        self.stats.cache_hits += len(unique) - len(missing)
        self.stats.computed += len(missing)
        for idx, block in self._forward_longest_first([unique[i] for i in missing], batch_size, prec):
            new = {keys[missing[i]]: row for i, row in zip(idx, block)}
            if self.cache is not None:
                self.cache.put_many(new)  # one transaction per batch: an interrupt keeps what was done
            vectors.update(new)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        by_text = {t: vectors[k] for t, k in zip(unique, keys)}
        return np.stack([by_text[t] for t in texts]).astype(np.float32, copy=False)

    def _forward_longest_first(
        self, texts: list[str], batch_size: int, precision: Literal["fp32", "bf16"]
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """Yield ``(indices into texts, [b, D] vectors)`` batch by batch, longest inputs first."""
        seqs = self.tokenize(texts)
        order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
        device = self.device
        pad_id = int(self.tokenizer.pad_token_id)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            ids, mask = pad_batch([seqs[i] for i in idx], pad_id, multiple_of=pad_multiple(precision),
                                  max_width=position_limit(self.model.config, self.max_length))
            with torch.inference_mode(), autocast(precision, device):
                hidden = self.model.base_model(input_ids=ids.to(device), attention_mask=mask.to(device))
                pooled = pool_hidden(hidden.last_hidden_state, mask.to(device), self.pooling)
            yield idx, pooled.float().cpu().numpy()
