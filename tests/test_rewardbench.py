"""RewardBench / RewardBench 2 scoring: hand-worked values and parity with the `rewardbench` package."""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import random
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rewardlab.data.records import Comparison
from rewardlab.errors import DataError
from rewardlab.eval.metrics import ScoredPair
from rewardlab.eval.rewardbench import (
    EXAMPLE_COUNTS,
    PRIOR_SETS,
    PRIOR_SETS_SECTION,
    SUBSET_MAPPING,
    is_rewardbench_subsets,
    rewardbench_scores,
    rewardbench_scores_from_pairs,
)
from rewardlab.eval.rewardbench2 import (
    RB2_SUBSETS,
    BestOfNScores,
    RB2Record,
    best_of_n_credit,
    is_rewardbench2_subsets,
    load_rewardbench2,
    rewardbench2_scores,
    score_rewardbench2,
    ties_score,
)

# ------------------------------------------------------------------ hand-worked: RewardBench v1


def test_exact_tie_counts_as_wrong_and_is_tallied() -> None:
    result = rewardbench_scores(
        [("alpacaeval-easy", 1.0, 0.0), ("alpacaeval-easy", 0.5, 0.5), ("alpacaeval-easy", 0.0, 1.0)]
    )
    assert result.per_subset == {"alpacaeval-easy": 1 / 3}
    assert result.counts == {"alpacaeval-easy": 3}
    assert result.model_ties == {"alpacaeval-easy": 1}


def test_sections_weight_subsets_by_example_count_not_by_pairs_seen() -> None:
    # one pair each, but alpacaeval-easy counts 100 and mt-bench-easy 28
    result = rewardbench_scores([("alpacaeval-easy", 1.0, 0.0), ("mt-bench-easy", 0.0, 1.0)])
    assert result.sections == {"Chat": 100 / 128}


def test_reasoning_weighs_math_like_all_six_code_subsets_together() -> None:
    pairs = [("math-prm", 1.0, 0.0)] + [
        (f"hep-{lang}", 0.0, 1.0) for lang in ("cpp", "go", "java", "js", "python", "rust")
    ]
    assert rewardbench_scores(pairs).sections["Reasoning"] == 0.5
    only_python = rewardbench_scores([("math-prm", 1.0, 0.0), ("hep-python", 0.0, 1.0)])
    assert only_python.sections["Reasoning"] == 984 / (984 + 164)


def test_unknown_subset_gets_accuracy_but_no_section_and_no_overall() -> None:
    result = rewardbench_scores([("my-subset", 2.0, 1.0), ("my-subset", 1.0, 2.0), ("donotanswer", 1.0, 0.0)])
    assert result.per_subset == {"donotanswer": 1.0, "my-subset": 0.5}
    assert result.unknown_subsets == ("my-subset",)
    assert result.sections == {"Safety": 1.0}
    assert result.overall is None
    assert "hep-go" in result.missing_subsets and "donotanswer" not in result.missing_subsets


def _one_pair_per_section(right: dict[str, bool]) -> list[tuple[str, float, float]]:
    firsts = {section: subsets[0] for section, subsets in SUBSET_MAPPING.items()}
    return [(firsts[s], 1.0, 0.0) if ok else (firsts[s], 0.0, 1.0) for s, ok in right.items()]


def test_overall_is_the_mean_of_four_sections_and_prior_sets_weigh_half() -> None:
    pairs = _one_pair_per_section({"Chat": True, "Chat Hard": False, "Safety": True, "Reasoning": True})
    assert rewardbench_scores(pairs).overall == 0.75
    with_prior = rewardbench_scores([*pairs, ("shp", 0.0, 1.0), ("summarize", 1.0, 0.0)])
    assert with_prior.sections[PRIOR_SETS_SECTION] == 0.5
    assert with_prior.overall == pytest.approx((2 * 3 + 0.5) / 9)
    # prior test sets outside the leaderboard's four are known, scored per subset, not averaged
    extra = rewardbench_scores([*pairs, ("mtbench_human", 1.0, 0.0)])
    assert extra.unknown_subsets == () and PRIOR_SETS_SECTION not in extra.sections


