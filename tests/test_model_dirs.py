"""Broken, foreign and crafted model directories: a clear ModelError, never a silently wrong model or foreign code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from rewardlab.errors import ModelError
from rewardlab.models import RewardModel, load_model


@pytest.fixture(scope="module")
def exported(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exported") / "model"
    RewardModel.from_backbone(tiny_bert_dir, max_length=64).save_pretrained(path)
    return path


def copy(exported: Path, tmp_path: Path) -> Path:
    out = tmp_path / "model"
    shutil.copytree(exported, out)
    return out


def edit_weights(path: Path, drop: str = "", change: dict | None = None) -> None:
    weights = load_file(path / "model.safetensors")
    weights = {k: v for k, v in weights.items() if not (drop and k.startswith(drop))}
    weights.update(change or {})
    save_file(weights, str(path / "model.safetensors"), metadata={"format": "pt"})


def test_the_export_loads_and_scores_the_same_twice(exported: Path) -> None:
    a = RewardModel.from_pretrained(exported).score(["q"], ["an answer"])
    b = RewardModel.from_pretrained(exported).score(["q"], ["an answer"])
    assert a == b


def test_weights_without_the_reward_head_are_refused(exported: Path, tmp_path: Path) -> None:
    path = copy(exported, tmp_path)
    edit_weights(path, drop="classifier")
    with pytest.raises(ModelError, match=r"lack the reward head \(classifier\.bias, classifier\.weight\)"):
        RewardModel.from_pretrained(path)


def test_weights_without_the_word_embeddings_are_refused(exported: Path, tmp_path: Path) -> None:
    path = copy(exported, tmp_path)
    edit_weights(path, drop="bert.embeddings.word_embeddings")
    with pytest.raises(ModelError, match="word_embeddings"):
        RewardModel.from_pretrained(path)


def test_more_layers_in_the_config_than_in_the_weights_is_refused(exported: Path, tmp_path: Path) -> None:
    path = copy(exported, tmp_path)
    config = json.loads((path / "config.json").read_text())
    config["num_hidden_layers"] += 1
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match=r"lack parameters .*encoder\.layer\.2"):
        RewardModel.from_pretrained(path)


def test_a_directory_without_tokenizer_files_is_refused(exported: Path, tmp_path: Path) -> None:
    path = copy(exported, tmp_path)
    for name in ("tokenizer.json", "vocab.txt"):
        (path / name).unlink(missing_ok=True)
    with pytest.raises(ModelError, match="has no tokenizer files"):
        RewardModel.from_pretrained(path)


def test_a_tokenizer_that_maps_every_word_to_unk_is_refused(exported: Path, tmp_path: Path) -> None:
    path = copy(exported, tmp_path)
    (path / "tokenizer.json").unlink()
    (path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")  # the 5-token tokenizer
    with pytest.raises(ModelError, match="tokenizer"):
        RewardModel.from_pretrained(path)


def test_a_missing_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model directory"):
        load_model(tmp_path / "nope")


def _remote_code_dir(tmp_path: Path, exported: Path, marker: Path) -> Path:
    path = copy(exported, tmp_path)
    config = json.loads((path / "config.json").read_text())
    config.update(model_type="evil_bert", auto_map={"AutoConfig": "evil.EvilConfig",
                                                   "AutoModelForSequenceClassification": "evil.EvilModel"})
    (path / "config.json").write_text(json.dumps(config))
    (path / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n"
                                  "from transformers import BertConfig as EvilConfig\n")
    return path


def test_a_directory_with_remote_code_is_refused_without_asking_or_running_it(
    exported: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran.txt"
    path = _remote_code_dir(tmp_path, exported, marker)
    code = f"from rewardlab.models import RewardModel; RewardModel.from_pretrained({str(path)!r})"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRUST_REMOTE_CODE": "1"}
    done = subprocess.run([sys.executable, "-c", code], input="y\ny\n", capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode != 0
    assert "ModelError" in done.stderr and "trust_remote_code" in done.stderr, done.stderr[-2000:]
    assert not marker.exists()
    assert "[y/N]" not in done.stdout + done.stderr  # transformers never asked on stdin


def test_a_backbone_with_remote_code_is_refused_for_training_too(exported: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    path = _remote_code_dir(tmp_path, exported, marker)
    with pytest.raises(ModelError, match=r"ships its own Python code \(config\.json"):
        RewardModel.from_backbone(path)
    assert not marker.exists()


def test_a_pickled_pytorch_model_bin_is_never_loaded(exported: Path, tmp_path: Path) -> None:
    import pickle

    path = copy(exported, tmp_path)
    (path / "model.safetensors").unlink()
    marker = tmp_path / "ran.txt"
    (path / "pytorch_model.bin").write_bytes(pickle.dumps(print))  # any pickle: it is never opened
    with pytest.raises(ModelError, match=r"has no model\.safetensors .*pickle, which is never loaded"):
        RewardModel.from_pretrained(path)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_empty_or_truncated_safetensors_are_model_errors(exported: Path, tmp_path: Path, damage: str) -> None:
    path = copy(exported, tmp_path)
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(b"" if damage == "empty" else data[: len(data) // 2])
    with pytest.raises(ModelError, match="cannot be loaded"):
        RewardModel.from_pretrained(path)


def edit_meta(path: Path, **changes: object) -> None:
    meta = json.loads((path / "rewardlab.json").read_text())
    meta.update(changes)
    (path / "rewardlab.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2]", "must hold a JSON object, got list"),
        (b"null", "must hold a JSON object, got NoneType"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[" * 50_000 + b"]" * 50_000, "not valid JSON|must hold a JSON object"),
    ],
)
def test_a_malformed_rewardlab_json_is_a_model_error(exported: Path, tmp_path: Path, content: bytes,
                                                     message: str) -> None:
    path = copy(exported, tmp_path)
    (path / "rewardlab.json").write_bytes(content)
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_a_rewardlab_json_that_is_a_directory_is_a_model_error(exported: Path, tmp_path: Path) -> None:
    path = copy(exported, tmp_path)
    (path / "rewardlab.json").unlink()
    (path / "rewardlab.json").mkdir()
    with pytest.raises(ModelError, match="not a file"):
        load_model(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_length": "abc"}, "max_length must be a whole number"),
        ({"max_length": None}, "max_length must be a whole number"),
        ({"max_length": -5}, "max_length must be a whole number"),
        ({"max_length": 0}, "max_length must be a whole number"),
        ({"max_length": 64.5}, "max_length must be a whole number"),
        ({"max_length": True}, "max_length must be a whole number"),
        ({"max_length": 100000}, r"exceeds the model's position table \(512 positions\)"),
        ({"input_format": {}}, "input_format must be"),
        ({"input_format": "plain"}, "input_format must be"),
        ({"heads": [1]}, "heads must be"),
        ({"heads": {"names": "reward"}}, "heads.names must be"),
        ({"heads": {"names": ["reward"], "combine": [float("nan")]}}, "heads.combine must be a list of finite"),
        ({"heads": {"names": ["reward"], "combine": [1.0, 2.0]}}, "one weight per head output"),
        ({"heads": {"names": ["a", "b"]}}, "head has 1 outputs but rewardlab.json names 2"),
        ({"normalization": {"mean": 0.0, "std": 0.0}}, "normalization must be"),
        ({"model_type": "alien"}, "model_type must be one of"),
    ],
)
def test_bad_rewardlab_json_values_are_model_errors(exported: Path, tmp_path: Path, changes: dict,
                                                    message: str) -> None:
    path = copy(exported, tmp_path)
    edit_meta(path, **changes)
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_nan_in_the_head_weights_is_refused(exported: Path, tmp_path: Path) -> None:
    import torch

    path = copy(exported, tmp_path)
    weights = load_file(path / "model.safetensors")
    edit_weights(path, change={"classifier.weight": torch.full_like(weights["classifier.weight"], float("nan"))})
    with pytest.raises(ModelError, match=r"NaN or infinite values \(classifier\.weight\)"):
        RewardModel.from_pretrained(path)


def test_config_and_weights_of_different_shapes_are_a_model_error(exported: Path, tmp_path: Path) -> None:
    path = copy(exported, tmp_path)
    config = json.loads((path / "config.json").read_text())
    config["hidden_size"] *= 2
    config["intermediate_size"] *= 2
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="cannot be loaded"):
        RewardModel.from_pretrained(path)


@pytest.fixture(scope="module")
def ensemble_dir(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rewardlab.models.ensemble import RewardEnsemble

    root = tmp_path_factory.mktemp("ens") / "ensemble"
    members = [RewardModel.from_pretrained(exported), RewardModel.from_pretrained(exported)]
    RewardEnsemble(members, aggregate="mean_minus_std", lam=0.5).save_pretrained(root)
    return root


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"members": ["../elsewhere"]}, "inside the ensemble directory"),
        ({"members": ["/etc"]}, "inside the ensemble directory"),
        ({"members": []}, "members must be a non-empty list"),
        ({"lam": float("nan")}, "lam must be a finite number"),
        ({"lam": -1}, "lam must be a finite number"),
        ({"aggregate": "max"}, "aggregate must be one of"),
    ],
)
def test_bad_ensemble_metadata_is_refused(ensemble_dir: Path, tmp_path: Path, changes: dict, message: str) -> None:
    path = tmp_path / "ens"
    shutil.copytree(ensemble_dir, path)
    edit_meta(path, **changes)
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_an_ensemble_member_symlinked_outside_is_refused(ensemble_dir: Path, exported: Path, tmp_path: Path) -> None:
    path = tmp_path / "ens"
    shutil.copytree(ensemble_dir, path)
    shutil.rmtree(path / "member-1")
    (path / "member-1").symlink_to(exported)
    with pytest.raises(ModelError, match="outside the ensemble directory"):
        load_model(path)


def test_the_ensemble_loads_and_scores_when_intact(ensemble_dir: Path) -> None:
    rewards = load_model(ensemble_dir).score(["q"], ["an answer"])
    assert len(rewards) == 1 and rewards[0] == rewards[0]


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",  # the sandbox refuses it
    "{% for m in messages %}{{ raise_exception('no') }}{% endfor %}",
    "{% for m in messages %}{{ m.role }}{% endfor %}",  # renders, but never the reply
])
def test_a_chat_template_that_cannot_render_is_refused_at_load(
    tiny_decoder_dir: Path, tmp_path: Path, template: str
) -> None:
    path = tmp_path / "dec"
    model = RewardModel.from_backbone(tiny_decoder_dir, max_length=64, input_format="plain")
    model.save_pretrained(path)
    edit_meta(path, input_format={"kind": "chat_template", "add_special_tokens": False})
    config = json.loads((path / "tokenizer_config.json").read_text())
    config["chat_template"] = template
    (path / "tokenizer_config.json").write_text(json.dumps(config))
    (path / "chat_template.jinja").unlink(missing_ok=True)
    with pytest.raises(ModelError, match="chat template"):
        RewardModel.from_pretrained(path)
