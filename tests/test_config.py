from pathlib import Path

import pytest
import yaml

from rewardlab.config import apply_overrides, config_from_dict, config_to_dict, load_config
from rewardlab.errors import ConfigError
from rewardlab.pipeline.demo import demo_defaults
from rewardlab.train import RunConfig

REPO = Path(__file__).resolve().parents[1]


def test_empty_config_is_the_synthetic_default_run() -> None:
    cfg = load_config(RunConfig)
    assert cfg.data.train == "synth" and cfg.model.backbone == "default" and cfg.model.dropout is False


def test_dotted_overrides_are_typed() -> None:
    cfg = load_config(RunConfig, None, ["train.lr=1e-4", "train.batch_size=8", "model.dropout=true",
                                        "synth.families=[kb_fact,arithmetic]"])
    assert cfg.train.lr == pytest.approx(1e-4) and cfg.train.batch_size == 8 and cfg.model.dropout is True
    assert cfg.synth.families == ("kb_fact", "arithmetic")


def test_unknown_key_is_rejected_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'train\.lrr'.*'train\.lr'"):
        load_config(RunConfig, None, ["train.lrr=1"])
    with pytest.raises(ConfigError, match="unknown config key 'modle'"):
        config_from_dict(RunConfig, {"modle": {}})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.batch_size=many", "train.batch_size must be an integer"),
        ("train.batch_size=0", "train.batch_size must be >= 1"),
        ("data.overlong=chop", "data.overlong must be one of"),
        ("model.dropout=3", "model.dropout must be true or false"),
        ("data.test_fraction=1.5", "test_fraction must be in"),
        ("synth.n_prompts=0", "n_prompts"),
        ("train=5", "train must be a mapping"),
        ("novalue", "must look like key.subkey=value"),
    ],
)
def test_bad_values_name_the_field(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(RunConfig, None, [override])


def test_yaml_file_and_overrides_combine(tmp_path: Path) -> None:
    file = tmp_path / "run.yaml"
    file.write_text("train:\n  lr: 0.001\n  epochs: 2\n")
    cfg = load_config(RunConfig, file, ["train.epochs=3"])
    assert cfg.train.lr == pytest.approx(0.001) and cfg.train.epochs == 3


def test_missing_or_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(RunConfig, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(RunConfig, bad)


def test_resolved_config_round_trips_through_yaml() -> None:
    cfg = load_config(RunConfig, None, ["train.lr=3e-5", "synth.seed=7"])
    again = config_from_dict(RunConfig, yaml.safe_load(yaml.safe_dump(config_to_dict(cfg))))
    assert again == cfg


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_parses(path: Path) -> None:
    load_config(RunConfig, path)


def test_embedded_demo_config_parses() -> None:
    cfg = config_from_dict(RunConfig, demo_defaults())
    assert cfg.data.train == "synth"


def test_overrides_do_not_mutate_their_input() -> None:
    base = {"train": {"lr": 1.0}}
    apply_overrides(base, ["train.lr=2"])
    assert base == {"train": {"lr": 1.0}}


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("train.lr=nan", "train.lr"),
        ("train.lr=inf", "train.lr"),
        ("train.lr=-1e-4", "train.lr"),
        ("eval.batch_size=0", "eval.batch_size"),
        ("train.eval_every=-1", "train.eval_every"),
        ("train.eval_pairs=0", "train.eval_pairs"),
        ("train.weight_decay=-0.1", "train.weight_decay"),
        ("train.grad_clip=-1", "train.grad_clip"),
        ("train.grad_clip=nan", "train.grad_clip"),
        ("loss.center_coef=nan", "loss.center_coef"),
        ("debias.length_coef=-inf", "debias.length_coef"),
        ("embedding.weight_decay=-1", "embedding.weight_decay"),
    ],
)
def test_out_of_range_nan_and_inf_values_are_config_errors_naming_the_key(override: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(RunConfig, None, [override])


def test_yaml_paths_resolve_against_the_config_files_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "project" / "configs"
    folder.mkdir(parents=True)
    (folder / "pairs.jsonl").write_text("{}\n")
    (folder / "run.yaml").write_text("data:\n  train: pairs.jsonl\n  eval: ../held.jsonl\n"
                                     "model:\n  backbone: default\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(RunConfig, folder / "run.yaml", ["audit.suite=./suite.yaml"])
    assert cfg.data.train == str(folder / "pairs.jsonl")
    assert cfg.data.eval == str((tmp_path / "project" / "held.jsonl").resolve())
    assert cfg.model.backbone == "default"  # a name, not a path
    assert cfg.audit.suite == str(elsewhere / "suite.yaml")  # --set paths: from the current directory


def test_hub_ids_and_builtin_names_are_not_paths(tmp_path: Path) -> None:
    file = tmp_path / "run.yaml"
    file.write_text("data:\n  train: Anthropic/hh-rlhf\naudit:\n  suite: builtin:synth\n")
    cfg = load_config(RunConfig, file)
    assert cfg.data.train == "Anthropic/hh-rlhf" and cfg.audit.suite == "builtin:synth"


def test_yaml_tags_that_would_run_code_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    file = tmp_path / "evil.yaml"
    file.write_text(f'train: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(RunConfig, file)
    assert not marker.exists()
