"""SVG plotting primitives: linear scales, "nice" ticks, the axes frame and the legend.

The charts in :mod:`rewardlab.report.svg` are built from these; everything is a pure function
returning markup, so a chart is a string that can be tested without a browser. Styling that
is the same for every chart (grid, tick text) is left to CSS classes set by the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rewardlab.report.markup import esc

__all__ = [
    "PALETTE",
    "Frame",
    "Scale",
    "axes",
    "extent",
    "legend",
    "make_frame",
    "nice_domain",
    "nice_ticks",
    "svg_close",
    "svg_open",
    "tick_formatter",
]

# Okabe & Ito (2008) colour-blind-safe palette: blue, orange, green, vermillion, purple, sky, yellow.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Scale:
    """A linear map from the data interval ``[lo, hi]`` to the pixel interval ``[a, b]``."""

    lo: float
    hi: float
    a: float
    b: float

    def __call__(self, x: float) -> float:
        span = self.hi - self.lo
        t = 0.5 if span == 0 else (x - self.lo) / span
        return self.a + t * (self.b - self.a)


@dataclass(frozen=True)
class Frame:
    """The plotting area of one chart: canvas size, inner box, and the two scales."""

    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    x: Scale
    y: Scale


def extent(values: Sequence[float]) -> tuple[float, float]:
    """``(min, max)`` of finite values, widened around a single value; ``(0, 1)`` when empty."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if lo == hi:
        pad = abs(lo) * 0.1 or 0.5
        return lo - pad, hi + pad
    return lo, hi


def _nice_step(span: float, target: int) -> float:
    raw = span / max(target, 1)
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick positions (1, 2, 2.5 or 5 times a power of ten) covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    step = _nice_step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + step * 1e-9:
        ticks.append(round(k * step, 12))
        k += 1
    return ticks


def nice_domain(lo: float, hi: float, target: int = 5) -> tuple[float, float]:
    """``[lo, hi]`` widened outwards to the nearest nice tick on each side."""
    if hi <= lo:
        lo, hi = extent([lo, hi])
    step = _nice_step(hi - lo, target)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step


def tick_formatter(ticks: Sequence[float], percent: bool = False) -> Formatter:
    """A label function with the fewest decimals that show every tick exactly."""
    scale = 100.0 if percent else 1.0
    decimals = next((d for d in range(7) if all(abs(round(t * scale, d) - t * scale) < 1e-9 for t in ticks)), 6)
    suffix = "%" if percent else ""

    def fmt(x: float) -> str:
        v = x * scale
        if abs(v) < 1e-12:
            v = 0.0
        return f"{v:,.{decimals}f}{suffix}".replace("-", "\u2212")

    return fmt


def make_frame(
    x_domain: tuple[float, float],
    y_domain: tuple[float, float],
    *,
    width: int = 640,
    height: int = 360,
    margin: tuple[float, float, float, float] = (40, 30, 52, 66),
) -> Frame:
    """A frame with ``margin`` = (top, right, bottom, left) in pixels around the plot box."""
    top, right, bottom, left = margin
    x = Scale(x_domain[0], x_domain[1], left, width - right)
    y = Scale(y_domain[0], y_domain[1], height - bottom, top)
    return Frame(width, height, left, top, width - right, height - bottom, x, y)


def svg_open(plot_id: str, title: str, frame: Frame) -> str:
    """The opening ``<svg>`` tag (scales with its container) and its accessible title."""
    return (f'<svg class="chart" id="svg-{esc(plot_id)}" viewBox="0 0 {frame.width} {frame.height}" '
            f'preserveAspectRatio="xMidYMid meet" role="img" aria-labelledby="t-{esc(plot_id)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title id="t-{esc(plot_id)}">{esc(title)}</title>')


def svg_close() -> str:
    return "</svg>"


def axes(
    frame: Frame,
    x_ticks: Sequence[float],
    y_ticks: Sequence[float],
    *,
    x_label: str,
    y_label: str,
    x_fmt: Formatter | None = None,
    y_fmt: Formatter | None = None,
) -> str:
    """Grid lines, tick marks and labels, the two axis lines and the axis titles."""
    xf = x_fmt or tick_formatter(x_ticks)
    yf = y_fmt or tick_formatter(y_ticks)
    parts = ['<g class="axes">']
    for t in y_ticks:
        y = frame.y(t)
        parts.append(f'<line class="grid" x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{frame.left - 8:.1f}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{esc(yf(t))}</text>")
    for t in x_ticks:
        x = frame.x(t)
        parts.append(f'<line class="tickmark" x1="{x:.1f}" x2="{x:.1f}" y1="{frame.bottom:.1f}" '
                     f'y2="{frame.bottom + 5:.1f}"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{frame.bottom + 19:.1f}" text-anchor="middle">'
                     f"{esc(xf(t))}</text>")
    parts.append(f'<line class="axis" x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{frame.bottom:.1f}" '
                 f'y2="{frame.bottom:.1f}"/>')
    parts.append(f'<line class="axis" x1="{frame.left:.1f}" x2="{frame.left:.1f}" y1="{frame.top:.1f}" '
                 f'y2="{frame.bottom:.1f}"/>')
    cx = (frame.left + frame.right) / 2
    parts.append(f'<text class="axis-label" x="{cx:.1f}" y="{frame.height - 10:.1f}" text-anchor="middle">'
                 f"{esc(x_label)}</text>")
    cy = (frame.top + frame.bottom) / 2
    parts.append(f'<text class="axis-label" transform="translate(16 {cy:.1f}) rotate(-90)" '
                 f'text-anchor="middle">{esc(y_label)}</text>')
    parts.append("</g>")
    return "".join(parts)


def legend(frame: Frame, items: Sequence[tuple[str, str, str]]) -> str:
    """A one-row legend above the plot box; items are ``(label, colour, kind)``, kind line|box|dot|dash."""
    parts = ['<g class="legend">']
    x = frame.left
    y = frame.top - 20
    for label, colour, kind in items:
        if kind == "box":
            parts.append(f'<rect x="{x:.1f}" y="{y - 6:.1f}" width="14" height="10" fill="{colour}" '
                         f'fill-opacity="0.6" stroke="{colour}"/>')
        elif kind == "dot":
            parts.append(f'<circle cx="{x + 7:.1f}" cy="{y - 1:.1f}" r="4" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="5 4"' if kind == "dash" else ""
            parts.append(f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y - 1:.1f}" y2="{y - 1:.1f}" '
                         f'stroke="{colour}" stroke-width="2.5"{dash}/>')
        parts.append(f'<text class="legend-text" x="{x + 24:.1f}" y="{y + 3:.1f}">{esc(label)}</text>')
        x += 34 + 7.2 * len(label)
    parts.append("</g>")
    return "".join(parts)
