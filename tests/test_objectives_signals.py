"""The losses for rankings, ratings, labels, ties and annotators against hand-worked values."""

from __future__ import annotations

import math

import pytest
import torch

from rewardlab.objectives import (
    annotator_bradley_terry,
    binary_cross_entropy,
    bradley_terry,
    davidson,
    masked_mse,
    plackett_luce,
    ranking_pairs,
    rao_kupper,
    strength_margin,
)

C = torch.tensor([1.5, -0.3, 0.2, 2.0])
R = torch.tensor([0.5, 0.4, 0.2, -1.0])


def test_plackett_luce_with_two_responses_is_bradley_terry() -> None:
    rewards = torch.stack([C, R], dim=1)
    mask = torch.ones_like(rewards, dtype=torch.bool)
    assert torch.allclose(plackett_luce(rewards, mask), bradley_terry(C, R))
    assert torch.allclose(plackett_luce(rewards, mask, reduction="none"), bradley_terry(C, R, reduction="none"))


def test_plackett_luce_matches_a_hand_worked_three_way_ranking() -> None:
    # order 2 > 1 > 0: -log(e^2 / (e^2 + e + 1)) - log(e / (e + 1))
    expected = -math.log(math.e**2 / (math.e**2 + math.e + 1)) - math.log(math.e / (math.e + 1))
    got = plackett_luce(torch.tensor([[2.0, 1.0, 0.0]]), torch.ones(1, 3, dtype=torch.bool))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_plackett_luce_ignores_padding_of_shorter_rankings_and_its_gradient_stays_finite() -> None:
    rewards = torch.tensor([[2.0, 1.0, 0.0], [0.7, -0.2, 123.0]], requires_grad=True)
    mask = torch.tensor([[True, True, True], [True, True, False]])
    per = plackett_luce(rewards, mask, reduction="none")
    assert per[1].item() == pytest.approx(bradley_terry(torch.tensor([0.7]), torch.tensor([-0.2])).item(), rel=1e-6)
    per.sum().backward()
    assert rewards.grad is not None and torch.isfinite(rewards.grad).all()
    assert rewards.grad[1, 2].item() == 0.0


def test_ranking_pairs_weights_each_ranking_once_and_equals_bt_for_pairs() -> None:
    two = torch.stack([C, R], dim=1)
    assert torch.allclose(ranking_pairs(two, torch.ones_like(two, dtype=torch.bool)), bradley_terry(C, R))
    r = torch.tensor([[2.0, 1.0, 0.0]])
    pairs = [(2.0, 1.0), (2.0, 0.0), (1.0, 0.0)]
    expected = sum(-math.log(1 / (1 + math.exp(-(a - b)))) for a, b in pairs) / 3
    assert ranking_pairs(r, torch.ones(1, 3, dtype=torch.bool)).item() == pytest.approx(expected, rel=1e-6)


def test_davidson_without_ties_tends_to_bradley_terry_and_prices_a_tie() -> None:
    no_ties = torch.zeros(4, dtype=torch.bool)
    assert torch.allclose(davidson(C, R, no_ties, torch.tensor(-60.0)), bradley_terry(C, R), atol=1e-6)
    # equal rewards and nu = 1: win, loss and tie each have probability 1/3
    tie = davidson(torch.tensor([0.3]), torch.tensor([0.3]), torch.tensor([True]), torch.tensor(0.0))
    win = davidson(torch.tensor([0.3]), torch.tensor([0.3]), torch.tensor([False]), torch.tensor(0.0))
    assert tie.item() == pytest.approx(math.log(3), rel=1e-6)
    assert win.item() == pytest.approx(math.log(3), rel=1e-6)


def test_a_tie_does_not_depend_on_which_side_is_called_chosen() -> None:
    t = torch.ones(4, dtype=torch.bool)
    assert torch.allclose(davidson(C, R, t, torch.tensor(0.2)), davidson(R, C, t, torch.tensor(0.2)))
    assert torch.allclose(rao_kupper(C, R, t, torch.tensor(0.4)), rao_kupper(R, C, t, torch.tensor(0.4)))


def test_rao_kupper_with_zero_threshold_is_bradley_terry_and_prices_a_tie() -> None:
    no_ties = torch.zeros(4, dtype=torch.bool)
    assert torch.allclose(rao_kupper(C, R, no_ties, torch.tensor(0.0)), bradley_terry(C, R))
    # d = 0, theta = 2: P(win) = sigma(-log 2) = 1/3, so P(tie) = 1/3
    got = rao_kupper(torch.tensor([0.0]), torch.tensor([0.0]), torch.tensor([True]), torch.tensor(math.log(2)))
    assert got.item() == pytest.approx(math.log(3), rel=1e-5)


def test_annotator_temperature_scales_the_reward_difference() -> None:
    assert torch.allclose(annotator_bradley_terry(C, R, torch.zeros(4)), bradley_terry(C, R))
    t2 = annotator_bradley_terry(C, R, torch.full((4,), math.log(2.0)))
    assert torch.allclose(t2, bradley_terry(C / 2, R / 2))
    bias = torch.tensor([0.1, 0.2, -0.3, 0.0])
    assert torch.allclose(annotator_bradley_terry(C, R, torch.zeros(4), bias), bradley_terry(C + bias, R))


