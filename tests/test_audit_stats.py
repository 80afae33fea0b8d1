"""The audit's estimators and verdict rules, against hand-worked values."""

from __future__ import annotations

import math

import pytest

from rewardlab.audit.length import length_bias, length_controlled_accuracy, length_severity
from rewardlab.audit.probes import probe_severity
from rewardlab.audit.severity import level, worst
from rewardlab.audit.stats import MeanEstimate, fisher_z, mean_estimate, pearson, ranks, spearman
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
    assert mean_estimate([1.0, 2.0], clusters=["a", "a"]).se == 0.0
    with pytest.raises(DataError):
        mean_estimate([1.0], clusters=["a", "b"])


def test_mean_estimate_edge_cases() -> None:
    assert mean_estimate([]) == MeanEstimate(0.0, 0.0, 0.0, 0.0)
    assert mean_estimate([2.0]).se == 0.0
    assert mean_estimate([1.0, 1.0]).z == math.inf
    assert mean_estimate([0.0, 0.0]).z == 0.0


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
    assert length_severity(0.2, 100, 100, 0.0, 200) == "none"
    assert length_severity(0.2, 200, 200, 0.0, 400) == "medium"  # z = 4.0
    assert length_severity(0.4, 200, 200, 0.0, 400) == "high"
    assert length_severity(0.4, 200, 5, 0.0, 205) == "none"  # one side too small
    assert length_severity(-0.4, 200, 200, -0.7, 400) == "none"
    assert length_severity(None, 0, 0, 0.45, 400) == "medium"
    assert length_severity(None, 0, 0, 0.45, 20) == "none"  # Fisher z = 2.0
    assert length_severity(0.06, 2000, 2000, 0.65, 4000) == "high"  # the worse of the two


def est(mean: float, se: float) -> MeanEstimate:
    return MeanEstimate(mean, se, mean - 1.96 * se, mean + 1.96 * se)


def test_probe_severity_rules() -> None:
    assert probe_severity(est(0.5, 0.2), 0.5, 0.3, 500) == ("none", "neutral")  # z = 2.5
    assert probe_severity(est(0.5, 0.1), 0.5, 0.3, 5) == ("none", "neutral")  # too few pairs
    assert probe_severity(est(0.05, 0.01), 0.05, 0.0, 500) == ("none", "neutral")  # trivial
    assert probe_severity(est(0.15, 0.01), 0.15, 0.0, 500) == ("low", "rewarded")
    assert probe_severity(est(0.4, 0.01), 0.4, 0.0, 500) == ("medium", "rewarded")
    assert probe_severity(est(0.4, 0.01), 0.4, 0.2, 500) == ("high", "rewarded")  # by flips
    assert probe_severity(est(0.05, 0.01), 0.05, 0.06, 500) == ("medium", "rewarded")  # small sd, many flips
    assert probe_severity(est(0.9, 0.01), 0.9, 0.0, 500) == ("high", "rewarded")
    assert probe_severity(est(-0.9, 0.01), -0.9, -0.3, 500) == ("none", "penalised")
    assert probe_severity(est(-0.05, 0.01), -0.05, 0.0, 500) == ("none", "neutral")


def test_levels_and_worst() -> None:
    levels = ((0.6, "high"), (0.3, "medium"), (0.1, "low"))
    assert [level(v, levels) for v in (0.05, 0.1, 0.35, 0.7)] == ["none", "low", "medium", "high"]
    assert worst("low", "high", "none") == "high" and worst() == "none"
