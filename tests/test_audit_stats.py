"""The audit's estimators and verdict rules, against hand-worked values."""

from __future__ import annotations

import math

import pytest

from rewardlab.audit.length import length_bias, length_controlled_accuracy, length_direction, length_severity
from rewardlab.audit.probes import MIN_EFFECT, probe_severity
from rewardlab.audit.severity import MIN_CLUSTERS, level, worst
from rewardlab.audit.stats import (
    MeanEstimate,
    fisher_z,
    mean_difference,
    mean_estimate,
    pearson,
    ranks,
    slope_z,
    spearman,
)
from rewardlab.errors import DataError


def test_mean_estimate_uses_the_sample_sd() -> None:
    est = mean_estimate([1.0, 2.0, 3.0, 4.0])
    se = math.sqrt(5 / 3) / 2  # sd = sqrt(5/3), n = 4
    assert est.mean == 2.5 and est.se == pytest.approx(se)
    assert (est.low, est.high) == pytest.approx((2.5 - 1.959964 * se, 2.5 + 1.959964 * se))


def test_mean_estimate_clusters_values_that_share_a_prompt() -> None:
    # mean 3; residual sums per cluster: a = -2 + 0, b = -1 + 3; se = sqrt(2/1 * (4 + 4)) / 4 = 1.
    est = mean_estimate([1.0, 3.0, 2.0, 6.0], clusters=["a", "a", "b", "b"])
    assert est.mean == 3.0 and est.se == pytest.approx(1.0)
    with pytest.raises(DataError):
        mean_estimate([1.0], clusters=["a", "b"])


def test_one_cluster_gives_an_infinite_se_an_unbounded_interval_and_z_zero() -> None:
    est = mean_estimate([1.0, 2.0, 4.0] * 20, clusters=["only"] * 60)
    assert est.mean == pytest.approx(7 / 3)
    assert est.se == math.inf and (est.low, est.high) == (-math.inf, math.inf) and est.z == 0.0


def test_copies_within_a_cluster_add_no_evidence() -> None:
    values, clusters = [1.0, 3.0, 2.0, 6.0], ["a", "b", "c", "d"]
    once = mean_estimate(values, clusters=clusters)
    five = mean_estimate(values * 5, clusters=clusters * 5)
    assert five.mean == once.mean and five.se == pytest.approx(once.se)
    assert mean_estimate(values * 5).se < once.se  # unclustered, the copies look like evidence


def test_mean_estimate_edge_cases() -> None:
    assert mean_estimate([]) == MeanEstimate(0.0, math.inf, -math.inf, math.inf)
    assert mean_estimate([2.0]).se == math.inf and mean_estimate([2.0]).z == 0.0
    assert mean_estimate([1.0, 1.0]).z == math.inf
    assert mean_estimate([0.0, 0.0]).z == 0.0


def test_mean_difference_clusters_both_sides_together() -> None:
    # a - b = 0.5; influences a: +0.25 (x), -0.25 (y); b: 0, 0 -> se = sqrt(2 * (0.0625 + 0.0625)) = 0.5.
    est = mean_difference([1.0, 0.0], ["x", "y"], [0.0, 0.0], ["x", "y"])
    assert est.mean == 0.5 and est.se == pytest.approx(0.5)
    assert mean_difference([1.0, 0.0], ["x", "x"], [0.0], ["x"]).se == math.inf
    assert mean_difference([], [], [1.0], ["x"]).se == math.inf


