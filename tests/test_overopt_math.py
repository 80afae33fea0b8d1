"""The over-optimization lab's estimators and fits against brute force, direct computation and known answers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rewardlab.overopt import (
    bon_curve,
    bon_expectation,
    bon_weights,
    fit_bon,
    fit_rl,
    kl_bon,
    log_spaced_ns,
    n_for_kl,
    tilted_curve,
    tilted_point,
)


def brute_force_bon(proxy: list[float], gold: list[float], n: int) -> tuple[float, float]:
    """Average over every n-subset of the pick's proxy and gold; ties in proxy are broken uniformly at random."""
    tot_p = tot_g = 0.0
    subsets = list(itertools.combinations(range(len(proxy)), n))
    for sub in subsets:
        best = max(proxy[i] for i in sub)
        winners = [i for i in sub if proxy[i] == best]
        tot_p += best
        tot_g += sum(gold[i] for i in winners) / len(winners)
    return tot_p / len(subsets), tot_g / len(subsets)


@pytest.mark.parametrize("seed", range(6))
def test_the_estimator_equals_enumeration_over_all_subsets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    big_n = int(rng.integers(2, 10))
    proxy = rng.integers(0, 4, size=big_n).astype(float).tolist()  # many ties on purpose
    gold = rng.normal(size=big_n).tolist()
    ns = list(range(1, big_n + 1))
    exp_p, exp_g = bon_expectation(proxy, gold, ns)
    for k, n in enumerate(ns):
        bp, bg = brute_force_bon(proxy, gold, n)
        assert exp_p[k] == pytest.approx(bp, abs=1e-12)
        assert exp_g[k] == pytest.approx(bg, abs=1e-12)


def test_weights_are_the_binomial_ratios_and_sum_to_one() -> None:
    big_n, n = 12, 4
    w = bon_weights(big_n, n)
    expected = [math.comb(i - 1, n - 1) / math.comb(big_n, n) for i in range(1, big_n + 1)]
    assert w.tolist() == pytest.approx(expected, abs=1e-14)
    assert bon_weights(3000, 700).sum() == pytest.approx(1.0)
    assert bon_weights(5, 1).tolist() == pytest.approx([0.2] * 5)
    assert bon_weights(5, 5).tolist() == pytest.approx([0, 0, 0, 0, 1])
    with pytest.raises(ValueError):
        bon_weights(3, 4)


def test_kl_bon_is_the_kl_of_the_best_of_n_distribution() -> None:
    for n in (1, 2, 4, 16, 100):
        # continuous reference: the max of n uniforms has density n u^(n-1) on [0, 1]
        u = (np.arange(200_000) + 0.5) / 200_000
        density = n * u ** (n - 1)
        direct = float(np.mean(np.where(density > 0, density * np.log(np.maximum(density, 1e-300)), 0.0)))
        assert kl_bon(n) == pytest.approx(direct, rel=1e-3, abs=1e-3)
        # and over many distinct samples, the exact weights against the uniform reference
        w = bon_weights(20_000, n)
        nz = w > 0
        assert float(np.sum(w[nz] * np.log(20_000 * w[nz]))) == pytest.approx(kl_bon(n), rel=1e-3, abs=1e-3)
    assert kl_bon(1) == 0.0
    assert n_for_kl(kl_bon(37)) == pytest.approx(37, rel=1e-6)


def test_log_spaced_ns_cover_1_to_n() -> None:
    ns = log_spaced_ns(1000, 20)
    assert ns[0] == 1 and ns[-1] == 1000 and ns == sorted(set(ns))


def test_the_tilted_policy_matches_direct_computation_and_its_limits() -> None:
    proxy, gold = [0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 2.0, -1.0]
    beta = 0.7
    w = np.exp(np.array(proxy) / beta)
    w /= w.sum()
    kl, p, g = tilted_point(proxy, gold, beta)
    assert kl == pytest.approx(float(np.sum(w * np.log(4 * w))))
    assert p == pytest.approx(float(w @ proxy)) and g == pytest.approx(float(w @ gold))
    kl_big, p_big, _ = tilted_point(proxy, gold, 1e6)
    assert kl_big == pytest.approx(0.0, abs=1e-9) and p_big == pytest.approx(1.5)
    kl_small, p_small, g_small = tilted_point(proxy, gold, 1e-4)
    assert kl_small == pytest.approx(math.log(4)) and p_small == pytest.approx(3.0) and g_small == pytest.approx(-1)
    curve = tilted_curve([proxy, proxy], [gold, gold], betas=[10.0, 1.0, 0.1])
    assert curve.kl == sorted(curve.kl) and curve.proxy == sorted(curve.proxy)


def test_bon_curve_averages_prompts_and_bands_contain_the_mean() -> None:
    rng = np.random.default_rng(0)
    proxy = [rng.normal(size=50).tolist() for _ in range(30)]
    gold = [(np.array(p) + rng.normal(size=50)).tolist() for p in proxy]
    curve = bon_curve(proxy, gold, [1, 2, 5, 50], bootstrap=100)
    assert curve.proxy == sorted(curve.proxy)  # E[max] rises with n
    assert all(lo <= m <= hi for m, (lo, hi) in zip(curve.gold, curve.gold_band))
    assert curve.kl[0] == 0.0 and curve.n_prompts == 30


