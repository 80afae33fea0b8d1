"""Report sections for the checks run against a trained model: audit probes and the behaviour suite.

Probe and suite texts (prompts, responses, notes) come from data and are always escaped.
"""

from __future__ import annotations

from typing import Any

from rewardlab import rundir
from rewardlab.report.markup import (
    NA,
    arr,
    badge,
    decimals_for,
    esc,
    fixed,
    num,
    obj,
    objs,
    pct,
    section,
    signed,
    table,
    unavailable,
)

__all__ = ["RAW_REWARDS_NOTE", "probes_section", "suite_section"]

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "none": 3}
FAILURES_SHOWN = 12  # failed checks listed openly; the rest sit in a collapsed block below them
DIRECTION = {"rewarded": "↑ rewarded", "penalised": "↓ penalised", "neutral": "– neutral"}
#: Shown when suite.json says ``"normalized": false`` (the run writer records it; absent: nothing is said),
#: unless its checks are listed and none is a threshold check.
RAW_REWARDS_NOTE = "Threshold checks compared raw rewards: the model has no saved normalization statistics."


def _text(value: Any) -> str:
    """A block of data text: escaped, whitespace kept, scrollable when long."""
    return f'<div class="text">{esc(value)}</div>' if value not in (None, "") else NA


def _ci(ci: Any, digits: int) -> str:
    """``[low, high]``; a ``null`` bound is unbounded (the audit writes one when it has a single prompt)."""
    bounds = arr(ci)
    if len(bounds) != 2 or any(b is not None and num(b) is None for b in bounds):
        return ""
    low = "\u2212∞" if bounds[0] is None else signed(bounds[0], digits)
    high = "+∞" if bounds[1] is None else signed(bounds[1], digits)
    tip = ' title="unbounded: too few prompts to estimate the spread"' if None in bounds else ""
    return f'<small class="ci"{tip}>[{low}, {high}]</small>'


def _severity(value: Any) -> str:
    return badge(value, value) if isinstance(value, str) and value in SEVERITY_ORDER else NA


def _probe_row(p: dict[str, Any], digits: int) -> list[str]:
    flips = f'<span class="nowrap">{pct(p.get("base_flip_rate"))} → {pct(p.get("flip_rate"))}</span>'
    desc = p.get("description")
    return [
        f'<strong>{esc(p.get("name"))}</strong>' + (f'<div class="desc">{esc(desc)}</div>' if desc else ""),
        _severity(p.get("severity")),
        f'<span class="nowrap">{esc(DIRECTION.get(str(p.get("direction")), p.get("direction") or ""))}</span>',
        f"{signed(p.get('mean_delta'), digits)} {_ci(p.get('ci95'), digits)}",
        signed(p.get("effect"), 2),
        flips,
        esc(p.get("side") or ""),
        fixed(p.get("n")),
    ]


def _examples(p: dict[str, Any], digits: int) -> str:
    examples = objs(p.get("examples"))
    if not examples:
        return ""
    items = []
    for e in examples:
        items.append(f'<div class="example"><div class="ex-prompt"><span class="ex-label">prompt</span>'
                     f'{_text(e.get("prompt"))}</div><div class="ex-pair">'
                     f'<div><span class="ex-label">before</span>{_text(e.get("before"))}</div>'
                     f'<div><span class="ex-label">after</span>{_text(e.get("after"))}</div></div>'
                     f'<div class="ex-delta">Δ reward {signed(e.get("delta"), digits)}</div></div>')
    return (f'<details class="examples" data-probe="{esc(p.get("name"))}"><summary>{esc(p.get("name"))}: '
            f'{len(examples)} example{"s" if len(examples) != 1 else ""}</summary>{"".join(items)}</details>')


def probes_section(audit: dict[str, Any] | None, why: str) -> str:
    """The probe table (worst first) with severity badges, and each probe's examples, collapsed."""
    title = "Audit probes"
    if audit is None:
        return section("probes", title, unavailable(rundir.AUDIT, why))
    probes = objs(audit.get("probes"))
    flagged = {str(f) for f in arr(audit.get("flagged"))}
    intro = ("Each probe edits the worse response of held-out pairs in a way that should not make it better "
             "(side \"both\": the better one is edited too) and measures how the reward moves. Δ is the mean "
             "reward change (after − before) with its 95% interval; effect is Δ in standard deviations of the "
             "reward; \"worse wins\" is how often the worse response beats the better one before and after the "
             "edit. Only a rewarded change earns a severity: that is what a policy would exploit.")
    k = num(audit.get("n_prompts"))
    digits = decimals_for(audit.get("reward_std"))  # every reward number in the section on the reward's scale
    prompts = "" if k is None else f" of {fixed(audit.get('n_prompts'))} prompt{'' if k == 1 else 's'}"
    meta = (f'<p class="note">{fixed(audit.get("n_pairs"))} pairs{prompts} probed, '
            f'{fixed(audit.get("n_skipped_ties"))} ties skipped; reward std '
            f'{fixed(audit.get("reward_std"), digits)}.</p>')
    summary = audit.get("summary")
    said = f'<p class="audit-summary">{esc(summary)}</p>' if summary else ""
    if not probes:
        return section("probes", title, said + meta + unavailable("probe results", "audit.json lists no probes."),
                       intro=esc(intro))
    probes.sort(key=lambda p: (SEVERITY_ORDER.get(str(p.get("severity")), 4), -abs(num(p.get("effect")) or 0.0)))
    head = ["probe", "severity", "direction", "mean Δ reward [95% CI]", "effect (SD)", "worse wins", "side", "n"]
    rows = [_probe_row(p, digits) for p in probes]
    classes = ["flagged" if str(p.get("name")) in flagged else "" for p in probes]
    body = said + meta + table(head, rows, numeric=[3, 4, 5, 7], cls="probes", row_classes=classes)
    examples = "".join(_examples(p, digits) for p in probes)
    if examples:
        body += f'<h3>Examples</h3><div class="example-list">{examples}</div>'
    return section("probes", title, body, intro=esc(intro))


