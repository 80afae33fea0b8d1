"""EmbeddingRewardModel: a frozen embedder plus a small trained head, scored like ``RewardModel``.

The model of Sun, Shen & Ton (2025): ``reward(prompt, response) = head(embed(format(prompt,
response)))`` where the embedder is a frozen backbone (see ``embedder.py``) and the head an MLP
or gradient-boosted trees (``embedding_heads.py``). ``score``, ``normalize``, ``format`` and the
model directory follow :class:`~rewardlab.models.RewardModel`, so scoring code works with either.

The directory is *not* a transformers sequence-classification export (the head is not a
transformers module)::

    rewardlab.json   format_version, model_type "embedding_head", input_format, max_length,
                     head (type, file, dims), embedder (id, pooling), and the run's metadata
    embedder/        the frozen backbone and tokenizer (a plain HF base model, no head)
    head.safetensors or head_lightgbm.txt
    README.md        a model card that says how to load it
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rewardlab import __version__
from rewardlab.data.records import Prompt
from rewardlab.errors import ModelError
from rewardlab.models.embedder import Embedder
from rewardlab.models.embedding_cache import EmbeddingCache
from rewardlab.models.embedding_heads import EmbeddingHead, load_head
from rewardlab.models.formatting import InputFormat, coerce_pairs
from rewardlab.models.io import FORMAT_VERSION, METADATA_FILE, read_metadata
from rewardlab.models.metadata import typed_load
from rewardlab.models.normalization import normalize_rewards
from rewardlab.models.precision import resolve_precision

__all__ = ["MODEL_TYPE", "EmbeddingRewardModel", "is_embedding_model_dir", "open_cache"]

MODEL_TYPE = "embedding_head"
EMBEDDER_DIR = "embedder"
CacheArg = EmbeddingCache | Literal["auto"] | None


def open_cache(cache: CacheArg = "auto", cache_dir: str | os.PathLike[str] | None = None) -> EmbeddingCache | None:
    """``"auto"``: the cache in ``cache_dir`` (default location when unset); ``None``: no cache."""
    if cache == "auto":
        return EmbeddingCache.in_dir(cache_dir)
    return cache


def is_embedding_model_dir(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` holds a model saved by :meth:`EmbeddingRewardModel.save_pretrained`."""
    file = Path(path) / METADATA_FILE
    try:
        return bool(json.loads(file.read_text()).get("model_type") == MODEL_TYPE)
    except (OSError, json.JSONDecodeError, AttributeError):
        return False


