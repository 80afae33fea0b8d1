"""Gao, Schulman & Hilton's (2022) functional forms for the gold reward against d = √KL, fitted honestly.

Both forms describe the gold reward *gain* over the reference policy, ``R(d) = gold(d) − gold(0)``:

- best-of-n: ``R(d) = d·(α − β·d)``, a parabola through the origin, peaking at ``d* = α / 2β``;
- RL: ``R(d) = d·(α − β·log d)``, peaking at ``d* = exp(α/β − 1)``.

Both are linear in (α, β), so the fit is ordinary least squares on the features
``[d, −d²]`` or ``[d, −d·log d]`` (no intercept: ``R(0) = 0``). A fit reports its R² and
whether a peak exists *inside the measured range*: when β ≤ 0 (the gold never turns down),
when the peak lies beyond the largest measured d, or when R² is low, it says so
(``peak`` is ``None`` with a ``reason``) instead of inventing an operating point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

__all__ = ["MIN_R2", "Fit", "fit_bon", "fit_rl"]

#: Below this R² a fit does not describe the curve well enough to locate a peak from it.
MIN_R2 = 0.8
Form = Literal["bon", "rl"]


@dataclass(frozen=True)
class Fit:
    """One fitted form: its parameters, quality and (when it is trustworthy) the peak."""

    form: Form
    alpha: float
    beta: float
    r2: float
    d_peak: float | None  # d* inside the measured range, or None (see ``reason``)
    kl_peak: float | None  # d*² in nats
    gain_at_peak: float | None  # R(d*): the fitted gold gain at the peak
    d_max: float  # the largest measured d
    reason: str  # why there is no peak, or "" when there is one

    def predict(self, d: Sequence[float] | np.ndarray) -> np.ndarray:
        x = np.asarray(d, dtype=np.float64)
        return _features(self.form, x) @ np.array([self.alpha, self.beta])

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _features(form: Form, d: np.ndarray) -> np.ndarray:
    if form == "bon":
        return np.stack([d, -(d ** 2)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dlogd = np.where(d > 0, d * np.log(np.where(d > 0, d, 1.0)), 0.0)
    return np.stack([d, -dlogd], axis=1)


def _fit(form: Form, d: Sequence[float], gain: Sequence[float]) -> Fit:
    x = np.asarray(d, dtype=np.float64)
    y = np.asarray(gain, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 3:
        raise ValueError("a fit needs at least 3 points of d and gain of the same length")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("d and gain must be finite")
    features = _features(form, x)
    (alpha, beta), *_ = np.linalg.lstsq(features, y, rcond=None)
    fitted = features @ np.array([alpha, beta])
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((y - fitted) ** 2)) / total if total > 0 else 0.0
    d_max = float(x.max())
    peak, reason = _peak(form, float(alpha), float(beta), d_max, r2)
    gain_at_peak = None if peak is None else float((_features(form, np.array([peak])) @ np.array([alpha, beta]))[0])
    return Fit(form=form, alpha=float(alpha), beta=float(beta), r2=r2, d_peak=peak,
               kl_peak=None if peak is None else peak ** 2, gain_at_peak=gain_at_peak, d_max=d_max, reason=reason)


def _peak(form: Form, alpha: float, beta: float, d_max: float, r2: float) -> tuple[float | None, str]:
    if r2 < MIN_R2:
        return None, f"the fit is poor (R² {r2:.2f} < {MIN_R2}); no peak is claimed"
    if beta <= 0 or alpha <= 0:
        return None, "the fitted gold never turns down (no over-optimization in the measured range)"
    d_star = alpha / (2 * beta) if form == "bon" else math.exp(alpha / beta - 1)
    if d_star > d_max:
        return None, (f"the fitted peak (d* = {d_star:.2f}) lies beyond the largest measured d ({d_max:.2f}); "
                      "the gold has not turned down yet")
    return d_star, ""


def fit_bon(d: Sequence[float], gain: Sequence[float]) -> Fit:
    """Fit the best-of-n form ``R(d) = d(α − βd)`` to gold gains over the reference."""
    return _fit("bon", d, gain)


def fit_rl(d: Sequence[float], gain: Sequence[float]) -> Fit:
    """Fit the RL form ``R(d) = d(α − β log d)`` to gold gains over the reference."""
    return _fit("rl", d, gain)
