"""Backends: what the server needs from a loaded model, over rewardlab's own scoring code.

A backend formats and tokenizes inputs (on the request path) and scores a batch of them
(on the model thread). It adds no maths of its own: a ``RewardModel`` is scored with
``output_ids``/``combine_outputs``, an ensemble with its members' ``score_ids`` and
``aggregate_rewards``, an embedding-head model with its embedder and head, so the server's
rewards are the ones ``model.score`` returns for the same inputs (invariants 1-3, docs/architecture.md).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch

from rewardlab.data.records import Prompt
from rewardlab.errors import ModelError
from rewardlab.models.formatting import tokenize_texts
from rewardlab.models.precision import resolve_precision, store_bf16_weights
from rewardlab.serve.packing import plan_forwards

__all__ = ["Backend", "ModelBackend", "Scored", "make_backend", "resolve_device"]


@dataclass(frozen=True)
class Scored:
    """One input's result: the reward, the ensemble spread, and named head outputs when there are several."""

    reward: float
    spread: float | None = None
    attributes: dict[str, float] | None = None


@runtime_checkable
class Backend(Protocol):
    """The model side of the server. ``forward`` runs on one thread, one batch at a time."""

    kind: str
    max_length: int
    pad_text: str | None  # the pad token's text (stripped from the ends of OpenRLHF queries)
    lock: threading.Lock  # held around every tokenizer use (HF fast tokenizers are not re-entrant)

    def format(self, prompt: Prompt, response: str) -> str: ...

    def tokenize(self, texts: Sequence[str], *, truncate: bool) -> list[list[int]]: ...

    def payload(self, text: str, ids: list[int]) -> Any: ...

    def forward(self, payloads: list[Any]) -> list[Scored]: ...

    def normalize(self, rewards: Sequence[float]) -> list[float] | None: ...

    def info(self) -> dict[str, Any]: ...