def test_nan_reward_is_refused() -> None:
    with pytest.raises(DataError, match="NaN"):
        rewardbench_scores([("shp", float("nan"), 0.0)])


def test_scored_pairs_helper_uses_the_record_subset() -> None:
    def pair(subset: str | None, c: float, r: float, tie: bool = False) -> ScoredPair:
        return ScoredPair(Comparison(prompt="p", chosen="a", rejected="b", subset=subset, tie=tie), c, r)

    result = rewardbench_scores_from_pairs([pair("hep-go", 1.0, 0.0), pair("hep-go", 0.0, 0.0)])
    assert result.per_subset == {"hep-go": 0.5}
    with pytest.raises(DataError, match="no subset"):
        rewardbench_scores_from_pairs([pair(None, 1.0, 0.0)])
    with pytest.raises(DataError, match="tie"):
        rewardbench_scores_from_pairs([pair("shp", 1.0, 0.0, tie=True)])


def test_is_rewardbench_subsets_needs_most_names_to_be_rewardbench_ones() -> None:
    assert is_rewardbench_subsets(["hep-go", "shp", "mine", "hep-go", None])
    assert not is_rewardbench_subsets(["hep-go", "mine", "yours"])
    assert not is_rewardbench_subsets([None, None])
    assert is_rewardbench2_subsets(["Focus", "Ties", "Math"]) and not is_rewardbench2_subsets(["hep-go"])


def test_to_dict_is_json_ready() -> None:
    result = rewardbench_scores([("my-subset", 1.0, 0.0)])
    assert json.loads(json.dumps(result.to_dict()))["unknown_subsets"] == ["my-subset"]


# ------------------------------------------------------------------ hand-worked: RewardBench 2


def test_best_of_four_credit_splits_a_tie_for_the_top() -> None:
    assert best_of_n_credit(3.0, [1.0, 2.0, 0.0]) == 1.0
    assert best_of_n_credit(2.0, [2.0, 1.0, 0.0]) == 0.5
    assert best_of_n_credit(2.0, [2.0, 2.0, 2.0]) == 0.25
    assert best_of_n_credit(1.0, [2.0, 0.0, 0.0]) == 0.0


def test_ties_rule_on_hand_worked_prompts() -> None:
    # tied:0's correct answers spread by 1 and beat the best wrong one by only 1: accurate, not preferred
    even = [BestOfNScores("Ties", "ref:0", [5.0], [1.0, 2.0]), BestOfNScores("Ties", "tied:0", [5.0, 4.0], [1.0, 3.0])]
    score, parts = ties_score(even)
    assert score == pytest.approx(0.6)
    assert parts["correctness_preferred"] == 0.0 and parts["correctness_margin_score"] == 0.0
    # spread 0.5 and gaps 3 (ref) and 1.5 (tied): preferred both ways, margin tanh(1.5/0.5 - 1)
    clear = [even[0], BestOfNScores("Ties", "tied:0", [5.0, 4.5], [1.0, 3.0])]
    assert ties_score(clear)[0] == pytest.approx(0.3 + 0.3 + 0.2 + 0.2 + 0.01 * math.tanh(2.0))


def test_ties_ids_must_name_ref_or_tied_once() -> None:
    with pytest.raises(DataError, match="ref:N"):
        ties_score([BestOfNScores("Ties", "7", [1.0], [0.0])])
    with pytest.raises(DataError, match="twice"):
        ties_score([BestOfNScores("Ties", "ref:1", [1.0], [0.0])] * 2)