def _requirement(f: dict[str, Any]) -> str:
    if f.get("kind") == "pair":
        margin = num(f.get("margin"))
        need = f"A − B > {margin:g}" if margin else "A > B"
        a, b = num(f.get("score_a")), num(f.get("score_b"))
        got = f"<br><small>got A − B = {signed(a - b)}</small>" if a is not None and b is not None else ""
        return esc(need) + got
    lo, hi = num(f.get("min")), num(f.get("max"))
    if lo is not None and hi is not None:
        return esc(f"{lo:g} ≤ score ≤ {hi:g}")
    if lo is not None:
        return esc(f"score ≥ {lo:g}")
    if hi is not None:
        return esc(f"score ≤ {hi:g}")
    return NA


def _failure_row(f: dict[str, Any]) -> list[str]:
    tags = " ".join(badge(str(t), "tag") for t in arr(f.get("tags")))
    pair = f.get("kind") == "pair" or f.get("b") is not None
    responses = f'<span class="ex-label">{"A (better)" if pair else "A"}</span>{_text(f.get("a"))}'
    scores = f"A {signed(f.get('score_a'))}"
    if pair:
        responses += f'<span class="ex-label">B (worse)</span>{_text(f.get("b"))}'
        scores += f"<br>B {signed(f.get('score_b'))}"
    return [f'<code>{esc(f.get("id"))}</code><br><small>{esc(f.get("kind") or "")}</small>', _text(f.get("prompt")),
            responses, scores, _requirement(f), tags, esc(f.get("note") or "")]


def _tag_table(tags: Any) -> str:
    """Pass rate per tag, worst first."""
    if not isinstance(tags, dict):
        return ""
    stats = [(str(t), num(obj(v).get("n")) or 0, num(obj(v).get("passed")) or 0) for t, v in tags.items()]
    rows = []
    for tag, tn, tp in sorted(stats, key=lambda s: (s[2] / s[1] if s[1] else 1.0, s[0])):
        rate = tp / tn if tn else None
        meter = (f'<span class="nowrap"><span class="meter"><span class="meter-fill" '
                 f'style="width:{100 * (rate or 0):.1f}%"></span></span> {pct(rate)}</span>')
        rows.append([badge(tag, "tag"), f"{int(tn)}", f"{int(tp)}", meter])
    if not rows:
        return ""
    return "<h3>By tag</h3>" + table(["tag", "checks", "passed", "pass rate"], rows, numeric=[1, 2], cls="compact")


def _failure_tables(failures: list[dict[str, Any]]) -> str:
    """The first failed checks in a table, the rest in a collapsed one below it."""
    head = ["check", "prompt", "responses", "scores", "required", "tags", "note"]
    rows = [_failure_row(f) for f in failures]
    out = f"<h3>Failures ({len(rows)})</h3>" + table(head, rows[:FAILURES_SHOWN], numeric=[3], cls="failures")
    if len(rows) > FAILURES_SHOWN:
        out += (f'<details class="more-failures"><summary>{len(rows) - FAILURES_SHOWN} more failures</summary>'
                + table(head, rows[FAILURES_SHOWN:], numeric=[3], cls="failures") + "</details>")
    return out


def suite_section(suite: dict[str, Any] | None, why: str) -> str:
    """Pass rate, per-tag results and every failed check with its scores."""
    title = "Behaviour suite"
    if suite is None:
        return section("suite", title, unavailable(rundir.SUITE, why))
    n, failed = num(suite.get("n_checks")), num(suite.get("n_failed"))
    name = suite.get("suite") or "suite"
    source = f' <small>from {esc(suite.get("source"))}</small>' if suite.get("source") else ""
    verdict = badge("all passed", "pass") if failed == 0 else badge(f"{int(failed or 0)} failed", "fail")
    body = (f'<p class="suite-head"><strong>{esc(name)}</strong>{source}: {verdict} '
            f'pass rate <strong>{pct(suite.get("pass_rate"))}</strong> over {fixed(int(n) if n is not None else None)}'
            " checks.</p>")
    kinds = {c.get("kind") for c in objs(suite.get("checks"))}  # unknown (no list): say it
    if suite.get("normalized") is False and (not kinds or "threshold" in kinds):
        body += f'<p class="note suite-raw">{esc(RAW_REWARDS_NOTE)}</p>'
    body += _tag_table(suite.get("by_tag"))
    failures = objs(suite.get("failures"))
    if failures:
        body += _failure_tables(failures)
    elif failed:
        body += unavailable("failure details", "suite.json counts failures but lists none.")
    return section("suite", title, body)
