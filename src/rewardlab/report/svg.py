"""Inline SVG charts for the HTML report, in pure Python (no plotting library).

Four kinds: a multi-series line chart, overlaid histograms, a reliability diagram and a
scatter plot with a binned-mean line. Each returns one ``<svg>`` string with axes, ticks,
axis titles, a legend and a ``<title>`` tooltip on every mark, so the report stays one
self-contained file that reads the same offline. Non-finite values are skipped (a line
breaks where they are) rather than drawn at zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewardlab.report.axes import (
    PALETTE,
    Frame,
    axes,
    extent,
    legend,
    make_frame,
    nice_domain,
    nice_ticks,
    svg_close,
    svg_open,
    tick_formatter,
)
from rewardlab.report.markup import esc, num

__all__ = ["Series", "histogram", "line_chart", "reliability_diagram", "scatter", "stride"]

MAX_HOVER_POINTS = 400  # per series: invisible hover targets (tooltips) beyond this are thinned
MAX_VISIBLE_MARKERS = 60  # a line-and-markers series with more points is drawn as a plain line


@dataclass(frozen=True)
class Series:
    """One named series of ``(x, y)`` points; ``y`` may be ``None``/NaN (a gap)."""

    name: str
    points: Sequence[tuple[float, float | None]]
    color: str = PALETTE[0]
    style: str = "line"  # line | markers | both (line and markers) | faint (thin and light, under a smoothed one)
    dashed: bool = False


def stride(n: int, max_points: int) -> int:
    """Keep every ``stride``-th of ``n`` points so that at most ``max_points`` are drawn."""
    return max(1, math.ceil(n / max_points)) if max_points > 0 else 1


def _no_data(frame: Frame, message: str = "no data") -> str:
    cx, cy = (frame.left + frame.right) / 2, (frame.top + frame.bottom) / 2
    return f'<text class="no-data" x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle">{esc(message)}</text>'


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Split at missing or non-finite values so a line never bridges a gap."""
    out: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        fx, fy = num(x), num(y)
        if fx is None or fy is None:
            if out[-1]:
                out.append([])
            continue
        out[-1].append((fx, fy))
    return [s for s in out if s]


