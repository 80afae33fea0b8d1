"""``OverOptConfig``: what ``rewardlab overopt`` studies, validated on construction (YAML + ``--set``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from rewardlab.errors import ConfigError
from rewardlab.overopt.experiments import IterateConfig, ScalingConfig
from rewardlab.overopt.proxies import ProxyTrainConfig
from rewardlab.precisions import Precision
from rewardlab.synth.candidates import AttributePolicy

__all__ = ["OverOptConfig"]


@dataclass(frozen=True)
class OverOptConfig:
    """One over-optimization study. Every key can be set with ``--set key=value``."""

    #: Keys whose values are paths: relative ones in a YAML file are read from the file's folder.
    PATH_KEYS = ("proxy", "gold", "candidates", "cache_dir")

    # The reward model under study: a model directory (an ensemble adds its rules) or a server URL. None: the
    # lab trains its default proxy (``train``: a frozen-embedding ensemble on the biased synthetic world).
    proxy: str | None = None
    train: ProxyTrainConfig = field(default_factory=ProxyTrainConfig)
    gold: str = "synth"  # synth (the world's gold utility), file (the candidates' gold), or a model directory / URL
    candidates: str = "synth"  # synth (fresh prompts, reference-policy samples) or a candidates file (JSONL ...)
    n_prompts: int = 200  # synthetic prompts
    n: int = 1000  # synthetic samples per prompt (N)
    n_max: int | None = None  # the largest best-of-n (default: N, or the smallest N of a candidates file)
    seed: int = 0
    wordings: int = 1  # phrasings per attribute combination (more: more distinct texts, more scoring)
    policy: AttributePolicy = field(default_factory=AttributePolicy)  # the reference policy's attribute frequencies
    points: int = 24  # n values (log-spaced) and β values of the tilted policy
    bootstrap: int = 200  # prompt-bootstrap rounds for the bands
    rules: tuple[Literal["mean", "min", "mean_minus_var"], ...] = ("mean", "min", "mean_minus_var")
    lam: float = 1.0  # λ of mean − λ·var (member scores standardised first)
    show_members: int = 1  # ensemble members also analysed one by one (the single-model baseline)
    # The scaling study and iterated updates (synthetic world, the lab's own proxies). null (auto): when the proxy
    # is the lab's default and candidates and gold are synthetic.
    experiments: bool | None = None
    scaling: ScalingConfig = field(default_factory=ScalingConfig)
    iterate: IterateConfig = field(default_factory=IterateConfig)
    # The Bayesian proxy: a last-layer Laplace posterior on the default proxy's first member, scored r − κ·std
    # (null: skipped). Needs the training pairs, so it runs only for the lab's own proxy.
    laplace_kappa: float | None = 1.0
    laplace_prior: float = 1.0  # prior precision of the last layer
    spot_checks: tuple[int, ...] = (50, 200)  # gold-comparison budgets for the early-stopping rule (docs/overopt.md)
    precision: Precision = "auto"
    batch_size: int = 64
    cache_dir: str | None = None  # the score cache (default $XDG_CACHE_HOME/rewardlab/scores); "-" turns it off

    def __post_init__(self) -> None:
        for name, low in (("n_prompts", 1), ("n", 2), ("wordings", 1), ("points", 3), ("bootstrap", 1),
                          ("batch_size", 1), ("show_members", 0)):
            value = getattr(self, name)
            if value < low:
                raise ConfigError(f"overopt.{name} must be >= {low}, got {value}")
        if self.n_max is not None and self.n_max < 2:
            raise ConfigError(f"overopt.n_max must be >= 2, got {self.n_max}")
        if self.laplace_kappa is not None and (not math.isfinite(self.laplace_kappa) or self.laplace_kappa < 0):
            raise ConfigError(f"overopt.laplace_kappa must be a finite number >= 0 or null, got {self.laplace_kappa}")
        if not math.isfinite(self.laplace_prior) or self.laplace_prior <= 0:
            raise ConfigError(f"overopt.laplace_prior must be a finite number > 0, got {self.laplace_prior}")
        if not math.isfinite(self.lam) or self.lam < 0:
            raise ConfigError(f"overopt.lam must be a finite number >= 0, got {self.lam}")
        if any(b < 2 for b in self.spot_checks):
            raise ConfigError(f"overopt.spot_checks budgets must be >= 2 comparisons, got {list(self.spot_checks)}")
        if not self.rules:
            raise ConfigError("overopt.rules must name at least one ensemble rule (mean, min, mean_minus_var)")
        if self.experiments and (self.candidates != "synth" or self.gold != "synth"):
            raise ConfigError("overopt.experiments=true needs the synthetic world: candidates=synth and gold=synth")
        if self.gold == "file" and self.candidates == "synth":
            raise ConfigError("overopt.gold=file needs a candidates file (overopt.candidates=PATH)")
