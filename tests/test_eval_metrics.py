import math

import pytest

from rewardlab.data.records import Comparison
from rewardlab.eval import ScoredPair, evaluate_scores, verdict
from rewardlab.eval.metrics import accuracy_summary, by_bucket, gold_accuracy
from rewardlab.eval.render import render_report
from rewardlab.eval.verdict import accuracy_interval, judge, wilson_interval


def pair(c: float, r: float, **kw: object) -> ScoredPair:
    fields = {"prompt": f"p{kw.pop('pid', id(kw))}", "chosen": "a", "rejected": "b", **kw}
    return ScoredPair(Comparison(**fields), c, r)  # type: ignore[arg-type]


def test_accuracy_counts_model_ties_wrong_and_skips_data_ties() -> None:
    pairs = [pair(2, 1), pair(1, 1), pair(0, 1), pair(5, 0, tie=True)]
    s = accuracy_summary(pairs)
    assert {k: v for k, v in s.items() if k != "ci95"} == {"n": 3, "accuracy": pytest.approx(1 / 3), "model_ties": 1}
    assert s["ci95"] == pytest.approx([0.0615, 0.7923], abs=1e-4)  # Wilson, three independent pairs


def test_gold_accuracy_ignores_equal_gold_and_follows_the_gold_order() -> None:
    pairs = [
        pair(2, 1, gold_chosen=1.0, gold_rejected=0.0),   # agrees with gold
        pair(2, 1, gold_chosen=0.0, gold_rejected=1.0),   # label disagreed with gold; model followed label
        pair(0, 1, gold_chosen=0.0, gold_rejected=1.0),   # model agrees with gold against the label
        pair(2, 1, gold_chosen=0.5, gold_rejected=0.5),   # equal gold: left out
    ]
    gold = gold_accuracy(pairs)
    assert gold["n"] == 3 and gold["accuracy"] == pytest.approx(2 / 3)
    assert gold["ci95"][0] < 2 / 3 < gold["ci95"][1]


def test_buckets_by_subset_and_strength() -> None:
    pairs = [pair(1, 0, subset="x", strength=1), pair(0, 1, subset="x", strength=2), pair(1, 0, subset="y", strength=2)]
    subsets = by_bucket(pairs, "subset")
    assert subsets["x"]["accuracy"] == 0.5 and subsets["y"]["accuracy"] == 1.0
    assert by_bucket(pairs, "strength")["2"]["n"] == 2


def test_margin_buckets_are_terciles() -> None:
    pairs = [pair(1, 0, margin=float(m)) for m in range(9)]
    assert sum(b["n"] for b in by_bucket(pairs, "margin").values()) == 9
    assert len(by_bucket(pairs, "margin")) == 3


@pytest.mark.parametrize(("acc", "band"), [(0.5, "risky"), (0.649, "risky"), (0.65, "weak"), (0.7, "usable"),
                                            (0.75, "solid"), (0.8, "excellent"), (0.95, "excellent")])
def test_verdict_bands(acc: float, band: str) -> None:
    assert verdict(acc) == band


def test_evaluate_scores_reports_calibration_and_breakdowns() -> None:
    import random

    rng = random.Random(0)
    pairs = []
    for i in range(400):
        z = rng.gauss(0.0, 1.5)  # the true log-odds that the first response wins
        first_wins = rng.random() < 1 / (1 + math.exp(-z))
        d = 4.0 * (z if first_wins else -z)  # an overconfident model: 4x the true log-odds
        pairs.append(pair(d, 0.0, pid=i, subset="s" + str(i % 2)))
    report = evaluate_scores(pairs)
    assert 0.6 < report.accuracy < 0.9
    assert report.temperature == pytest.approx(4.0, rel=0.35)
    assert report.ece_calibrated < report.ece
    assert set(report.by_subset) == {"s0", "s1"} and report.gold is None
    assert not math.isnan(report.reward["chosen_mean"])


def test_wilson_interval_matches_the_textbook_values() -> None:
    # Newcombe (1998), Table I: 81 of 263 gives 0.2553 to 0.3662; 0 of 20 gives 0 to 0.1611.
    assert wilson_interval(81 / 263, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(0.0, 20) == pytest.approx((0.0, 0.1611), abs=1e-4)
    assert wilson_interval(0.5, 0) == (0.0, 1.0)


def test_pairs_of_one_prompt_that_agree_count_for_less_than_independent_pairs() -> None:
    outcomes = [1.0] * 60 + [0.0] * 40
    independent = accuracy_interval(outcomes, list(range(100)))
    assert independent == pytest.approx(wilson_interval(0.6, 100), abs=1e-3)  # G/(G−1) aside
    clustered = accuracy_interval(outcomes, [i // 10 for i in range(100)])  # ten prompts, each unanimous
    assert clustered[0] < independent[0] - 0.1 and clustered[1] > independent[1] + 0.1


def test_46_pairs_at_80_percent_get_no_band_but_a_range() -> None:
    # The walkthrough's case: 46 pairs at 80.4% were called EXCELLENT.
    low, high = accuracy_interval([1.0] * 37 + [0.0] * 9, list(range(46)))
    v = judge(37 / 46, low, high)
    assert v.name == "uncertain" and low < 0.70 and high > 0.85
    assert v.text == "between weak and excellent: too few pairs to tell"


def test_a_large_sample_inside_one_band_gets_it() -> None:
    low, high = accuracy_interval([1.0] * 3100 + [0.0] * 900, list(range(4000)))  # 77.5% of 4000
    assert judge(0.775, low, high).name == "solid"


def test_accuracy_significantly_below_chance_is_inverted() -> None:
    # The walkthrough's 36.8%: with 200 pairs its interval lies below 50%.
    low, high = accuracy_interval([1.0] * 74 + [0.0] * 126, list(range(200)))
    v = judge(0.37, low, high)
    assert high < 0.5 and v.name == "inverted" and "prefers the rejected responses" in v.text
    few = accuracy_interval([1.0] * 7 + [0.0] * 12, list(range(19)))  # 36.8% of 19: not significant
    assert judge(7 / 19, *few).text == "risky (below chance, though not significantly)"


def test_the_eval_report_and_its_table_show_the_interval_and_the_honest_verdict() -> None:
    pairs = [pair(1.0 if i < 37 else -1.0, 0.0, pid=i, subset="s") for i in range(46)]
    report = evaluate_scores(pairs)
    assert report.verdict == "uncertain" and report.accuracy_ci95 is not None
    assert report.to_dict()["accuracy_ci95"] == report.accuracy_ci95
    text = render_report(report)
    assert "95% CI [" in text and "between weak and excellent: too few pairs to tell" in text
    assert "EXCELLENT" not in text
    assert report.by_subset["s"]["ci95"] == pytest.approx(list(report.accuracy_ci95))