def test_masked_regression_ignores_missing_attributes() -> None:
    pred = torch.tensor([[1.0, 2.0], [0.0, 5.0]])
    target = torch.tensor([[0.0, 2.0], [1.0, -100.0]])
    mask = torch.tensor([[True, True], [True, False]])
    assert masked_mse(pred, target, mask).item() == pytest.approx((1 + 0 + 1) / 3)
    other = target.clone()
    other[1, 1] = 1e6
    assert masked_mse(pred, other, mask).item() == masked_mse(pred, target, mask).item()


def test_binary_cross_entropy_hand_values() -> None:
    assert binary_cross_entropy(torch.tensor([0.0]), torch.tensor([1.0])).item() == pytest.approx(math.log(2))
    got = binary_cross_entropy(torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0]))
    expected = (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1))) / 2
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_llama2_strength_margin_table() -> None:
    table = (0.0, 1 / 3, 2 / 3, 1.0)
    assert [strength_margin(s, table) for s in (None, 0, 1, 2, 3, 7)] == [0.0, 0.0, 1 / 3, 2 / 3, 1.0, 1.0]


def test_annotator_temperatures_fitted_on_gold_rewards_rank_the_simulated_annotators_by_noise() -> None:
    """The estimator behind annotator_bt: with the true utilities as rewards, the learned
    temperatures must order the synthetic world's annotators by their true noise."""
    from rewardlab.synth import SynthConfig, generate_world

    world = generate_world(SynthConfig(n_prompts=3000, seed=3))
    pairs = [c for c in world.comparisons() if not c.tie]
    ids = sorted({a.id for a in world.annotators})
    index = torch.tensor([ids.index(c.annotator) for c in pairs])
    chosen = torch.tensor([c.gold_chosen for c in pairs])
    rejected = torch.tensor([c.gold_rejected for c in pairs])
    log_t = torch.zeros(len(ids), requires_grad=True)
    opt = torch.optim.Adam([log_t], lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        annotator_bradley_terry(chosen, rejected, log_t[index]).backward()
        opt.step()
    true = {a.id: a.temperature for a in world.annotators}
    learned = dict(zip(ids, log_t.exp().tolist()))
    order_true = sorted(ids, key=true.__getitem__)
    order_learned = sorted(ids, key=learned.__getitem__)
    rank = {a: i for i, a in enumerate(order_learned)}
    n = len(ids)
    d2 = sum((i - rank[a]) ** 2 for i, a in enumerate(order_true))
    spearman = 1 - 6 * d2 / (n * (n * n - 1))
    assert order_learned[0] == order_true[0] and order_learned[-1] == order_true[-1]
    assert spearman >= 0.8, (true, learned)


def test_odin_terms_reward_a_length_head_and_punish_a_length_quality_head() -> None:
    from rewardlab.objectives import odin_disentangle

    dlen = torch.tensor([10.0, -5.0, 3.0, 0.0, -8.0])
    independent = torch.tensor([1.0, 1.0, -1.0, 1.0, -1.0])
    independent = independent - independent.mean()
    best = odin_disentangle(independent, dlen, dlen, floor=1e-12)  # quality uncorrelated, length head = length
    worst = odin_disentangle(dlen, independent, dlen, floor=1e-12)  # quality is length, length head explains nothing
    rho = float(torch.corrcoef(torch.stack([independent, dlen]))[0, 1])
    assert float(best) == pytest.approx(abs(rho) - 1.0, abs=1e-5)
    assert float(worst) == pytest.approx(1.0 - rho, abs=1e-5)
    assert float(best) < float(worst)
    both = odin_disentangle(dlen, dlen, dlen, quality_coef=2.0, length_coef=0.5, floor=1e-12)
    assert float(both) == pytest.approx(2.0 - 0.5, abs=1e-5)


def test_odin_variance_floor_keeps_gradients_bounded_for_a_fresh_head() -> None:
    from rewardlab.objectives import head_orthogonality, odin_disentangle

    dlen = torch.tensor([10.0, -5.0, 3.0, 1.0, -8.0])
    tiny = (1e-4 * torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0])).requires_grad_()
    odin_disentangle(tiny, tiny.detach(), dlen, floor=1e-12).backward()
    assert float(tiny.grad.abs().max()) > 1e2  # a plain correlation: gradient ~ 1/std(x)
    tiny.grad = None
    odin_disentangle(tiny, tiny.detach(), dlen, floor=1.0).backward()
    assert float(tiny.grad.abs().max()) < 1.0
    assert float(head_orthogonality(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 3.0]))) == pytest.approx(0.0)
    assert float(head_orthogonality(torch.tensor([1.0, 1.0]), torch.tensor([-2.0, -2.0]))) == pytest.approx(1.0)