def test_the_bon_fit_recovers_known_parameters_from_noisy_curves() -> None:
    rng = np.random.default_rng(1)
    d = np.sqrt([kl_bon(n) for n in log_spaced_ns(2000, 30)])
    gain = d * (0.9 - 0.25 * d) + rng.normal(0, 0.01, size=len(d))
    fit = fit_bon(d, gain)
    assert fit.alpha == pytest.approx(0.9, abs=0.05) and fit.beta == pytest.approx(0.25, abs=0.03)
    assert fit.r2 > 0.95 and fit.d_peak == pytest.approx(0.9 / 0.5, rel=0.1) and fit.reason == ""
    assert fit.kl_peak == pytest.approx(fit.d_peak ** 2)


def test_the_rl_fit_recovers_known_parameters_from_noisy_curves() -> None:
    rng = np.random.default_rng(2)
    d = np.linspace(0.05, 3.0, 30)
    gain = d * (0.6 - 0.5 * np.log(d)) + rng.normal(0, 0.01, size=len(d))
    fit = fit_rl(d, gain)
    assert fit.alpha == pytest.approx(0.6, abs=0.05) and fit.beta == pytest.approx(0.5, abs=0.05)
    assert fit.d_peak == pytest.approx(math.exp(0.6 / 0.5 - 1), rel=0.1)


def test_no_peak_is_invented_when_the_gold_keeps_rising_or_the_fit_is_poor() -> None:
    d = np.linspace(0.1, 2.0, 20)
    rising = fit_bon(d, 0.5 * d + 0.05 * d ** 2)
    assert rising.d_peak is None and "never turns down" in rising.reason
    beyond = fit_bon(d, d * (1.0 - 0.1 * d))  # peak at d = 5, beyond the measured 2.0
    assert beyond.d_peak is None and "beyond the largest measured d" in beyond.reason
    noise = fit_bon(d, np.random.default_rng(3).normal(0, 1, size=len(d)))
    assert noise.d_peak is None and "poor" in noise.reason


def test_wilson_interval_contains_the_rate_and_narrows_with_labels() -> None:
    from rewardlab.overopt.early_stop import wilson

    lo, hi = wilson(7, 10)
    assert lo < 0.7 < hi
    lo2, hi2 = wilson(70, 100)
    assert hi2 - lo2 < hi - lo


def test_early_stopping_picks_a_rung_near_the_gold_peak_and_names_its_budget() -> None:
    from rewardlab.overopt.early_stop import default_ladder, early_stop

    rng = np.random.default_rng(0)
    proxy, gold = [], []
    for _ in range(300):  # the proxy rewards x; the gold peaks at moderate x: a known peak at small n
        x = rng.normal(size=256)
        quality = rng.normal(size=256)
        proxy.append(x + 0.3 * quality)
        gold.append(quality + x - 0.6 * np.maximum(x, 0) ** 2)
    ladder = default_ladder(256)
    assert ladder == [4, 16, 64, 256]
    exact = bon_curve(proxy, gold, ladder, bootstrap=1)
    peak = ladder[int(np.argmax(exact.gold))]
    stop = early_stop(proxy, gold, 800, seed=1)
    assert stop.stopped and stop.budget == 800 and stop.n == peak
    assert "with 800 gold spot checks" in stop.line() and "95% CI" in stop.line()
    climb = early_stop(proxy, [np.asarray(p) for p in proxy], 80, seed=1)  # gold = proxy: never over-optimized
    assert climb.n >= 64  # win rates saturate at the top; ties go to the smaller n


def test_a_kl_budget_caps_over_optimization_when_the_gold_turns_down() -> None:
    from rewardlab.overopt.analysis import analyse, kl_budget

    rng = np.random.default_rng(0)
    proxy, gold = [], []
    for _ in range(100):
        x = rng.normal(size=200)
        proxy.append(x)
        gold.append(x - 0.5 * np.maximum(x, 0) ** 2)  # the gold peaks at moderate proxy and falls beyond
    f = analyse("p", proxy, gold, log_spaced_ns(200, 12), bootstrap=20)
    budget = kl_budget(f)
    assert budget["caps"] and 0 < budget["kl"] < f.tilted.kl[-1]
    assert "KL budget of about" in budget["line"]
    gap = budget["best_of_n_gold_at_kl"] - budget["gold"]
    word = "about the same as" if abs(gap) < 0.02 else ("above" if gap > 0 else "below")
    assert f"{budget['best_of_n_gold_at_kl']:.3f}, {word} the KL-regularized optimum" in budget["line"]
    rising = analyse("q", proxy, proxy, log_spaced_ns(200, 12), bootstrap=20)
    assert not kl_budget(rising)["caps"]
