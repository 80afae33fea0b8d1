"""The config reference in docs/training.md and `rewardlab train --help` come from the config classes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rewardlab.cli import main
from rewardlab.config_reference import BEGIN, END, field_help, markdown_reference, reference
from rewardlab.train.config import OptimConfig, RunConfig

DOC = Path(__file__).resolve().parents[1] / "docs" / "training.md"


def _keys(cls: type, prefix: str = "") -> list[str]:
    out = []
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out += _keys(type(default), f"{prefix}{f.name}.")
        else:
            out.append(f"{prefix}{f.name}")
    return out


def test_the_docs_table_is_the_generated_one_and_lists_every_key() -> None:
    text = DOC.read_text(encoding="utf-8")
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert generated == markdown_reference(RunConfig), "run `python -m rewardlab.config_reference`"
    for key in _keys(RunConfig):
        assert f"| `{key}` |" in generated, key


def test_every_key_has_help_taken_from_its_source_comment() -> None:
    rows = [r for r in reference(RunConfig) if not r.section]
    assert [r.key for r in rows] == _keys(RunConfig)
    assert [r.key for r in rows if not r.help] == []
    assert field_help(OptimConfig)["max_steps"] == "stop after this many optimizer steps (overrides epochs)"


def test_train_help_lists_every_key_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for key in _keys(RunConfig):
        assert f"  {key} = " in text, key
    assert "train.lr = 5e-05" in text and "AdamW learning rate" in text
