"""The default proxy: a small ensemble of frozen-embedding reward models trained on the synthetic world's labels.

When a study names no proxy, the lab trains one so that it runs with no config at all:
``members`` MLP heads (Bradley-Terry) on frozen MiniLM embeddings (Sun, Shen & Ton, 2025),
each on a bootstrap resample of the world's non-tie pairwise labels (``pool: biased`` by
default: annotators who like length and markdown, so the proxy has something to be hacked
by). The embeddings are computed once, through the embedding cache, and shared by every
member and by scoring, so the whole ensemble trains in about a minute on 2 CPU cores.
``pairs`` caps the label budget (the scaling study trains at several budgets).

A fine-tuned proxy is studied by passing its model directory instead
(``rewardlab overopt runs/a/model``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rewardlab.errors import ConfigError

__all__ = ["ProxyTrainConfig", "member_pairs", "train_proxies", "training_pairs"]


@dataclass(frozen=True)
class ProxyTrainConfig:
    """How the default proxy is trained (``train.*`` in a study config)."""

    pool: Literal["default", "biased"] = "biased"  # the annotators whose labels the proxy learns
    noise: float = 1.0  # label noise: multiplies every annotator's temperature (synth.noise)
    n_prompts: int = 1000  # world prompts labelled for training (3 pairs each, ties dropped)
    pairs: int | None = None  # label budget: at most this many pairs (None: all)
    members: int = 4  # ensemble members (bootstrap resamples, one seed each)
    bootstrap: bool = True
    backbone: str = "default"  # the frozen embedder
    seed: int = 0
    epochs: int = 30
    cache_dir: str | None = None  # the embedding cache (default $XDG_CACHE_HOME/rewardlab/embeddings)

    def __post_init__(self) -> None:
        if self.n_prompts < 10:
            raise ConfigError(f"train.n_prompts must be >= 10, got {self.n_prompts}")
        if self.pairs is not None and self.pairs < 20:
            raise ConfigError(f"train.pairs must be >= 20 (or null for all), got {self.pairs}")
        if not 1 <= self.members <= 16:
            raise ConfigError(f"train.members must be in 1..16, got {self.members}")
        if self.epochs < 1:
            raise ConfigError(f"train.epochs must be >= 1, got {self.epochs}")


def training_pairs(cfg: ProxyTrainConfig, extra: list[Any] | None = None) -> list[Any]:
    """The world's non-tie labels (capped at ``cfg.pairs``, a seeded sample), plus ``extra`` labels."""
    from rewardlab.synth import SynthConfig, generate_world

    world = generate_world(SynthConfig(n_prompts=cfg.n_prompts, pool=cfg.pool, seed=cfg.seed, noise=cfg.noise))
    pairs = [p for p in world.comparisons() if not p.tie]
    if cfg.pairs is not None and cfg.pairs < len(pairs):
        pairs = random.Random(f"rewardlab.overopt/budget/{cfg.seed}").sample(pairs, cfg.pairs)
    return pairs + list(extra or [])


def member_pairs(cfg: ProxyTrainConfig, pairs: list[Any], k: int) -> list[Any]:
    """Member ``k``'s training pairs: a seeded bootstrap resample of ``pairs`` (or all of them)."""
    if not cfg.bootstrap:
        return pairs
    rng = random.Random(f"rewardlab.overopt/bootstrap/{cfg.seed}/{k}")
    return [pairs[rng.randrange(len(pairs))] for _ in pairs]


def train_proxies(cfg: ProxyTrainConfig, out: Path, *, extra: list[Any] | None = None,
                  log: Callable[[str], Any] = print) -> list[Path]:
    """Train ``cfg.members`` frozen-embedding reward models into ``out/member-K``; returns their directories."""
    from rewardlab.train.config import EmbeddingConfig
    from rewardlab.train.embedding import train_embedding_head

    pairs = training_pairs(cfg, extra)
    log(f"default proxy: {cfg.members} frozen-embedding MLP reward models on {len(pairs)} {cfg.pool}-pool pairs "
        f"(synthetic world, {cfg.n_prompts} prompts, seed {cfg.seed}{', bootstrap' if cfg.bootstrap else ''})")
    head = EmbeddingConfig(cache_dir=cfg.cache_dir, epochs=cfg.epochs)
    dirs = []
    for k in range(cfg.members):
        train = member_pairs(cfg, pairs, k)
        model, timings = train_embedding_head(train, head, backbone=cfg.backbone, seed=cfg.seed + k,
                                              log=lambda _: None)
        path = out / f"member-{k}"
        model.save_pretrained(path)
        log(f"  member {k}: {timings['n_texts']:.0f} inputs embedded in {timings['embed_seconds']:.1f} s "
            f"({timings['cache_hits']:.0f} from the cache), head trained in {timings['train_seconds']:.1f} s")
        dirs.append(path)
    return dirs
