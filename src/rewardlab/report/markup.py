"""Small HTML building blocks shared by the report sections: escaping, numbers, badges, tables.

Every piece of text that can come from data (prompts, responses, names, notes) goes through
:func:`esc`; numbers go through :func:`num` so that ``None``, ``NaN`` and non-numbers read as
"n/a" instead of crashing the page or printing ``nan%``.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from rewardlab.digits import decimals_for as _decimals

__all__ = [
    "NA",
    "arr",
    "badge",
    "duration",
    "esc",
    "figure",
    "fixed",
    "kv_table",
    "num",
    "obj",
    "objs",
    "pct",
    "section",
    "signed",
    "table",
    "unavailable",
]

NA = '<span class="na">n/a</span>'


def esc(value: Any) -> str:
    """``value`` as text that is safe inside HTML elements and quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def num(value: Any) -> float | None:
    """A finite float, or ``None`` for missing, NaN, infinite, boolean or non-numeric values.

    Strings that spell a number are accepted: ``json.dumps(..., default=str)`` writes some
    numeric types that way.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (absent or malformed sections read as empty)."""
    return value if isinstance(value, dict) else {}


def arr(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one (a hand-edited string is not a list of letters)."""
    return list(value) if isinstance(value, list | tuple) else []


def objs(value: Any) -> list[dict[str, Any]]:
    """The JSON objects in ``value`` if it is an array; anything else in it is skipped."""
    return [v for v in arr(value) if isinstance(v, dict)]


def pct(value: Any, digits: int = 1) -> str:
    """``0.724`` -> ``72.4%``; n/a when not a finite number."""
    x = num(value)
    return NA if x is None else f"{100 * x:.{digits}f}%"


def fixed(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals (integers without), or n/a."""
    x = num(value)
    if x is None:
        return NA
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{x:,.{digits}f}"


def decimals_for(scale: Any, significant: int = 3) -> int:
    """:func:`rewardlab.digits.decimals_for` of a JSON value (3 when it is not a number)."""
    return _decimals(num(scale), significant)


def signed(value: Any, digits: int = 3) -> str:
    """A number with an explicit sign (``+0.120``, ``−0.300``), or n/a."""
    x = num(value)
    if x is None:
        return NA
    text = f"{x:+.{digits}f}"
    return text.replace("-", "\u2212")


def duration(seconds: Any) -> str:
    """``754.2`` -> ``12 min 34 s``; n/a when not a number."""
    x = num(seconds)
    if x is None:
        return NA
    if x < 60:
        return f"{x:.1f} s"
    minutes, secs = divmod(round(x), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def badge(text: str, level: str, title: str | None = None) -> str:
    """A coloured pill; ``level`` picks the colour (a CSS class ``badge-<level>``)."""
    tip = f' title="{esc(title)}"' if title else ""
    return f'<span class="badge badge-{esc(level)}"{tip}>{esc(text)}</span>'


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    cls: str = "",
    row_classes: Sequence[str] | None = None,
) -> str:
    """A table from already-rendered cell HTML; ``numeric`` column indices are right-aligned.

    Header strings are escaped here; cells are not (they are built with :func:`esc`).
    """
    right = set(numeric)

    def cell(tag: str, i: int, content: str) -> str:
        align = ' class="num"' if i in right else ""
        return f"<{tag}{align}>{content}</{tag}>"

    head = "".join(cell("th", i, esc(h)) for i, h in enumerate(headers))
    body = []
    for k, row in enumerate(rows):
        rc = f' class="{esc(row_classes[k])}"' if row_classes and row_classes[k] else ""
        body.append(f"<tr{rc}>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>")
    extra = f" {esc(cls)}" if cls else ""
    return (f'<div class="table-wrap"><table class="data{extra}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def kv_table(rows: Iterable[Sequence[str]]) -> str:
    """A two-column table of (label, value HTML) without a header row; labels are escaped here."""
    body = "".join(f'<tr><td>{esc(k)}</td><td class="num">{v}</td></tr>' for k, v in rows)
    return f'<div class="table-wrap"><table class="data compact kv"><tbody>{body}</tbody></table></div>'


def unavailable(what: str, why: str) -> str:
    """The note shown in place of a section whose input is missing: what is absent, and how to get it."""
    why_html = re.sub(r"`([^`<>]+)`", r"<code>\1</code>", esc(why))  # `command` spans read as code
    return f'<p class="unavailable"><strong>Not available: {esc(what)}.</strong> {why_html}</p>'


def section(section_id: str, title: str, body: str, *, intro: str = "") -> str:
    """One report section (a card with a heading); ``intro`` and ``body`` are HTML."""
    lead = f'<p class="intro">{intro}</p>' if intro else ""
    return f'<section class="card" id="{esc(section_id)}"><h2>{esc(title)}</h2>{lead}{body}</section>'


def figure(plot_id: str, svg: str, caption: str) -> str:
    """A plot with a stable ``data-plot`` name (tests and readers find plots by it); ``caption`` is HTML."""
    return (f'<figure class="plot" data-plot="{esc(plot_id)}" id="plot-{esc(plot_id)}">{svg}'
            f"<figcaption>{caption}</figcaption></figure>")
