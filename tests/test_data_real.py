"""The loaders on the real preference files in ../shared/data beside the repository (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rewardlab.data import InvalidRecordError, load_comparisons, split_by_prompt

# shared/ sits beside the checkout (CI clones next to it); REWARDLAB_SHARED_DATA overrides.
ROOT = Path(os.environ.get("REWARDLAB_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
HH = ROOT / "hh-rlhf" / "harmless-base" / "test.jsonl.gz"
PANDALM = ROOT / "pandalm" / "testset-v1.json"
LLMBAR = ROOT / "llmbar"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    return path


def test_real_hh_harmless_test_split() -> None:
    path = need(HH)
    with pytest.raises(InvalidRecordError) as info:  # four rows have an empty chosen reply
        load_comparisons(path)
    assert (info.value.line, info.value.field, info.value.reason) == (87, "chosen", "empty_response")
    loaded = load_comparisons(path, on_invalid="skip")
    report = loaded.report
    assert (report.format, report.rows_read) == ("hh", 2312)
    assert report.skipped == {"empty_response": 4, "history_mismatch": 5}
    assert all(r.prompt and r.prompt[-1].role == "user" for r in loaded.records)
    train, test = split_by_prompt(loaded.records, 0.1, seed=0)
    assert {r.group for r in train}.isdisjoint({r.group for r in test})


def test_real_pandalm_testset() -> None:
    path = need(PANDALM)
    loaded = load_comparisons(path, on_invalid="skip")
    report = loaded.report
    assert (report.format, report.rows_read, len(loaded.records)) == ("pandalm", 999, 939)
    assert report.skipped == {"empty_response": 54, "wrong_type": 6}  # six responses are the JSON value true
    assert sum(r.tie for r in loaded.records) == 103
    assert all(r.votes is not None and len(r.votes) == 3 for r in loaded.records)
    assert all(sum(v > 0 for v in r.votes or ()) >= 2 for r in loaded.records if not r.tie)


@pytest.mark.parametrize(
    ("subset", "rows"),
    [
        ("Natural", 100),
        ("Adversarial/GPTInst", 92),
        ("Adversarial/GPTOut", 47),
        ("Adversarial/Manual", 46),
        ("Adversarial/Neighbor", 134),
    ],
)
def test_real_llmbar_subsets(subset: str, rows: int) -> None:
    path = need(LLMBAR / subset / "dataset.json")
    loaded = load_comparisons(path)
    assert (loaded.report.format, len(loaded.records), loaded.report.skipped) == ("llmbar", rows, {})
    assert {r.subset for r in loaded.records} == {subset}