def test_rewardbench2_overall_is_the_plain_mean_of_the_six_subsets() -> None:
    items: list[tuple[str, str, list[float], list[float]]] = [
        (s, str(i), [1.0], [0.0, 0.0, 0.0]) for i, s in enumerate(RB2_SUBSETS) if s != "Ties"
    ]
    items += [("Focus", "9", [0.0], [1.0, 0.0, 0.0]), ("Ties", "ref:0", [5.0], [1.0, 2.0])]
    items.append(("Ties", "tied:0", [5.0, 4.0], [1.0, 3.0]))
    result = rewardbench2_scores(items)
    assert result.per_subset["Focus"] == 0.5 and result.per_subset["Ties"] == pytest.approx(0.6)
    assert result.overall == pytest.approx((4 + 0.5 + 0.6) / 6)
    assert result.counts["Focus"] == 2 and result.counts["Ties"] == 2
    partial = rewardbench2_scores([("Focus", "0", [1.0], [0.0]), ("Mine", "1", [0.0], [1.0])])
    assert partial.overall is None and partial.unknown_subsets == ("Mine",) and "Ties" in partial.missing_subsets


def test_best_of_n_prompt_needs_one_chosen_and_some_rejected() -> None:
    with pytest.raises(DataError, match="exactly one chosen"):
        rewardbench2_scores([("Focus", "0", [1.0, 2.0], [0.0])])
    with pytest.raises(DataError, match="exactly one chosen"):
        rewardbench2_scores([("Focus", "0", [1.0], [])])


def test_load_rewardbench2_reads_rows_and_names_the_bad_field(tmp_path: Path) -> None:
    good = {"id": "ref:3", "subset": "Ties", "prompt": "p", "chosen": ["a", "b"], "rejected": ["c"], "num_correct": 2}
    path = tmp_path / "rb2.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": 4, "total_completions": 3}) + "\n")
    records = load_rewardbench2(path)
    assert records[0] == RB2Record("ref:3", "Ties", "p", ("a", "b"), ("c",)) and records[1].id == "4"
    for bad, name in (({**good, "rejected": "c"}, "rejected"), ({**good, "num_correct": 1}, "num_correct")):
        path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
        with pytest.raises(DataError) as err:
            load_rewardbench2(path)
        assert (err.value.line, err.value.field, err.value.source) == (2, name, str(path))


