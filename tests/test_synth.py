"""Tests of the synthetic preference world: determinism, sizes, visible attributes, gold and annotators."""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

import rewardlab.synth as synth
from rewardlab.data.records import Comparison
from rewardlab.errors import ConfigError, DataError
from rewardlab.synth import (
    FAMILIES,
    Annotator,
    Attributes,
    Candidate,
    SynthConfig,
    World,
    generate_world,
    gold_utility,
    noise_ceiling,
    write_world,
)
from rewardlab.synth.annotators import judge_pair
from rewardlab.synth.families import GENERATORS
from rewardlab.synth.responses import FILLER, HEDGE_OPENERS


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(SynthConfig(n_prompts=600, seed=3))


def _candidates(world: World) -> list[tuple[str, Candidate]]:
    return [(p.family, c) for p in world.prompts for c in p.candidates]


# --- API, config ----------------------------------------------------------------------------------


def test_public_api_is_exactly_the_curated_names() -> None:
    assert set(synth.__all__) == {
        "FAMILIES", "GOLD_WEIGHTS", "Annotator", "Attributes", "Candidate", "SynthConfig", "SynthPrompt",
        "World", "generate_world", "gold_utility", "noise_ceiling", "write_world",
    }  # fmt: skip
    for name in synth.__all__:
        assert hasattr(synth, name)


def test_every_configured_family_has_a_generator() -> None:
    assert set(GENERATORS) == set(FAMILIES)
    assert len(FAMILIES) >= 5


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"n_prompts": 0}, "n_prompts"),
        ({"n_prompts": 2.5}, "n_prompts"),
        ({"candidates_per_prompt": 1}, "candidates_per_prompt"),
        ({"candidates_per_prompt": 9}, "candidates_per_prompt"),
        ({"pairs_per_prompt": 7}, "pairs_per_prompt"),
        ({"pairs_per_prompt": 0}, "pairs_per_prompt"),
        ({"n_annotators": 0}, "n_annotators"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"families": ()}, "families"),
        ({"families": ("arithmetic", "poetry")}, "families"),
        ({"families": ("kb_fact", "kb_fact")}, "families"),
        ({"families": "kb_fact"}, "families"),
    ],
)
def test_bad_config_values_raise_config_error_naming_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        SynthConfig(**overrides)


def test_unknown_family_error_lists_the_valid_choices() -> None:
    with pytest.raises(ConfigError, match="should_decline"):
        SynthConfig(families=("poetry",))


def test_families_given_as_a_list_are_stored_as_a_tuple() -> None:
    cfg = SynthConfig(families=["kb_fact", "arithmetic"])  # type: ignore[arg-type]
    assert cfg.families == ("kb_fact", "arithmetic")
    hash(cfg)


# --- determinism and sizes ------------------------------------------------------------------------


def _read_all(paths: dict[str, Path]) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in paths.items()}


def test_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    cfg = SynthConfig(n_prompts=60, seed=5)
    first = _read_all(write_world(generate_world(cfg), tmp_path / "a"))
    second = _read_all(write_world(generate_world(cfg), tmp_path / "b"))
    assert set(first) == {"pairs", "rankings", "ratings", "labels", "responses", "annotators", "world"}
    assert first == second


def test_different_seed_gives_different_prompts_and_labels(tmp_path: Path) -> None:
    a = _read_all(write_world(generate_world(SynthConfig(n_prompts=60, seed=0)), tmp_path / "a"))
    b = _read_all(write_world(generate_world(SynthConfig(n_prompts=60, seed=1)), tmp_path / "b"))
    for name in ("pairs", "rankings", "ratings", "labels", "responses"):
        assert a[name] != b[name], name


def test_a_smaller_world_is_a_prefix_of_a_larger_one() -> None:
    small = generate_world(SynthConfig(n_prompts=20, seed=2))
    large = generate_world(SynthConfig(n_prompts=80, seed=2))
    assert small.prompts == large.prompts[:20]
    assert small.comparisons() == large.comparisons()[: len(small.comparisons())]


def test_sizes_follow_the_config() -> None:
    cfg = SynthConfig(n_prompts=30, candidates_per_prompt=5, pairs_per_prompt=4, n_annotators=11, seed=1)
    w = generate_world(cfg)
    assert len(w.prompts) == 30
    assert all(len(p.candidates) == 5 for p in w.prompts)
    assert len(w.comparisons()) == 30 * 4
    assert len(w.rankings()) == 30
    assert all(len(r.responses) == 5 for r in w.rankings())
    assert len(w.ratings()) == len(w.labels()) == 30 * 5
    assert len(w.annotators) == 11
    assert len({a.id for a in w.annotators}) == 11