def _path(frame: Frame, pts: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{frame.x(x):.1f},{frame.y(y):.1f}" for i, (x, y) in enumerate(pts))


def _ref_lines(frame: Frame, hlines: Sequence[tuple[float, str]]) -> str:
    parts = []
    for y, label in hlines:
        if frame.y.hi >= y >= frame.y.lo:
            py = frame.y(y)
            parts.append(f'<line class="ref" x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{py:.1f}" '
                         f'y2="{py:.1f}"><title>{esc(label)}</title></line>')
            parts.append(f'<text class="ref-text" x="{frame.right - 4:.1f}" y="{py - 5:.1f}" '
                         f'text-anchor="end">{esc(label)}</text>')
    return "".join(parts)


def line_chart(
    plot_id: str,
    title: str,
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    y_percent: bool = False,
    y_domain: tuple[float, float] | None = None,
    hlines: Sequence[tuple[float, str]] = (),
) -> str:
    """Several series against a shared x axis (for example loss against optimizer step)."""
    segs = {s.name: _segments(s.points) for s in series}
    xs = [x for ss in segs.values() for seg in ss for x, _ in seg]
    ys = [y for ss in segs.values() for seg in ss for _, y in seg]
    x_dom = nice_domain(*extent(xs))
    y_dom = y_domain or nice_domain(*extent(ys))
    frame = make_frame(x_dom, y_dom)
    xt, yt = nice_ticks(*x_dom, target=6), nice_ticks(*y_dom)
    yf = tick_formatter(yt, percent=y_percent)
    parts = [svg_open(plot_id, title, frame),
             axes(frame, xt, yt, x_label=x_label, y_label=y_label, y_fmt=yf), _ref_lines(frame, hlines)]
    if not xs:
        parts.append(_no_data(frame))
    items = []
    value = tick_formatter([0, 0.001], percent=True) if y_percent else (lambda v: f"{v:.4g}")
    for s in series:
        if not segs[s.name]:
            continue
        width = {"faint": 1.0, "markers": 0.0}.get(s.style, 2.2)
        opacity = 0.35 if s.style == "faint" else 1.0
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        n = sum(len(seg) for seg in segs[s.name])
        parts.append(f'<g class="series" data-series="{esc(s.name)}"><title>{esc(s.name)}: {n} points</title>')
        if width:
            for seg in segs[s.name]:
                parts.append(f'<path d="{_path(frame, seg)}" fill="none" stroke="{s.color}" stroke-width="{width}" '
                             f'stroke-opacity="{opacity}" stroke-linejoin="round"{dash}/>')
        every = stride(n, MAX_HOVER_POINTS)
        flat = [p for seg in segs[s.name] for p in seg]
        visible = s.style == "markers" or (s.style == "both" and n <= MAX_VISIBLE_MARKERS)
        radius, cls, fill = (3.5, "mark", s.color) if visible else (5.0, "hit", "transparent")
        for x, y in flat[::every]:
            parts.append(f'<circle class="{cls}" cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="{radius}" '
                         f'fill="{fill}"><title>{esc(s.name)} · {esc(x_label)} {x:,.6g}: {esc(value(y))}</title>'
                         "</circle>")
        parts.append("</g>")
        if s.style != "faint":
            items.append((s.name, s.color, "dot" if s.style == "markers" else ("dash" if s.dashed else "line")))
    parts += [legend(frame, items), svg_close()]
    return "".join(parts)


def _bin_edges(values: Sequence[float], bins: int | None) -> list[float]:
    lo, hi = extent(values)
    k = bins or min(40, max(10, round(math.sqrt(len(values)))))
    return [lo + (hi - lo) * i / k for i in range(k + 1)]


def _counts(values: Sequence[float], edges: Sequence[float]) -> list[int]:
    k = len(edges) - 1
    counts = [0] * k
    lo, hi = edges[0], edges[-1]
    for v in values:
        i = k - 1 if v >= hi else int((v - lo) / (hi - lo) * k) if hi > lo else 0
        counts[min(max(i, 0), k - 1)] += 1
    return counts


def histogram(
    plot_id: str,
    title: str,
    groups: Sequence[tuple[str, Sequence[float], str]],
    *,
    x_label: str,
    y_label: str = "count",
    bins: int | None = None,
    vlines: Sequence[tuple[float, str]] = (),
) -> str:
    """Overlaid histograms of ``(name, values, colour)`` groups on shared bins, with each group's mean."""
    clean = [(name, [v for v in (num(x) for x in vals) if v is not None], c) for name, vals, c in groups]
    every = [v for _, vals, _ in clean for v in vals]
    edges = _bin_edges(every, bins)
    counts = {name: _counts(vals, edges) for name, vals, _ in clean}
    top = max((max(c) for c in counts.values() if c), default=1) or 1
    frame = make_frame((edges[0], edges[-1]), nice_domain(0, top))
    xt = nice_ticks(edges[0], edges[-1], target=7)
    yt = nice_ticks(*nice_domain(0, top))
    parts = [svg_open(plot_id, title, frame), axes(frame, xt, yt, x_label=x_label, y_label=y_label)]
    if not every:
        parts.append(_no_data(frame))
    xf = tick_formatter(xt)
    items = []
    for name, vals, colour in clean:
        parts.append(f'<g class="series" data-series="{esc(name)}">')
        outline = []
        for i, c in enumerate(counts[name]):
            x0, x1, y = frame.x(edges[i]), frame.x(edges[i + 1]), frame.y(c)
            outline.append(f"{'M' if i == 0 else 'L'}{x0:.1f},{y:.1f} L{x1:.1f},{y:.1f}")
            if c:
                parts.append(f'<rect class="bar" x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
                             f'height="{frame.bottom - y:.1f}" fill="{colour}" fill-opacity="0.38">'
                             f"<title>{esc(name)}: {c} of {len(vals)} in [{edges[i]:.3g}, {edges[i + 1]:.3g})"
                             "</title></rect>")
        parts.append(f'<path d="{" ".join(outline)}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
        if vals:
            mean = sum(vals) / len(vals)
            mx = frame.x(mean)
            parts.append(f'<line class="mean" x1="{mx:.1f}" x2="{mx:.1f}" y1="{frame.top:.1f}" y2="{frame.bottom:.1f}" '
                         f'stroke="{colour}" stroke-width="2" stroke-dasharray="5 4">'
                         f"<title>{esc(name)} mean {esc(xf(mean))} ({mean:.4g})</title></line>")
        parts.append("</g>")
        items.append((f"{name} (n={len(vals)})", colour, "box"))
    for x, label in vlines:
        if edges[0] <= x <= edges[-1]:
            px = frame.x(x)
            parts.append(f'<line class="ref" x1="{px:.1f}" x2="{px:.1f}" y1="{frame.top:.1f}" y2="{frame.bottom:.1f}">'
                         f"<title>{esc(label)}</title></line>")
    items.append(("mean", "#555", "dash"))
    parts += [legend(frame, items), svg_close()]
    return "".join(parts)


def reliability_diagram(plot_id: str, title: str, bins: Sequence[Mapping[str, Any]]) -> str:
    """Accuracy per confidence bin as bars, the diagonal of perfect calibration, and the bin counts.

    ``bins`` are ``{"lo", "hi", "count", "confidence", "accuracy"}`` as
    :func:`rewardlab.eval.calibration.reliability_bins` writes them; empty bins are skipped.
    """
    used = [b for b in bins if (num(b.get("count")) or 0) > 0 and num(b.get("accuracy")) is not None
            and num(b.get("lo")) is not None and num(b.get("hi")) is not None]
    lo = 0.5  # confidence max(p, 1 − p) is never below 50%; a bin straddling 50% is drawn from 50%
    frame = make_frame((lo, 1.0), (0.0, 1.0))
    xt = nice_ticks(lo, 1.0, target=6)
    yt = nice_ticks(0.0, 1.0)
    pf = tick_formatter(yt, percent=True)
    parts = [svg_open(plot_id, title, frame),
             axes(frame, xt, yt, x_label="confidence max(p, 1 − p)", y_label="accuracy",
                  x_fmt=tick_formatter(xt, percent=True), y_fmt=pf)]
    if not used:
        parts.append(_no_data(frame, "no reliability bins"))
    total = sum(int(num(b["count"]) or 0) for b in used) or 1
    for b in used:
        blo, bhi, acc = num(b["lo"]) or 0.0, num(b["hi"]) or 0.0, num(b["accuracy"]) or 0.0
        conf, count = num(b.get("confidence")), int(num(b["count"]) or 0)
        x0, x1 = frame.x(max(blo, lo)), frame.x(bhi)
        y = frame.y(acc)
        tip = (f"confidence {100 * blo:.1f}–{100 * bhi:.1f}%: {count} pairs ({100 * count / total:.1f}%), "
               f"accuracy {100 * acc:.1f}%" + (f", mean confidence {100 * conf:.1f}%" if conf is not None else ""))
        parts.append(f'<g class="bin"><title>{esc(tip)}</title>'
                     f'<rect class="bar" x="{x0 + 1:.1f}" y="{y:.1f}" width="{max(x1 - x0 - 2, 1):.1f}" '
                     f'height="{frame.bottom - y:.1f}" fill="{PALETTE[0]}" fill-opacity="0.75"/>')
        if conf is not None:
            cy = frame.y(conf)
            parts.append(f'<line x1="{x0 + 1:.1f}" x2="{x1 - 1:.1f}" y1="{cy:.1f}" y2="{cy:.1f}" '
                         f'stroke="{PALETTE[3]}" stroke-width="2.5"/>')
        inside = frame.bottom - y > 22  # the count sits inside the bar's foot when the bar is tall enough
        ty, cls = (frame.bottom - 7, "count") if inside else (y - 5, "count above")
        parts.append(f'<text class="{cls}" x="{(x0 + x1) / 2:.1f}" y="{ty:.1f}" text-anchor="middle">'
                     f"{count}</text></g>")
    parts.append(f'<line class="diag" x1="{frame.x(lo):.1f}" y1="{frame.y(lo):.1f}" x2="{frame.x(1):.1f}" '
                 f'y2="{frame.y(1):.1f}" stroke="#333" stroke-width="1.5" stroke-dasharray="6 4">'
                 "<title>perfect calibration: accuracy = confidence</title></line>")
    parts.append(legend(frame, [("accuracy in bin (with pair count)", PALETTE[0], "box"),
                                ("mean confidence", PALETTE[3], "line"), ("perfect calibration", "#333", "dash")]))
    parts.append(svg_close())
    return "".join(parts)


def _binned_means(points: Sequence[tuple[float, float]], n_bins: int) -> list[tuple[float, float, int, float, float]]:
    """Equal-count bins along x: ``(mean x, mean y, n, x min, x max)`` per bin."""
    pts = sorted(points)
    if not pts:
        return []
    k = min(n_bins, len(pts))
    out = []
    for i in range(k):
        chunk = pts[i * len(pts) // k:(i + 1) * len(pts) // k]
        if chunk:
            xs, ys = [p[0] for p in chunk], [p[1] for p in chunk]
            out.append((sum(xs) / len(xs), sum(ys) / len(ys), len(chunk), xs[0], xs[-1]))
    return out


def scatter(
    plot_id: str,
    title: str,
    groups: Sequence[tuple[str, Sequence[tuple[float, float]], str]],
    *,
    x_label: str,
    y_label: str,
    binned_mean: bool = True,
    n_bins: int = 10,
    max_points: int = 1500,
) -> str:
    """Points of each ``(name, points, colour)`` group, thinned to ``max_points`` each for drawing.

    The binned-mean line (equal-count bins along x) always uses every point.
    """
    clean = [(name, [(fx, fy) for fx, fy in ((num(x), num(y)) for x, y in pts) if fx is not None and fy is not None],
              c) for name, pts, c in groups]
    allp = [p for _, pts, _ in clean for p in pts]
    x_dom = nice_domain(*extent([p[0] for p in allp]))
    y_dom = nice_domain(*extent([p[1] for p in allp]))
    frame = make_frame(x_dom, y_dom)
    xt, yt = nice_ticks(*x_dom, target=6), nice_ticks(*y_dom)
    parts = [svg_open(plot_id, title, frame), axes(frame, xt, yt, x_label=x_label, y_label=y_label)]
    if not allp:
        parts.append(_no_data(frame))
    items = []
    for name, pts, colour in clean:
        every = stride(len(pts), max_points)
        parts.append(f'<g class="series" data-series="{esc(name)}">')
        for x, y in pts[::every]:
            parts.append(f'<circle class="pt" cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="2.6" fill="{colour}" '
                         f'fill-opacity="0.35"><title>{esc(name)} · {x:g} {esc(x_label)} · {esc(y_label)} '
                         f"{y:.3f}</title></circle>")
        parts.append("</g>")
        items.append((name, colour, "dot"))
    if binned_mean:
        for name, pts, colour in clean:
            means = _binned_means(pts, n_bins)
            if len(means) < 2:
                continue
            parts.append(f'<g class="binned" data-series="{esc(name)} mean"><path d="'
                         f'{_path(frame, [(m[0], m[1]) for m in means])}" fill="none" stroke="{colour}" '
                         'stroke-width="2.5"/>')
            for mx, my, n, x0, x1 in means:
                parts.append(f'<circle cx="{frame.x(mx):.1f}" cy="{frame.y(my):.1f}" r="4.5" fill="#fff" '
                             f'stroke="{colour}" stroke-width="2"><title>{esc(name)} · {x0:g}–{x1:g} '
                             f"{esc(x_label)}: mean {esc(y_label)} {my:.3f} (n={n})</title></circle>")
            parts.append("</g>")
            items.append((f"{name} binned mean", colour, "line"))
    parts += [legend(frame, items), svg_close()]
    return "".join(parts)