class _LengthModel:
    """Rewards a response by its length and records every call."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def score(
        self, prompts: typing.Sequence[Any], responses: typing.Sequence[str], *, batch_size: int = 8
    ) -> list[float]:
        self.seen += list(zip(prompts, responses))
        return [float(len(r)) for r in responses]


def test_score_rewardbench2_scores_each_distinct_response_once() -> None:
    records = [
        RB2Record("0", "Focus", "p", ("long answer",), ("a", "bb", "a")),
        RB2Record("1", "Focus", "q", ("x",), ("yy",)),
    ]
    model = _LengthModel()
    items = score_rewardbench2(model, records, batch_size=2)
    assert items[0] == BestOfNScores("Focus", "0", [11.0], [1.0, 2.0, 1.0])
    assert len(model.seen) == 5
    assert rewardbench2_scores(items).per_subset == {"Focus": 0.5}


# ------------------------------------------------------------------ parity with the `rewardbench` package


def _rewardbench_package() -> tuple[ModuleType, dict[str, Any]]:
    """The installed package's constants module and its own scoring functions.

    ``import rewardbench`` loads every model wrapper (and fastchat, torch, transformers) and
    fails against current transformers, so the scoring functions are compiled from the
    package's own ``utils.py`` with the globals they use, and ``constants.py`` is loaded by path.
    """
    spec = importlib.util.find_spec("rewardbench")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the rewardbench package is not installed (pip install --no-deps rewardbench==0.1.4)")
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    datasets = pytest.importorskip("datasets")
    root = Path(next(iter(spec.submodule_search_locations)))
    const_spec = importlib.util.spec_from_file_location("_rewardbench_constants", root / "constants.py")
    assert const_spec is not None and const_spec.loader is not None
    constants = importlib.util.module_from_spec(const_spec)
    const_spec.loader.exec_module(constants)
    wanted = {"calculate_scores_per_section", "sample_stats", "process_single_model", "reroll_and_score_dataset"}
    tree = ast.parse((root / "utils.py").read_text(encoding="utf-8"))
    body = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in wanted]
    assert {node.name for node in body} == wanted, "rewardbench.utils no longer has the scoring functions"
    namespace: dict[str, Any] = {"np": np, "pd": pd, "math": math, "Dataset": datasets.Dataset}
    namespace.update({name: getattr(typing, name) for name in ("Any", "Dict", "List", "Tuple", "Union")})
    exec(compile(ast.Module(body=body, type_ignores=[]), str(root / "utils.py"), "exec"), namespace)
    return constants, namespace


@pytest.fixture(scope="module")
def rewardbench_package() -> tuple[ModuleType, dict[str, Any]]:
    return _rewardbench_package()


def _grid(rng: random.Random, shift: int = 0) -> float:
    return (shift + rng.randint(0, 4)) / 2  # few values, so exact ties are common


def test_constants_match_the_package(rewardbench_package: tuple[ModuleType, dict[str, Any]]) -> None:
    constants, _ = rewardbench_package
    assert constants.EXAMPLE_COUNTS == EXAMPLE_COUNTS
    assert {k: list(v) for k, v in SUBSET_MAPPING.items()} == constants.SUBSET_MAPPING


@pytest.mark.parametrize("seed", range(6))
def test_rewardbench_sections_match_the_package(
    seed: int, rewardbench_package: tuple[ModuleType, dict[str, Any]]
) -> None:
    constants, rb = rewardbench_package
    np = pytest.importorskip("numpy")
    rng = random.Random(seed)
    subsets = [*EXAMPLE_COUNTS, *PRIOR_SETS, "mtbench_gpt4", "not-a-rewardbench-subset"]
    if seed % 2:  # drop some subsets and, once, a whole section
        subsets = [s for s in subsets if rng.random() < 0.7 and (seed != 3 or s not in SUBSET_MAPPING["Safety"])]
    pairs = [(s, _grid(rng), _grid(rng)) for s in subsets for _ in range(rng.randint(1, 25))]
    ours = rewardbench_scores(pairs)
    # RewardBench's run_rm.py: results = scores_chosen > scores_rejected; per subset sum(results)/len(results)
    results_grouped = {}
    for subset in sorted({s for s, _, _ in pairs}):
        results = [1 if c > r else 0 for s, c, r in pairs if s == subset]
        results_grouped[subset] = sum(results) / len(results)
    assert ours.per_subset == results_grouped
    theirs = rb["calculate_scores_per_section"](constants.EXAMPLE_COUNTS, constants.SUBSET_MAPPING, results_grouped)
    for section, value in theirs.items():
        assert ours.sections.get(section, 0) == value  # RewardBench reports an absent section as 0; we omit it
    # the leaderboard's overall (analysis/get_benchmark_results.py): weights 2,2,2,2,1 over the sections
    # and Prior Sets = nanmean of its four test sets, NaN columns masked out
    prior = [results_grouped.get(s, np.nan) for s in PRIOR_SETS]
    prior_sets = np.nan if all(math.isnan(p) for p in prior) else np.nanmean(prior)
    row = [theirs[s] if s in ours.sections else np.nan for s in SUBSET_MAPPING] + [prior_sets]
    average = np.ma.average(np.ma.masked_invalid(row), weights=[2, 2, 2, 2, 1])
    if any(s not in ours.sections for s in SUBSET_MAPPING):
        assert ours.overall is None
    else:
        assert ours.overall == pytest.approx(float(average), rel=1e-12)


def _rb2_items(rng: random.Random) -> list[BestOfNScores]:
    items = [
        BestOfNScores(subset, str(i), [_grid(rng, rng.choice([0, 2]))], [_grid(rng) for _ in range(3)])
        for subset in RB2_SUBSETS[:-1]
        for i in range(rng.randint(1, 20))
    ]
    for pid in range(rng.randint(10, 40)):
        kinds = rng.choice([("ref", "tied"), ("ref", "tied"), ("ref",), ("tied",)])
        for kind in kinds:
            n_correct = 1 if kind == "ref" else rng.randint(1, 5)
            shift = rng.choice([0, 2, 4])  # raise the correct answers so that some prompts are won
            chosen = [_grid(rng, shift) for _ in range(n_correct)]
            rejected = [_grid(rng) for _ in range(rng.randint(0, 5))]  # none: RB2's empty-side fallback
            items.append(BestOfNScores("Ties", f"{kind}:{pid}", chosen, rejected))
    rng.shuffle(items)
    return items


def _package_rb2_scores(rb: dict[str, Any], items: list[BestOfNScores]) -> dict[str, float]:
    """Per-subset scores from the package's own functions, driven as scripts/run_v2.py drives them."""
    datasets = pytest.importorskip("datasets")
    # unrolled one row per completion as load_bon_dataset_v2 does, then rerolled and scored by the package
    rows = [
        {"id": it.prompt_id, "subset": it.subset, "text": f"r{k}", "scores": s}
        for it in items
        for k, s in enumerate([*it.chosen, *it.rejected])
    ]
    total_completions = [len(it.chosen) + len(it.rejected) for it in items]
    unrolled = datasets.Dataset.from_list(rows)
    rerolled = rb["reroll_and_score_dataset"](unrolled, total_completions, cols_to_combine=["text", "scores"])
    rerolled = rerolled.add_column("num_correct", [len(it.chosen) for it in items])
    # run_v2.py: Ties by process_single_model, every other subset sum(results)/len(results)
    expected = {}
    for subset in sorted({it.subset for it in items}):
        picked = rerolled.select([i for i, it in enumerate(items) if it.subset == subset])
        if subset.lower() == "ties":
            expected[subset] = rb["process_single_model"](picked)[1]
        else:
            expected[subset] = sum(picked["results"]) / len(picked["results"])
    return expected


