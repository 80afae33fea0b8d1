"""Fuzzing the inputs a user controls: every malformed data file, model directory and config value gets a typed error.

The property: whatever the input, rewardlab either reads it or raises its own error type
(``DataError``, ``ModelError``, ``ConfigError``), never a raw ``KeyError``, ``TypeError``,
``RecursionError`` or a traceback from a dependency.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewardlab.config import load_config
from rewardlab.data import load_comparisons, load_labels, load_rankings, load_ratings
from rewardlab.data.responses import load_responses
from rewardlab.errors import ConfigError, DataError, ModelError
from rewardlab.models import RewardModel, load_model
from rewardlab.train import RunConfig

FIELDS = ["prompt", "chosen", "rejected", "response", "responses", "ranks", "tie", "margin", "strength", "subset",
          "annotator", "votes", "rating", "ratings", "score", "good", "completion", "label", "output_1", "output_2",
          "instruction", "response1", "response2", "annotator1", "helpfulness", "id", "role", "content"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["\ud800", "", "  ", "Human: a\n\nAssistant: b",
                                                           "\n\nHuman: x\n\nAssistant: y"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)), max_leaves=12)
rows = st.one_of(st.dictionaries(st.sampled_from(FIELDS), values, max_size=7), values)

LOADERS = [load_comparisons, load_rankings, load_ratings, load_labels, load_responses]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _write(path: Path, rows: list[Any]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows), encoding="utf-8")
    else:
        import csv

        header = sorted({k for r in rows if isinstance(r, dict) for k in r}) or ["prompt"]
        with path.open("w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for r in rows:
                writer.writerow([json.dumps(r.get(k)) if isinstance(r, dict) and not isinstance(r.get(k), str)
                                 else (r.get(k) if isinstance(r, dict) else "") for k in header])


def _read_every_way(path: Path) -> None:
    for loader in LOADERS:
        for on_invalid in ("error", "skip"):
            try:
                if loader is load_responses:
                    load_responses(path)
                else:
                    loader(path, on_invalid=on_invalid)  # type: ignore[operator]
            except (DataError, ConfigError):
                pass


@FUZZ
@given(data=st.lists(rows, min_size=1, max_size=4), suffix=st.sampled_from([".jsonl", ".json", ".csv"]))
def test_random_data_files_are_read_or_refused_with_a_data_error(tmp_path: Path, data: list[Any],
                                                                  suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    _write(path, data)
    _read_every_way(path)


@FUZZ
@given(blob=st.binary(max_size=200), suffix=st.sampled_from([".jsonl", ".json", ".csv", ".jsonl.gz", ".parquet"]))
def test_random_bytes_are_refused_with_a_data_error(tmp_path: Path, blob: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(blob)
    _read_every_way(path)


CONFIG_KEYS = ["train.lr", "train.batch_size", "train.epochs", "train.eval_every", "train.eval_pairs",
               "train.weight_decay", "train.grad_clip", "train.warmup_ratio", "train.max_steps", "eval.batch_size",
               "model.max_length", "data.test_fraction", "data.limit", "loss.margin", "loss.name",
               "loss.center_coef", "ensemble.members", "ensemble.lam", "debias.length", "synth.n_prompts",
               "embedding.lr", "audit.max_pairs", "data.columns", "model.trust_remote_code"]
CONFIG_VALUES = st.one_of(st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e400", "abc", "[]", "{}", "null",
                                           "true", "1.5", "-0.0", "1e-4", "{prompt: q}", "[1, 2]"]),
                          st.integers(-5, 10**6).map(str), st.floats(allow_nan=True).map(repr))


@FUZZ
@given(key=st.sampled_from(CONFIG_KEYS), value=CONFIG_VALUES)
def test_random_config_values_are_accepted_or_a_config_error_naming_the_key(key: str, value: str) -> None:
    try:
        cfg = load_config(RunConfig, None, [f"{key}={value}"])
    except ConfigError as exc:
        assert key.split(".")[0] in str(exc)
        return
    section, name = key.split(".")
    got = getattr(getattr(cfg, section), name)
    if isinstance(got, float):
        assert got == got and abs(got) != float("inf")  # never NaN or infinite


@pytest.fixture(scope="module")
def exported(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz-model") / "model"
    RewardModel.from_backbone(tiny_bert_dir, max_length=64).save_pretrained(path)
    return path


META_KEYS = ["max_length", "input_format", "heads", "normalization", "model_type", "members", "lam", "aggregate",
             "format_version", "head", "embedder", "kind"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(META_KEYS), values, min_size=1, max_size=3))
def test_random_rewardlab_json_values_load_correctly_or_raise_a_model_error(
    exported: Path, tmp_path_factory: pytest.TempPathFactory, changes: dict[str, Any]
) -> None:
    path = tmp_path_factory.mktemp("m") / "model"
    shutil.copytree(exported, path)
    meta = json.loads((path / "rewardlab.json").read_text())
    meta.update(changes)
    (path / "rewardlab.json").write_text(json.dumps(meta))
    try:
        model = load_model(path)
    except ModelError:
        return
    rewards = model.score(["q"], ["an answer"])
    assert len(rewards) == 1 and rewards[0] == rewards[0]  # loaded: a finite reward, never NaN


HF_KEYS = ["num_hidden_layers", "hidden_size", "vocab_size", "max_position_embeddings", "num_labels", "model_type",
           "architectures", "pad_token_id", "id2label", "num_attention_heads", "type_vocab_size", "hidden_act",
           "layer_norm_eps", "problem_type", "torch_dtype"]
HF_VALUES = st.one_of(values, st.integers(-3, 600), st.sampled_from(["bert", "llama", "gpt2", "BertForMaskedLM",
                                                                      ["BertForSequenceClassification"], "gelu"]))
TOKENIZER_KEYS = ["model_max_length", "padding_side", "truncation_side", "pad_token", "unk_token", "tokenizer_class",
                  "do_lower_case", "chat_template", "cls_token"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=st.dictionaries(st.sampled_from(HF_KEYS), HF_VALUES, min_size=1, max_size=3),
       tokenizer=st.dictionaries(st.sampled_from(TOKENIZER_KEYS), values, max_size=2))
def test_random_hf_config_and_tokenizer_values_load_correctly_or_raise_a_model_error(
    exported: Path, tmp_path_factory: pytest.TempPathFactory, config: dict[str, Any], tokenizer: dict[str, Any]
) -> None:
    path = tmp_path_factory.mktemp("m") / "model"
    shutil.copytree(exported, path)
    for name, changes in (("config.json", config), ("tokenizer_config.json", tokenizer)):
        data = json.loads((path / name).read_text())
        data.update(changes)
        (path / name).write_text(json.dumps(data))
    try:
        model = load_model(path)
    except ModelError:
        return
    rewards = model.score(["q"], ["an answer " * 30])
    assert len(rewards) == 1 and rewards[0] == rewards[0]
