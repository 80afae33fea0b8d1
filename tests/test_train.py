"""The training loop on a tiny real BERT: loss falls, resume equals an unbroken run, NaN stops cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rewardlab.config import load_config
from rewardlab.errors import CheckpointError, ConfigError, TrainingError
from rewardlab.train import RunConfig, run_training
from rewardlab.train.batching import epoch_batches

GOOD = ["yes, the answer is good and clear.", "good answer: the cat is here.", "a good and very clear reply."]
BAD = ["no. bad bad bad.", "the answer is bad.", "bad reply, very bad."]


def write_pairs(path: Path, n: int = 96, margin: float | None = None, pairs_per_prompt: int = 1) -> Path:
    rows = []
    for i in range(n):
        prompt = f"question number {i // pairs_per_prompt} about topic {i % 7}?"
        row = {"prompt": prompt, "chosen": GOOD[i % 3], "rejected": BAD[(i + 1) % 3]}
        if margin is not None:
            row["margin"] = margin
        rows.append(json.dumps(row))
    path.write_text("\n".join(rows) + "\n")
    return path


def config(data: Path, backbone: Path, *extra: str) -> RunConfig:
    return load_config(RunConfig, None, [
        f"data.train={data}", f"model.backbone={backbone}", "model.max_length=64", "train.batch_size=8",
        "train.lr=1e-3", "train.precision=fp32", "train.progress=false", "train.log_every=1",
        "train.warmup_ratio=0.0", *extra,
    ])


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(run_dir / "model" / "model.safetensors")


def test_length_buckets_group_similar_lengths_and_cover_every_example_once() -> None:
    lengths = [i % 50 for i in range(1000)]
    batches = epoch_batches(lengths, 10, seed=0, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 5  # random batches would spread ~40
    assert epoch_batches(lengths, 10, seed=0, epoch=0) == batches
    assert epoch_batches(lengths, 10, seed=0, epoch=1) != batches


def test_ddp_plan_gives_every_process_the_same_number_of_batches() -> None:
    assert len(epoch_batches(list(range(95)), 10, seed=0, epoch=0, world_size=3)) % 3 == 0


def test_short_run_loss_falls_and_writes_a_complete_run_dir(tmp_path: Path, tiny_bert_dir: Path) -> None:
    cfg = config(write_pairs(tmp_path / "pairs.jsonl"), tiny_bert_dir, "train.epochs=4", "train.lr=5e-3")
    result = run_training(cfg, tmp_path / "run", log=lambda _: None)
    losses = [h["loss"] for h in result.loop.history if "loss" in h]
    assert result.loop.steps == len(losses) >= 20
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    for name in ("config.yaml", "data_report.json", "train_history.jsonl", "model/config.json",
                 "model/rewardlab.json", "model/model.safetensors"):
        assert (tmp_path / "run" / name).exists(), name
    assert list((tmp_path / "run" / "tensorboard").iterdir())
    held = result.data.heldout
    rewards_c = result.model.score([r.prompt for r in held], [r.chosen for r in held])
    rewards_r = result.model.score([r.prompt for r in held], [r.rejected for r in held])
    assert sum(c > r for c, r in zip(rewards_c, rewards_r)) / len(held) > 0.9


def test_frozen_embeddings_stay_as_loaded_while_the_rest_trains(tmp_path: Path, tiny_bert_dir: Path) -> None:
    from safetensors.torch import load_file as load

    cfg = config(write_pairs(tmp_path / "pairs.jsonl", n=32), tiny_bert_dir, "train.epochs=1",
                 "model.freeze_embeddings=true")
    run_training(cfg, tmp_path / "run", log=lambda _: None)
    before = load(next(tiny_bert_dir.glob("*.safetensors")))
    after = weights(tmp_path / "run")
    word = next(k for k in after if k.endswith("word_embeddings.weight"))
    assert torch.equal(after[word], before[next(k for k in before if k.endswith("word_embeddings.weight"))])
    moved = [k for k in after if "encoder.layer.0" in k and k.endswith("weight")]
    assert moved and any(not torch.equal(after[k], before[next(b for b in before if b.endswith(k.split(".", 1)[1]))])
                         for k in moved)


def test_frozen_bottom_layers_and_all_embeddings_stay_as_loaded_while_the_top_trains(tmp_path: Path,
                                                                                     tiny_bert_dir: Path) -> None:
    from safetensors.torch import load_file as load

    cfg = config(write_pairs(tmp_path / "pairs.jsonl", n=32), tiny_bert_dir, "train.epochs=1",
                 "model.freeze_layers=1")
    run_training(cfg, tmp_path / "run", log=lambda _: None)
    before = load(next(tiny_bert_dir.glob("*.safetensors")))
    after = weights(tmp_path / "run")

    def loaded(key: str) -> torch.Tensor:
        return before[next(b for b in before if b.endswith(key.split(".", 1)[1]))]

    frozen = [k for k in after if ".embeddings." in k or ".encoder.layer.0." in k]
    trained = [k for k in after if ".encoder.layer.1." in k and k.endswith("weight")]
    assert any("position_embeddings" in k for k in frozen) and trained
    assert all(torch.equal(after[k], loaded(k)) for k in frozen)
    assert any(not torch.equal(after[k], loaded(k)) for k in trained)


def test_freezing_layers_finds_decoder_layers_and_refuses_what_it_cannot_do(tiny_bert_dir: Path,
                                                                           tiny_decoder_dir: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    from rewardlab.errors import ConfigError
    from rewardlab.models.freezing import freeze_bottom_layers

    hf = AutoModelForSequenceClassification.from_pretrained(tiny_decoder_dir, num_labels=1)
    n_layers = hf.config.num_hidden_layers
    assert freeze_bottom_layers(hf, 1) > 0
    assert not hf.get_input_embeddings().weight.requires_grad
    trainable = [n for n, p in hf.named_parameters() if p.requires_grad]
    assert trainable and not any(".layers.0." in n for n in trainable)
    with pytest.raises(ConfigError, match="at least one layer trains"):
        freeze_bottom_layers(hf, n_layers)
    with pytest.raises(ConfigError, match=r"model\.freeze_layers applies to full fine-tuning"):
        config(tiny_bert_dir, tiny_bert_dir, "model.method=lora", "model.freeze_layers=1")


@pytest.mark.parametrize("grouped", [False, True], ids=["pairs", "grouped-by-prompt"])
def test_resume_from_a_mid_run_checkpoint_equals_an_unbroken_run(tmp_path: Path, tiny_bert_dir: Path,
                                                                 grouped: bool) -> None:
    data = write_pairs(tmp_path / "pairs.jsonl", pairs_per_prompt=3 if grouped else 1)
    cfg = config(data, tiny_bert_dir, "train.max_steps=14", "train.save_every=3", "train.keep_checkpoints=10",
                 "train.grad_accum=2", f"train.group_by_prompt={str(grouped).lower()}")
    run_training(cfg, tmp_path / "unbroken", log=lambda _: None)
    # Simulate a kill after step 6: keep only the checkpoints written by then.
    shutil.copytree(tmp_path / "unbroken", tmp_path / "killed")
    for ckpt in (tmp_path / "killed" / "checkpoints").glob("step-*"):
        if int(ckpt.name.split("-")[1]) > 6:
            shutil.rmtree(ckpt)
    shutil.rmtree(tmp_path / "killed" / "model")
    resumed = run_training(cfg, tmp_path / "killed", resume=True, log=lambda _: None)
    assert resumed.loop.resumed_from == 6 and resumed.loop.steps == 14
    a, b = weights(tmp_path / "unbroken"), weights(tmp_path / "killed")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_killed_process_resumes_to_the_unbroken_result(tmp_path: Path, tiny_bert_dir: Path) -> None:
    data = write_pairs(tmp_path / "pairs.jsonl", n=160)
    sets = [f"data.train={data}", f"model.backbone={tiny_bert_dir}", "model.max_length=64", "train.batch_size=8",
            "train.lr=1e-3", "train.precision=fp32", "train.progress=false", "train.max_steps=60",
            "train.save_every=4", "train.keep_checkpoints=3"]
    args = [sys.executable, "-m", "rewardlab.cli", "train"] + [x for s in sets for x in ("--set", s)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run([*args, "--out", str(tmp_path / "unbroken")], check=True, env=env, capture_output=True)
    proc = subprocess.Popen([*args, "--out", str(tmp_path / "killed")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    first = tmp_path / "killed" / "checkpoints" / "step-00000008"
    deadline = time.monotonic() + 120
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "model" / "model.safetensors").exists() or proc.returncode == 0
    done = subprocess.run([*args, "--out", str(tmp_path / "killed"), "--resume"], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    a, b = weights(tmp_path / "unbroken"), weights(tmp_path / "killed")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_refuses_a_checkpoint_from_a_different_config(tmp_path: Path, tiny_bert_dir: Path) -> None:
    data = write_pairs(tmp_path / "pairs.jsonl")
    run_training(config(data, tiny_bert_dir, "train.max_steps=4", "train.save_every=2"), tmp_path / "r",
                 log=lambda _: None)
    with pytest.raises(CheckpointError, match="different config"):
        run_training(config(data, tiny_bert_dir, "train.max_steps=4", "train.save_every=2", "train.lr=5e-4"),
                     tmp_path / "r", resume=True, log=lambda _: None)


def test_a_new_run_will_not_overwrite_an_existing_one(tmp_path: Path, tiny_bert_dir: Path) -> None:
    cfg = config(write_pairs(tmp_path / "pairs.jsonl"), tiny_bert_dir, "train.max_steps=4", "train.save_every=2")
    run_training(cfg, tmp_path / "r", log=lambda _: None)
    with pytest.raises(ConfigError, match="--resume"):
        run_training(cfg, tmp_path / "r", log=lambda _: None)


def test_non_finite_loss_stops_with_a_clear_error_and_keeps_a_good_checkpoint(
    tmp_path: Path, tiny_bert_dir: Path
) -> None:
    # A margin beyond float32 range becomes inf in the loss.
    cfg = config(write_pairs(tmp_path / "pairs.jsonl", margin=1e39), tiny_bert_dir, "loss.margin=field")
    with pytest.raises(TrainingError, match=r"loss became inf at step 0.*last good state is saved"):
        run_training(cfg, tmp_path / "run", log=lambda _: None)
    saved = list((tmp_path / "run" / "checkpoints").glob("step-*/state.safetensors"))
    assert len(saved) == 1
    tensors = load_file(saved[0])  # every tensor of the state, model weights included
    assert tensors and all(torch.isfinite(v).all() for v in tensors.values() if v.is_floating_point())
