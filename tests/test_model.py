"""RewardModel on tiny real models: scored position, padding, batching, save/load, HF parity."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from rewardlab.data.records import Message
from rewardlab.errors import ModelError
from rewardlab.models import InputFormat, RewardModel, format_input, pad_batch

PROMPTS = ["the cat is good?", "hello world", "a question: the dog?"]
RESPONSES = ["yes the cat is very good.", "hello", "no . the dog is bad . very very bad ."]


def _randomize_head(model: RewardModel) -> None:
    """Fresh heads start near zero; spread them so score differences are meaningful."""
    torch.manual_seed(1)
    head = model.hf.classifier if model.kind == "encoder" else model.hf.score
    torch.nn.init.normal_(head.weight, std=1.0)


@pytest.fixture(params=["encoder", "decoder"])
def model(request: pytest.FixtureRequest, tiny_bert_dir: Path, tiny_decoder_dir: Path) -> RewardModel:
    path = tiny_bert_dir if request.param == "encoder" else tiny_decoder_dir
    m = RewardModel.from_backbone(path, max_length=64)
    _randomize_head(m)
    return m.eval()


def test_plain_format_is_the_documented_template() -> None:
    fmt = InputFormat(kind="plain")
    assert format_input("Hi?", "Hello.", fmt) == "Human: Hi?\n\nAssistant: Hello."
    convo = (Message("user", "Hi?"), Message("assistant", "Hello."), Message("user", "More?"))
    assert format_input(convo, "Sure.", fmt) == "Human: Hi?\n\nAssistant: Hello.\n\nHuman: More?\n\nAssistant: Sure."


def test_left_padding_gives_same_scores_as_right_padding(model: RewardModel) -> None:
    seqs = model.encode(PROMPTS, RESPONSES)
    right_ids, right_mask = pad_batch(seqs, model.pad_id)
    width = right_ids.shape[1]
    left_ids = torch.full_like(right_ids, model.pad_id)
    left_mask = torch.zeros_like(right_mask)
    for row, seq in enumerate(seqs):
        left_ids[row, width - len(seq):] = torch.tensor(seq)
        left_mask[row, width - len(seq):] = 1
    with torch.no_grad():
        right = model(right_ids, right_mask)
        left = model(left_ids, left_mask)
    assert torch.allclose(left, right, atol=1e-5)
    assert len(set(right.tolist())) == 3  # the scores do differ between inputs


def test_scores_do_not_depend_on_batch_size_or_extra_padding(model: RewardModel) -> None:
    full = model.score(PROMPTS, RESPONSES, batch_size=8, precision="fp32")
    single = model.score(PROMPTS, RESPONSES, batch_size=1, precision="fp32")
    assert full == pytest.approx(single, abs=1e-5)
    seqs = model.encode(PROMPTS, RESPONSES)
    ids, mask = pad_batch(seqs, model.pad_id)
    wide_ids = torch.cat([ids, torch.full((3, 7), model.pad_id)], dim=1)
    wide_mask = torch.cat([mask, torch.zeros((3, 7), dtype=mask.dtype)], dim=1)
    with torch.no_grad():
        assert torch.allclose(model(wide_ids, wide_mask), model(ids, mask), atol=1e-5)


def test_save_then_load_gives_identical_scores(model: RewardModel, tmp_path: Path) -> None:
    before = model.score(PROMPTS, RESPONSES, precision="fp32")
    model.save_pretrained(tmp_path / "m")
    loaded = RewardModel.from_pretrained(tmp_path / "m")
    assert loaded.score(PROMPTS, RESPONSES, precision="fp32") == before
    assert loaded.input_format == model.input_format and loaded.max_length == 64


def test_plain_transformers_loads_the_export_with_the_same_scores(model: RewardModel, tmp_path: Path) -> None:
    ours = model.score(PROMPTS, RESPONSES, precision="fp32")
    model.save_pretrained(tmp_path / "m")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "m")
    hf = AutoModelForSequenceClassification.from_pretrained(tmp_path / "m").eval()
    for prompt, response, expected in zip(PROMPTS, RESPONSES, ours):
        enc = tokenizer(f"Human: {prompt}\n\nAssistant: {response}", return_tensors="pt", truncation=True,
                        max_length=64)
        with torch.no_grad():
            assert hf(**enc).logits[0, 0].item() == pytest.approx(expected, abs=1e-5)
    card = (tmp_path / "m" / "README.md").read_text()
    assert "AutoModelForSequenceClassification" in card and "Human: {prompt}" in card


def test_decoder_with_pad_equal_to_eos_gets_a_dedicated_pad_token(tiny_decoder_dir: Path) -> None:
    original = AutoTokenizer.from_pretrained(tiny_decoder_dir)
    assert original.pad_token_id == original.eos_token_id
    model = RewardModel.from_backbone(tiny_decoder_dir)
    assert model.pad_id != model.tokenizer.eos_token_id
    assert model.hf.config.pad_token_id == model.pad_id
    assert model.hf.get_input_embeddings().weight.shape[0] == len(model.tokenizer)


def test_decoder_scores_the_last_real_token_even_when_it_is_eos(tiny_decoder_dir: Path) -> None:
    model = RewardModel.from_backbone(tiny_decoder_dir)
    _randomize_head(model)
    model.eval()
    eos = model.tokenizer.eos_token
    seq = model.encode(["the cat?"], [f"yes {eos}"])[0]
    assert seq[-1] == model.tokenizer.eos_token_id
    ids = torch.tensor([seq])
    with torch.no_grad():
        hidden = model.hf.base_model(input_ids=ids).last_hidden_state
        expected = model.hf.score(hidden[0, -1]).item()
        padded_ids, padded_mask = pad_batch([seq, [*seq, *seq]], model.pad_id)
        got = model(padded_ids, padded_mask)[0].item()
    assert got == pytest.approx(expected, abs=1e-5)


def test_over_long_inputs_keep_the_end_of_the_response(tiny_bert_dir: Path) -> None:
    model = RewardModel.from_backbone(tiny_bert_dir, max_length=16)
    long_prompt = " ".join(["word"] * 100)
    ids = model.encode([long_prompt], ["the final answer is yes"])[0]
    text = model.tokenizer.decode(ids)
    assert len(ids) == 16
    assert text.startswith("[CLS]") and text.endswith("the final answer is yes [SEP]")


def test_from_pretrained_rejects_a_plain_backbone(tiny_bert_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModel

    AutoModel.from_pretrained(tiny_bert_dir).save_pretrained(tmp_path / "base")
    AutoTokenizer.from_pretrained(tiny_bert_dir).save_pretrained(tmp_path / "base")
    with pytest.raises(ModelError, match="from_backbone"):
        RewardModel.from_pretrained(tmp_path / "base")


def test_missing_backbone_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model directory"):
        RewardModel.from_backbone(tmp_path / "nope")


def test_normalize_uses_saved_statistics(model: RewardModel) -> None:
    model.metadata["normalization"] = {"mean": 1.0, "std": 2.0}
    assert model.normalize([3.0, -1.0]) == [1.0, -1.0]
