"""One training run: data -> length policy -> tokenize -> loop -> saved model directory.

``model.method`` picks full fine-tuning, LoRA adapters (merged export plus ``adapter/``), or a
small head on frozen embeddings (``train/embedding.py``); ``loss.name`` picks the objective and
with it the record type (pairs, rankings, ratings, labels).

The run directory holds ``config.yaml`` (resolved), ``data_report.json``,
``train_history.jsonl``, ``tensorboard/``, ``checkpoints/`` and ``model/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from rewardlab import rundir
from rewardlab.config import config_to_dict
from rewardlab.data import Comparison, LengthReport, Ranking, apply_length_policy
from rewardlab.errors import ConfigError
from rewardlab.models.freezing import freeze_bottom_layers
from rewardlab.models.local import resolve_backbone
from rewardlab.models.reward_model import RewardModel
from rewardlab.train.checkpoint import check_compatible, checkpoint_dirs
from rewardlab.train.config import RunConfig
from rewardlab.train.data import RunData, data_hash, load_run_data
from rewardlab.train.embedding_run import run_embedding
from rewardlab.train.examples import TargetScale, build_examples, rating_scale
from rewardlab.train.loop import train_loop
from rewardlab.train.pairs import tokenize_pairs
from rewardlab.train.records import TrainResult, write_run_records
from rewardlab.train.train_module import LENGTH_UNIT, TrainModule

__all__ = ["TrainResult", "apply_lengths", "build_model", "fingerprint_config", "run_training", "write_run_records"]


def build_model(cfg: RunConfig) -> RewardModel:
    """A fresh reward model for the run's backbone, head initialised from the run's seed."""
    source, gguf = resolve_backbone(cfg.model.backbone, cfg.model.gguf_file)
    torch.manual_seed(cfg.train.seed)
    model = RewardModel.from_backbone(
        source, gguf_file=gguf, max_length=cfg.model.max_length, input_format=cfg.model.input_format,
        dropout=cfg.model.dropout, trust_remote_code=cfg.model.trust_remote_code,
    )
    model.metadata["backbone"] = cfg.model.backbone if cfg.model.backbone != "default" else "all-MiniLM-L6-v2"
    model.metadata["base_source"], model.metadata["base_gguf_file"] = source, gguf
    if cfg.model.freeze_embeddings and cfg.model.method == "full":
        model.hf.get_input_embeddings().requires_grad_(False)
    if cfg.model.freeze_layers:
        freeze_bottom_layers(model.hf, cfg.model.freeze_layers)
    return model


def _texts(record: Any) -> list[str]:
    if isinstance(record, Comparison):
        return [record.chosen, record.rejected]
    if isinstance(record, Ranking):
        return list(record.responses)
    return [record.response]


def apply_lengths(model: RewardModel, records: list[Any], policy: str) -> tuple[list[Any], LengthReport]:
    """Apply the over-length policy with true (untruncated) token counts (the longest text of each record)."""
    prompts, texts, owners = [], [], []
    for i, r in enumerate(records):
        for t in _texts(r):
            prompts.append(r.prompt)
            texts.append(t)
            owners.append(i)
    cost = [0] * len(records)
    for owner, ids in zip(owners, model.encode(prompts, texts, truncate=False)):
        cost[owner] = max(cost[owner], len(ids))
    by_id = {id(r): c for r, c in zip(records, cost)}
    return apply_length_policy(records, lambda r: by_id[id(r)], model.max_length, policy)  # type: ignore[arg-type]


def _setup_heads(
    model: RewardModel, cfg: RunConfig, data: RunData
) -> tuple[list[str], TargetScale | None, dict[str, Any]]:
    """Resize the head for the objective; returns (annotators, rating target scale, metadata to record)."""
    loss, extra = cfg.loss, {}
    annotators: list[str] = []
    scale = None
    if loss.name == "annotator_bt":
        annotators = sorted({r.annotator for r in data.train if r.annotator is not None})
        if not annotators:
            raise ConfigError("loss.name=annotator_bt needs pairs with an 'annotator' field; none has one")
        if loss.annotator_bias:
            model.set_heads(["reward", *(f"bias:{a}" for a in annotators)], seed=cfg.train.seed)
    if cfg.debias.length == "odin":
        model.set_heads(["reward", "length"], seed=cfg.train.seed)  # quality + length; the length head is dropped
        extra["length_debias"] = {"method": "odin", "quality_coef": cfg.debias.quality_coef,
                                  "length_coef": cfg.debias.length_coef, "orth_coef": cfg.debias.orth_coef}
    elif cfg.debias.length == "covariate":
        extra["length_debias"] = {"method": "covariate", "unit_tokens": LENGTH_UNIT}
    if loss.name == "regression":
        scale = rating_scale(data.train, loss.attributes, loss.standardize_targets)
        model.set_heads(list(loss.attributes), loss.combine, seed=cfg.train.seed)
        extra["rating_scale"] = {a: {"mean": m, "std": sd} for a, m, sd in zip(loss.attributes, scale.mean,
                                                                               scale.std)}
    return annotators, scale, extra


def fingerprint_config(cfg: RunConfig) -> dict[str, Any]:
    """The part of the config that checkpoints depend on (not the progress bar, evaluation or audit)."""
    d = config_to_dict(cfg)
    d["train"].pop("progress", None)
    d.pop("eval", None)
    d.pop("audit", None)  # what happens after training does not change the checkpoints
    return d


def _fingerprint(cfg: RunConfig, train_hash: str) -> str:
    """Identifies what a checkpoint depends on (not cosmetic settings like the progress bar)."""
    return hashlib.sha256(json.dumps([fingerprint_config(cfg), train_hash], sort_keys=True).encode()).hexdigest()[:16]


def _silent(_: str) -> None:
    """Only the main process talks; the others train quietly."""


def run_training(
    cfg: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    data: RunData | None = None,
    log: Callable[[str], Any] = print,
    on_start: Callable[[], Any] | None = None,
) -> TrainResult:
    """Train a reward model as ``cfg`` says and save it to ``run_dir/model``.

    Nothing is written into ``run_dir`` before the checks pass (a ``resume`` into another
    run's checkpoints is refused first); ``on_start`` is called, on the main process, just
    before the first write.
    """
    from accelerate import Accelerator

    run = Path(run_dir)
    if not resume and checkpoint_dirs(run / rundir.CHECKPOINTS):
        raise ConfigError(f"{run} already holds checkpoints; pass --resume to continue it or choose a new --out")
    acc = Accelerator(cpu=not torch.cuda.is_available())
    if not acc.is_main_process:
        log = _silent
    data = data or load_run_data(cfg)
    for note in data.notes:
        log(note)
    if cfg.model.method == "embedding":

        if on_start is not None and acc.is_main_process:
            on_start()
        return run_embedding(cfg, run, data, acc, log)
    model = build_model(cfg)
    lengths: dict[str, LengthReport] = {}
    data.train, lengths["train"] = apply_lengths(model, data.train, cfg.data.overlong)
    if data.heldout:
        data.heldout, lengths["heldout"] = apply_lengths(model, data.heldout, cfg.data.overlong)
    for name, report in lengths.items():
        log(f"{name}: {report.summary()}")
    train_hash = data_hash(data.train)
    fingerprint = _fingerprint(cfg, train_hash)
    if resume:  # refuse another run's checkpoints before anything in the run directory is rewritten
        check_compatible(run / rundir.CHECKPOINTS, fingerprint, config=fingerprint_config(cfg), train_hash=train_hash)
    if acc.is_main_process:
        if on_start is not None:
            on_start()
        write_run_records(run, cfg, data, train_hash, {k: v.summary() for k, v in lengths.items()})
    annotators, scale, extra = _setup_heads(model, cfg, data)
    if cfg.debias.length == "odin":
        log("note: debias.length=odin is experimental: on MiniLM its quality head collapsed (BENCHMARKS.md, "
            "issue 4); debias.length=covariate is the measured length mitigation")
    peft_model = None
    if cfg.model.method == "lora":
        from rewardlab.models.lora import apply_lora

        lc = cfg.lora
        peft_model = apply_lora(model, r=lc.r, alpha=lc.alpha, dropout=lc.dropout,
                                target_modules=list(lc.target_modules) if lc.target_modules else None)
    module = TrainModule(model, cfg.loss, annotators=annotators, debias=cfg.debias)
    examples = build_examples(model, data.train, cfg.loss, annotators={a: i for i, a in enumerate(annotators)},
                              scale=scale)
    eval_pairs = tokenize_pairs(model, data.heldout) if cfg.train.eval_every and data.heldout else None
    result = train_loop(
        module, examples, optim=cfg.train, run_dir=run,
        fingerprint=fingerprint, eval_set=eval_pairs, resume=resume, accelerator=acc,
        config=fingerprint_config(cfg), train_hash=train_hash, log=log,
    )
    module = acc.unwrap_model(module)
    model = module.rm
    learned = module.learned()
    model_dir = run / rundir.MODEL
    staging = contextlib.ExitStack()
    tmp = staging.enter_context(rundir.atomic_dir(model_dir)) if acc.is_main_process else None
    if peft_model is not None and tmp is not None:
        from rewardlab.models.lora import merge_lora, save_lora_adapter

        save_lora_adapter(peft_model, tmp)
        merge_lora(model, peft_model)
    if (cfg.loss.name == "annotator_bt" and cfg.loss.annotator_bias) or cfg.debias.length == "odin":
        model.set_heads(["reward"])  # the per-annotator bias / ODIN length outputs were for training only
    model.metadata.update({
        "data_hash": train_hash,
        "objective": {"loss": cfg.loss.name, "records": cfg.loss.records, **({"learned": learned} if learned else {}),
                      **extra},
        "train": {cfg.loss.records: len(data.train), "steps": result.steps,
                  "examples_per_s": round(result.pairs_per_s, 3), "precision": result.precision,
                  "method": cfg.model.method},
    })
    if learned:
        log(f"learned loss parameters: {json.dumps(learned)}")
    with staging:  # written into a temporary directory renamed to model/ at the end: never half a model
        if tmp is not None:
            model.save_pretrained(tmp)
    acc.wait_for_everyone()
    return TrainResult(run_dir=run, model_dir=model_dir, model=model, loop=result, data=data, lengths=lengths)