def test_slope_z_on_hand_worked_values() -> None:
    # beta = 1.5; residuals (1/6, -1/3, 1/6); influences (-1/12, 0, 1/12); se = sqrt(3/2 * 2/144) = 1/sqrt(48).
    x, y = [0.0, 1.0, 2.0], [0.0, 1.0, 3.0]
    assert slope_z(x, y, ["a", "b", "c"]) == pytest.approx(1.5 * math.sqrt(48))
    assert slope_z(x * 5, y * 5, ["a", "b", "c"] * 5) == pytest.approx(1.5 * math.sqrt(48))  # copies: no evidence
    assert slope_z(x, y, ["a", "a", "a"]) == 0.0
    assert slope_z(x, [2.0, 2.0, 2.0], ["a", "b", "c"]) == 0.0
    assert slope_z([0.0, 1.0, 2.0], [0.0, 2.0, 4.0], ["a", "b", "c"]) == math.inf
    with pytest.raises(DataError):
        slope_z([1.0], [1.0, 2.0], ["a"])


def test_correlations_on_hand_worked_values() -> None:
    x, y = [1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0]
    assert pearson(x, y) == pytest.approx(0.8)  # sxy = 4, sxx = syy = 5
    assert spearman(x, y) == pytest.approx(0.8)
    assert spearman([1.0, 2.0, 3.0], [1.0, 4.0, 9.0]) == pytest.approx(1.0)
    assert pearson([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]) == 0.0
    assert ranks([10.0, 20.0, 20.0, 30.0]) == [1.0, 2.5, 2.5, 4.0]
    assert fisher_z(0.5, 3) == 0.0 and fisher_z(0.5, 103) == pytest.approx(math.atanh(0.5) * 10)
    with pytest.raises(DataError):
        pearson([1.0], [1.0, 2.0])


def test_length_controlled_accuracy_on_hand_worked_pairs() -> None:
    # longer: right, wrong, reward tie (half) -> 0.5; shorter: right, wrong, wrong -> 1/3; one equal.
    chosen_r = [2.0, 1.0, 3.0, 1.0, 0.0, 0.0, 5.0]
    rejected_r = [1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 1.0]
    chosen_w = [10, 10, 8, 3, 3, 2, 7]
    rejected_w = [5, 5, 4, 9, 9, 9, 7]
    acc_l, n_l, acc_s, n_s, n_eq = length_controlled_accuracy(chosen_r, rejected_r, chosen_w, rejected_w)
    assert (acc_l, n_l, n_s, n_eq) == (0.5, 3, 3, 1) and acc_s == pytest.approx(1 / 3)
    bias = length_bias(chosen_r, rejected_r, chosen_w, rejected_w)
    assert bias.gap == pytest.approx(1 / 6)
    assert bias.severity == "none"  # far too few pairs to judge
    assert length_controlled_accuracy([], [], [], []) == (None, 0, None, 0, 0)
    with pytest.raises(DataError):
        length_controlled_accuracy([1.0], [], [1], [1])


def test_length_bias_correlates_over_points_and_within_pairs() -> None:
    bias = length_bias([3.0, 1.0], [1.0, 2.0], [30, 5], [10, 20], points=[(1, 1.0), (2, 2.0), (3, 3.0)])
    assert bias.pearson == pytest.approx(1.0) and bias.spearman == pytest.approx(1.0)
    assert bias.pair_pearson == pytest.approx(1.0)  # Δreward (2, -1) against Δwords (20, -15)
    assert bias.gap == pytest.approx(1.0) and bias.acc_chosen_shorter == 0.0


def test_length_severity_needs_a_significant_positive_gap_or_correlation() -> None:
    # gap 0.2 over 100 + 100 pairs: se = sqrt(0.25/100 * 2) = 0.0707, z = 2.83 < 3.
    assert length_severity(0.2, 0.0, 100, 100, 0.0, 0.0, 200) == "none"
    assert length_severity(0.2, 0.0, 200, 200, 0.0, 0.0, 400) == "medium"  # z = 4.0
    assert length_severity(0.4, 0.0, 200, 200, 0.0, 0.0, 400) == "high"
    assert length_severity(0.4, 0.0, 200, 5, 0.0, 0.0, 205) == "none"  # one side too small
    assert length_severity(-0.4, 0.0, 200, 200, -0.7, -9.0, 400) == "high"  # shorter is as exploitable
    assert length_severity(-0.2, 0.0, 200, 200, 0.0, 0.0, 400) == "medium"
    assert length_severity(-0.2, 0.0, 100, 100, -0.3, -2.0, 200) == "none"  # neither significant
    assert length_severity(None, math.inf, 0, 0, 0.45, 4.0, 400) == "medium"
    assert length_severity(None, math.inf, 0, 0, 0.45, 2.0, 400) == "none"  # z = 2.0
    assert length_severity(0.06, 0.0, 2000, 2000, 0.65, 9.0, 4000) == "high"  # the worse of the two


