"""Precision helpers: bf16 linear weights give the same scores as autocast; width padding is masked out."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rewardlab.errors import ModelError
from rewardlab.models import RewardModel, load_model, pad_batch
from rewardlab.models.heads import head_linear
from rewardlab.models.precision import autocast, cast_linear_weights, scoring_device, store_bf16_weights
from serve_support import PROMPTS, RESPONSES, save_ensemble, tiny_reward_model


def test_pad_batch_rounds_the_width_up_but_never_past_max_width() -> None:
    seqs = [[5, 6, 7], [8]]
    ids, mask = pad_batch(seqs, 0, multiple_of=16)
    assert ids.shape == (2, 16) and mask.sum(1).tolist() == [3, 1]
    assert ids[0, :3].tolist() == [5, 6, 7] and not ids[:, 3:].any()
    assert pad_batch(seqs, 0, multiple_of=16, max_width=10)[0].shape == (2, 10)
    assert pad_batch([[1] * 12], 0, multiple_of=16, max_width=10)[0].shape == (1, 12)  # never below the longest
    assert pad_batch(seqs, 0)[0].shape == (2, 3)
    assert pad_batch([], 0, multiple_of=16)[0].shape == (0, 0)


@pytest.mark.parametrize("fixture", ["tiny_bert_dir", "tiny_decoder_dir"])
def test_extra_padding_does_not_change_a_score(fixture: str, request: pytest.FixtureRequest) -> None:
    model = tiny_reward_model(request.getfixturevalue(fixture))
    seqs = model.encode(PROMPTS, RESPONSES)
    tight = model.outputs(*pad_batch(seqs, model.pad_id))
    wide = model.outputs(*pad_batch(seqs, model.pad_id, multiple_of=64))
    assert torch.allclose(tight, wide, atol=1e-5)


@pytest.mark.parametrize("fixture", ["tiny_bert_dir", "tiny_decoder_dir"])
def test_bf16_linear_weights_score_exactly_like_bf16_autocast(fixture: str, request: pytest.FixtureRequest) -> None:
    backbone: Path = request.getfixturevalue(fixture)
    reference = tiny_reward_model(backbone)
    model = tiny_reward_model(backbone)
    expected = reference.score(PROMPTS, RESPONSES, precision="bf16")
    assert store_bf16_weights(model) > 0
    head = head_linear(model.hf)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head]
    assert linears and all(m.weight.dtype == torch.bfloat16 for m in linears)
    assert head.weight.dtype == torch.float32  # the reward head runs in fp32
    norms = [p for m in model.modules() if isinstance(m, torch.nn.Embedding | torch.nn.LayerNorm)
             for p in m.parameters(recurse=False)]
    assert norms and all(p.dtype == torch.float32 for p in norms)  # only linear layers change
    assert model.score(PROMPTS, RESPONSES, precision="bf16") == expected  # bit-identical
    assert expected != reference.score(PROMPTS, RESPONSES, precision="fp32")  # bf16 really ran


def test_a_linear_tied_to_an_embedding_is_left_alone() -> None:
    emb = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight = emb.weight  # tied input/output embeddings
    own = torch.nn.Linear(4, 4)
    net = torch.nn.ModuleDict({"emb": emb, "head": head, "own": own})
    assert cast_linear_weights(net) == 1
    assert emb.weight.dtype == torch.float32 and own.weight.dtype == torch.bfloat16
    with autocast("bf16", torch.device("cpu")):
        assert own(torch.ones(1, 4)).dtype == torch.bfloat16


def test_an_ensemble_stores_every_member_in_bf16_with_the_same_scores(tiny_bert_dir: Path, tmp_path: Path) -> None:
    path = save_ensemble(tiny_bert_dir, tmp_path / "ens")
    reference, ensemble = load_model(path), load_model(path)
    assert scoring_device(ensemble) == torch.device("cpu")
    linears = sum(isinstance(m, torch.nn.Linear) for member in reference.members for m in member.modules())
    assert store_bf16_weights(ensemble) == linears - len(reference.members) > 0  # every layer but each head
    assert all(m.weight.dtype == torch.bfloat16 for member in ensemble.members for m in member.modules()
               if isinstance(m, torch.nn.Linear) and m is not head_linear(member.hf))
    assert ensemble.score(PROMPTS, RESPONSES, precision="bf16") == reference.score(PROMPTS, RESPONSES,
                                                                                     precision="bf16")
    assert store_bf16_weights(object()) == 0


def test_bf16_widths_never_pass_the_position_table(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=40, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(tmp_path / "short")
    tokenizer.save_pretrained(tmp_path / "short")
    with pytest.raises(ModelError, match=r"max_length 64 exceeds the model's position table \(40 positions\)"):
        RewardModel.from_backbone(tmp_path / "short", max_length=64)  # inputs that long would crash scoring
    model = RewardModel.from_backbone(tmp_path / "short", max_length=40).eval()
    assert model.pad_limit == 40
    long_prompt = " ".join(["word"] * 30)
    assert 32 < len(model.encode([long_prompt], ["yes"])[0]) <= 40  # 48 if rounded up to 16
    fp32 = model.score([long_prompt], ["yes"], precision="fp32")
    assert model.score([long_prompt], ["yes"], precision="bf16") == pytest.approx(fp32, abs=0.05)


@pytest.mark.parametrize("fixture", ["tiny_bert_dir", "tiny_decoder_dir"])
def test_bf16_rewards_keep_fp32_resolution(fixture: str, request: pytest.FixtureRequest) -> None:
    model = tiny_reward_model(request.getfixturevalue(fixture))
    bf16 = model.score(PROMPTS, RESPONSES, precision="bf16")
    on_grid = [float(torch.tensor(r).bfloat16().float()) == r for r in bf16]
    assert not all(on_grid)  # a bf16 head would put every reward on the bf16 grid
    assert bf16 == pytest.approx(model.score(PROMPTS, RESPONSES, precision="fp32"), abs=0.05)
    with autocast("bf16", torch.device("cpu")):
        ids, mask = pad_batch(model.encode(PROMPTS, RESPONSES), model.pad_id)
        assert model.outputs(ids, mask).dtype == torch.float32
