import math

import pytest

from rewardlab.data.records import Comparison
from rewardlab.eval import ScoredPair, evaluate_scores, verdict
from rewardlab.eval.metrics import accuracy_summary, by_bucket, gold_accuracy


def pair(c: float, r: float, **kw: object) -> ScoredPair:
    fields = {"prompt": f"p{kw.pop('pid', id(kw))}", "chosen": "a", "rejected": "b", **kw}
    return ScoredPair(Comparison(**fields), c, r)  # type: ignore[arg-type]


def test_accuracy_counts_model_ties_wrong_and_skips_data_ties() -> None:
    pairs = [pair(2, 1), pair(1, 1), pair(0, 1), pair(5, 0, tie=True)]
    s = accuracy_summary(pairs)
    assert s == {"n": 3, "accuracy": pytest.approx(1 / 3), "model_ties": 1}


def test_gold_accuracy_ignores_equal_gold_and_follows_the_gold_order() -> None:
    pairs = [
        pair(2, 1, gold_chosen=1.0, gold_rejected=0.0),   # agrees with gold
        pair(2, 1, gold_chosen=0.0, gold_rejected=1.0),   # label disagreed with gold; model followed label
        pair(0, 1, gold_chosen=0.0, gold_rejected=1.0),   # model agrees with gold against the label
        pair(2, 1, gold_chosen=0.5, gold_rejected=0.5),   # equal gold: left out
    ]
    assert gold_accuracy(pairs) == {"n": 3, "accuracy": pytest.approx(2 / 3)}


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
