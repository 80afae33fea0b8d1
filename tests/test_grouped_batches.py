"""Grouped batches: a prompt's pairs share a batch, and a response they share is scored once, exactly."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from rewardlab.config import load_config
from rewardlab.models import RewardModel
from rewardlab.synth import SynthConfig, generate_world
from rewardlab.train import RunConfig, run_training
from rewardlab.train.batching import WINDOW_BATCHES, epoch_batches
from rewardlab.train.config import LossConfig
from rewardlab.train.examples import Batch, build_examples
from rewardlab.train.train_module import TrainModule


def previous_plan(lengths: Sequence[int], batch_size: int, *, seed: int, epoch: int, bucket: bool = True,
                  world_size: int = 1) -> list[list[int]]:
    """The plan of the version before groups existed, verbatim: ungrouped plans must not change (resume)."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    window = batch_size * WINDOW_BATCHES if bucket else batch_size
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        if bucket:
            chunk.sort(key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    if bucket:
        rng.shuffle(batches)
    return batches[: len(batches) - len(batches) % world_size]


@pytest.mark.parametrize(("n", "batch_size", "bucket", "world"), [(1000, 10, True, 1), (2500, 16, True, 2),
                                                                   (95, 10, False, 3), (7, 16, True, 1)])
def test_an_ungrouped_plan_is_exactly_the_previous_versions(n: int, batch_size: int, bucket: bool, world: int) -> None:
    lengths = [(i * 37) % 101 for i in range(n)]
    for epoch in (0, 3):
        assert epoch_batches(lengths, batch_size, seed=5, epoch=epoch, bucket=bucket, world_size=world) == \
            previous_plan(lengths, batch_size, seed=5, epoch=epoch, bucket=bucket, world_size=world)


def test_grouped_batches_keep_each_prompt_together_and_cover_every_example_once() -> None:
    rng = random.Random(0)
    groups = [g for g in range(400) for _ in range(rng.choice([1, 2, 3, 3, 6]))]
    groups.extend([400] * 20)  # a group bigger than a batch is split, not dropped
    lengths = [(g * 13) % 90 + 10 for g in groups]
    batches = epoch_batches(lengths, 16, seed=1, epoch=0, groups=groups)
    assert sorted(i for b in batches for i in b) == list(range(len(groups)))
    assert all(1 <= len(b) <= 16 for b in batches)
    home: dict[int, set[int]] = {}
    for k, b in enumerate(batches):
        for i in b:
            home.setdefault(groups[i], set()).add(k)
    assert all(len(home[g]) == 1 for g in range(400))  # every group that fits stays in one batch
    assert len(home[400]) == 2
    assert sum(len(b) for b in batches) / len(batches) > 13  # packing leaves little room unused
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 10  # still bucketed by length (random batches would spread ~60)
    assert epoch_batches(lengths, 16, seed=1, epoch=0, groups=groups) == batches
    assert epoch_batches(lengths, 16, seed=1, epoch=1, groups=groups) != batches
    with pytest.raises(ValueError, match="groups has 3 entries for 4 examples"):
        epoch_batches([1, 2, 3, 4], 2, seed=0, epoch=0, groups=[0, 0, 1])


def test_a_response_shared_by_several_pairs_is_scored_once_with_the_same_loss_and_gradients(
        tiny_bert_dir: Path) -> None:
    torch.manual_seed(0)
    rm = RewardModel.from_backbone(str(tiny_bert_dir), max_length=64)
    rm.hf.eval()  # no dropout: the shared and unshared passes must see the same function
    world = generate_world(SynthConfig(n_prompts=4, pairs_per_prompt=6))
    pairs = [c for c in world.comparisons() if not c.tie][:12]
    examples = build_examples(rm, pairs, LossConfig())
    assert examples.groups is not None and len(set(examples.groups)) <= 4
    shared = Batch.collate(examples, list(range(len(pairs))), rm.pad_id)
    distinct = {(c.prompt, t) for c in pairs for t in (c.chosen, c.rejected)}
    assert shared.input_ids.shape[0] == len(distinct) < 2 * len(pairs)
    # the same batch with one row per sequence, as before sharing
    flat = [s for i in range(len(pairs)) for s in examples.seqs[i]]
    from rewardlab.models.reward_model import pad_batch

    ids, mask = pad_batch(flat, rm.pad_id)
    unshared = Batch(ids, mask, torch.arange(len(flat)).reshape(-1, 2), shared.values)

    module = TrainModule(rm, LossConfig())

    def loss_and_grads(batch: Batch) -> tuple[float, list[torch.Tensor]]:
        module.zero_grad()
        loss, _ = module(batch.input_ids, batch.attention_mask, batch.slots, batch.values)
        loss.backward()
        return float(loss.detach()), [p.grad.clone() for p in module.parameters() if p.grad is not None]

    loss_s, grads_s = loss_and_grads(shared)
    loss_u, grads_u = loss_and_grads(unshared)
    assert loss_s == pytest.approx(loss_u, abs=1e-6)
    assert len(grads_s) == len(grads_u) > 0
    for a, b in zip(grads_s, grads_u):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_training_with_grouped_batches_runs_whole_prompts_per_step(tmp_path: Path, tiny_bert_dir: Path) -> None:
    cfg = load_config(RunConfig, None, [
        "data.train=synth", "synth.n_prompts=40", "synth.pairs_per_prompt=6", f"model.backbone={tiny_bert_dir}",
        "model.max_length=64", "train.batch_size=12", "train.lr=1e-3", "train.precision=fp32",
        "train.progress=false", "train.log_every=1", "train.warmup_ratio=0.0", "train.save_every=1000",
        "train.group_by_prompt=true",
    ])
    result = run_training(cfg, tmp_path / "run", log=lambda _: None)
    rm = RewardModel.from_backbone(str(tiny_bert_dir), max_length=64)
    examples = build_examples(rm, result.data.train, cfg.loss)
    grouped = epoch_batches(examples.lengths(), 12, seed=0, epoch=0, groups=examples.groups)
    ungrouped = epoch_batches(examples.lengths(), 12, seed=0, epoch=0)
    assert len(grouped) > len(ungrouped)  # whole prompts of up to 6 pairs leave room in some batches
    assert result.loop.steps == len(grouped)
    assert result.loop.pairs_seen == len(result.data.train)
