import math

import pytest
import torch

from rewardlab.objectives import bradley_terry, pairwise_accuracy, reward_centering


def test_bradley_terry_matches_hand_worked_values() -> None:
    chosen, rejected = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0])
    # -log σ(1) = log(1 + e^-1) = 0.313262, -log σ(0) = log 2 = 0.693147
    assert bradley_terry(chosen, rejected, reduction="none").tolist() == pytest.approx([0.313262, 0.693147], abs=1e-6)
    assert bradley_terry(chosen, rejected).item() == pytest.approx((0.313262 + 0.693147) / 2, abs=1e-6)
    assert bradley_terry(chosen, rejected, reduction="sum").item() == pytest.approx(1.006409, abs=1e-6)


def test_margin_shifts_the_difference() -> None:
    chosen, rejected = torch.tensor([2.0]), torch.tensor([1.0])
    # with margin 1 the pair is scored like a zero difference
    assert bradley_terry(chosen, rejected, torch.tensor([1.0])).item() == pytest.approx(math.log(2), abs=1e-6)


def test_weighted_mean_divides_by_weight_sum() -> None:
    chosen, rejected = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0])
    loss = bradley_terry(chosen, rejected, weights=torch.tensor([1.0, 0.0]))
    assert loss.item() == pytest.approx(0.313262, abs=1e-6)


def test_bradley_terry_is_stable_for_large_differences() -> None:
    loss = bradley_terry(torch.tensor([-1000.0]), torch.tensor([1000.0]))
    assert torch.isfinite(loss) and loss.item() == pytest.approx(2000.0)


def test_reward_centering_is_mean_squared_sum() -> None:
    assert reward_centering(torch.tensor([1.0, -1.0]), torch.tensor([2.0, 0.0])).item() == pytest.approx((9 + 1) / 2)


def test_pairwise_accuracy_counts_ties_wrong() -> None:
    accuracy = pairwise_accuracy(torch.tensor([1.0, 0.5, 2.0]), torch.tensor([0.0, 0.5, 3.0]))
    assert accuracy.item() == pytest.approx(1 / 3)
