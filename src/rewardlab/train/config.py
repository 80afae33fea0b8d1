"""The typed configuration of a training run (``rewardlab train`` / ``rewardlab demo``).

Every field has a default, so an empty YAML file is a valid run: the synthetic world and the
default backbone. ``configs/*.yaml`` in the repository are examples that a test parses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from rewardlab.data.load import Format
from rewardlab.errors import ConfigError
from rewardlab.precisions import Precision
from rewardlab.synth import SynthConfig

__all__ = [
    "AuditConfig",
    "DataConfig",
    "DebiasConfig",
    "EmbeddingConfig",
    "EnsembleConfig",
    "EvalConfig",
    "LoraConfig",
    "LossConfig",
    "ModelConfig",
    "OptimConfig",
    "RunConfig",
]

#: The objectives ``loss.name`` can choose, grouped by the records they train on.
PAIR_LOSSES = ("bradley_terry", "tie_bt", "annotator_bt", "pairwise_classification")
RANKING_LOSSES = ("plackett_luce", "ranking_pairs")
LossName = Literal[
    "bradley_terry", "tie_bt", "annotator_bt", "pairwise_classification",
    "plackett_luce", "ranking_pairs", "regression", "classification",
]


def _at_least(section: str, obj: Any, low: float, *names: str, strict: bool = False) -> None:
    """Each named field is a finite number >= ``low`` (> ``low`` with ``strict``), or a ConfigError naming it."""
    for name in names:
        value = getattr(obj, name)
        bad = not math.isfinite(value) or (value <= low if strict else value < low)
        if bad:
            raise ConfigError(f"{section}.{name} must be {'>' if strict else '>='} {low:g}, got {value!r}")


@dataclass(frozen=True)
class ModelConfig:
    """The backbone and how text becomes its input."""

    backbone: str = "default"  # 'default' (MiniLM), 'smollm2', a directory or a hub id
    gguf_file: str | None = None  # a GGUF file inside `backbone` (SmolLM2 ships one)
    max_length: int = 256  # tokens per (prompt, response) input
    # plain: the Human:/Assistant: template; chat_template; auto: the chat template when the tokenizer has one
    input_format: Literal["auto", "plain", "chat_template"] = "auto"
    dropout: bool = False  # off by default: faster and more stable reward-model training
    # keep the input token embeddings as loaded (full fine-tuning only): regularizes a short fine-tune,
    # +3 gold points on the demo's world at the same speed (BENCHMARKS.md)
    freeze_embeddings: bool = False
    # keep the embeddings and the first N transformer layers as loaded (full fine-tuning only): the backward
    # pass stops at layer N, so steps are cheaper (MiniLM, N=2: ~1.4x); the demo uses 2 (BENCHMARKS.md)
    freeze_layers: int = 0
    # fine-tune everything, LoRA adapters, or a small head on frozen embeddings
    method: Literal["full", "lora", "embedding"] = "full"
    # Run Python code that ships inside a backbone directory or hub repo (its config's auto_map). Off: such a
    # backbone is refused with a ModelError, never run, and transformers never asks on stdin.
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        if not 8 <= self.max_length <= 131072:
            raise ConfigError(f"model.max_length must be between 8 and 131072, got {self.max_length}")
        if self.freeze_layers < 0:
            raise ConfigError(f"model.freeze_layers must be >= 0 (layers kept as loaded), got {self.freeze_layers}")
        if self.freeze_layers and self.method != "full":
            raise ConfigError(f"model.freeze_layers applies to full fine-tuning; model.method={self.method} already "
                              "trains only adapters or a head: set model.freeze_layers=0")


@dataclass(frozen=True)
class DataConfig:
    """Where pairs come from and what happens to awkward ones."""

    train: str = "synth"  # a file, a save_to_disk directory, a hub id, or 'synth'
    eval: str | None = None  # held-out data; when unset, `train` is split by prompt
    format: Format = "auto"  # the pairwise format; auto detects it from the first row (docs/data.md)
    split: str | None = None  # split name for Hugging Face data sets
    test_fraction: float = 0.2  # share of prompts held out when `eval` is unset
    split_seed: int = 0  # seed of the split by prompt
    overlong: Literal["error", "drop", "truncate"] = "truncate"  # truncate keeps the response end
    # skip: drop malformed rows, counted by reason; error: stop at the first, naming file, line and field
    on_invalid: Literal["error", "skip"] = "error"
    ties: Literal["drop", "error"] = "drop"  # for objectives without a tie term (tie_bt keeps them)
    limit: int | None = None  # read at most this many rows (for quick runs)
    # The file's own column names for rewardlab's fields, e.g. {prompt: question, chosen: response_a}
    columns: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"data.test_fraction must be in (0, 1), got {self.test_fraction}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"data.limit must be positive, got {self.limit}")
        from rewardlab.data.columns import check_columns

        check_columns(self.columns, "data.columns")


@dataclass(frozen=True)
class LossConfig:
    """The objective and the records it trains on (see docs/training.md, "Objectives").

    Pairs: ``bradley_terry`` (optionally with margins and centering), ``tie_bt`` (ties kept,
    Davidson or Rao-Kupper), ``annotator_bt`` (a learned temperature, optionally a bias, per
    annotator), ``pairwise_classification`` (chosen = 1, rejected = 0, per response).
    Rankings: ``plackett_luce``, ``ranking_pairs`` (InstructGPT). Ratings: ``regression``.
    Good/bad labels: ``classification``.
    """

    name: LossName = "bradley_terry"  # the objective, and with it the records it trains on (docs/objectives.md)
    margin: Literal["none", "field", "strength"] = "none"  # field: each pair's `margin`; strength: Llama-2 table
    strength_margins: tuple[float, ...] = (0.0, 1 / 3, 2 / 3, 1.0)  # margin for strength 0, 1, 2, 3 (Llama 2)
    center_coef: float = 0.0  # weight of the (r_c + r_r)^2 centering term
    # tie_bt: Davidson (learned nu) or Rao-Kupper (learned threshold)
    tie_model: Literal["davidson", "rao_kupper"] = "davidson"
    tie_init: float = 0.5  # initial Davidson nu / Rao-Kupper log(theta) (learned during training)
    annotator_bias: bool = False  # annotator_bt: also learn a per-annotator bias head
    attributes: tuple[str, ...] = ("overall",)  # regression: the rating attributes, one output each
    combine: tuple[float, ...] | None = None  # regression: weights that make one reward (default: first attribute)
    standardize_targets: bool = True  # regression: fit (rating - mean) / std of the training ratings
    param_lr: float = 0.02  # learning rate of the loss's own parameters (tie ν/η, annotator temperatures)

    def __post_init__(self) -> None:
        _at_least("loss", self, 0.0, "center_coef")
        _at_least("loss", self, 0.0, "param_lr", strict=True)
        if self.tie_init <= 0 and self.tie_model == "davidson":
            raise ConfigError(f"loss.tie_init must be > 0 for davidson (it is nu), got {self.tie_init}")
        if not self.attributes:
            raise ConfigError("loss.attributes must name at least one rating attribute")
        if len(set(self.attributes)) != len(self.attributes):
            raise ConfigError(f"loss.attributes lists an attribute twice: {list(self.attributes)}")
        if self.combine is not None and len(self.combine) != len(self.attributes):
            raise ConfigError(
                f"loss.combine has {len(self.combine)} weights for {len(self.attributes)} attributes "
                f"({list(self.attributes)}); give one weight per attribute"
            )
        if any(m < 0 for m in self.strength_margins):
            raise ConfigError(f"loss.strength_margins must be >= 0, got {list(self.strength_margins)}")

    @property
    def records(self) -> Literal["pairs", "rankings", "ratings", "labels"]:
        """The record type this objective trains on."""
        if self.name in PAIR_LOSSES:
            return "pairs"
        if self.name in RANKING_LOSSES:
            return "rankings"
        return "ratings" if self.name == "regression" else "labels"


@dataclass(frozen=True)
class LoraConfig:
    """PEFT LoRA adapters (``model.method=lora``); the scalar head stays fully trainable and is saved."""

    r: int = 16  # adapter rank
    alpha: int = 32  # adapter scale (alpha / r)
    dropout: float = 0.0  # dropout on the adapters' input
    target_modules: tuple[str, ...] | None = None  # default: attention query/value projections of the backbone

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha < 1:
            raise ConfigError(f"lora.r and lora.alpha must be >= 1, got r={self.r}, alpha={self.alpha}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"lora.dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class EmbeddingConfig:
    """A small head on frozen backbone embeddings (``model.method=embedding``), Sun, Shen & Ton (2025)."""

    head: Literal["mlp", "lightgbm"] = "mlp"  # a small MLP or LightGBM trees
    loss: Literal["bradley_terry", "classification"] = "bradley_terry"  # mlp only; lightgbm is classification
    pooling: Literal["auto", "mean", "cls", "last"] = "auto"  # auto: mean for encoders, last token for decoders
    cache_dir: str | None = None  # default: $XDG_CACHE_HOME/rewardlab/embeddings (~/.cache/...)
    embed_batch_size: int = 64  # inputs per embedding forward pass
    hidden: int = 256  # MLP hidden units
    epochs: int = 30  # MLP passes over the embedded pairs
    lr: float = 1e-3  # MLP learning rate
    batch_size: int = 256  # MLP examples per step
    weight_decay: float = 1e-4  # MLP weight decay
    trees: int = 400  # lightgbm boosting rounds
    leaves: int = 31  # LightGBM leaves per tree
    tree_lr: float = 0.05  # LightGBM learning rate

    def __post_init__(self) -> None:
        for name in ("embed_batch_size", "hidden", "epochs", "batch_size", "trees", "leaves"):
            if getattr(self, name) < 1:
                raise ConfigError(f"embedding.{name} must be >= 1, got {getattr(self, name)}")
        _at_least("embedding", self, 0.0, "lr", "tree_lr", strict=True)
        _at_least("embedding", self, 0.0, "weight_decay")


@dataclass(frozen=True)
class EnsembleConfig:
    """``--ensemble K``: K members with different seeds (optionally bootstrap resamples), one directory."""

    members: int = 1  # reward models trained with different seeds (`--ensemble K`)
    bootstrap: bool = False  # train each member on a bootstrap resample of the pairs
    aggregate: Literal["mean", "min", "mean_minus_std"] = "mean"  # the default scoring rule, saved with the model
    lam: float = 1.0  # lambda of mean - lambda * std (Coste et al. 2023)

    def __post_init__(self) -> None:
        if not 1 <= self.members <= 64:
            raise ConfigError(f"ensemble.members must be in 1..64, got {self.members}")
        if self.lam < 0:
            raise ConfigError(f"ensemble.lam must be >= 0, got {self.lam}")


@dataclass(frozen=True)
class OptimConfig:
    """Optimisation, batching, precision, logging and checkpoints."""

    epochs: int = 1  # passes over the training data
    max_steps: int | None = None  # stop after this many optimizer steps (overrides epochs)
    batch_size: int = 16  # pairs per micro-batch per process
    grad_accum: int = 1  # micro-batches per optimizer step
    lr: float = 5e-5  # AdamW learning rate (peak, after warmup)
    weight_decay: float = 0.0  # AdamW weight decay (not on norms and biases)
    warmup_ratio: float = 0.05  # share of the steps spent warming the learning rate up
    schedule: Literal["cosine", "linear", "constant"] = "cosine"  # learning-rate decay after warmup
    grad_clip: float = 1.0  # max gradient norm
    precision: Precision = "auto"  # auto = bf16 where the hardware is fast at it
    bucket_by_length: bool = True  # batch similar lengths together (inside shuffled windows), so padding is small
    # keep each prompt's examples in one batch, where a response shared by several of its pairs is scored once
    # (the demo's world, 3 pairs of 4 candidates: 3.7 forward rows per prompt instead of 5.5); whole prompts per batch
    group_by_prompt: bool = False
    seed: int = 0  # head init, batch order
    eval_every: int = 0  # optimizer steps between periodic evaluations; 0 = only at the end
    eval_pairs: int = 256  # pairs used by periodic evaluation (the final evaluation uses all)
    save_every: int = 100  # optimizer steps between checkpoints
    keep_checkpoints: int = 2  # how many checkpoints to keep
    log_every: int = 10  # optimizer steps between log lines
    progress: bool = True  # show a progress bar

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "grad_accum", "save_every", "keep_checkpoints", "log_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"train.max_steps must be >= 1, got {self.max_steps}")
        _at_least("train", self, 0.0, "lr", "grad_clip", strict=True)
        _at_least("train", self, 0.0, "weight_decay", "eval_every")
        _at_least("train", self, 1.0, "eval_pairs")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"train.warmup_ratio must be in [0, 1), got {self.warmup_ratio}")


@dataclass(frozen=True)
class EvalConfig:
    """Held-out evaluation after training."""

    calibration_fraction: float = 0.3  # of the held-out prompts, used only to fit the temperature
    batch_size: int = 64  # inputs per forward pass
    precision: Precision = "auto"  # auto: bf16 where the hardware is fast at it

    def __post_init__(self) -> None:
        if not 0.0 <= self.calibration_fraction < 1.0:
            raise ConfigError(f"eval.calibration_fraction must be in [0, 1), got {self.calibration_fraction}")
        _at_least("eval", self, 1.0, "batch_size")


@dataclass(frozen=True)
class DebiasConfig:
    """Mitigations switched on in training (see docs/objectives.md, "Length debiasing").

    ``length=covariate``: the loss sees ``reward + β·tokens/10`` with one learned slope ``β``
    (a length covariate in the Bradley-Terry model, as length-controlled AlpacaEval does for
    win rates, Dubois et al. 2024), so the length preference in the labels goes into ``β`` and
    the exported reward is what remains. ``length=odin``: a second head output learns the
    length-explained part and is dropped at export, and correlation penalties push the quality
    head away from length (Chen et al. 2024, ODIN). Pair objectives only.
    """

    # covariate: a learned length slope in the loss; odin: a separate length head (both dropped at export)
    length: Literal["none", "covariate", "odin"] = "none"
    # ODIN's weights. 0.2 each: at 1.0 the correlation terms drowned the Bradley-Terry signal on MiniLM
    # (quality head collapsed, 53% gold accuracy on the biased world; BENCHMARKS.md).
    quality_coef: float = 0.2  # weight of |corr(quality head, length)|
    length_coef: float = 0.2  # weight of -corr(length head, length)
    orth_coef: float = 0.2  # weight of |cos(W_quality, W_length)|

    def __post_init__(self) -> None:
        _at_least("debias", self, 0.0, "quality_coef", "length_coef", "orth_coef")


@dataclass(frozen=True)
class AuditConfig:
    """What ``train`` and ``demo`` do after evaluation: bias probes, a suite, the HTML report."""

    probes: bool = True  # run the bias probes on held-out pairs (audit.json)
    max_pairs: int = 300  # held-out pairs the probes use (each probe scores one more response per pair)
    suite: str | None = "auto"  # a suite file, builtin:NAME, or auto (builtin:synth when training on synth)
    report: bool = True  # write report.html into the run directory

    def __post_init__(self) -> None:
        if self.max_pairs < 1:
            raise ConfigError(f"audit.max_pairs must be >= 1, got {self.max_pairs}")


@dataclass(frozen=True)
class RunConfig:
    """A whole run. YAML sections map one to one onto these fields."""

    #: Keys whose values are paths: relative ones in a YAML file are read from the file's folder.
    PATH_KEYS = ("data.train", "data.eval", "model.backbone", "embedding.cache_dir", "audit.suite")

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: OptimConfig = field(default_factory=OptimConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    debias: DebiasConfig = field(default_factory=DebiasConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)

    def __post_init__(self) -> None:
        if self.debias.length != "none":
            if self.loss.records != "pairs":
                raise ConfigError(f"debias.length={self.debias.length} needs a pairwise objective; "
                                  f"loss.name={self.loss.name} trains on {self.loss.records}")
            if self.loss.annotator_bias and self.debias.length == "odin":
                raise ConfigError("debias.length=odin cannot be combined with loss.annotator_bias=true "
                                  "(both add head outputs); switch one off")
            if self.model.method == "embedding":
                raise ConfigError(f"debias.length={self.debias.length} needs a fine-tuned head (model.method=full "
                                  "or lora), not model.method=embedding")
