"""Precision helpers: bf16 linear weights give the same scores as autocast, and width padding is inert."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rewardlab.models import pad_batch
from rewardlab.models.precision import autocast, cast_linear_weights
from serve_support import PROMPTS, RESPONSES, tiny_reward_model


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
    assert cast_linear_weights(model) > 0
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert all(m.weight.dtype == torch.bfloat16 for m in linears)
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
