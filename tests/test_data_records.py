"""Rankings, ratings and good/bad labels from files, and any record type turned into eval pairs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest

import rewardlab.data as data
from filewriters import write_csv, write_jsonl
from rewardlab.data import (
    Comparison,
    InvalidRecordError,
    Label,
    Message,
    Ranking,
    Rating,
    load_labels,
    load_rankings,
    load_ratings,
    records_to_eval_pairs,
    split_by_prompt,
)
from rewardlab.data.load import LabelFormat, RankingFormat, RatingFormat
from rewardlab.data.record_formats import LABEL_FORMATS, RANKING_FORMATS, RATING_FORMATS
from rewardlab.errors import ConfigError, DataError
from rewardlab.synth import SynthConfig, generate_world, write_world

RANKING = {"prompt": "Name a colour.", "responses": ["Blue.", "Green, I think.", "Dunno."]}
RATING = {"prompt": "Name a colour.", "response": "Blue.", "ratings": {"overall": 4, "helpfulness": 3.5}}
LABEL = {"prompt": "Name a colour.", "response": "Blue.", "good": True}
LOADERS: dict[str, Callable[..., Any]] = {"ranking": load_rankings, "rating": load_ratings, "label": load_labels}
GOOD_ROWS = {"ranking": RANKING, "rating": RATING, "label": LABEL}


def test_new_names_are_exported_and_format_literals_match_the_converters() -> None:
    for name in ("load_rankings", "load_ratings", "load_labels", "records_to_eval_pairs", "LoadedRankings"):
        assert name in data.__all__ and hasattr(data, name)
    assert set(get_args(RankingFormat)) == {"auto", *RANKING_FORMATS}
    assert set(get_args(RatingFormat)) == {"auto", *RATING_FORMATS}
    assert set(get_args(LabelFormat)) == {"auto", *LABEL_FORMATS}


# --- round trip of the synthetic world ----------------------------------------------


def test_synth_world_files_load_back_into_equal_records(tmp_path: Path) -> None:
    world = generate_world(SynthConfig(n_prompts=30, seed=5))
    paths = write_world(world, tmp_path)
    for loaded, expected in (
        (load_rankings(paths["rankings"]), world.rankings()),
        (load_ratings(paths["ratings"]), world.ratings()),
        (load_labels(paths["labels"]), world.labels()),
    ):
        assert loaded.records == expected
        assert loaded.report.format == "rewardlab"
        assert (loaded.report.rows_read, loaded.report.kept, loaded.report.skipped) == (len(expected),) * 2 + ({},)
        assert loaded.report.notes == []  # every column is used
    assert any(len(r.ratings) < 5 for r in load_ratings(paths["ratings"]).records)  # some aspects were dropped


# --- rankings -----------------------------------------------------------------------


def test_native_ranking_keeps_order_chat_prompt_and_optional_fields(tmp_path: Path) -> None:
    row = {
        "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Colour?"}],
        "responses": ["Blue.", "Red."],
        "subset": "s",
        "annotator": "a1",
        "gold": [1, 0.5],
        "prompt_id": "p1",
    }
    (record,) = load_rankings(write_jsonl(tmp_path / "r.jsonl", [row])).records
    assert record == Ranking(
        prompt=(Message("system", "Be brief."), Message("user", "Colour?")),
        responses=("Blue.", "Red."),
        subset="s",
        annotator="a1",
        gold=(1.0, 0.5),
        prompt_id="p1",
    )


def test_ranks_reorder_responses_and_gold_best_first(tmp_path: Path) -> None:
    row = {"prompt": "Q", "responses": ["mid", "worst", "best"], "ranks": [2, 3, 1], "gold": [0.5, 0.0, 1.0]}
    (record,) = load_rankings(write_jsonl(tmp_path / "r.jsonl", [row])).records
    assert record.responses == ("best", "mid", "worst")
    assert record.gold == (1.0, 0.5, 0.0)


def test_csv_ranking_reads_json_lists_from_cells(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ["prompt", "responses", "ranks"], [["Q", '["b", "a"]', "[2, 1]"]])
    assert load_rankings(path).records[0].responses == ("a", "b")


# --- ratings ------------------------------------------------------------------------


def test_native_ratings_become_float_dicts_and_null_attributes_are_absent(tmp_path: Path) -> None:
    rows = [RATING, {**RATING, "ratings": {"overall": 2, "helpfulness": None}}]
    loaded = load_ratings(write_jsonl(tmp_path / "r.jsonl", rows))
    assert [r.ratings for r in loaded.records] == [{"overall": 4.0, "helpfulness": 3.5}, {"overall": 2.0}]
    assert any("left out" in note and "1 rows" in note for note in loaded.report.notes)


def test_helpsteer_columns_become_ratings_and_empty_cells_are_absent(tmp_path: Path) -> None:
    attrs = {"helpfulness": 3, "correctness": 4, "coherence": 4, "complexity": 1, "verbosity": 2}
    rows = [
        {"prompt": "Q", "response": "a", **attrs},
        {"prompt": "Q", "response": "b", **attrs, "verbosity": None},
    ]
    path = tmp_path / "hs.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n" + json.dumps(rows[1]).replace("null", "NaN") + "\n")
    loaded = load_ratings(path)
    assert loaded.report.format == "helpsteer"
    assert loaded.records[0].ratings == {k: float(v) for k, v in attrs.items()}
    assert "verbosity" not in loaded.records[1].ratings and len(loaded.records[1].ratings) == 4
    assert any("left out" in note for note in loaded.report.notes)


def test_helpsteer_parquet_with_nan_and_csv_with_empty_cells(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"prompt": "Q", "response": "a", "helpfulness": 3.0, "correctness": float("nan")}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "hs.parquet")
    assert load_ratings(tmp_path / "hs.parquet").records[0].ratings == {"helpfulness": 3.0}
    path = write_csv(tmp_path / "hs.csv", ["prompt", "response", "helpfulness", "coherence"], [["Q", "a", "", "4"]])
    assert load_ratings(path).records[0].ratings == {"coherence": 4.0}


@pytest.mark.parametrize("key", ["rating", "score"])
def test_scalar_rating_or_score_becomes_overall(tmp_path: Path, key: str) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"prompt": "Q", "response": "a", key: 7, "gold": 0.5}])
    loaded = load_ratings(path)
    assert loaded.report.format == "scalar"
    assert loaded.records == [Rating(prompt="Q", response="a", ratings={"overall": 7.0}, gold=0.5)]


# --- labels -------------------------------------------------------------------------


def test_native_labels_and_trl_unpaired_rows(tmp_path: Path) -> None:
    native = load_labels(write_jsonl(tmp_path / "n.jsonl", [LABEL, {**LABEL, "good": 0}]))
    assert [r.good for r in native.records] == [True, False]
    trl_rows = [
        {"prompt": "Q", "completion": "a", "label": True},
        {"prompt": "Q", "completion": "b", "label": 0},
        {"prompt": "Q", "completion": "c", "label": 1},
    ]
    trl = load_labels(write_jsonl(tmp_path / "t.jsonl", trl_rows))
    assert trl.report.format == "trl"
    assert [(r.response, r.good) for r in trl.records] == [("a", True), ("b", False), ("c", True)]


def test_trl_conversational_completion_continues_the_chat_prompt(tmp_path: Path) -> None:
    row = {
        "prompt": [{"role": "user", "content": "Hi"}],
        "completion": [
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Joke?"},
            {"role": "assistant", "content": "No."},
        ],
        "label": False,
    }
    (record,) = load_labels(write_jsonl(tmp_path / "t.jsonl", [row])).records
    assert record.prompt == (Message("user", "Hi"), Message("assistant", "Hello."), Message("user", "Joke?"))
    assert (record.response, record.good) == ("No.", False)


def test_csv_labels_accept_true_false_and_one_zero(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", ["prompt", "completion", "label"], [["Q", "a", "true"], ["Q", "b", "0"]])
    assert [r.good for r in load_labels(path).records] == [True, False]


# --- malformed rows -----------------------------------------------------------------

BAD_ROWS = [
    ("ranking", {"responses": ["a", "b"]}, "prompt", "missing_field"),
    ("ranking", {"prompt": "Q"}, "responses", "missing_field"),
    ("ranking", {"prompt": "Q", "responses": ["only one"]}, "responses", "too_few_responses"),
    ("ranking", {"prompt": "Q", "responses": ["a", "b", " a "]}, "responses", "identical_responses"),
    ("ranking", {"prompt": "Q", "responses": ["a", "  "]}, "responses", "empty_response"),
    ("ranking", {"prompt": "Q", "responses": ["a", 3]}, "responses", "wrong_type"),
    ("ranking", {"prompt": "Q", "responses": ["a", "b", "c"], "ranks": [1, 1, 2]}, "ranks", "tied_ranks"),
    ("ranking", {"prompt": "Q", "responses": ["a", "b"], "ranks": [0, 1]}, "ranks", "bad_rank"),
    ("ranking", {"prompt": "Q", "responses": ["a", "b"], "ranks": [1]}, "ranks", "bad_rank"),
    ("ranking", {"prompt": "Q", "responses": ["a", "b"], "gold": [1.0]}, "gold", "wrong_type"),
    ("rating", {"prompt": "Q", "ratings": {"overall": 1}}, "response", "missing_field"),
    ("rating", {"prompt": "Q", "response": "a", "ratings": {"overall": "good"}}, "ratings", "bad_rating"),
    ("rating", {"prompt": "Q", "response": "a", "ratings": {"overall": True}}, "ratings", "bad_rating"),
    ("rating", {"prompt": "Q", "response": "a", "ratings": [4]}, "ratings", "wrong_type"),
    ("rating", {"prompt": "Q", "response": "a", "ratings": {"overall": None}}, "ratings", "no_ratings"),
    ("rating", {"prompt": "Q", "response": "", "ratings": {"overall": 1}}, "response", "empty_response"),
    ("label", {"prompt": "Q", "response": "a", "good": 2}, "good", "bad_label"),
    ("label", {"prompt": "Q", "response": "a", "good": "yes"}, "good", "bad_label"),
    ("label", {"prompt": "Q", "response": "a", "good": None}, "good", "missing_field"),
    ("label", {"prompt": "Q", "response": {"text": "a"}, "good": True}, "response", "wrong_type"),
]


@pytest.mark.parametrize(("kind", "bad", "field", "reason"), BAD_ROWS)
def test_bad_row_raises_with_line_and_field_or_is_counted_when_skipped(
    tmp_path: Path, kind: str, bad: dict[str, Any], field: str, reason: str
) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [GOOD_ROWS[kind], bad, GOOD_ROWS[kind]])
    load = LOADERS[kind]
    with pytest.raises(InvalidRecordError) as info:
        load(path)
    assert (info.value.source, info.value.line, info.value.field, info.value.reason) == (str(path), 2, field, reason)
    assert f"line 2, field '{field}'" in str(info.value)
    report = load(path, on_invalid="skip").report
    assert (report.rows_read, report.kept, report.skipped) == (3, 2, {reason: 1})
    assert any(note.startswith(f"first skipped row ({reason})") for note in report.notes)


def test_tied_ranks_message_says_give_a_strict_order(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"prompt": "Q", "responses": ["a", "b"], "ranks": [1, 1]}])
    with pytest.raises(DataError, match="ties within a ranking are not supported; give a strict order"):
        load_rankings(path)


def test_non_finite_rating_and_rating_plus_score_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"prompt": "Q", "response": "a", "ratings": {"overall": Infinity}}\n')
    with pytest.raises(DataError, match="finite"):
        load_ratings(path)
    write_jsonl(path, [{"prompt": "Q", "response": "a", "rating": 1, "score": 2}])
    with pytest.raises(InvalidRecordError) as info:
        load_ratings(path)
    assert (info.value.field, info.value.reason) == ("score", "bad_rating")


def test_wrong_record_kind_names_the_right_loader(tmp_path: Path) -> None:
    pairs = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "Q", "chosen": "a", "rejected": "b"}])
    with pytest.raises(DataError, match="load_comparisons"):
        load_rankings(pairs)
    labels = write_jsonl(tmp_path / "l.jsonl", [LABEL])
    with pytest.raises(DataError, match=r"line 1.*load_labels"):
        load_ratings(labels)


def test_unknown_format_and_options_are_config_errors(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [RANKING])
    with pytest.raises(ConfigError, match="choose one of auto, rewardlab"):
        load_rankings(path, format="hh")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        load_labels(path, on_invalid="drop")  # type: ignore[arg-type]


def test_limit_counts_rows_read(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "l.jsonl", [LABEL] * 5)
    assert load_labels(path, limit=2).report.rows_read == 2


def test_forced_format_reads_rows_that_detection_would_not(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"prompt": "Q", "response": "a", "helpfulness": 2, "rating": 5}])
    assert load_ratings(path).records[0].ratings == {"helpfulness": 2.0}  # HelpSteer columns win
    assert load_ratings(path, format="scalar").records[0].ratings == {"overall": 5.0}


# --- records_to_eval_pairs ----------------------------------------------------------


def test_ranking_gives_every_pair_better_ranked_chosen_with_gold() -> None:
    ranking = Ranking(
        prompt="Q", responses=("a", "b", "c"), subset="s", annotator="x", gold=(3.0, 2.0, 1.0), prompt_id="p"
    )
    pairs, counts = records_to_eval_pairs([ranking])
    assert [(p.chosen, p.rejected, p.gold_chosen, p.gold_rejected) for p in pairs] == [
        ("a", "b", 3.0, 2.0),
        ("a", "c", 3.0, 1.0),
        ("b", "c", 2.0, 1.0),
    ]
    assert all((p.subset, p.annotator, p.prompt_id, p.meta["from"]) == ("s", "x", "p", "ranking") for p in pairs)
    assert (counts["pairs"], counts["from_rankings"]) == (3, 3)


def test_ratings_pair_within_a_prompt_and_equal_ratings_are_skipped() -> None:
    ratings = [
        Rating(prompt="Q", response="a", ratings={"overall": 2.0}, gold=0.2),
        Rating(prompt="Q", response="b", ratings={"overall": 4.0}, gold=0.4),
        Rating(prompt="Q", response="c", ratings={"overall": 4.0}),
        Rating(prompt="other", response="d", ratings={"overall": 5.0}),
    ]
    pairs, counts = records_to_eval_pairs(ratings)
    assert [(p.chosen, p.rejected) for p in pairs] == [("b", "a"), ("c", "a")]
    assert (pairs[0].gold_chosen, pairs[0].gold_rejected) == (0.4, 0.2)
    assert pairs[0].meta == {"from": "rating", "chosen_rating": 4.0, "rejected_rating": 2.0}
    assert (counts["from_ratings"], counts["equal_ratings_skipped"]) == (2, 1)


def test_weighted_attributes_and_missing_attributes() -> None:
    ratings = [
        Rating(prompt="Q", response="a", ratings={"helpfulness": 4.0, "verbosity": 4.0}),
        Rating(prompt="Q", response="b", ratings={"helpfulness": 3.0, "verbosity": 1.0}),
        Rating(prompt="Q", response="c", ratings={"helpfulness": 5.0}),
    ]
    pairs, counts = records_to_eval_pairs(ratings, attribute={"helpfulness": 1.0, "verbosity": -0.5})
    assert [(p.chosen, p.rejected) for p in pairs] == [("b", "a")]  # 2.5 beats 2.0
    assert counts["missing_attribute_skipped"] == 1
    pairs, counts = records_to_eval_pairs(ratings, attribute="helpfulness")
    assert counts["from_ratings"] == 3
    with pytest.raises(ConfigError, match="overal"):
        records_to_eval_pairs(ratings, attribute="overal")
    with pytest.raises(ConfigError):
        records_to_eval_pairs(ratings, attribute={})


def test_labels_give_good_versus_bad_pairs_within_a_prompt() -> None:
    labels = [
        Label(prompt="Q", response="g1", good=True, annotator="x"),
        Label(prompt="Q", response="b1", good=False, annotator="y"),
        Label(prompt="Q", response="g2", good=True, annotator="x"),
        Label(prompt="R", response="g3", good=True),  # no bad response for R: no pair
        Label(prompt="Q", response="g1 ", good=False),  # same response judged twice: no pair with itself
    ]
    pairs, counts = records_to_eval_pairs(labels)
    assert [(p.chosen, p.rejected, p.annotator) for p in pairs] == [
        ("g1", "b1", None),
        ("g2", "b1", None),
        ("g2", "g1 ", None),
    ]
    assert (counts["from_labels"], counts["identical_responses_skipped"]) == (3, 1)


def test_mixed_records_group_by_prompt_in_first_seen_order_and_comparisons_pass_through() -> None:
    comparison = Comparison(prompt="B", chosen="x", rejected="y")
    records = [
        Label(prompt="A", response="good", good=True),
        comparison,
        Ranking(prompt="B", responses=("r1", "r2")),
        Label(prompt="A", response="bad", good=False),
    ]
    pairs, counts = records_to_eval_pairs(records)
    assert [(p.prompt, p.chosen, p.rejected) for p in pairs] == [
        ("A", "good", "bad"),
        ("B", "x", "y"),
        ("B", "r1", "r2"),
    ]
    assert pairs[1] is comparison
    assert counts == {
        "pairs": 3,
        "from_comparisons": 1,
        "from_rankings": 1,
        "from_ratings": 0,
        "from_labels": 1,
        "equal_ratings_skipped": 0,
        "missing_attribute_skipped": 0,
        "identical_responses_skipped": 0,
    }
    assert records_to_eval_pairs(records) == (pairs, counts)  # deterministic


def test_prompt_id_groups_records_whatever_the_prompt_text() -> None:
    labels = [
        Label(prompt="Q v1", response="a", good=True, prompt_id="p"),
        Label(prompt="Q v2", response="b", good=False, prompt_id="p"),
    ]
    pairs, _ = records_to_eval_pairs(labels)
    assert [(p.chosen, p.rejected, p.prompt_id) for p in pairs] == [("a", "b", "p")]


# --- split_by_prompt on every record type ---------------------------------------------


def test_split_by_prompt_keeps_each_prompts_records_of_any_type_together() -> None:
    world = generate_world(SynthConfig(n_prompts=40, seed=2))
    for records in (world.rankings(), world.ratings(), world.labels()):
        train, test = split_by_prompt(records, 0.25, seed=0)
        assert {r.group for r in train}.isdisjoint({r.group for r in test})
        assert len(train) + len(test) == len(records) and test


def test_parquet_native_ratings_struct_nulls_are_absent_attributes(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {"prompt": "Q", "response": "a", "ratings": {"overall": 4.0, "coherence": 5.0}},
        {"prompt": "Q", "response": "b", "ratings": {"overall": 2.0}},
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "r.parquet")
    loaded = load_ratings(tmp_path / "r.parquet")
    assert [r.ratings for r in loaded.records] == [{"overall": 4.0, "coherence": 5.0}, {"overall": 2.0}]
    assert any("left out" in note for note in loaded.report.notes)