class EmbeddingRewardModel:
    """A frozen :class:`Embedder` and a trained :class:`EmbeddingHead` mapping (prompt, response) to a reward."""

    def __init__(self, embedder: Embedder, head: EmbeddingHead, *, metadata: dict[str, Any] | None = None) -> None:
        self.embedder = embedder
        self.head = head
        self.metadata: dict[str, Any] = dict(metadata or {})

    @property
    def input_format(self) -> InputFormat:
        return self.embedder.input_format

    @property
    def max_length(self) -> int:
        return self.embedder.max_length

    # ----------------------------------------------------------------------------- loading
    @classmethod
    @typed_load
    def from_pretrained(
        cls, path: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None, cache: CacheArg = "auto"
    ) -> EmbeddingRewardModel:
        """Load a directory written by :meth:`save_pretrained` (offline: everything is inside it).

        Embeddings go through the cache in ``cache_dir`` (default location when unset) under the
        id the embedder had when trained, so texts embedded during training are not recomputed;
        ``cache=None`` disables it.
        """
        root = Path(path)
        meta = read_metadata(root) if root.is_dir() else None
        if meta is None:
            raise ModelError(f"{root} is not a rewardlab model directory (no {METADATA_FILE})")
        if meta.get("model_type") != MODEL_TYPE:
            raise ModelError(
                f"{root} is not an embedding-head reward model (model_type {meta.get('model_type')!r}); "
                "load fine-tuned models with RewardModel.from_pretrained"
            )
        emb = meta.get("embedder") or {}
        head_meta = meta.get("head")
        if not isinstance(head_meta, dict) or "id" not in emb or emb.get("pooling") not in ("mean", "cls", "last"):
            raise ModelError(f"{root / METADATA_FILE} lacks a valid 'head' or 'embedder' section; re-save the model")
        head = load_head(root, head_meta)  # first: a broken head fails before the backbone loads
        if not (root / EMBEDDER_DIR).is_dir():
            raise ModelError(f"{root / EMBEDDER_DIR} is missing; the model directory is incomplete")
        embedder = Embedder.from_saved(
            root / EMBEDDER_DIR, embedder_id=str(emb["id"]), input_format=InputFormat.from_dict(meta["input_format"]),
            max_length=int(meta["max_length"]), pooling=emb["pooling"],
            cache=open_cache(cache, cache_dir),
        )
        return cls(embedder, head, metadata=meta)

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        """Write ``embedder/``, the head file, then ``rewardlab.json`` and ``README.md`` into ``path``."""
        root = Path(path)
        self.embedder.save(root / EMBEDDER_DIR)
        self.write_metadata(root)
        return root

    def write_metadata(self, path: str | os.PathLike[str]) -> None:
        """(Re)write the head, ``rewardlab.json`` and the model card (e.g. after evaluation adds metrics)."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        head_meta = self.head.save(root)
        meta = {
            **self.metadata,
            "format_version": FORMAT_VERSION,
            "rewardlab_version": __version__,
            "model_type": MODEL_TYPE,
            "input_format": self.input_format.to_dict(),
            "max_length": self.max_length,
            "head": head_meta,
            "embedder": {"id": self.embedder.id, "pooling": self.embedder.pooling, "dir": EMBEDDER_DIR,
                         "dim": self.embedder.dim},
        }
        self.metadata = meta
        (root / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        (root / "README.md").write_text(model_card(meta))

    # ----------------------------------------------------------------------------- scoring
    def format(self, prompt: Prompt, response: str) -> str:
        """The exact input text for one (prompt, response) pair."""
        return self.embedder.format(prompt, response)

    def encode(self, prompts: Sequence[Prompt], responses: Sequence[str], *, truncate: bool = True) -> list[list[int]]:
        """Token ids per pair, as ``RewardModel.encode`` (for length policies)."""
        return self.embedder.encode(prompts, responses, truncate=truncate)

    def embed(
        self, prompts: Sequence[Prompt], responses: Sequence[str], *, batch_size: int = 32, precision: str = "auto"
    ) -> np.ndarray:
        """``[N, D]`` float32 embeddings (through the cache) at :meth:`embedding_precision` of ``precision``."""
        return self.embedder.embed(prompts, responses, batch_size=batch_size,
                                   precision=self.embedding_precision(precision))

    def embedding_precision(self, requested: str = "auto") -> str:
        """``auto``: the precision the head was trained on (``fp32`` for models that do not record it),
        or ``fp32`` where the hardware does not run bf16 fast; anything else as asked."""
        if requested != "auto":
            return requested
        trained = (self.metadata.get("embedding") or {}).get("precision", "fp32")
        fast = resolve_precision("auto", self.embedder.device)
        return "bf16" if trained == "bf16" and fast == "bf16" else "fp32"

    def score(
        self,
        prompts: Sequence[Prompt],
        responses: Sequence[str],
        *,
        batch_size: int = 32,
        precision: str = "auto",
        normalize: bool = False,
    ) -> list[float]:
        """One reward per (prompt, response) (shapes as ``RewardModel.score``); ``normalize``: saved statistics."""
        prompts, responses = coerce_pairs(prompts, responses)
        emb = self.embed(prompts, responses, batch_size=batch_size, precision=precision)
        rewards = [float(r) for r in self.head.predict(emb)]
        return self.normalize(rewards) if normalize else rewards

    def normalize(self, rewards: Sequence[float]) -> list[float]:
        """``(r - mean) / std`` with the saved reward statistics (``models/normalization.py``)."""
        return normalize_rewards(rewards, self.metadata)


def model_card(meta: dict[str, Any]) -> str:
    """A model card that says plainly how this directory is (and is not) loaded."""
    head = meta["head"]
    emb = meta["embedder"]
    what = "a LightGBM gradient-boosted-trees classifier" if head["type"] == "lightgbm" else "a small MLP"
    reward = (
        "the classifier's logit (log-odds that the response is the preferred one)"
        if head.get("objective") == "classification"
        else "the MLP's output, trained with a Bradley-Terry loss"
    )
    template = (
        "rewardlab's plain template, `Human: {prompt}\\n\\nAssistant: {response}`"
        if meta["input_format"]["kind"] == "plain"
        else "the tokenizer's chat template applied to the prompt plus the response"
    )
    norm = meta.get("normalization")
    norm_line = (
        f"\n`normalize=True` returns `(r - {norm['mean']:.6f}) / {norm['std']:.6f}`.\n" if norm else ""
    )
    metrics = meta.get("metrics") or {}
    lines = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items()) if isinstance(v, float))
    metric_block = f"\n## Held-out metrics\n\n| metric | value |\n|---|---|\n{lines}\n" if lines else ""
    return f"""---
library_name: rewardlab
tags: [reward-model, rewardlab, frozen-embeddings]
---

# Reward model (frozen embeddings + {head['type']} head)

Trained with [rewardlab](https://pypi.org/project/rewardlab/) {__version__} following Sun, Shen & Ton (2025),
"Rethinking Bradley-Terry Models in Preference-Based Reward Modeling". A frozen backbone
(`{meta.get('backbone', 'unknown')}`) embeds each (prompt, response) as the L2-normalised {emb['pooling']}-pooled
last hidden state; {what} maps the embedding to a reward: {reward}. Higher means preferred.

**This directory is not a transformers sequence-classification export.** `AutoModelForSequenceClassification`
cannot load it: `embedder/` is only the frozen backbone (no reward head) and the head is a separate file
(`{head['file']}`). Load and score it with rewardlab (it works offline; everything is in this directory):

```python
from rewardlab.models.embedding_model import EmbeddingRewardModel

rm = EmbeddingRewardModel.from_pretrained("PATH")  # cache_dir=... or cache=None to control the embedding cache
rm.score(["What is 2 + 2?"], ["2 + 2 = 4."])
```

The input text is {template}, truncated from the left to {meta['max_length']} tokens.
{norm_line}{metric_block}"""
