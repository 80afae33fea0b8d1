"""Shared builders for the serving tests: tiny model directories and a gated backend.

Plain functions (no tests here), imported by test_serve*.py like ``filewriters``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rewardlab.models import RewardEnsemble, RewardModel
from rewardlab.models.heads import head_linear
from rewardlab.serve.backend import ModelBackend, Scored

PROMPTS = ["the cat is good?", "hello world", "a question: the dog?"]
RESPONSES = ["yes the cat is very good.", "hello", "no . the dog is bad . very very bad ."]


def tiny_reward_model(backbone: Path, *, seed: int = 1, max_length: int = 64) -> RewardModel:
    """A tiny reward model whose head is spread out so different inputs score differently."""
    model = RewardModel.from_backbone(backbone, max_length=max_length)
    torch.manual_seed(seed)
    torch.nn.init.normal_(head_linear(model.hf).weight, std=1.0)
    return model.eval()


def save_reward_model(backbone: Path, out: Path, *, statistics: dict[str, float] | None = None) -> Path:
    model = tiny_reward_model(backbone)
    if statistics is not None:
        model.metadata["normalization"] = statistics
    return model.save_pretrained(out)


def save_ensemble(backbone: Path, out: Path) -> Path:
    members = [tiny_reward_model(backbone, seed=s) for s in (1, 2, 3)]
    return RewardEnsemble(members, aggregate="mean_minus_std", lam=0.5).save_pretrained(out)


class GatedBackend:
    """A real backend whose forward waits for ``gate`` (to hold work in flight deterministically)."""

    def __init__(self, model: Any, *, fail_on: str | None = None) -> None:
        self.inner = ModelBackend(model, precision="fp32")
        self.kind, self.max_length, self.pad_text = self.inner.kind, self.inner.max_length, self.inner.pad_text
        self.lock = self.inner.lock
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.fail_on = fail_on  # a token-id payload containing this text's ids makes forward raise
        self.batches: list[int] = []

    def format(self, prompt: Any, response: str) -> str:
        return self.inner.format(prompt, response)

    def tokenize(self, texts: Sequence[str], *, truncate: bool) -> list[list[int]]:
        return self.inner.tokenize(texts, truncate=truncate)

    def payload(self, text: str, ids: list[int]) -> Any:
        return ids

    def forward(self, payloads: list[Any]) -> list[Scored]:
        self.entered.set()
        if not self.gate.wait(30):
            raise RuntimeError("the test never opened the gate")
        if self.fail_on is not None:
            bad = self.inner.tokenize([self.fail_on], truncate=True)[0][1:-1]
            if any(bad == p[i : i + len(bad)] for p in payloads for i in range(len(p))):
                raise ValueError("poisoned input")
        self.batches.append(len(payloads))
        return self.inner.forward(payloads)

    def normalize(self, rewards: Sequence[float]) -> list[float] | None:
        return self.inner.normalize(rewards)

    def info(self) -> dict[str, Any]:
        return self.inner.info()


class SlowTokenizeBackend(GatedBackend):
    """A real backend whose tokenizer stalls on texts holding ``marker`` until ``release`` (a huge request)."""

    def __init__(self, model: Any, marker: str) -> None:
        super().__init__(model)
        self.gate.set()  # forwards run freely
        self.marker = marker
        self.release = threading.Event()
        self.slow_calls = 0

    def tokenize(self, texts: Sequence[str], *, truncate: bool) -> list[list[int]]:
        if any(self.marker in t for t in texts):
            self.slow_calls += 1
            self.release.wait(10)
        return self.inner.tokenize(texts, truncate=truncate)
