"""Calibration of pairwise preference probabilities ``p = σ((r_c - r_r) / T)``.

Expected calibration error in the top-label form of Guo et al. (2017), "On Calibration of
Modern Neural Networks": each pair's confidence is ``max(p, 1 - p)``, its outcome whether
the more likely response is the preferred one, and ECE is the count-weighted mean gap
between confidence and accuracy over equal-width bins. Temperature scaling (same paper)
fits one ``T > 0`` that minimises the Bradley-Terry NLL.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["bt_nll", "expected_calibration_error", "fit_temperature", "reliability_bins"]


def reliability_bins(diffs: torch.Tensor, n_bins: int = 15, temperature: float = 1.0) -> list[dict[str, float]]:
    """Per-bin count, mean confidence and accuracy. ``diffs``: ``[N]`` of ``r_c - r_r``."""
    p = torch.sigmoid(diffs.double() / temperature)
    confidence = torch.maximum(p, 1 - p)
    correct = (diffs > 0).double()
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64)
    bins = []
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist()):
        in_bin = (confidence > lo) & (confidence <= hi) if lo > 0 else (confidence >= lo) & (confidence <= hi)
        n = int(in_bin.sum())
        bins.append({
            "lo": lo, "hi": hi, "count": n,
            "confidence": float(confidence[in_bin].mean()) if n else math.nan,
            "accuracy": float(correct[in_bin].mean()) if n else math.nan,
        })
    return bins


def expected_calibration_error(diffs: torch.Tensor, n_bins: int = 15, temperature: float = 1.0) -> float:
    """Top-label ECE of ``σ(diffs / T)`` in ``n_bins`` equal-width bins: ``[N] -> float``."""
    n = diffs.numel()
    if n == 0:
        return math.nan
    total = 0.0
    for b in reliability_bins(diffs, n_bins, temperature):
        if b["count"]:
            total += b["count"] / n * abs(b["confidence"] - b["accuracy"])
    return total


def bt_nll(diffs: torch.Tensor, temperature: float = 1.0) -> float:
    """Mean ``-log σ(d / T)``: the Bradley-Terry loss of the pairs at temperature ``T``."""
    return float(-F.logsigmoid(diffs.double() / temperature).mean())


#: The temperature search range of :func:`fit_temperature`.
T_BOUNDS = (1e-2, 1e2)


def temperature_bound(temperature: float) -> str | None:
    """``"upper"`` or ``"lower"`` when a fitted temperature sits at the search range's edge, else ``None``.

    At the upper bound the reward differences carry almost no ranking signal (the best fit is a coin
    flip); at the lower bound they are far too small for their accuracy. Either way the number is
    the search limit, not a measured temperature.
    """
    lo, hi = T_BOUNDS
    if temperature >= hi / 1.05:
        return "upper"
    if temperature <= lo * 1.05:
        return "lower"
    return None


def fit_temperature(diffs: torch.Tensor, lo: float = T_BOUNDS[0], hi: float = T_BOUNDS[1], iters: int = 80) -> float:
    """The ``T`` minimising :func:`bt_nll` (golden-section search on ``log T``; the NLL is unimodal in it)."""
    if diffs.numel() == 0:
        return 1.0
    a, b = math.log(lo), math.log(hi)
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = bt_nll(diffs, math.exp(c)), bt_nll(diffs, math.exp(d))
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = bt_nll(diffs, math.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = bt_nll(diffs, math.exp(d))
    return math.exp((a + b) / 2)
