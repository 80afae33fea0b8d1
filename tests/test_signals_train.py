"""Every objective trains end to end on a tiny real BERT; ensembles and LoRA save and reload exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rewardlab import rundir
from rewardlab.config import load_config
from rewardlab.models import RewardEnsemble, RewardModel, load_model
from rewardlab.pipeline.training import train_and_evaluate
from rewardlab.synth import SynthConfig, generate_world
from rewardlab.train import RunConfig, run_training
from rewardlab.train.config import LossConfig
from rewardlab.train.examples import Batch, build_examples
from rewardlab.train.train_module import TrainModule

PROMPTS = ["What is 2 + 2?", "Name a colour."]
DATA_REPORT_KEYS = {"notes", "counts", "train_hash", "lengths"}
RESPONSES = ["2 + 2 = 4.", "Blue."]


def config(backbone: Path, *extra: str) -> RunConfig:
    return load_config(RunConfig, None, [
        "data.train=synth", "synth.n_prompts=36", f"model.backbone={backbone}", "model.max_length=64",
        "train.batch_size=4", "train.lr=1e-3", "train.precision=fp32", "train.progress=false", "train.log_every=1",
        "train.warmup_ratio=0.0", "train.save_every=1000", *extra,
    ])


@pytest.mark.parametrize("extra", [
    ["loss.name=bradley_terry", "loss.margin=strength"],
    ["loss.name=tie_bt", "loss.tie_model=davidson"],
    ["loss.name=tie_bt", "loss.tie_model=rao_kupper"],
    ["loss.name=plackett_luce"],
    ["loss.name=ranking_pairs"],
    ["loss.name=regression", "loss.attributes=[overall,helpfulness,verbosity]", "loss.combine=[1.0,0.5,0.0]"],
    ["loss.name=classification"],
    ["loss.name=pairwise_classification"],
    ["loss.name=annotator_bt", "loss.annotator_bias=true"],
], ids=lambda e: "+".join(x.split("=", 1)[1] for x in e))
def test_every_objective_trains_saves_and_reloads_with_identical_scores(
    tmp_path: Path, tiny_bert_dir: Path, extra: list[str]
) -> None:
    cfg = config(tiny_bert_dir, *extra)
    outcome = train_and_evaluate(cfg, tmp_path / "run", log=lambda _: None)
    loop = outcome.train.loop
    assert loop.steps > 0 and torch.isfinite(torch.tensor(loop.final_loss))
    assert outcome.report is not None and 0.0 <= outcome.report.accuracy <= 1.0
    before = outcome.train.model.score(PROMPTS, RESPONSES)
    loaded = load_model(outcome.train.model_dir)
    assert loaded.score(PROMPTS, RESPONSES) == pytest.approx(before, abs=1e-5)
    meta = json.loads((outcome.train.model_dir / "rewardlab.json").read_text())
    assert meta["objective"]["loss"] == cfg.loss.name
    config_json = json.loads((outcome.train.model_dir / "config.json").read_text())
    n_out = len(cfg.loss.attributes) if cfg.loss.name == "regression" else 1
    assert len(config_json["id2label"]) == n_out  # annotator bias outputs are cut before export
    assert set(json.loads((tmp_path / "run" / "data_report.json").read_text())) == DATA_REPORT_KEYS
    assert rundir.read_data_report(tmp_path / "run").lengths  # fine-tuning measures token lengths


def test_tie_aware_training_keeps_ties_and_learns_a_tie_parameter(tmp_path: Path, tiny_bert_dir: Path) -> None:
    cfg = config(tiny_bert_dir, "loss.name=tie_bt")
    result = run_training(cfg, tmp_path / "run", log=lambda _: None)
    assert any(r.tie for r in result.data.train)
    learned = result.model.metadata["objective"]["learned"]
    assert learned["nu"] > 0 and learned["nu"] != pytest.approx(cfg.loss.tie_init)


def test_annotator_aware_training_reports_a_reliability_per_annotator(tmp_path: Path, tiny_bert_dir: Path) -> None:
    result = run_training(config(tiny_bert_dir, "loss.name=annotator_bt"), tmp_path / "run", log=lambda _: None)
    learned = result.model.metadata["objective"]["learned"]["annotators"]
    assert set(learned) == {r.annotator for r in result.data.train}
    temps = torch.tensor([v["temperature"] for v in learned.values()])
    assert torch.log(temps).mean().abs() < 1e-5  # geometric mean fixed to 1


def test_a_ranking_goes_through_the_model_in_one_batch(tiny_bert_dir: Path) -> None:
    rm = RewardModel.from_backbone(tiny_bert_dir, max_length=64)
    world = generate_world(SynthConfig(n_prompts=3))
    rankings = world.rankings()
    examples = build_examples(rm, rankings, LossConfig(name="plackett_luce"))
    batch = Batch.collate(examples, [0, 1, 2], rm.pad_id)
    k = len(rankings[0].responses)
    assert batch.input_ids.shape[0] == 3 * k and batch.slots.tolist()[1] == list(range(k, 2 * k))
    loss, _ = TrainModule(rm, LossConfig(name="plackett_luce"))(batch.input_ids, batch.attention_mask, batch.slots,
                                                               batch.values)
    assert torch.isfinite(loss)


def test_multi_attribute_model_names_its_outputs_and_combines_them(tmp_path: Path, tiny_bert_dir: Path) -> None:
    cfg = config(tiny_bert_dir, "loss.name=regression", "loss.attributes=[overall,correctness]",
                 "loss.combine=[0.25,0.75]")
    result = run_training(cfg, tmp_path / "run", log=lambda _: None)
    rm = RewardModel.from_pretrained(result.model_dir)
    attrs = rm.score_attributes(PROMPTS, RESPONSES)
    assert set(attrs[0]) == {"overall", "correctness"}
    combined = [0.25 * a["overall"] + 0.75 * a["correctness"] for a in attrs]
    assert rm.score(PROMPTS, RESPONSES) == pytest.approx(combined, abs=1e-5)
    assert "rating_scale" in rm.metadata["objective"]


def test_ensemble_saves_reloads_and_reports_spread(tmp_path: Path, tiny_bert_dir: Path) -> None:
    cfg = config(tiny_bert_dir, "ensemble.members=3", "ensemble.bootstrap=true", "ensemble.aggregate=mean_minus_std",
                 "ensemble.lam=0.5")
    outcome = train_and_evaluate(cfg, tmp_path / "run", log=lambda _: None)
    ens = outcome.train.model
    assert isinstance(ens, RewardEnsemble) and len(ens.members) == 3
    reloaded = load_model(outcome.train.model_dir)
    assert isinstance(reloaded, RewardEnsemble)
    assert reloaded.score(PROMPTS, RESPONSES) == pytest.approx(ens.score(PROMPTS, RESPONSES), abs=1e-6)
    member = reloaded.member_scores(PROMPTS, RESPONSES)
    mean, spread = reloaded.score_with_uncertainty(PROMPTS, RESPONSES)
    assert spread == pytest.approx(member.std(0, unbiased=False).tolist(), abs=1e-9)
    assert all(s > 0 for s in spread)  # different seeds give different members
    assert mean == pytest.approx((member.mean(0) - 0.5 * member.std(0, unbiased=False)).tolist(), abs=1e-9)
    worst = reloaded.score(PROMPTS, RESPONSES, aggregate="min")
    assert worst == pytest.approx(member.min(0).values.tolist(), abs=1e-9)
    for k in range(3):  # each member is a standard export
        assert RewardModel.from_pretrained(outcome.train.model_dir / f"member-{k}").score(
            PROMPTS, RESPONSES) == pytest.approx(member[k].tolist(), abs=1e-5)


def test_lora_head_is_trained_and_saved_and_adapter_reload_equals_merged_export(
    tmp_path: Path, tiny_bert_dir: Path
) -> None:
    from transformers import AutoModelForSequenceClassification

    from rewardlab.models.lora import load_lora_adapter

    cfg = config(tiny_bert_dir, "model.method=lora", "lora.r=4", "lora.alpha=8")
    result = run_training(cfg, tmp_path / "run", log=lambda _: None)
    trained = result.model.score(PROMPTS, RESPONSES)
    model_dir = result.model_dir
    assert (model_dir / "adapter" / "adapter_config.json").exists()
    merged = RewardModel.from_pretrained(model_dir).score(PROMPTS, RESPONSES)
    from_adapter = load_lora_adapter(model_dir).score(PROMPTS, RESPONSES)
    assert merged == pytest.approx(trained, abs=1e-5)
    assert from_adapter == pytest.approx(trained, abs=1e-5)
    # the head is in the adapter file (left out, it would reload at a fresh random init)
    from safetensors.torch import load_file

    keys = load_file(model_dir / "adapter" / "adapter_model.safetensors").keys()
    assert any("classifier" in k for k in keys) and any("lora_A" in k for k in keys)
    fresh = AutoModelForSequenceClassification.from_pretrained(tiny_bert_dir, num_labels=1)
    saved = AutoModelForSequenceClassification.from_pretrained(model_dir)
    # only adapters and the head trained: the frozen embeddings equal the base
    assert torch.equal(fresh.bert.embeddings.word_embeddings.weight, saved.bert.embeddings.word_embeddings.weight)


@pytest.mark.parametrize("head", ["mlp", "lightgbm"])
def test_frozen_embedding_run_saves_a_model_that_eval_and_score_load(
    tmp_path: Path, tiny_bert_dir: Path, head: str
) -> None:
    cfg = config(tiny_bert_dir, "model.method=embedding", f"embedding.head={head}",
                 f"embedding.cache_dir={tmp_path / 'cache'}", "embedding.epochs=5", "embedding.trees=20")
    outcome = train_and_evaluate(cfg, tmp_path / "run", log=lambda _: None)
    assert outcome.report is not None
    before = outcome.train.model.score(PROMPTS, RESPONSES)
    loaded = load_model(outcome.train.model_dir)
    assert type(loaded).__name__ == "EmbeddingRewardModel"
    assert loaded.score(PROMPTS, RESPONSES) == pytest.approx(before, abs=1e-6)
    assert "metrics" in json.loads((outcome.train.model_dir / "rewardlab.json").read_text())
    # the same data_report.json shape as a fine-tuning run; no token lengths measured
    assert set(json.loads((tmp_path / "run" / "data_report.json").read_text())) == DATA_REPORT_KEYS
    report = rundir.read_data_report(tmp_path / "run")
    assert report.lengths == {} and report.train_hash and report.counts["heldout_pairs"] > 0


def test_rankings_from_a_user_file_train_and_evaluate_on_pairs(tmp_path: Path, tiny_bert_dir: Path) -> None:
    from rewardlab.synth import write_world

    paths = write_world(generate_world(SynthConfig(n_prompts=30)), tmp_path / "world")
    cfg = config(tiny_bert_dir, f"data.train={paths['rankings']}", "loss.name=plackett_luce")
    outcome = train_and_evaluate(cfg, tmp_path / "run", log=lambda _: None)
    assert outcome.report is not None and outcome.report.n_pairs == 6 * len(
        {r.group for r in outcome.train.data.heldout})  # C(4, 2) pairs per held-out ranking


def test_odin_length_debias_trains_two_heads_and_exports_only_the_quality_head(tmp_path: Path,
                                                                              tiny_bert_dir: Path) -> None:
    cfg = config(tiny_bert_dir, "debias.length=odin")
    outcome = train_and_evaluate(cfg, tmp_path / "run", log=lambda _: None)
    assert outcome.report is not None and torch.isfinite(torch.tensor(outcome.train.loop.final_loss))
    config_json = json.loads((outcome.train.model_dir / "config.json").read_text())
    assert len(config_json["id2label"]) == 1  # the length head was for training only
    meta = json.loads((outcome.train.model_dir / "rewardlab.json").read_text())
    assert meta["objective"]["length_debias"]["method"] == "odin"
    loaded = load_model(outcome.train.model_dir)
    assert loaded.score(PROMPTS, RESPONSES) == pytest.approx(outcome.train.model.score(PROMPTS, RESPONSES), abs=1e-5)


def test_odin_loss_includes_the_disentangling_terms(tiny_bert_dir: Path) -> None:
    rm = RewardModel.from_backbone(str(tiny_bert_dir), max_length=64)
    rm.set_heads(["reward", "length"])
    world = generate_world(SynthConfig(n_prompts=6))
    pairs = [c for c in world.comparisons() if not c.tie][:8]
    from rewardlab.train.config import DebiasConfig

    plain = TrainModule(rm, LossConfig())
    odin = TrainModule(rm, LossConfig(), debias=DebiasConfig(length="odin"))
    b = Batch.collate(build_examples(rm, pairs, LossConfig()), list(range(len(pairs))), rm.pad_id)
    batch = (b.input_ids, b.attention_mask, b.slots, b.values)
    with torch.no_grad():
        loss_plain, _ = plain(*batch)
        loss_odin, _ = odin(*batch)
        outputs = rm.outputs(batch[0], batch[1])
    assert float(loss_odin) != pytest.approx(float(loss_plain))
    c, r = batch[2][:, 0], batch[2][:, 1]
    from rewardlab.objectives import bradley_terry

    sum_bt = bradley_terry(outputs[c].sum(1), outputs[r].sum(1))
    with torch.no_grad():
        terms = float(odin._odin_terms(outputs, Batch(*batch)))
    assert float(loss_odin) - float(sum_bt) == pytest.approx(terms, abs=1e-5)


@pytest.mark.parametrize("bad", [["loss.name=plackett_luce"], ["loss.name=annotator_bt", "loss.annotator_bias=true"],
                                 ["model.method=embedding"]])
def test_length_debiasing_rejects_combinations_it_cannot_train(tiny_bert_dir: Path, bad: list[str]) -> None:
    from rewardlab.errors import ConfigError

    with pytest.raises(ConfigError, match=r"debias\.length=odin"):
        config(tiny_bert_dir, "debias.length=odin", *bad)


def test_length_covariate_learns_a_slope_in_the_loss_and_exports_the_plain_reward(tmp_path: Path,
                                                                                 tiny_bert_dir: Path) -> None:
    cfg = config(tiny_bert_dir, "debias.length=covariate", "loss.param_lr=0.1")
    result = run_training(cfg, tmp_path / "run", log=lambda _: None)
    meta = json.loads((result.model_dir / "rewardlab.json").read_text())
    slope = meta["objective"]["learned"]["length_slope_per_10_tokens"]
    assert slope != 0.0 and meta["objective"]["length_debias"]["method"] == "covariate"
    assert len(json.loads((result.model_dir / "config.json").read_text())["id2label"]) == 1
    # the slope shifts the loss, not the exported reward: scoring is the plain model
    loaded = load_model(result.model_dir)
    assert loaded.score(PROMPTS, RESPONSES) == pytest.approx(result.model.score(PROMPTS, RESPONSES), abs=1e-5)


def test_length_covariate_adds_slope_times_length_to_every_sequence(tiny_bert_dir: Path) -> None:
    from rewardlab.objectives import bradley_terry
    from rewardlab.train.config import DebiasConfig
    from rewardlab.train.train_module import LENGTH_UNIT

    rm = RewardModel.from_backbone(str(tiny_bert_dir), max_length=64)
    pairs = [c for c in generate_world(SynthConfig(n_prompts=6)).comparisons() if not c.tie][:8]
    b = Batch.collate(build_examples(rm, pairs, LossConfig()), list(range(len(pairs))), rm.pad_id)
    module = TrainModule(rm, LossConfig(), debias=DebiasConfig(length="covariate"))
    with torch.no_grad():
        module.length_slope.fill_(0.7)
        loss, _ = module(b.input_ids, b.attention_mask, b.slots, b.values)
        r = rm(b.input_ids, b.attention_mask) + 0.7 * b.attention_mask.sum(1) / LENGTH_UNIT
    expected = bradley_terry(r[b.slots[:, 0]], r[b.slots[:, 1]])
    assert float(loss) == pytest.approx(float(expected), abs=1e-5)
