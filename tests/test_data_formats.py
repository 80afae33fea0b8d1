"""Format converters: HH splitting, TRL prompt inference, RewardBench, PandaLM votes, LLMBar labels."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from rewardlab.data import InvalidRecordError, Message, load_comparisons
from rewardlab.data.formats import llmbar_subset_from_path


def load_rows(tmp_path: Path, rows: list[dict[str, Any]], **kwargs: Any) -> Any:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return load_comparisons(path, **kwargs)


def hh(*turns: str) -> str:
    """An HH-RLHF dialogue from alternating Human/Assistant turns."""
    speakers = ("Human", "Assistant")
    return "".join(f"\n\n{speakers[i % 2]}: {text}" for i, text in enumerate(turns))


# --- HH-RLHF -----------------------------------------------------------------


def test_hh_multi_turn_splits_at_the_last_assistant_turn(tmp_path: Path) -> None:
    row = {
        "chosen": hh("Hi", "Hello!", "Tell me a joke", "  Why did...  "),
        "rejected": hh("Hi", "Hello!", "Tell me a joke", "No."),
    }
    loaded = load_rows(tmp_path, [row])
    assert loaded.report.format == "hh"
    (record,) = loaded.records
    assert record.prompt == (
        Message("user", "Hi"),
        Message("assistant", "Hello!"),
        Message("user", "Tell me a joke"),
    )
    assert (record.chosen, record.rejected) == ("Why did...", "No.")


def test_hh_keeps_assistant_markers_inside_the_history(tmp_path: Path) -> None:
    # Two Assistant turns in a row: only the last one is the response.
    chosen = hh("Q") + "\n\nAssistant: first part" + "\n\nAssistant: final A"
    rejected = hh("Q") + "\n\nAssistant: first part" + "\n\nAssistant: final B"
    (record,) = load_rows(tmp_path, [{"chosen": chosen, "rejected": rejected}]).records
    assert record.prompt == (Message("user", "Q"), Message("assistant", "first part"))
    assert record.chosen == "final A"


def test_hh_different_histories_are_an_error_or_a_counted_skip(tmp_path: Path) -> None:
    rows = [
        {"chosen": hh("Q", "A1"), "rejected": hh("Q", "A2")},
        {"chosen": hh("Q", "x", "more", "A1"), "rejected": hh("Q", "y", "more", "A2")},
    ]
    with pytest.raises(InvalidRecordError) as info:
        load_rows(tmp_path, rows)
    assert (info.value.reason, info.value.line, info.value.field) == ("history_mismatch", 2, "rejected")
    loaded = load_rows(tmp_path, rows, on_invalid="skip")
    assert len(loaded.records) == 1 and loaded.report.skipped == {"history_mismatch": 1}


def test_hh_dialogue_ending_with_a_human_turn_is_rejected(tmp_path: Path) -> None:
    row = {"chosen": hh("Q", "A1", "thanks"), "rejected": hh("Q", "A2")}
    with pytest.raises(InvalidRecordError, match="ends with a Human turn") as info:
        load_rows(tmp_path, [row], format="hh")
    assert info.value.field == "chosen"


def test_hh_empty_final_response_is_rejected(tmp_path: Path) -> None:
    row = {"chosen": hh("Q", ""), "rejected": hh("Q", "A2")}
    with pytest.raises(InvalidRecordError) as info:
        load_rows(tmp_path, [row])
    assert (info.value.reason, info.value.field) == ("empty_response", "chosen")


# --- TRL -----------------------------------------------------------------------


def msg(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def test_trl_conversational_explicit_prompt(tmp_path: Path) -> None:
    row = {
        "prompt": [msg("user", "Hi")],
        "chosen": [msg("assistant", "Hello")],
        "rejected": [msg("assistant", "Go away")],
    }
    loaded = load_rows(tmp_path, [row])
    assert loaded.report.format == "trl"
    (record,) = loaded.records
    assert (record.prompt, record.chosen, record.rejected) == ((Message("user", "Hi"),), "Hello", "Go away")


def test_trl_multi_message_responses_extend_the_prompt(tmp_path: Path) -> None:
    turns = [msg("assistant", "Which city?"), msg("user", "Paris")]
    row = {
        "prompt": [msg("user", "Weather?")],
        "chosen": [*turns, msg("assistant", "Sunny")],
        "rejected": [*turns, msg("assistant", "Dunno")],
    }
    (record,) = load_rows(tmp_path, [row]).records
    assert record.prompt == (
        Message("user", "Weather?"),
        Message("assistant", "Which city?"),
        Message("user", "Paris"),
    )
    assert (record.chosen, record.rejected) == ("Sunny", "Dunno")


def test_trl_responses_with_different_histories_are_rejected(tmp_path: Path) -> None:
    row = {
        "prompt": [msg("user", "Q")],
        "chosen": [msg("assistant", "a"), msg("user", "x"), msg("assistant", "b")],
        "rejected": [msg("assistant", "c")],
    }
    with pytest.raises(InvalidRecordError) as info:
        load_rows(tmp_path, [row])
    assert info.value.reason == "history_mismatch"


def test_trl_response_must_end_with_an_assistant_message(tmp_path: Path) -> None:
    row = {"prompt": [msg("user", "Q")], "chosen": [msg("user", "a")], "rejected": [msg("assistant", "b")]}
    with pytest.raises(InvalidRecordError) as info:
        load_rows(tmp_path, [row])
    assert (info.value.reason, info.value.field) == ("bad_messages", "chosen")


def test_trl_implicit_conversational_prompt_is_the_shared_prefix(tmp_path: Path) -> None:
    row = {
        "chosen": [msg("system", "S"), msg("user", "Q"), msg("assistant", "good")],
        "rejected": [msg("system", "S"), msg("user", "Q"), msg("assistant", "bad")],
    }
    (record,) = load_rows(tmp_path, [row]).records
    assert record.prompt == (Message("system", "S"), Message("user", "Q"))
    assert (record.chosen, record.rejected) == ("good", "bad")


def test_trl_implicit_strings_with_hh_markers_split_like_hh(tmp_path: Path) -> None:
    row = {"chosen": hh("Q", "A1"), "rejected": hh("Q", "A2")}
    (record,) = load_rows(tmp_path, [row], format="trl").records
    assert (record.prompt, record.chosen) == ((Message("user", "Q"),), "A1")


def test_trl_implicit_plain_strings_split_at_a_word_boundary(tmp_path: Path) -> None:
    rows = [
        {"chosen": "Q: colour of the sky? A: blue", "rejected": "Q: colour of the sky? A: black"},
        {"chosen": "List fruit: apples", "rejected": "List fruit: apples and pears"},
    ]
    first, second = load_rows(tmp_path, rows).records
    assert (first.prompt, first.chosen, first.rejected) == ("Q: colour of the sky? A:", "blue", "black")
    assert (second.prompt, second.chosen, second.rejected) == ("List fruit:", "apples", "apples and pears")


def test_trl_implicit_strings_with_nothing_shared_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecordError) as info:
        load_rows(tmp_path, [{"chosen": "Yes indeed", "rejected": "Nope"}])
    assert info.value.reason == "no_shared_prompt"


# --- RewardBench -------------------------------------------------------------------


def test_rewardbench_keeps_subset_and_ids(tmp_path: Path) -> None:
    row = {
        "prompt": "Q",
        "chosen": "a",
        "rejected": "b",
        "subset": "refusals-dangerous",
        "id": 12,
        "chosen_model": "m1",
    }
    (record,) = load_rows(tmp_path, [row]).records
    assert record.subset == "refusals-dangerous"
    assert (record.meta["id"], record.meta["chosen_model"]) == (12, "m1")


def test_rewardbench_requires_subset(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecordError) as info:
        load_rows(tmp_path, [{"prompt": "Q", "chosen": "a", "rejected": "b", "id": 1}])
    assert (info.value.reason, info.value.field) == ("missing_field", "subset")


# --- PandaLM -------------------------------------------------------------------


def panda(votes: tuple[int, ...], *, extra: str = "", idx: int = 0) -> dict[str, Any]:
    row: dict[str, Any] = {
        "idx": idx,
        "instruction": "Rewrite.",
        "input": extra,
        "response1": "one",
        "response2": "two",
    }
    row.update({f"annotator{i + 1}": v for i, v in enumerate(votes)})
    return row


@pytest.mark.parametrize(
    ("votes", "chosen", "tie", "relative"),
    [
        ((1, 1, 1), "one", False, (1, 1, 1)),
        ((2, 2, 1), "two", False, (1, 1, -1)),
        ((0, 2, 2), "two", False, (0, 1, 1)),
        ((1, 0, 1), "one", False, (1, 0, 1)),
        ((0, 0, 2), "one", True, (0, 0, -1)),  # majority voted tie
        ((0, 0, 0), "one", True, (0, 0, 0)),
        ((0, 1, 2), "one", True, (0, 1, -1)),  # no majority
    ],
)
def test_pandalm_majority_picks_chosen_and_votes_are_relative(
    tmp_path: Path, votes: tuple[int, ...], chosen: str, tie: bool, relative: tuple[int, ...]
) -> None:
    (record,) = load_rows(tmp_path, [panda(votes)]).records
    assert (record.chosen, record.tie, record.votes) == (chosen, tie, relative)
    assert record.rejected == ("two" if chosen == "one" else "one")


def test_pandalm_prompt_joins_instruction_and_non_empty_input(tmp_path: Path) -> None:
    with_input, without, blank = load_rows(
        tmp_path, [panda((1, 1, 1), extra="Some text."), panda((1, 1, 1)), panda((1, 1, 1), extra="  ")]
    ).records
    assert with_input.prompt == "Rewrite.\n\nSome text."
    assert without.prompt == blank.prompt == "Rewrite."
    assert with_input.meta["idx"] == 0


def test_pandalm_ties_are_counted_in_the_notes(tmp_path: Path) -> None:
    rows = [panda((0, 0, 0)), panda((0, 0, 1)), panda((0, 1, 2)), panda((1, 1, 2))]
    notes = load_rows(tmp_path, rows).report.notes
    assert "pandalm: majority voted tie; kept with tie=True: 2 rows" in notes
    assert "pandalm: no majority among the votes; kept with tie=True: 1 rows" in notes


@pytest.mark.parametrize(
    ("value", "reason"), [(3, "bad_vote"), ("1", "bad_vote"), (True, "bad_vote"), (None, "missing_field")]
)
def test_pandalm_bad_votes_name_the_annotator(tmp_path: Path, value: Any, reason: str) -> None:
    row = panda((1, 1, 1))
    row["annotator2"] = value
    with pytest.raises(InvalidRecordError) as info:
        load_rows(tmp_path, [row])
    assert (info.value.reason, info.value.field) == (reason, "annotator2")


def test_pandalm_votes_read_from_csv_text(tmp_path: Path) -> None:
    path = tmp_path / "panda.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "idx",
                "instruction",
                "input",
                "response1",
                "response2",
                "annotator1",
                "annotator2",
                "annotator3",
            ]
        )
        writer.writerow(["7", "Do it.", "", "one", "two", "2", "2", "0"])
    (record,) = load_comparisons(path).records
    assert (record.prompt, record.chosen, record.votes) == ("Do it.", "two", (1, 1, 0))


# --- LLMBar --------------------------------------------------------------------


def test_llmbar_label_names_the_better_output(tmp_path: Path) -> None:
    rows = [
        {"input": "Q", "output_1": "good", "output_2": "bad", "label": 1},
        {"input": "Q", "output_1": "bad", "output_2": "good", "label": 2},
    ]
    first, second = load_rows(tmp_path, rows).records
    assert (first.chosen, first.rejected) == ("good", "bad") == (second.chosen, second.rejected)


@pytest.mark.parametrize(
    ("label", "reason"), [(0, "bad_label"), (3, "bad_label"), ("2", "bad_label"), (1.5, "bad_label")]
)
def test_llmbar_bad_label_is_rejected(tmp_path: Path, label: Any, reason: str) -> None:
    with pytest.raises(InvalidRecordError) as info:
        load_rows(tmp_path, [{"input": "Q", "output_1": "a", "output_2": "b", "label": label}])
    assert (info.value.reason, info.value.field, info.value.line) == (reason, "label", 1)


def test_llmbar_identical_outputs_name_the_output_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecordError) as info:
        load_rows(tmp_path, [{"input": "Q", "output_1": "a", "output_2": "a ", "label": 1}])
    assert (info.value.reason, info.value.field) == ("identical_responses", "output_2")


@pytest.mark.parametrize("subset", ["Natural", "Adversarial/GPTInst"])
def test_llmbar_subset_comes_from_the_repository_path(tmp_path: Path, subset: str) -> None:
    folder = tmp_path / "LLMBar" / subset
    folder.mkdir(parents=True)
    (folder / "dataset.json").write_text(
        json.dumps([{"input": "Q", "output_1": "a", "output_2": "b", "label": 1}])
    )
    assert load_comparisons(folder / "dataset.json").records[0].subset == subset
    assert load_comparisons(folder / "dataset.json", format="llmbar").records[0].subset == subset


def test_llmbar_subset_from_an_unrelated_path_is_none() -> None:
    assert llmbar_subset_from_path("/data/mine/pairs.json") is None
