"""Checkpoints load without unpickling, are checksummed, and a damaged newest one falls back to an intact one."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
import torch

from rewardlab.errors import CheckpointError
from rewardlab.train import run_training
from rewardlab.train.checkpoint import META_FILE, STATE_FILES, checkpoint_dirs, load_latest, save_checkpoint
from rewardlab.train.safe_state import decode_tree, encode_tree
from test_train import config, weights, write_pairs


class _WritesAFile:
    """A pickle payload: unpickling it calls ``os.system`` (the classic crafted checkpoint)."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.target}",))


def _run(tmp_path: Path, tiny_bert_dir: Path, *extra: str) -> tuple[Path, object]:
    data = write_pairs(tmp_path / "pairs.jsonl")
    cfg = config(data, tiny_bert_dir, "train.max_steps=6", "train.save_every=2", "train.keep_checkpoints=10", *extra)
    return data, cfg


def test_state_tree_round_trips_tuples_int_keys_tensors_and_special_floats() -> None:
    groups = [{"lr": 1e-3, "betas": (0.9, 0.99)}]
    state = {"opt": {"state": {0: {"exp_avg": torch.arange(3.0)}}, "param_groups": groups},
             "rng": (3, tuple(range(5)), None), "inf": float("inf"), "flag": True, "name": "x"}
    tree, tensors = encode_tree(state)
    json.dumps(tree)  # plain JSON, nothing else
    back = decode_tree(json.loads(json.dumps(tree)), tensors)
    assert back["opt"]["state"][0]["exp_avg"].tolist() == [0.0, 1.0, 2.0]
    assert back["opt"]["param_groups"][0]["betas"] == (0.9, 0.99)
    assert back["rng"] == (3, (0, 1, 2, 3, 4), None) and back["inf"] == float("inf")
    with pytest.raises(CheckpointError, match="cannot store"):
        encode_tree({"x": object()})
    with pytest.raises(CheckpointError, match="malformed"):
        decode_tree({"T": "missing"}, {})


def test_a_pickled_state_pt_is_refused_and_never_unpickled(tmp_path: Path, tiny_bert_dir: Path) -> None:
    _, cfg = _run(tmp_path, tiny_bert_dir)
    run = tmp_path / "run"
    (run / "checkpoints" / "step-00000002").mkdir(parents=True)
    marker = tmp_path / "pwned"
    (run / "checkpoints" / "step-00000002" / "state.pt").write_bytes(pickle.dumps(_WritesAFile(marker)))
    (run / "checkpoints" / "step-00000002" / "meta.json").write_text("{}")
    with pytest.raises(CheckpointError, match=r"pickled state\.pt"):
        run_training(cfg, run, resume=True, log=lambda _: None)
    assert not marker.exists()
    assert not (run / "config.yaml").exists()  # refused before anything was written


def test_a_checkpoint_file_holding_a_pickle_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "checkpoints"
    path = save_checkpoint(root, 2, {"w": torch.ones(2)}, {"fingerprint": "f"})
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_WritesAFile(marker))
    for name in STATE_FILES:  # swap the state for a pickle and fix the checksums, as an attacker would
        (path / name).write_bytes(payload)
    meta = json.loads((path / META_FILE).read_text())
    import hashlib

    meta["sha256"] = {n: hashlib.sha256(payload).hexdigest() for n in STATE_FILES}
    (path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="no intact checkpoint"):
        load_latest(root, "f", log=lambda _: None)
    assert not marker.exists()