def test_written_files_hold_the_documented_fields(tmp_path: Path) -> None:
    w = generate_world(SynthConfig(n_prompts=24, seed=4))
    paths = write_world(w, tmp_path)
    pair = json.loads(paths["pairs"].read_text().splitlines()[0])
    assert {"prompt", "chosen", "rejected", "annotator", "subset", "prompt_id", "gold_chosen", "meta"} <= set(pair)
    assert 0.0 <= pair["meta"]["p_label"] <= 1.0
    response = json.loads(paths["responses"].read_text().splitlines()[0])
    assert set(response) == {"id", "prompt_id", "family", "prompt", "response", "gold", "attributes"}
    assert len(paths["responses"].read_text().splitlines()) == 24 * 4
    ranking = json.loads(paths["rankings"].read_text().splitlines()[0])
    assert len(ranking["responses"]) == len(ranking["gold"]) == 4
    annotators = json.loads(paths["annotators"].read_text())
    assert {"id", "style", "temperature", "tie_threshold", "length_bias", "markdown_bias"} <= set(annotators[0])
    summary = json.loads(paths["world"].read_text())
    assert summary["config"]["n_prompts"] == 24
    assert summary["counts"]["pairs"] == 24 * 3
    assert 0.5 < summary["noise_ceiling"]["label_gold_agreement"] < 1.0


def test_generating_the_default_world_is_fast() -> None:
    start = time.perf_counter()
    w = generate_world(SynthConfig())
    w.comparisons()
    assert time.perf_counter() - start < 10.0


# --- prompts and attributes are visible in the text -----------------------------------------------


def test_every_family_is_present_in_equal_shares(world: World) -> None:
    counts = Counter(p.family for p in world.prompts)
    assert set(counts) == set(FAMILIES)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_candidates_of_a_prompt_differ_and_each_prompt_has_a_correctness_contrast(world: World) -> None:
    for p in world.prompts:
        assert len({c.text for c in p.candidates}) == len(p.candidates)
        assert {c.attributes.correct for c in p.candidates} == {True, False}


def test_markdown_responses_contain_markdown_and_plain_ones_do_not(world: World) -> None:
    markup = re.compile(r"(^#{1,6} |\*\*|^- )", re.MULTILINE)
    for _, c in _candidates(world):
        assert bool(markup.search(c.text)) == c.attributes.markdown, c.text


def test_filler_sentences_appear_and_make_responses_longer(world: World) -> None:
    words_by_filler: dict[int, list[int]] = {}
    for _, c in _candidates(world):
        assert sum(sentence in c.text for sentence in FILLER) == c.attributes.filler
        words_by_filler.setdefault(c.attributes.filler, []).append(c.n_words)
    means = [sum(v) / len(v) for _, v in sorted(words_by_filler.items())]
    assert len(means) == 4
    assert all(later > earlier + 5 for earlier, later in itertools.pairwise(means))


def test_hedged_responses_hedge(world: World) -> None:
    for _, c in _candidates(world):
        assert any(h in c.text for h in HEDGE_OPENERS) == c.attributes.hedging


def test_sycophancy_only_in_false_premise_and_it_agrees_with_the_user(world: World) -> None:
    agree = re.compile(r"\b(Yes,|That's right:|You're right,|Exactly,)")
    seen = 0
    for family, c in _candidates(world):
        if c.attributes.sycophancy:
            seen += 1
            assert family == "false_premise"
            assert agree.search(c.text)
            assert not c.attributes.correct
    assert seen > 0


def test_should_decline_correct_answers_decline_and_wrong_ones_comply(world: World) -> None:
    for family, c in _candidates(world):
        if family == "should_decline":
            assert c.attributes.refusal == c.attributes.correct
            assert ("Sure" in c.text) != c.attributes.correct, c.text


def test_arithmetic_correct_flag_matches_the_stated_result(world: World) -> None:
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "×": lambda a, b: a * b}
    checked = 0
    for p in world.prompts:
        if p.family != "arithmetic":
            continue
        for c in p.candidates:
            match = re.search(r"(\d+) ([+\-×]) (\d+) (?:=|is) (\d+)", c.text)
            if c.attributes.refusal:
                assert match is None
                continue
            assert match is not None, c.text
            a, op, b, stated = match.groups()
            assert (ops[op](int(a), int(b)) == int(stated)) == c.attributes.correct
            checked += 1
    assert checked > 100


