"""Run directories: never overwritten by accident, a refused resume writes nothing, a failed run says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rewardlab import rundir
from rewardlab.cli import main
from test_train import write_pairs


def _args(data: Path, backbone: Path, out: Path, *extra: str) -> list[str]:
    sets = [f"data.train={data}", f"model.backbone={backbone}", "model.max_length=64", "train.batch_size=8",
            "train.precision=fp32", "train.progress=false", "train.max_steps=4", "train.save_every=2",
            "audit.report=false", "audit.probes=false", "audit.suite=none", *extra]
    return ["train", "--out", str(out), *[x for s in sets for x in ("--set", s)]]


@pytest.fixture()
def finished(tmp_path: Path, tiny_bert_dir: Path) -> tuple[Path, Path]:
    data = write_pairs(tmp_path / "pairs.jsonl")
    out = tmp_path / "run"
    assert main(_args(data, tiny_bert_dir, out)) == 0
    return data, out


def test_a_finished_run_records_its_state(finished: tuple[Path, Path]) -> None:
    _, out = finished
    status = json.loads((out / rundir.STATUS).read_text())
    assert status["state"] == "finished" and rundir.is_finished(out)
    assert not [p for p in out.iterdir() if p.name.startswith(".rewardlab-tmp")]


def test_training_into_a_used_directory_is_refused_and_changes_nothing(
    finished: tuple[Path, Path], tiny_bert_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = finished
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert main(_args(data, tiny_bert_dir, out, "train.lr=1e-4")) == 2
    assert "is not empty" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_overwrite_removes_what_the_run_owned_and_keeps_the_users_files(
    finished: tuple[Path, Path], tiny_bert_dir: Path
) -> None:
    data, out = finished
    (out / "audit.json").write_text('{"stale": true}')  # an earlier run's audit that this run will not write
    (out / "my-notes.txt").write_text("mine")
    assert main([*_args(data, tiny_bert_dir, out, "train.lr=1e-4"), "--overwrite"]) == 0
    assert not (out / "audit.json").exists()
    assert (out / "my-notes.txt").read_text() == "mine"
    assert yaml.safe_load((out / "config.yaml").read_text())["train"]["lr"] == pytest.approx(1e-4)


def test_resume_of_a_finished_run_says_so(finished: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, out = finished
    assert main(["train", "--out", str(out), "--resume"]) == 2
    assert "already finished" in capsys.readouterr().err


def _interrupt(out: Path) -> None:
    """Make a finished run look like one killed after its last checkpoint."""
    import shutil

    shutil.rmtree(out / rundir.MODEL)
    (out / rundir.METRICS).unlink()
    rundir.write_status(out, "interrupted")


def test_a_refused_resume_names_the_changed_keys_and_writes_nothing(
    finished: tuple[Path, Path], tiny_bert_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = finished
    _interrupt(out)
    config_before = (out / "config.yaml").read_text()
    report_before = (out / "data_report.json").read_text()
    assert main([*_args(data, tiny_bert_dir, out, "train.lr=3e-5"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "train.lr" in err and "different config" in err
    assert (out / "config.yaml").read_text() == config_before
    assert (out / "data_report.json").read_text() == report_before


def test_resume_without_config_reuses_the_runs_saved_config(finished: tuple[Path, Path]) -> None:
    _, out = finished
    _interrupt(out)
    assert main(["train", "--out", str(out), "--resume"]) == 0
    assert (out / "model" / "model.safetensors").is_file()
    assert rundir.is_finished(out)


def test_a_failed_run_is_marked_failed_not_finished(tmp_path: Path, tiny_bert_dir: Path) -> None:
    data = write_pairs(tmp_path / "pairs.jsonl", margin=1e39)
    out = tmp_path / "run"
    assert main(_args(data, tiny_bert_dir, out, "loss.margin=field")) == 2
    status = json.loads((out / rundir.STATUS).read_text())
    assert status["state"] == "failed" and "inf" in status["error"]
    assert not rundir.is_finished(out) and not (out / "model").exists()


# ----------------------------------------------------------------------------- reading and writing run files
def test_json_files_round_trip_with_numpy_scalars_and_nan(tmp_path: Path) -> None:
    import math

    import numpy as np
    import torch

    rundir.write_json(tmp_path / "metrics.json", {"a": np.float32(0.5), "b": float("nan"), "p": tmp_path,
                                                  "t": torch.tensor(2.0), "many": torch.tensor([1, 2])})
    back = rundir.read_json(tmp_path / "metrics.json")
    assert back["a"] == 0.5 and math.isnan(back["b"]) and back["p"] == str(tmp_path)
    assert back["t"] == 2.0 and back["many"] == str(torch.tensor([1, 2]))
    rundir.write_jsonl(tmp_path / "eval_scores.jsonl", [{"x": np.int64(3)}, {"x": 4}])
    assert rundir.read_jsonl(tmp_path / "eval_scores.jsonl") == [{"x": 3}, {"x": 4}]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".rewardlab-tmp-")]


@pytest.mark.parametrize(("content", "message"), [
    (b"\xff{}", "not UTF-8"), (b"{", "not valid JSON"), (b'{"a": 1}\n[1]\n', "line 2"),
])
def test_unreadable_run_files_are_data_errors_naming_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    from rewardlab.errors import DataError

    path = tmp_path / "train_history.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        rundir.read_jsonl(path)
    assert str(path) in str(err.value)


def test_data_report_has_one_shape_and_rejects_wrong_types(tmp_path: Path) -> None:
    from rewardlab.errors import DataError

    rundir.write_data_report(tmp_path, rundir.DataReportFile(notes=["read 10 rows"], counts={"train_pairs": 8},
                                                             train_hash="abc"))
    assert json.loads((tmp_path / "data_report.json").read_text()) == {
        "notes": ["read 10 rows"], "counts": {"train_pairs": 8}, "train_hash": "abc", "lengths": {}}
    assert rundir.read_data_report(tmp_path).counts == {"train_pairs": 8}
    (tmp_path / "data_report.json").write_text('{"notes": "one string", "counts": {}}')
    with pytest.raises(DataError, match="'notes' must be a JSON list"):
        rundir.read_data_report(tmp_path)
    (tmp_path / "data_report.json").write_text('[]')
    with pytest.raises(DataError, match="expected a JSON object"):
        rundir.read_data_report(tmp_path)