def resolve_device(requested: str) -> torch.device:
    """``auto`` is the first CUDA device when there is one, else the CPU."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise ModelError(f"serve.device {requested!r} is not a torch device (try auto, cpu or cuda:0)") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"serve.device is {requested!r} but CUDA is not available; use auto or cpu")
    return device


class ModelBackend:
    """A ``RewardModel``, ``RewardEnsemble`` or ``EmbeddingRewardModel`` behind the Backend protocol."""

    def __init__(self, model: Any, *, precision: str = "auto", device: str = "auto",
                 forward_batch_size: int = 0, forward_overhead_tokens: int | None = None,
                 cast_weights: bool = False) -> None:
        from rewardlab.models.embedding_model import EmbeddingRewardModel
        from rewardlab.models.ensemble import RewardEnsemble
        from rewardlab.models.reward_model import RewardModel

        self.model = model
        self.lock = threading.Lock()
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)  # auto: bf16 where it runs fast
        # CPU defaults, measured on MiniLM (BENCHMARKS.md "Serving"): fp32 forwards are compute-bound
        # past 16 inputs and cost ~64 token-steps each beyond their tokens; bf16 (AMX) keeps gaining up
        # to 64 inputs and its fixed cost is ~4x larger (~256). On an accelerator: one forward per batch.
        cpu, bf16 = self.device.type == "cpu", self.precision == "bf16"
        self.forward_batch_size: int | None = forward_batch_size or ((64 if bf16 else 16) if cpu else None)
        self.forward_overhead_tokens = forward_overhead_tokens if forward_overhead_tokens is not None else (
            (256 if bf16 else 64) if cpu else 1 << 40)
        if isinstance(model, RewardModel):
            self.kind = "reward_model"
            model.to(self.device)
            self.tokenizer = model.tokenizer
        elif isinstance(model, RewardEnsemble):
            if not model.shares_inputs:
                raise ModelError("serving an ensemble needs members that share one tokenizer, input format and "
                                 "max_length (members of one backbone do); score this one offline")
            self.kind = "ensemble"
            for member in model.members:
                member.to(self.device)
            self.tokenizer = model.tokenizer
        elif isinstance(model, EmbeddingRewardModel):
            self.kind = "embedding_head"
            model.embedder.to(self.device)
            model.embedder.cache = None  # the server keeps no on-disk copy of what users send
            self.tokenizer = model.embedder.tokenizer
        else:
            raise ModelError(f"cannot serve a {type(model).__name__}; load a model directory with "
                             "rewardlab.models.load_model")
        self.cast_layers = 0
        if cast_weights and self.precision == "bf16":  # only a model the server loaded itself: it is changed
            self.cast_layers = store_bf16_weights(model)
        self.max_length = int(model.max_length)
        self.pad_text = self.tokenizer.pad_token
        self.input_format = model.input_format
        self.has_statistics = bool(model.metadata.get("normalization"))

    def format(self, prompt: Prompt, response: str) -> str:
        return str(self.model.format(prompt, response))

    def tokenize(self, texts: Sequence[str], *, truncate: bool) -> list[list[int]]:
        with self.lock:
            return tokenize_texts(self.tokenizer, texts, self.input_format, self.max_length, truncate=truncate)

    def payload(self, text: str, ids: list[int]) -> Any:
        """What ``forward`` reads for one input: token ids (the embedder re-tokenizes its texts itself)."""
        return text if self.kind == "embedding_head" else ids

    def forward(self, payloads: list[Any]) -> list[Scored]:
        """Score one batch, cut into forwards of similar lengths (``plan_forwards``), in input order."""
        if self.kind == "embedding_head":
            n = min(len(payloads), self.forward_batch_size or len(payloads))
            with self.lock:  # the embedder tokenizes (and sorts by length) inside embed_texts
                emb = self.model.embedder.embed_texts(payloads, batch_size=n, precision=self.precision)
            return [Scored(float(r)) for r in self.model.head.predict(emb)]
        out: list[Scored] = [Scored(0.0)] * len(payloads)
        groups = plan_forwards([len(p) for p in payloads], overhead_tokens=self.forward_overhead_tokens,
                               max_size=self.forward_batch_size or len(payloads) or 1)
        for group in groups:
            for i, scored in zip(group, self._forward_ids([payloads[i] for i in group])):
                out[i] = scored
        return out

    def _forward_ids(self, payloads: list[list[int]]) -> list[Scored]:
        """One padded forward (per member) through the model's own scoring code."""
        n = len(payloads)
        if self.kind == "reward_model":
            outputs = self.model.output_ids(payloads, batch_size=n, precision=self.precision)
            rewards = self.model.combine_outputs(outputs).tolist()
            names = self.model.head_names
            if len(names) == 1:
                return [Scored(float(r)) for r in rewards]
            return [Scored(float(r), attributes=dict(zip(names, map(float, row))))
                    for r, row in zip(rewards, outputs.tolist())]
        if self.kind == "ensemble":
            from rewardlab.models.ensemble import aggregate_rewards

            rows = [m.score_ids(payloads, batch_size=n, precision=self.precision) for m in self.model.members]
            member = torch.tensor(rows, dtype=torch.float64)
            agg = aggregate_rewards(member, self.model.aggregate, self.model.lam).tolist()
            spread = member.std(0, unbiased=False).tolist()
            return [Scored(float(r), spread=float(s)) for r, s in zip(agg, spread)]
        raise ModelError(f"a {self.kind} model is not scored from token ids")  # pragma: no cover

    def warmup(self) -> None:
        """One tiny forward at startup, so the first request does not pay for lazy initialisation."""
        text = self.format("Hello", "Hello!")
        self.forward([self.payload(text, self.tokenize([text], truncate=True)[0])])

    def normalize(self, rewards: Sequence[float]) -> list[float] | None:
        """Normalized rewards by the model's saved statistics, or None when it has none."""
        return list(self.model.normalize(rewards)) if self.has_statistics else None

    def info(self) -> dict[str, Any]:
        model = self.model
        info: dict[str, Any] = {
            "kind": self.kind, "input_format": model.input_format.kind, "max_length": self.max_length,
            "normalization": self.has_statistics, "device": str(self.device), "precision": self.precision,
            "forward_batch_size": self.forward_batch_size,  # null: each batch in one forward
            "forward_overhead_tokens": self.forward_overhead_tokens,
            "bf16_weights": self.cast_layers > 0,  # linear weights stored in bf16 (same scores, faster)
        }
        if self.kind == "ensemble":
            info.update(members=len(model.members), aggregate=model.aggregate, lam=model.lam)
        if self.kind == "reward_model" and len(model.head_names) > 1:
            info["heads"] = list(model.head_names)
        return info


def make_backend(model: Any, *, precision: str, device: str, forward_batch_size: int = 0,
                 forward_overhead_tokens: int | None = None, cast_weights: bool = False) -> Backend:
    """A backend for ``model``; a ready-made Backend (e.g. a test double) is returned as it is.

    ``cast_weights``: the server owns the model (it loaded it from a directory), so at bf16 its linear
    weights may be stored in bf16 once (:func:`rewardlab.models.precision.store_bf16_weights`); a
    model or loader handed in by the caller is never changed.
    """
    if isinstance(model, Backend):
        return model
    return ModelBackend(model, precision=precision, device=device, forward_batch_size=forward_batch_size,
                        forward_overhead_tokens=forward_overhead_tokens, cast_weights=cast_weights)
