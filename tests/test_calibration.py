import math

import pytest
import torch

from rewardlab.eval.calibration import expected_calibration_error, fit_temperature, reliability_bins


def test_ece_matches_hand_worked_value() -> None:
    # diffs chosen so σ(d) = 0.9 twice (one right, one wrong) and 0.6 once (right)
    d9, d6 = math.log(9), math.log(1.5)
    diffs = torch.tensor([d9, -d9, d6], dtype=torch.float64)
    # top-label: confidences 0.9, 0.9, 0.6; correct 1, 0, 1
    # bin (0.867, 0.933]: conf 0.9, acc 0.5 -> gap 0.4, weight 2/3; bin with 0.6: gap 0.4, weight 1/3
    assert expected_calibration_error(diffs) == pytest.approx(2 / 3 * 0.4 + 1 / 3 * 0.4, abs=1e-9)


def test_perfectly_calibrated_probabilities_have_small_ece() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(20000, generator=g, dtype=torch.float64) * 2
    outcome = torch.rand(20000, generator=g, dtype=torch.float64) < torch.sigmoid(logits)
    diffs = torch.where(outcome, logits, -logits)  # oriented so that positive = the model was right
    # the model's confidence is σ(|logit|) and it is right with exactly that probability
    assert expected_calibration_error(diffs) < 0.02


def test_fit_temperature_recovers_the_generating_temperature() -> None:
    g = torch.Generator().manual_seed(1)
    true_logits = torch.randn(20000, generator=g, dtype=torch.float64) * 1.5
    chosen_first = torch.rand(20000, generator=g, dtype=torch.float64) < torch.sigmoid(true_logits)
    diffs = torch.where(chosen_first, true_logits, -true_logits) * 3.0  # an overconfident model: T = 3
    temperature = fit_temperature(diffs)
    assert temperature == pytest.approx(3.0, rel=0.05)
    assert expected_calibration_error(diffs, temperature=temperature) < expected_calibration_error(diffs)


def test_reliability_bins_cover_every_pair_once() -> None:
    diffs = torch.tensor([0.0, 0.5, -2.0, 4.0, 10.0])
    bins = reliability_bins(diffs)
    assert len(bins) == 15
    assert sum(b["count"] for b in bins) == 5


def _pairs(diffs: list[float]) -> list:
    from rewardlab.data.records import Comparison
    from rewardlab.eval import ScoredPair

    return [ScoredPair(Comparison(prompt=f"q{i}", chosen="a", rejected="b"), d, 0.0) for i, d in enumerate(diffs)]


def test_a_temperature_at_its_search_bound_is_reported_not_presented_as_a_measurement() -> None:
    from rewardlab.eval import evaluate_scores
    from rewardlab.eval.calibration import temperature_bound
    from rewardlab.eval.render import calibration_line

    assert temperature_bound(100.0) == "upper" and temperature_bound(0.01) == "lower"
    assert temperature_bound(1.3) is None
    coin = [(-1.0) ** i * 5.0 for i in range(200)]  # half right, half wrong, all confident: no signal
    report = evaluate_scores(_pairs(coin))
    assert report.temperature_at_bound == "upper"
    assert "hit its upper bound" in calibration_line(report) and "->" not in calibration_line(report)


def test_a_calibration_that_makes_ece_worse_is_not_shown_as_an_improvement() -> None:
    from rewardlab.eval import EvalReport
    from rewardlab.eval.render import calibration_line

    report = EvalReport(n_pairs=10, n_data_ties=0, accuracy=0.7, model_ties=0, verdict="usable", reward={},
                        ece=0.117, ece_calibrated=0.145, temperature=1.7, calibration_helps=False)
    line = calibration_line(report)
    assert "does not lower it" in line and "0.145" in line and "->" not in line