def test_checkpoint_files_are_checksummed_and_fsynced_into_place(tmp_path: Path) -> None:
    root = tmp_path / "checkpoints"
    path = save_checkpoint(root, 4, {"w": torch.ones(3), "step": 4}, {"fingerprint": "f"})
    meta = json.loads((path / META_FILE).read_text())
    assert set(meta["sha256"]) == set(STATE_FILES) and meta["step"] == 4
    assert [p.name for p in root.iterdir()] == ["step-00000004"]  # no temporary directory left behind
    found = load_latest(root, "f", log=lambda _: None)
    assert found is not None and found[1]["w"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("damage", ["truncate", "empty", "flip", "delete"])
def test_a_damaged_newest_checkpoint_falls_back_to_the_newest_intact_one(tmp_path: Path, damage: str) -> None:
    root = tmp_path / "checkpoints"
    save_checkpoint(root, 2, {"w": torch.full((64,), 2.0), "step": 2}, {"fingerprint": "f"})
    newest = save_checkpoint(root, 4, {"w": torch.full((64,), 4.0), "step": 4}, {"fingerprint": "f"})
    target = newest / "state.safetensors"
    data = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        target.write_bytes(b"")
    elif damage == "flip":
        target.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    else:
        target.unlink()
    notes: list[str] = []
    found = load_latest(root, "f", log=notes.append)
    assert found is not None
    path, state = found
    assert path.name == "step-00000002" and state["w"][0].item() == 2.0
    assert any("step-00000004" in n and "damaged" in n for n in notes)
    assert any("newest intact" in n for n in notes)


def test_every_checkpoint_damaged_is_a_checkpoint_error(tmp_path: Path) -> None:
    root = tmp_path / "checkpoints"
    path = save_checkpoint(root, 2, {"w": torch.ones(2)}, {"fingerprint": "f"})
    (path / "state.json").write_text("")
    with pytest.raises(CheckpointError, match=r"no intact checkpoint.*state\.json"):
        load_latest(root, "f", log=lambda _: None)


def test_resume_skips_a_truncated_newest_checkpoint_and_matches_an_unbroken_run(
    tmp_path: Path, tiny_bert_dir: Path
) -> None:
    _, cfg = _run(tmp_path, tiny_bert_dir)
    run_training(cfg, tmp_path / "unbroken", log=lambda _: None)
    run_training(cfg, tmp_path / "killed", log=lambda _: None)
    ckpts = checkpoint_dirs(tmp_path / "killed" / "checkpoints")
    for later in ckpts[2:]:  # keep step 2 and 4, as if killed after step 4
        import shutil

        shutil.rmtree(later)
    (tmp_path / "killed" / "model").rename(tmp_path / "old-model")
    newest = ckpts[1] / "state.safetensors"
    newest.write_bytes(newest.read_bytes()[:100])
    notes: list[str] = []
    resumed = run_training(cfg, tmp_path / "killed", resume=True, log=notes.append)
    assert resumed.loop.resumed_from == 2
    assert any("newest intact" in n for n in notes)
    a, b = weights(tmp_path / "unbroken"), weights(tmp_path / "killed")
    assert all(torch.equal(a[k], b[k]) for k in a)


def _refresh_checksums(path: Path) -> None:
    import hashlib

    meta = json.loads((path / META_FILE).read_text())
    meta["sha256"] = {n: hashlib.sha256((path / n).read_bytes()).hexdigest() for n in STATE_FILES}
    (path / META_FILE).write_text(json.dumps(meta))


@pytest.mark.parametrize("craft", ["drop_model", "step_is_text", "wrong_shape", "tree_not_tagged"])
def test_a_crafted_checkpoint_with_valid_checksums_is_a_checkpoint_error(
    tmp_path: Path, tiny_bert_dir: Path, craft: str
) -> None:
    from safetensors.torch import load_file, save_file

    _, cfg = _run(tmp_path, tiny_bert_dir)
    run = tmp_path / "run"
    run_training(cfg, run, log=lambda _: None)
    newest = checkpoint_dirs(run / "checkpoints")[-1]
    tree = json.loads((newest / "state.json").read_text())
    if craft == "drop_model":
        del tree["d"]["model"]
    elif craft == "step_is_text":
        tree["d"]["step"] = "six"
    elif craft == "tree_not_tagged":
        tree = {"model": 1}
    else:
        tensors = load_file(newest / "state.safetensors")
        tensors["t0"] = torch.zeros(3, 3)
        save_file(tensors, str(newest / "state.safetensors"))
    (newest / "state.json").write_text(json.dumps(tree))
    _refresh_checksums(newest)
    import shutil

    shutil.rmtree(run / "model")
    (run / "metrics.json").unlink(missing_ok=True)
    with pytest.raises(CheckpointError, match=str(newest.name)):
        run_training(cfg, run, resume=True, log=lambda _: None)