def test_unit_conversion_correct_answers_use_the_stated_factor(world: World) -> None:
    for p in world.prompts:
        if p.family != "unit_conversion":
            continue
        factor = re.search(r"(?:1|One) \w+ (?:equals|is|=) (\d+)", p.prompt)
        assert factor is not None, p.prompt
        for c in p.candidates:
            if c.attributes.correct:
                q, f, v = re.search(r"(\d+) × (\d+) (?:\w+ )?= (\d+)", c.text).groups()  # type: ignore[union-attr]
                assert f == factor.group(1) and int(q) * int(f) == int(v)


def test_kb_fact_answers_name_an_entity_from_the_context(world: World) -> None:
    for p in world.prompts:
        if p.family != "kb_fact":
            continue
        context = p.prompt.split("\n\n")[0]
        for c in p.candidates:
            if not c.attributes.refusal:
                years = re.findall(r"\b1\d{3}\b", c.text)
                assert all(y in context for y in years)


def test_responses_fit_a_small_encoder(world: World) -> None:
    # MiniLM has 256 positions; ~1.6 word pieces per word here keeps prompt + response inside.
    for p in world.prompts:
        assert len(p.prompt.split()) <= 70
        assert all(c.n_words <= 100 for c in p.candidates)


# --- gold utility ---------------------------------------------------------------------------------

_BASE = Attributes(correct=True, complete=True, filler=0, markdown=False, hedging=False)


@pytest.mark.parametrize("family", FAMILIES)
def test_correct_beats_incorrect_in_gold_all_else_equal(family: str) -> None:
    for filler in range(4):
        for complete in (False, True):
            right = replace(_BASE, filler=filler, complete=complete)
            wrong = replace(right, correct=False)
            assert gold_utility(right, family) > gold_utility(wrong, family)


def test_gold_rewards_completeness_and_penalises_filler_hedging_and_sycophancy() -> None:
    base = gold_utility(_BASE, "kb_fact")
    assert gold_utility(replace(_BASE, complete=False), "kb_fact") < base
    assert gold_utility(replace(_BASE, filler=1), "kb_fact") < base
    assert gold_utility(replace(_BASE, filler=3), "kb_fact") < gold_utility(replace(_BASE, filler=1), "kb_fact")
    assert gold_utility(replace(_BASE, hedging=True), "kb_fact") < base
    assert gold_utility(replace(_BASE, markdown=True), "kb_fact") == base
    wrong = replace(_BASE, correct=False)
    assert gold_utility(replace(wrong, sycophancy=True), "false_premise") < gold_utility(wrong, "false_premise")


def test_refusal_is_right_only_where_the_request_is_harmful() -> None:
    refusal = Attributes(correct=False, complete=False, filler=0, markdown=False, hedging=False, refusal=True)
    bare_wrong = replace(refusal, refusal=False)
    assert gold_utility(refusal, "kb_fact") < gold_utility(bare_wrong, "kb_fact")
    decline = replace(refusal, correct=True)
    comply = Attributes(correct=False, complete=False, filler=0, markdown=False, hedging=False)
    assert gold_utility(decline, "should_decline") > gold_utility(comply, "should_decline")


def test_candidate_gold_is_the_documented_utility_of_its_attributes(world: World) -> None:
    for family, c in _candidates(world):
        assert c.gold == gold_utility(c.attributes, family)


# --- annotators -----------------------------------------------------------------------------------


def test_labels_agree_with_gold_well_above_chance_but_not_always(world: World) -> None:
    ceiling = noise_ceiling(world.comparisons())
    assert 0.7 < ceiling["label_gold_agreement"] < 0.95
    assert 0.7 < ceiling["bayes_accuracy"] < 0.97
    assert 0.01 < ceiling["tie_rate"] < 0.2


def _pair(filler: int, markdown: bool = False) -> Candidate:
    attrs = replace(_BASE, filler=filler, markdown=markdown)
    text = " ".join(["The answer is 42.", *FILLER[:filler]])
    return Candidate("c", text, attrs, gold_utility(attrs, "arithmetic"))


def _win_rate(ann: Annotator, first: Candidate, second: Candidate, n: int = 4000) -> float:
    rng = random.Random(0)
    wins = [judge_pair(ann, first, second, rng) for _ in range(n)]
    decided = [j for j in wins if not j.tie]
    return sum(j.first_wins for j in decided) / len(decided)


def test_a_length_loving_annotator_prefers_padding_more_than_an_unbiased_one() -> None:
    padded, plain = _pair(filler=2), _pair(filler=0)
    unbiased = Annotator("u", "steady", temperature=0.7, tie_threshold=0.2)
    lover = replace(unbiased, id="l", length_bias=0.5)
    assert _win_rate(unbiased, padded, plain) < 0.5 < _win_rate(lover, padded, plain)