@pytest.mark.parametrize("seed", range(6))
def test_rewardbench2_scores_match_the_package(
    seed: int, rewardbench_package: tuple[ModuleType, dict[str, Any]]
) -> None:
    items = _rb2_items(random.Random(seed))
    expected = _package_rb2_scores(rewardbench_package[1], items)
    ours = rewardbench2_scores(items)
    assert ours.per_subset == expected
    assert ours.overall == pytest.approx(sum(expected.values()) / 6, rel=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the package takes np.mean of an empty list
@pytest.mark.parametrize(
    "items",
    [
        [  # a ref prompt with no wrong answer, a tied prompt with one correct answer, equal correct answers
            BestOfNScores("Ties", "ref:0", [2.0], []),
            BestOfNScores("Ties", "tied:0", [3.0, 2.5], [1.0]),
            BestOfNScores("Ties", "ref:1", [2.0], [1.0]),
            BestOfNScores("Ties", "tied:1", [2.0], [1.0]),
            BestOfNScores("Ties", "ref:2", [2.0], [1.0]),
            BestOfNScores("Ties", "tied:2", [3.0, 3.0], [1.0]),
            BestOfNScores("Ties", "tied:3", [3.0, 1.0], []),
        ],
        [BestOfNScores("Ties", "ref:1", [2.0], [1.0]), BestOfNScores("Ties", "tied:1", [2.0], [1.0])],  # NaN parts
        [BestOfNScores("Ties", "ref:4", [2.0], [1.0]), BestOfNScores("Ties", "tied:5", [2.0, 3.0], [1.0])],  # no pair
    ],
    ids=["edge-prompts", "no-tied-prompt-with-two-correct", "no-common-prompt"],
)
def test_ties_edge_cases_match_the_package(
    items: list[BestOfNScores], rewardbench_package: tuple[ModuleType, dict[str, Any]]
) -> None:
    expected = _package_rb2_scores(rewardbench_package[1], items)["Ties"]
    ours = rewardbench2_scores(items).per_subset["Ties"]
    assert ours == expected or (math.isnan(ours) and math.isnan(expected))
