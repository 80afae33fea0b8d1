"""Hostile and odd data files: every one a typed DataError naming file and line, or read correctly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from filewriters import write_csv, write_jsonl
from rewardlab.data import load_comparisons
from rewardlab.data.responses import load_responses
from rewardlab.errors import DataError

PAIR = {"prompt": "q", "chosen": "good answer", "rejected": "bad answer"}


def test_deeply_nested_jsonl_is_a_data_error_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps(PAIR) + "\n" + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(DataError, match=r"deep\.jsonl, line 2.*nested too deeply"):
        load_comparisons(path)
    loaded = load_comparisons(path, on_invalid="skip")
    assert len(loaded.records) == 1 and loaded.report.skipped == {"invalid_json": 1}


def test_deeply_nested_json_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(DataError, match=r"deep\.json.*nested too deeply"):
        load_comparisons(path)


def test_deeply_nested_json_in_a_csv_cell_is_a_data_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "deep.csv", ["prompt", "chosen", "rejected", "votes"],
                     [["q", "a", "b", "[" * 5000 + "]" * 5000]])
    with pytest.raises(DataError, match=r"line 2.*votes.*nested too deeply"):
        load_comparisons(path)


@pytest.mark.parametrize("strength", [-5, 4, 1e30, 2.5])
def test_strength_outside_its_scale_is_rejected(tmp_path: Path, strength: float) -> None:
    path = write_jsonl(tmp_path / "s.jsonl", [{**PAIR, "strength": strength}])
    with pytest.raises(DataError, match="strength"):
        load_comparisons(path)


def test_strength_on_its_scale_is_kept(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "s.jsonl", [{**PAIR, "strength": s} for s in range(4)])
    assert [r.strength for r in load_comparisons(path).records] == [0, 1, 2, 3]


@pytest.mark.parametrize("field", ["prompt", "chosen", "rejected"])
def test_lone_surrogates_are_rejected_and_counted_when_skipped(tmp_path: Path, field: str) -> None:
    path = tmp_path / "s.jsonl"
    bad = json.dumps({**PAIR, field: "text \ud800 here"})  # json.dumps writes the escape "\\ud800"
    path.write_text(json.dumps(PAIR) + "\n" + bad + "\n")
    with pytest.raises(DataError, match=rf"line 2, field '{field}'.*surrogate"):
        load_comparisons(path)
    loaded = load_comparisons(path, on_invalid="skip")
    assert len(loaded.records) == 1 and loaded.report.skipped == {"bad_text": 1}


def test_lone_surrogates_in_chat_messages_are_rejected(tmp_path: Path) -> None:
    prompt = [{"role": "user", "content": "hi \udfff"}]
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({**PAIR, "prompt": prompt}) + "\n")
    with pytest.raises(DataError, match="surrogate"):
        load_comparisons(path)


def test_csv_with_a_repeated_header_column_is_rejected(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv", ["prompt", "chosen", "rejected", "chosen"], [["q", "a", "b", "c"]])
    with pytest.raises(DataError, match=r"dup\.csv, line 1.*more than once \('chosen'\)"):
        load_comparisons(path)


def test_json_object_with_a_repeated_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    path.write_text(json.dumps(PAIR) + "\n" + '{"prompt": "q", "chosen": "a", "chosen": "c", "rejected": "b"}\n')
    with pytest.raises(DataError, match=r"line 2.*'chosen' twice"):
        load_comparisons(path)
    assert load_comparisons(path, on_invalid="skip").report.skipped == {"duplicate_key": 1}
    whole = tmp_path / "dup.json"
    whole.write_text('[{"prompt": "q", "prompt": "p", "chosen": "a", "rejected": "b"}]')
    with pytest.raises(DataError, match="'prompt' twice"):
        load_comparisons(whole)


def test_csv_cells_over_128_kib_are_read(tmp_path: Path) -> None:
    long = "word " * 60_000  # 300 KB: a long model output
    path = write_csv(tmp_path / "long.csv", ["prompt", "chosen", "rejected"], [["q", long, "short"]])
    records = load_comparisons(path).records
    assert records[0].chosen == long


@pytest.mark.parametrize("response", ["", "   \n\t"])
def test_score_input_with_an_empty_response_is_rejected(tmp_path: Path, response: str) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"prompt": "q", "response": "fine"},
                                              {"prompt": "q", "response": response}])
    with pytest.raises(DataError, match=r"line 2.*response"):
        load_responses(path)


def test_score_input_with_a_lone_surrogate_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"prompt": "q", "response": "a \ud800"}) + "\n")
    with pytest.raises(DataError, match="surrogate"):
        load_responses(path)


def test_columns_with_other_names_are_mapped_and_a_missing_one_is_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "other.jsonl", [{"question": "q", "response_a": "good", "response_b": "bad"},
                                                  {"question": "q2", "response_a": "good"}])
    columns = {"prompt": "question", "chosen": "response_a", "rejected": "response_b"}
    with pytest.raises(DataError, match=r"line 2.*column 'response_b' \(mapped to 'rejected'\) is missing"):
        load_comparisons(path, columns=columns)
    loaded = load_comparisons(path, columns=columns, on_invalid="skip")
    assert [(r.prompt, r.chosen, r.rejected) for r in loaded.records] == [("q", "good", "bad")]


def test_arena_exports_with_a_winner_column_are_read_through_a_column_mapping(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "arena.jsonl", [
        {"question": "q1", "answer_1": "A1", "answer_2": "B1", "verdict": "model_a", "model_a": "x"},
        {"question": "q2", "answer_1": "A2", "answer_2": "B2", "verdict": "model_b"},
        {"question": "q3", "answer_1": "A3", "answer_2": "B3", "verdict": "tie"},
        {"question": "q4", "answer_1": "A4", "answer_2": "B4", "verdict": "tie (bothbad)"},
    ])
    columns = {"prompt": "question", "response_a": "answer_1", "response_b": "answer_2", "winner": "verdict"}
    loaded = load_comparisons(path, columns=columns)
    assert loaded.report.format == "arena"
    assert [(r.prompt, r.chosen, r.rejected, r.tie) for r in loaded.records] == [
        ("q1", "A1", "B1", False), ("q2", "B2", "A2", False), ("q3", "A3", "B3", True), ("q4", "A4", "B4", True)]
    assert loaded.records[0].meta["model_a"] == "x"


def test_arena_rows_in_their_own_names_are_detected_and_bad_winners_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "arena.jsonl", [{"prompt": "q", "response_a": "a", "response_b": "b", "winner": "a"},
                                                  {"prompt": "q", "response_a": "a", "response_b": "b",
                                                   "winner": "model_c"}])
    with pytest.raises(DataError, match=r"line 2.*winner.*model_a"):
        load_comparisons(path)
    assert [r.chosen for r in load_comparisons(path, on_invalid="skip").records] == ["a"]
    no_prompt = write_jsonl(tmp_path / "np.jsonl", [{"response_a": "a", "response_b": "b", "winner": "model_a"}])
    with pytest.raises(DataError, match=r"prompt.*--columns prompt="):
        load_comparisons(no_prompt)


def test_a_file_missing_rejected_is_a_missing_field_not_a_detection_failure(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "half.jsonl", [{"prompt": "q", "chosen": "a"}])
    with pytest.raises(DataError, match=r"line 1.*rejected.*missing") as err:
        load_comparisons(path)
    assert "cannot detect" not in str(err.value)
