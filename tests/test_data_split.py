"""Splits that keep prompts together, and the length policy."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rewardlab.data import Comparison, Message, apply_length_policy, split_by_prompt
from rewardlab.errors import ConfigError, DataError


def records(prompts: int, per_prompt: int = 3) -> list[Comparison]:
    return [
        Comparison(
            prompt=f"prompt {p}", chosen=f"good {p}.{i}", rejected=f"bad {p}.{i}", meta={"line": p * 10 + i}
        )
        for p in range(prompts)
        for i in range(per_prompt)
    ]


# --- split_by_prompt ---------------------------------------------------------------


def test_split_never_puts_a_prompt_on_both_sides() -> None:
    data = records(40, per_prompt=3) + records(5, per_prompt=7)
    train, test = split_by_prompt(data, test_fraction=0.2, seed=0)
    assert {r.group for r in train}.isdisjoint({r.group for r in test})
    assert sorted(map(id, train + test)) == sorted(map(id, data))


def test_split_is_deterministic_and_independent_of_order() -> None:
    data = records(50)
    shuffled = list(data)
    random.Random(1).shuffle(shuffled)
    train_a, test_a = split_by_prompt(data, 0.25, seed=3)
    train_b, test_b = split_by_prompt(shuffled, 0.25, seed=3)
    assert {r.chosen for r in test_a} == {r.chosen for r in test_b}
    assert len(train_a) == len(train_b)
    assert [r.chosen for r in test_a] == [r.chosen for r in data if r in test_a]  # input order kept


def test_different_seeds_give_different_splits() -> None:
    data = records(50)
    tests = {frozenset(r.chosen for r in split_by_prompt(data, 0.2, seed=s)[1]) for s in range(5)}
    assert len(tests) > 1


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5, 0.8])
def test_split_roughly_respects_the_test_fraction(fraction: float) -> None:
    data = records(100, per_prompt=2)
    _, test = split_by_prompt(data, fraction, seed=7)
    assert abs(len(test) / len(data) - fraction) <= 0.02


def test_two_prompts_give_two_non_empty_sides_whatever_the_fraction() -> None:
    data = records(2, per_prompt=4)
    for fraction in (0.01, 0.99):
        train, test = split_by_prompt(data, fraction, seed=0)
        assert train and test


def test_prompt_id_groups_different_prompt_texts() -> None:
    data = [
        Comparison(prompt=f"wording {i}", chosen="a", rejected="b", prompt_id="same" if i < 3 else f"p{i}")
        for i in range(10)
    ]
    for seed in range(5):
        train, test = split_by_prompt(data, 0.3, seed=seed)
        in_test = [r.prompt_id == "same" for r in test]
        in_train = [r.prompt_id == "same" for r in train]
        assert (sum(in_test), sum(in_train)) in ((3, 0), (0, 3))


def test_chat_prompts_group_by_content() -> None:
    chat = (Message("user", "Hi"),)
    data = [Comparison(prompt=chat, chosen=f"a{i}", rejected="b") for i in range(3)]
    data += [Comparison(prompt="other", chosen="x", rejected="y")]
    train, test = split_by_prompt(data, 0.5, seed=0)
    assert len({r.group for r in train} | {r.group for r in test}) == 2


def test_a_single_prompt_cannot_be_split() -> None:
    with pytest.raises(DataError, match="at least 2"):
        split_by_prompt(records(1, per_prompt=5), 0.2, seed=0)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 2.0])
def test_test_fraction_must_be_strictly_between_0_and_1(fraction: float) -> None:
    with pytest.raises(ConfigError):
        split_by_prompt(records(4), fraction, seed=0)


# --- apply_length_policy ---------------------------------------------------------


def with_lengths(lengths: list[int]) -> list[Comparison]:
    return [
        Comparison(prompt="p", chosen="x" * n, rejected="y", meta={"source": "f.jsonl", "line": i + 1})
        for i, n in enumerate(lengths)
    ]


def measure(c: Comparison) -> int:
    return len(c.chosen)


def test_length_error_names_first_over_long_record_and_count() -> None:
    data = with_lengths([3, 12, 5, 20])
    with pytest.raises(DataError) as info:
        apply_length_policy(data, measure, max_length=10, policy="error")
    assert (info.value.source, info.value.line) == ("f.jsonl", 2)
    assert "2 of 4 records are longer than max_length=10" in str(info.value)


def test_length_error_passes_when_nothing_is_over() -> None:
    kept, report = apply_length_policy(with_lengths([3, 10]), measure, 10, "error")
    assert len(kept) == 2 and report.over_length == 0 and report.max_seen == 10


def test_length_drop_removes_and_counts() -> None:
    kept, report = apply_length_policy(with_lengths([3, 12, 5, 20]), measure, 10, "drop")
    assert [len(r.chosen) for r in kept] == [3, 5]
    assert (report.total, report.over_length, report.dropped, report.truncated, report.max_seen) == (
        4,
        2,
        2,
        0,
        20,
    )
    assert "2 dropped" in report.summary()


def test_length_truncate_keeps_records_and_counts() -> None:
    data = with_lengths([3, 12, 5, 20])
    kept, report = apply_length_policy(data, measure, 10, "truncate")
    assert kept == data
    assert (report.over_length, report.dropped, report.truncated) == (2, 0, 2)
    assert "truncated from the left" in report.summary()


def test_length_policy_rejects_bad_options() -> None:
    with pytest.raises(ConfigError):
        apply_length_policy(with_lengths([1]), measure, 10, "clip")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        apply_length_policy(with_lengths([1]), measure, 0, "drop")


def test_length_policy_on_loaded_records_names_the_file(tmp_path: Path) -> None:
    from rewardlab.data import load_comparisons

    path = tmp_path / "p.jsonl"
    rows = [{"prompt": "p", "chosen": text, "rejected": "r"} for text in ("short", "longer")]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(DataError, match=r"p\.jsonl, line 2"):
        apply_length_policy(load_comparisons(path).records, measure, 5, "error")