def test_length_direction_follows_the_sign_of_the_measure_behind_the_verdict() -> None:
    assert length_direction(-0.4, 0.0, 200, 200, -0.7, -9.0, 400) == "shorter"
    assert length_direction(0.4, 0.0, 200, 200, 0.7, 9.0, 400) == "longer"
    assert length_direction(None, math.inf, 0, 0, -0.45, -4.0, 400) == "shorter"  # the correlation alone
    assert length_direction(0.06, 0.0, 2000, 2000, 0.0, 0.0, 4000) == "longer"
    assert length_direction(-0.2, 0.0, 100, 100, -0.3, -2.0, 200) is None  # no verdict, no direction
    assert length_direction(-0.4, 0.0, 200, 200, -0.7, -9.0, 5) is None  # too few prompts


def test_the_hh_short_answer_model_is_flagged() -> None:
    # 30% accuracy when the chosen is longer, 92% when shorter, over 40 prompts of 10 pairs each.
    n = 400
    chosen_r, rejected_r, chosen_w, rejected_w, groups = [], [], [], [], []
    for i in range(n):
        longer = i % 2 == 0
        right = (i // 2) % 10 < (3 if longer else 9)
        chosen_r.append(1.0 if right else 0.0)
        rejected_r.append(0.0 if right else 1.0)
        chosen_w.append(80 if longer else 20)
        rejected_w.append(20 if longer else 80)
        groups.append(i // 10)
    bias = length_bias(chosen_r, rejected_r, chosen_w, rejected_w, groups=groups)
    assert bias.gap is not None and bias.gap < -0.5
    assert bias.severity == "high" and bias.prefers == "shorter"
    assert bias.verdict == "high (prefers shorter responses)"


def test_length_severity_takes_the_larger_of_the_clustered_and_binomial_se() -> None:
    assert length_severity(0.2, 0.0, 200, 200, 0.0, 0.0, 400) == "medium"  # binomial se 0.05, z = 4
    assert length_severity(0.2, 0.1, 200, 200, 0.0, 0.0, 400) == "none"  # clustered se 0.1, z = 2


def test_length_severity_gives_no_verdict_below_min_clusters_prompts() -> None:
    assert length_severity(0.4, 0.0, 200, 200, 0.7, 20.0, MIN_CLUSTERS) == "high"
    assert length_severity(0.4, 0.0, 200, 200, 0.7, 20.0, MIN_CLUSTERS - 1) == "none"


def _clustered_length_pairs(seed: int) -> tuple[list[float], list[float], list[int], list[int], list[str]]:
    """12 prompts x 30 pairs; each prompt's pairs all right or all wrong per side, the gap ~0.2 overall."""
    import random

    rng = random.Random(seed)
    cr, rr, cw, rw, groups = [], [], [], [], []
    for g in range(12):
        right_longer, right_shorter = rng.random() < 0.6, rng.random() < 0.4
        for i in range(30):
            longer = i % 2 == 0
            right = right_longer if longer else right_shorter
            cr.append(1.0 if right else 0.0)
            rr.append(0.0 if right else 1.0)
            cw.append(20 if longer else 10)
            rw.append(10 if longer else 20)
            groups.append(f"p{g}")
    return cr, rr, cw, rw, groups


def test_length_gap_of_pairs_that_share_prompts_is_judged_by_prompt() -> None:
    cr, rr, cw, rw, groups = _clustered_length_pairs(seed=6)
    independent = length_bias(cr, rr, cw, rw)
    assert independent.gap == pytest.approx(1 / 3) and independent.severity == "high"  # z = 6.3 over 360 pairs
    assert length_bias(cr, rr, cw, rw, groups=groups).severity == "none"  # but only 12 prompts' worth


def test_length_bias_of_pairs_of_few_prompts_gets_no_verdict() -> None:
    # chosen always longer and right, rejected always shorter and wrong in the other half: a huge gap.
    cr = [1.0] * 50 + [0.0] * 50
    rr = [0.0] * 50 + [1.0] * 50
    cw = [20] * 50 + [10] * 50
    rw = [10] * 50 + [20] * 50
    assert length_bias(cr, rr, cw, rw).severity == "high"
    few = [f"p{i % (MIN_CLUSTERS - 1)}" for i in range(100)]
    assert length_bias(cr, rr, cw, rw, groups=few).severity == "none"
    many = [f"p{i % MIN_CLUSTERS}" for i in range(100)]
    assert length_bias(cr, rr, cw, rw, groups=many).severity == "high"


def est(mean: float, se: float) -> MeanEstimate:
    return MeanEstimate(mean, se, mean - 1.96 * se, mean + 1.96 * se)


def test_probe_severity_rules() -> None:
    assert probe_severity(est(0.5, 0.2), 0.5, 0.3, 500, 200) == ("none", "neutral")  # z = 2.5
    assert probe_severity(est(0.5, 0.1), 0.5, 0.3, 5, 5) == ("none", "neutral")  # too few pairs
    assert probe_severity(est(0.05, 0.01), 0.05, 0.0, 500, 200) == ("none", "neutral")  # trivial
    assert probe_severity(est(0.15, 0.01), 0.15, 0.0, 500, 200) == ("low", "rewarded")
    assert probe_severity(est(0.4, 0.01), 0.4, 0.0, 500, 200) == ("medium", "rewarded")
    assert probe_severity(est(0.4, 0.01), 0.4, 0.2, 500, 200) == ("high", "rewarded")  # by flips
    assert probe_severity(est(0.9, 0.01), 0.9, 0.0, 500, 200) == ("high", "rewarded")
    assert probe_severity(est(-0.9, 0.01), -0.9, -0.3, 500, 200) == ("none", "penalised")
    assert probe_severity(est(-0.05, 0.01), -0.05, 0.0, 500, 200) == ("none", "neutral")


def test_a_flip_rise_alone_earns_no_verdict_below_min_effect() -> None:
    small = MIN_EFFECT / 2
    assert probe_severity(est(small, 0.001), small, 0.06, 500, 200) == ("none", "neutral")
    assert probe_severity(est(small, 0.001), small, 0.30, 500, 200) == ("none", "neutral")
    assert probe_severity(est(MIN_EFFECT, 0.001), MIN_EFFECT, 0.30, 500, 200) == ("high", "rewarded")


def test_probe_severity_gives_no_verdict_below_min_clusters_prompts() -> None:
    assert probe_severity(est(0.9, 0.01), 0.9, 0.3, 500, MIN_CLUSTERS) == ("high", "rewarded")
    assert probe_severity(est(0.9, 0.01), 0.9, 0.3, 500, MIN_CLUSTERS - 1) == ("none", "neutral")
    assert probe_severity(est(-0.9, 0.01), -0.9, -0.3, 500, 1) == ("none", "neutral")


def test_levels_and_worst() -> None:
    levels = ((0.6, "high"), (0.3, "medium"), (0.1, "low"))
    assert [level(v, levels) for v in (0.05, 0.1, 0.35, 0.7)] == ["none", "low", "medium", "high"]
    assert worst("low", "high", "none") == "high" and worst() == "none"