def test_length_lovers_in_the_world_pick_the_longer_response_more_often(world: World) -> None:
    styles = {a.id: a.style for a in world.annotators}
    longer: dict[bool, list[bool]] = {True: [], False: []}
    for c in world.comparisons():
        if not c.tie and len(c.chosen.split()) != len(c.rejected.split()):
            is_lover = styles[c.annotator or ""] == "length_lover"
            longer[is_lover].append(len(c.chosen.split()) > len(c.rejected.split()))
    rate = {k: sum(v) / len(v) for k, v in longer.items()}
    assert rate[True] > rate[False] + 0.05


def test_a_markdown_loving_annotator_prefers_markdown() -> None:
    md, plain = _pair(filler=0, markdown=True), _pair(filler=0)
    unbiased = Annotator("u", "steady", temperature=0.7, tie_threshold=0.2)
    lover = replace(unbiased, markdown_bias=1.0)
    assert abs(_win_rate(unbiased, md, plain) - 0.5) < 0.05
    assert _win_rate(lover, md, plain) > 0.75


def test_p_label_matches_the_empirical_label_frequency() -> None:
    better, worse = _pair(filler=0), _pair(filler=2)
    ann = Annotator("a", "steady", temperature=0.8, tie_threshold=0.3)
    rng = random.Random(1)
    judged = [judge_pair(ann, better, worse, rng) for _ in range(20000)]
    decided = [j for j in judged if not j.tie]
    p_better = next(j.p_label if j.first_wins else 1 - j.p_label for j in decided)
    assert abs(sum(j.first_wins for j in decided) / len(decided) - p_better) < 0.015
    assert abs(1 - len(decided) / len(judged) - judged[0].p_tie) < 0.015


def test_ties_have_no_strength_and_strength_grows_with_the_gold_gap(world: World) -> None:
    comparisons = world.comparisons()
    assert any(c.tie for c in comparisons)
    assert all(c.strength is None for c in comparisons if c.tie)
    gaps: dict[int, list[float]] = {}
    for c in comparisons:
        if not c.tie:
            gaps.setdefault(c.strength or 0, []).append(abs((c.gold_chosen or 0) - (c.gold_rejected or 0)))
    assert sorted(gaps) == [1, 2, 3]
    mean = {s: sum(v) / len(v) for s, v in gaps.items()}
    assert mean[1] < mean[2] < mean[3]


def test_comparisons_carry_gold_family_and_annotator(world: World) -> None:
    ids = {a.id for a in world.annotators}
    for c in world.comparisons():
        assert c.annotator in ids
        assert c.subset in FAMILIES
        assert c.gold_chosen is not None and c.gold_rejected is not None
        assert c.meta["chosen_id"].startswith(c.prompt_id)


def test_noise_ceiling_refuses_comparisons_without_gold() -> None:
    with pytest.raises(DataError, match="gold"):
        noise_ceiling([Comparison(prompt="q", chosen="a", rejected="b")])


# --- rankings, ratings, labels --------------------------------------------------------------------


def test_rankings_keep_gold_in_the_same_order_and_favour_the_best(world: World) -> None:
    texts = {p.id: {c.text: c.gold for c in p.candidates} for p in world.prompts}
    top_is_best = 0
    rankings = world.rankings()
    for r in rankings:
        assert r.gold is not None and r.prompt_id is not None
        assert [texts[r.prompt_id][t] for t in r.responses] == list(r.gold)
        top_is_best += r.gold[0] == max(r.gold)
    assert top_is_best / len(rankings) > 0.5


def test_ratings_are_likert_with_overall_always_and_other_aspects_sometimes_missing(world: World) -> None:
    ratings = world.ratings()
    keys = Counter(k for r in ratings for k in r.ratings)
    assert keys["overall"] == len(ratings)
    for aspect in ("helpfulness", "correctness", "coherence", "verbosity"):
        assert 0.6 * len(ratings) < keys[aspect] < 0.9 * len(ratings)
    assert all(v in (1.0, 2.0, 3.0, 4.0, 5.0) for r in ratings for v in r.ratings.values())
    high = [r.ratings["overall"] for r in ratings if (r.gold or 0) >= 2.0]
    low = [r.ratings["overall"] for r in ratings if (r.gold or 0) <= 0.0]
    assert sum(high) / len(high) > sum(low) / len(low) + 1.5


def test_binary_labels_track_gold(world: World) -> None:
    labels = world.labels()
    good_when_good = [lab.good for lab in labels if (lab.gold or 0) >= 2.0]
    good_when_bad = [lab.good for lab in labels if (lab.gold or 0) <= 0.0]
    assert sum(good_when_good) / len(good_when_good) > 0.75
    assert sum(good_when_bad) / len(good_when_bad) < 0.25
