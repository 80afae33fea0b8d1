"""The first-token final-layer shortcut is exact: same rewards and same gradients as the full layer."""

from __future__ import annotations

from pathlib import Path

import torch

from rewardlab.models import RewardModel, pad_batch
from rewardlab.objectives import bradley_terry

PROMPTS = ["the cat is good?", "hello world", "a question: the dog?", "why?"]
RESPONSES = ["yes the cat is very good.", "hello", "no . the dog is bad . very very bad .", "because."]


def _full_layer(model: RewardModel) -> None:
    del model.hf.base_model.encoder.layer[-1].forward  # back to BertLayer.forward


def _loss_and_grads(model: RewardModel) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    ids, mask = pad_batch(model.encode(PROMPTS, RESPONSES), model.pad_id)
    model.zero_grad()
    rewards = model(ids, mask)
    loss = bradley_terry(rewards[:2], rewards[2:])
    loss.backward()
    return rewards.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_shortcut_gives_the_same_rewards_and_gradients_as_the_full_layer(tiny_bert_dir: Path) -> None:
    torch.manual_seed(0)
    model = RewardModel.from_backbone(tiny_bert_dir)
    torch.nn.init.normal_(model.hf.classifier.weight, std=1.0)
    assert model.first_token_shortcut
    model.train()
    fast_rewards, fast_grads = _loss_and_grads(model)
    _full_layer(model)
    full_rewards, full_grads = _loss_and_grads(model)
    assert torch.allclose(fast_rewards, full_rewards, atol=1e-5)
    assert fast_grads.keys() == full_grads.keys()
    last = "hf.bert.encoder.layer.1."
    assert any(k.startswith(last) for k in fast_grads)  # the shortened layer is still trained
    for name in fast_grads:
        assert torch.allclose(fast_grads[name], full_grads[name], atol=1e-5, rtol=1e-4), name


def test_shortcut_leaves_the_saved_weights_standard(tiny_bert_dir: Path, tmp_path: Path) -> None:
    model = RewardModel.from_backbone(tiny_bert_dir)
    model.save_pretrained(tmp_path / "m")
    from safetensors.torch import load_file

    keys = set(load_file(tmp_path / "m" / "model.safetensors"))
    assert keys == {k.removeprefix("hf.") for k in model.state_dict()}


def test_decoders_do_not_use_the_encoder_shortcut(tiny_decoder_dir: Path) -> None:
    assert not RewardModel.from_backbone(tiny_decoder_dir).first_token_shortcut
