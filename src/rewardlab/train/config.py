"""The typed configuration of a training run (``rewardlab train`` / ``rewardlab demo``).

Every field has a default, so an empty YAML file is a valid run: the synthetic world and the
default backbone. ``configs/*.yaml`` in the repository are examples that a test parses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rewardlab.errors import ConfigError
from rewardlab.synth import SynthConfig

__all__ = ["DataConfig", "EvalConfig", "LossConfig", "ModelConfig", "OptimConfig", "RunConfig"]


@dataclass(frozen=True)
class ModelConfig:
    """The backbone and how text becomes its input."""

    backbone: str = "default"  # 'default' (MiniLM), 'smollm2', a directory or a hub id
    gguf_file: str | None = None
    max_length: int = 256
    input_format: Literal["auto", "plain", "chat_template"] = "auto"
    dropout: bool = False  # off by default: faster and more stable reward-model training

    def __post_init__(self) -> None:
        if not 8 <= self.max_length <= 131072:
            raise ConfigError(f"model.max_length must be between 8 and 131072, got {self.max_length}")


@dataclass(frozen=True)
class DataConfig:
    """Where pairs come from and what happens to awkward ones."""

    train: str = "synth"  # a file, a save_to_disk directory, a hub id, or 'synth'
    eval: str | None = None  # held-out data; when unset, `train` is split by prompt
    format: Literal["auto", "rewardlab", "trl", "hh", "rewardbench", "pandalm", "llmbar"] = "auto"
    split: str | None = None  # split name for Hugging Face data sets
    test_fraction: float = 0.2
    split_seed: int = 0
    overlong: Literal["error", "drop", "truncate"] = "truncate"  # truncate keeps the response end
    on_invalid: Literal["error", "skip"] = "error"
    ties: Literal["drop", "error"] = "drop"  # Bradley-Terry has no tie term
    limit: int | None = None  # read at most this many rows (for quick runs)

    def __post_init__(self) -> None:
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"data.test_fraction must be in (0, 1), got {self.test_fraction}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"data.limit must be positive, got {self.limit}")


@dataclass(frozen=True)
class LossConfig:
    """The objective: Bradley-Terry with optional margin and reward centering."""

    name: Literal["bradley_terry"] = "bradley_terry"
    use_margin: bool = False  # subtract each pair's `margin` field (missing = 0)
    center_coef: float = 0.0  # weight of the (r_c + r_r)^2 centering term

    def __post_init__(self) -> None:
        if self.center_coef < 0:
            raise ConfigError(f"loss.center_coef must be >= 0, got {self.center_coef}")


@dataclass(frozen=True)
class OptimConfig:
    """Optimisation, batching, precision, logging and checkpoints."""

    epochs: int = 1
    max_steps: int | None = None  # stop after this many optimizer steps (overrides epochs)
    batch_size: int = 16  # pairs per micro-batch per process
    grad_accum: int = 1
    lr: float = 5e-5
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    schedule: Literal["cosine", "linear", "constant"] = "cosine"
    grad_clip: float = 1.0
    precision: Literal["auto", "fp32", "bf16"] = "auto"  # auto = bf16 where the hardware is fast at it
    bucket_by_length: bool = True
    seed: int = 0
    eval_every: int = 0  # optimizer steps between periodic evaluations; 0 = only at the end
    eval_pairs: int = 256  # pairs used by periodic evaluation (the final evaluation uses all)
    save_every: int = 100  # optimizer steps between checkpoints
    keep_checkpoints: int = 2
    log_every: int = 10
    progress: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "grad_accum", "save_every", "keep_checkpoints", "log_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"train.max_steps must be >= 1, got {self.max_steps}")
        if self.lr <= 0:
            raise ConfigError(f"train.lr must be > 0, got {self.lr}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"train.warmup_ratio must be in [0, 1), got {self.warmup_ratio}")


@dataclass(frozen=True)
class EvalConfig:
    """Held-out evaluation after training."""

    calibration_fraction: float = 0.3  # of the held-out prompts, used only to fit the temperature
    batch_size: int = 64
    precision: Literal["auto", "fp32", "bf16"] = "auto"

    def __post_init__(self) -> None:
        if not 0.0 <= self.calibration_fraction < 1.0:
            raise ConfigError(f"eval.calibration_fraction must be in [0, 1), got {self.calibration_fraction}")


@dataclass(frozen=True)
class RunConfig:
    """A whole run. YAML sections map one to one onto these fields."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: OptimConfig = field(default_factory=OptimConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
