"""Containers (JSONL, gzip, JSON, CSV, Parquet, save_to_disk), validation and the skip policy."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, get_args

import pytest

import rewardlab.data as data
from filewriters import write_csv, write_jsonl
from rewardlab.data import (
    Comparison,
    InvalidRecordError,
    Message,
    comparison_to_json,
    detect_format,
    load_comparisons,
)
from rewardlab.data.formats import FORMATS
from rewardlab.data.load import Format
from rewardlab.errors import ConfigError, DataError

GOOD = {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "No."}


def test_public_api_is_exported() -> None:
    for name in data.__all__:
        assert hasattr(data, name), name
    assert set(get_args(Format)) == {"auto", *FORMATS}


def test_jsonl_rows_become_records_with_source_and_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [GOOD, {**GOOD, "chosen": "Hello!"}])
    loaded = load_comparisons(path)
    assert [r.chosen for r in loaded.records] == ["Hi!", "Hello!"]
    assert loaded.records[1].meta == {"source": str(path), "line": 2}
    assert loaded.report.format == "rewardlab"
    assert (loaded.report.rows_read, loaded.report.kept, loaded.report.skipped) == (2, 2, {})


def test_blank_jsonl_lines_keep_line_numbers_right(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + json.dumps({**GOOD, "rejected": " "}) + "\n")
    with pytest.raises(DataError) as info:
        load_comparisons(path)
    assert (info.value.line, info.value.field) == (3, "rejected")


def test_gzipped_jsonl_reads_like_plain_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(GOOD) + "\n")
    assert load_comparisons(path).records[0].chosen == "Hi!"


def test_comparison_to_json_round_trips_every_field(tmp_path: Path) -> None:
    originals = [
        Comparison(
            prompt=(Message("system", "Be brief."), Message("user", "2+2?")),
            chosen="4",
            rejected="5",
            tie=True,
            margin=0.5,
            strength=3,
            subset="math",
            annotator="a1",
            votes=(1, 0, -1),
            gold_chosen=1.0,
            gold_rejected=-0.25,
            prompt_id="p7",
            meta={"origin": "synth", "k": [1, 2]},
        ),
        Comparison(prompt="Plain prompt", chosen="a", rejected="b"),
    ]
    path = tmp_path / "native.jsonl"
    write_jsonl(path, [comparison_to_json(c) for c in originals])
    loaded = load_comparisons(path).records
    assert loaded == originals
    for got, want in zip(loaded, originals, strict=True):
        assert {k: v for k, v in got.meta.items() if k not in ("source", "line")} == want.meta
        assert type(got.prompt) is type(want.prompt)


def test_json_list_row_number_is_the_item_index(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "chosen": 3}]))
    with pytest.raises(DataError) as info:
        load_comparisons(path)
    assert (info.value.source, info.value.line, info.value.field) == (str(path), 2, "chosen")
    assert "p.json, line 2, field 'chosen'" in str(info.value)


def test_json_file_holding_json_lines_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(GOOD) + "\n")
    with pytest.raises(DataError, match=r"line 2.*\.jsonl"):
        load_comparisons(path)


def test_json_that_is_not_a_list_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"data": [GOOD]}))
    with pytest.raises(DataError, match="expected a JSON list"):
        load_comparisons(path)


def test_csv_cells_are_parsed_into_typed_fields(tmp_path: Path) -> None:
    header = ["prompt", "chosen", "rejected", "tie", "margin", "strength", "votes", "subset"]
    path = write_csv(
        tmp_path / "p.csv",
        header,
        [
            ["Q1", "line one\nline two", "b", "true", "0.5", "2", "[1, 0]", ""],
            ["Q2", "c", "d", "", "", "", "", "s"],
        ],
    )
    first, second = load_comparisons(path).records
    assert (first.chosen, first.tie, first.margin, first.strength, first.votes) == (
        "line one\nline two",
        True,
        0.5,
        2,
        (1, 0),
    )
    assert first.subset is None and second.subset == "s" and second.tie is False
    assert second.meta["line"] == 4  # the first record spans lines 2-3


def test_csv_error_names_the_line_the_record_starts_on(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        ["prompt", "chosen", "rejected", "margin"],
        [
            ["Q1", "multi\nline", "b", "1"],
            ["Q2", "c", "d", "lots"],
        ],
    )
    with pytest.raises(DataError) as info:
        load_comparisons(path)
    assert (info.value.line, info.value.field) == (4, "margin")


def test_csv_record_with_missing_cells_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("prompt,chosen,rejected\nQ,a,b\nQ,a\n")
    with pytest.raises(InvalidRecordError) as info:
        load_comparisons(path)
    assert (info.value.reason, info.value.line) == ("malformed_row", 3)


def test_parquet_rows_are_read(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {"prompt": "Q", "chosen": "a", "rejected": "b", "margin": 1.0},
        {"prompt": "R", "chosen": "c", "rejected": "d", "margin": None},
    ]
    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    records = load_comparisons(path).records
    assert [(r.prompt, r.margin, r.meta["line"]) for r in records] == [("Q", 1.0, 1), ("R", None, 2)]


def test_parquet_chat_prompts_load_as_messages(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"prompt": [{"role": "user", "content": "Hi"}], "chosen": "a", "rejected": "b"}]
    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert load_comparisons(path).records[0].prompt == (Message("user", "Hi"),)


def test_save_to_disk_dataset_and_dataset_dict(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    train = datasets.Dataset.from_list([GOOD, {**GOOD, "chosen": "Yo"}])
    test = datasets.Dataset.from_list([{**GOOD, "chosen": "Hey"}])
    train.save_to_disk(str(tmp_path / "single"))
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(tmp_path / "dict"))

    assert len(load_comparisons(tmp_path / "single").records) == 2
    assert len(load_comparisons(tmp_path / "dict").records) == 2  # train by default
    loaded = load_comparisons(tmp_path / "dict", split="test")
    assert loaded.records[0].chosen == "Hey"
    assert loaded.records[0].meta == {"source": f"{tmp_path / 'dict'}[test]", "line": 1}
    with pytest.raises(DataError, match="available splits: test, train"):
        load_comparisons(tmp_path / "dict", split="validation")


def test_folder_that_is_not_a_saved_dataset_is_rejected(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    with pytest.raises(DataError, match="save_to_disk"):
        load_comparisons(tmp_path)


@pytest.mark.parametrize("name", ["p.txt", "p.tsv", "p"])
def test_unknown_extension_is_rejected(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("x")
    with pytest.raises(DataError, match="unknown file type"):
        load_comparisons(path)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_comparisons(tmp_path / "missing.jsonl")


def test_split_on_a_single_file_is_rejected(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [GOOD])
    with pytest.raises(DataError, match="split="):
        load_comparisons(path, split="test")


def test_empty_source_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("\n")
    with pytest.raises(DataError, match="no rows"):
        load_comparisons(path)


def test_unparseable_json_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(GOOD) + "\n{not json\n")
    with pytest.raises(InvalidRecordError) as info:
        load_comparisons(path)
    assert (info.value.reason, info.value.line) == ("invalid_json", 2)


def test_a_line_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [GOOD, ["a", "b"]])
    with pytest.raises(InvalidRecordError) as info:
        load_comparisons(path)
    assert (info.value.reason, info.value.line) == ("not_an_object", 2)


BAD_ROWS = [
    ({"prompt": "Q", "chosen": "a"}, "missing_field", "rejected"),
    ({**GOOD, "chosen": None}, "missing_field", "chosen"),
    ({**GOOD, "rejected": 5}, "wrong_type", "rejected"),
    ({**GOOD, "chosen": "  \n"}, "empty_response", "chosen"),
    ({**GOOD, "rejected": "Hi! "}, "identical_responses", "rejected"),
    ({**GOOD, "margin": "big"}, "wrong_type", "margin"),
    ({**GOOD, "tie": 1}, "wrong_type", "tie"),
    ({**GOOD, "strength": True}, "wrong_type", "strength"),
    ({**GOOD, "votes": [1, 2]}, "bad_vote", "votes"),
    ({**GOOD, "meta": "x"}, "wrong_type", "meta"),
    ({**GOOD, "prompt": 7}, "wrong_type", "prompt"),
    ({**GOOD, "prompt": [{"role": "robot", "content": "x"}]}, "bad_messages", "prompt"),
]


@pytest.mark.parametrize(("row", "reason", "field"), BAD_ROWS)
def test_bad_record_names_file_line_field(
    tmp_path: Path, row: dict[str, Any], reason: str, field: str
) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [GOOD, row])
    with pytest.raises(InvalidRecordError) as info:
        load_comparisons(path, format="rewardlab")
    err = info.value
    assert (err.source, err.line, err.field, err.reason) == (str(path), 2, field, reason)
    assert f"p.jsonl, line 2, field '{field}'" in str(err)


def test_skip_policy_counts_every_dropped_row_by_reason(tmp_path: Path) -> None:
    rows = [GOOD] + [row for row, _, _ in BAD_ROWS] + [{**GOOD, "chosen": "Yo"}]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{oops\n")
    loaded = load_comparisons(path, on_invalid="skip")
    report = loaded.report
    assert [r.chosen for r in loaded.records] == ["Hi!", "Yo"]
    assert report.rows_read == len(rows) + 1
    assert report.kept + sum(report.skipped.values()) == report.rows_read
    assert report.skipped == {
        "missing_field": 2,
        "wrong_type": 6,
        "empty_response": 1,
        "identical_responses": 1,
        "bad_vote": 1,
        "bad_messages": 1,
        "invalid_json": 1,
    }
    assert any(
        "first skipped row (invalid_json)" in note and f"line {len(rows) + 1}" in note
        for note in report.notes
    )
    assert "15 rows read, 2 loaded, 13 skipped" in report.summary()


def test_skipped_first_row_does_not_block_detection(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("{oops\n" + json.dumps(GOOD) + "\n")
    loaded = load_comparisons(path, on_invalid="skip")
    assert (loaded.report.format, len(loaded.records)) == ("rewardlab", 1)


def test_limit_caps_the_rows_read(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [{**GOOD, "chosen": f"c{i}"} for i in range(10)])
    loaded = load_comparisons(path, limit=3)
    assert len(loaded.records) == 3 and loaded.report.rows_read == 3


@pytest.mark.parametrize(
    "kwargs", [{"format": "alpaca"}, {"on_invalid": "ignore"}, {"limit": 0}, {"limit": True}]
)
def test_bad_options_raise_config_error(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [GOOD])
    with pytest.raises(ConfigError):
        load_comparisons(path, **kwargs)


def test_ignored_columns_are_noted(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [{**GOOD, "score_chosen": 9.0}])
    notes = load_comparisons(path).report.notes
    assert any("ignored: score_chosen" in note for note in notes)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (GOOD, "rewardlab"),
        ({**GOOD, "tie": True, "subset": "x"}, "rewardlab"),
        ({**GOOD, "subset": "chat", "id": 3}, "rewardbench"),
        ({"prompt": [], "chosen": [{"role": "assistant", "content": "a"}], "rejected": []}, "trl"),
        ({"chosen": "\n\nHuman: hi\n\nAssistant: a", "rejected": "\n\nHuman: hi\n\nAssistant: b"}, "hh"),
        ({"chosen": "The sky is blue", "rejected": "The sky is red"}, "trl"),
        ({"input": "Q", "output_1": "a", "output_2": "b", "label": 1}, "llmbar"),
        ({"instruction": "Q", "response1": "a", "response2": "b", "annotator1": 1}, "pandalm"),
    ],
)
def test_detect_format_from_keys(row: dict[str, Any], expected: str) -> None:
    assert detect_format(row) == expected


def test_undetectable_first_row_names_the_line_and_asks_for_format(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [{"question": "Q", "answer": "a"}])
    with pytest.raises(DataError, match=r"line 1.*format="):
        load_comparisons(path)


def test_format_override_beats_detection(tmp_path: Path) -> None:
    # Detected as rewardbench because of "id"; forcing rewardlab keeps id out of meta.
    row = {**GOOD, "subset": "chat", "id": 3}
    path = write_jsonl(tmp_path / "p.jsonl", [row])
    assert load_comparisons(path).records[0].meta["id"] == 3
    forced = load_comparisons(path, format="rewardlab")
    assert forced.report.format == "rewardlab" and "id" not in forced.records[0].meta
    with pytest.raises(InvalidRecordError, match="'instruction'"):
        load_comparisons(path, format="pandalm")
