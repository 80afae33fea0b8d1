"""Report sections about the model itself: the verdict, training, rewards, calibration, length.

Each function turns the parsed data of one section into HTML and nothing else; a section
whose input is missing says so (and how to get it) instead of disappearing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rewardlab import rundir
from rewardlab.eval.verdict import BANDS, INVERTED, UNCERTAIN, verdict
from rewardlab.report.axes import PALETTE
from rewardlab.report.markup import (
    NA,
    badge,
    decimals_for,
    esc,
    figure,
    fixed,
    kv_table,
    num,
    obj,
    objs,
    pct,
    section,
    signed,
    table,
    unavailable,
)
from rewardlab.report.summary import (
    accuracy_ci,
    band_range,
    calibration_phrase,
    ci_text,
    flagged_probes,
    verdict_of,
)
from rewardlab.report.svg import Series, histogram, line_chart, reliability_diagram, scatter, stride

__all__ = [
    "breakdown_section",
    "calibration_section",
    "ema",
    "headline_section",
    "length_section",
    "rewards_section",
    "training_section",
]

CHOSEN, REJECTED = PALETTE[0], PALETTE[3]
TRAIN, EVAL = PALETTE[0], PALETTE[1]
SCATTER_MAX = 1500  # points drawn per side; the binned means use all of them
LADDER_LO = 0.5  # the verdict ladder starts at chance


def _ladder(acc: float | None, gold: float | None, ceiling: float | None) -> str:
    """The verdict bands as a horizontal bar from 50% to 100%, with markers for the key accuracies."""

    def left(x: float) -> float:
        return 100 * min(max((x - LADDER_LO) / (1 - LADDER_LO), 0.0), 1.0)

    segs = []
    upper = 1.0
    for threshold, name in BANDS:
        lo = max(threshold, LADDER_LO)
        segs.append(f'<div class="seg seg-{name}" style="left:{left(lo):.2f}%;width:{left(upper) - left(lo):.2f}%" '
                    f'title="{esc(name)}: {esc(band_range(name))}"><span>{esc(name)}</span></div>')
        upper = threshold
    marks, keys = [], []
    for value, cls, label in ((ceiling, "ceiling", "label noise ceiling"), (gold, "gold", "accuracy vs gold"),
                              (acc, "model", "accuracy vs labels")):
        if value is not None:
            marks.append(f'<div class="pin pin-{cls}" style="left:{left(value):.2f}%" '
                         f'title="{esc(label)}: {100 * value:.1f}%"></div>')
            keys.append(f'<span class="key key-{cls}"><i></i>{esc(label)} {100 * value:.1f}%</span>')
    ticks = "".join(f'<span style="left:{left(t):.2f}%">{100 * t:.0f}%</span>'
                    for t in (0.5, *sorted(t for t, _ in BANDS if t > LADDER_LO), 1.0))
    return (f'<div class="ladder" aria-label="verdict bands">{"".join(segs)}{"".join(marks)}</div>'
            f'<div class="ladder-ticks">{ticks}</div><div class="ladder-keys">{"".join(reversed(keys))}</div>')


def _verdict_html(ev: dict[str, Any], band: str | None) -> str:
    """The band's badge and range, or "uncertain"/"inverted" with what they mean, then the 95% interval."""
    if band is None:
        return badge("NO VERDICT", "none")
    ci = accuracy_ci(ev)
    if band == UNCERTAIN and ci is not None:
        what = f"between {verdict(ci[0])} and {verdict(ci[1])}: too few pairs to tell"
    elif band == UNCERTAIN:
        what = "not in one band: too few pairs to tell"
    elif band == INVERTED:
        what = "the model prefers the rejected responses"
    else:
        what = f"{band_range(band)} band"
    interval = f'<div class="ci">{esc(ci_text(ci))} (clustered by prompt)</div>' if ci else ""
    return f'{badge(band.upper(), band)} <span class="band-range">{esc(what)}</span>{interval}'


def _tile(label: str, value: str, note: str = "") -> str:
    sub = f'<div class="tile-note">{note}</div>' if note else ""
    return (f'<div class="tile"><div class="tile-label">{esc(label)}</div><div class="tile-value">{value}</div>'
            f"{sub}</div>")


def _audit_tile(audit: dict[str, Any] | None) -> str:
    if audit is None:
        return _tile("Audit probes", NA, "not run")
    flagged = flagged_probes(audit)
    probes = objs(audit.get("probes"))
    order = ["none", "low", "medium", "high"]
    worst = max((str(p.get("severity")) for p in probes if p.get("severity") in order), key=order.index,
                default="none")
    value = badge(f"{len(flagged)} flagged", worst if flagged else "none")
    return _tile("Audit probes", value, f"of {len(probes)} probes")


def _suite_tile(suite: dict[str, Any] | None) -> str:
    if suite is None:
        return _tile("Behaviour suite", NA, "not run")
    failed, rate = num(suite.get("n_failed")), num(suite.get("pass_rate"))
    level = "pass" if failed == 0 else "fail"
    note = f"{int(failed)} of {int(num(suite.get('n_checks')) or 0)} failed" if failed is not None else ""
    return _tile("Behaviour suite", badge(f"{100 * rate:.1f}% pass" if rate is not None else "n/a", level), esc(note))


def headline_section(metrics: dict[str, Any], audit: dict[str, Any] | None, suite: dict[str, Any] | None,
                     summary: str) -> str:
    """The verdict box: accuracy and its band, gold and ceiling, key numbers, the summary paragraph."""
    ev = obj(metrics.get("eval"))
    acc = num(ev.get("accuracy"))
    band = verdict_of(ev)
    gold_stats = obj(ev.get("gold"))
    gold = num(gold_stats.get("accuracy"))
    ceiling = obj(ev.get("noise_ceiling"))
    bayes = num(ceiling.get("bayes_accuracy"))
    big = pct(acc) if acc is not None else "n/a"
    verdict_html = _verdict_html(ev, band)
    tiles = []
    if gold is not None:
        gold_ci = ci_text(accuracy_ci(gold_stats))
        tiles.append(_tile("Accuracy vs gold", pct(gold), f"{int(num(gold_stats.get('n')) or 0):,} pairs with gold"
                           + (f"; {esc(gold_ci)}" if gold_ci else "")))
    if bayes is not None:
        agree = num(ceiling.get("label_gold_agreement"))
        tiles.append(_tile("Label noise ceiling", pct(bayes),
                           f"labels agree with gold {pct(agree)}" if agree is not None else ""))
    ece, after, temp = num(ev.get("ece")), num(ev.get("ece_calibrated")), num(ev.get("temperature"))
    if ece is not None:
        helps = after is not None and after < ece and not ev.get("temperature_at_bound")
        value = f"{ece:.3f} → {fixed(after)}" if helps else f"{ece:.3f}"
        how = f"T = {fixed(temp, 2)}" if helps else "temperature scaling does not help"
        tiles.append(_tile("Calibration (ECE)", value, f"{esc(calibration_phrase(ece, temp))}; {how}"))
    data_ties, model_ties = int(num(ev.get("n_data_ties")) or 0), int(num(ev.get("model_ties")) or 0)
    ties = f"{data_ties} data ties left out, {model_ties} model ties"
    tiles.append(_tile("Held-out pairs", fixed(ev.get("n_pairs")), ties))
    tiles += [_audit_tile(audit), _suite_tile(suite)]
    return (f'<section class="headline verdict-{esc(band or "none")}" id="verdict">'
            f'<div class="verdict-main"><div class="kicker">Held-out accuracy vs labels</div>'
            f'<div class="big">{big}</div><div class="verdict-line">{verdict_html}</div></div>'
            f'<div class="verdict-side">{_ladder(acc, gold, bayes)}</div>'
            f'<div class="tiles">{"".join(tiles)}</div>'
            f'<p class="summary" id="summary">{esc(summary)}</p></section>')


def ema(values: Sequence[float | None], alpha: float) -> list[float | None]:
    """Bias-corrected exponential moving average (as TensorBoard smooths curves); gaps stay gaps."""
    out: list[float | None] = []
    avg, weight = 0.0, 0.0
    for v in values:
        x = num(v)
        if x is None:
            out.append(None)
            continue
        avg = (1 - alpha) * avg + alpha * x
        weight = (1 - alpha) * weight + alpha
        out.append(avg / weight)
    return out


def _curve(rows: list[dict[str, Any]], key: str, name: str, colour: str, *, markers: bool = False) -> list[Series]:
    pts = [(float(r["step"]), num(r.get(key))) for r in rows if num(r.get("step")) is not None and key in r]
    if not pts:
        return []
    if markers:
        return [Series(name, pts, colour, "both")]
    if len(pts) <= 30:
        return [Series(name, pts, colour)]
    smooth = ema([y for _, y in pts], max(2 / (len(pts) / 10 + 1), 0.05))
    return [Series(f"{name} (raw)", pts, colour, "faint"),
            Series(f"{name} (smoothed)", [(x, s) for (x, _), s in zip(pts, smooth)], colour)]


def training_section(history: list[dict[str, Any]] | None, why: str) -> str:
    """Loss and accuracy against optimizer step, for the training batches and the periodic eval."""
    title = "Training curves"
    if history is None:
        return section("training", title, unavailable(rundir.HISTORY, why))
    if not history:
        return section("training", title, unavailable("training curves", "train_history.jsonl has no lines."))
    has_eval = any("eval_loss" in h or "eval_accuracy" in h for h in history)
    loss = _curve(history, "loss", "train loss", TRAIN) + _curve(history, "eval_loss", "eval loss", EVAL, markers=True)
    acc = (_curve(history, "accuracy", "train accuracy", TRAIN)
           + _curve(history, "eval_accuracy", "eval accuracy", EVAL, markers=True))
    note = "" if has_eval else " No eval lines in the history: set train.eval_every > 0 to get eval curves."
    n_train = sum(1 for h in history if "loss" in h)
    figs = [
        figure("training-loss", line_chart("training-loss", "Loss against step", loss, x_label="step",
                                           y_label="loss"),
               f"Loss per logged step ({n_train} train points; long runs are smoothed, raw values faint).{esc(note)}"),
        figure("training-accuracy", line_chart("training-accuracy", "Pairwise accuracy against step", acc,
                                               x_label="step", y_label="accuracy", y_percent=True,
                                               y_domain=(0.0, 1.0), hlines=[(0.5, "chance")]),
               "Fraction of pairs in the batch (train) or eval subset (eval) ranked the right way."),
    ]
    return section("training", title, f'<div class="grid">{"".join(figs)}</div>')


def _reward_table(reward: dict[str, Any]) -> str:
    digits = decimals_for(max((num(reward.get(k)) or 0.0 for k in ("chosen_std", "rejected_std")), default=0.0))
    rows = [["chosen", signed(reward.get("chosen_mean"), digits), fixed(reward.get("chosen_std"), digits)],
            ["rejected", signed(reward.get("rejected_mean"), digits), fixed(reward.get("rejected_std"), digits)]]
    cm, rm = num(reward.get("chosen_mean")), num(reward.get("rejected_mean"))
    cs, rs = num(reward.get("chosen_std")), num(reward.get("rejected_std"))
    sep = ""
    if None not in (cm, rm, cs, rs) and ((cs or 0) ** 2 + (rs or 0) ** 2) > 0:
        d = ((cm or 0) - (rm or 0)) / (((cs or 0) ** 2 + (rs or 0) ** 2) / 2) ** 0.5
        sep = (f'<p class="note">Separation (difference of means over the pooled standard deviation): '
               f"<strong>{d:.2f}</strong>.</p>")
    return table(["side", "mean reward", "std"], rows, numeric=[1, 2], cls="compact") + sep


def rewards_section(scores: list[dict[str, Any]] | None, ev: dict[str, Any], why: str) -> str:
    """Histograms of chosen and rejected rewards and of their differences, with the summary statistics."""
    title = "Reward distributions"
    stats = _reward_table(obj(ev.get("reward")))
    if scores is None:
        return section("rewards", title, stats + unavailable("per-pair reward plots", why))
    judged = [s for s in scores if not s.get("tie")]
    chosen = [v for v in (num(s.get("chosen")) for s in judged) if v is not None]
    rejected = [v for v in (num(s.get("rejected")) for s in judged) if v is not None]
    diffs = [c - r for c, r in ((num(s.get("chosen")), num(s.get("rejected"))) for s in judged)
             if c is not None and r is not None]
    left_out = len(scores) - len(judged)
    ties = f" {left_out} pairs labelled as ties are left out." if left_out else ""
    right = sum(1 for d in diffs if d > 0)
    figs = [
        figure("reward-distributions",
               histogram("reward-distributions", "Rewards of chosen and rejected responses",
                         [("chosen", chosen, CHOSEN), ("rejected", rejected, REJECTED)], x_label="reward",
                         y_label="responses"),
               f"Held-out rewards of the chosen and the rejected response of each pair; dashed lines are the means."
               f"{esc(ties)}"),
        figure("reward-margins",
               histogram("reward-margins", "Reward difference chosen minus rejected",
                         [("r_chosen − r_rejected", diffs, PALETTE[2])], x_label="reward difference",
                         y_label="pairs", vlines=[(0.0, "0: right of this line the pair is ranked correctly")]),
               f"Per-pair reward difference; {right} of {len(diffs)} pairs lie right of zero (ranked correctly)."),
    ]
    return section("rewards", title, f'<div class="grid">{"".join(figs)}</div>{stats}')


def calibration_section(ev: dict[str, Any]) -> str:
    """The reliability diagram and ECE before and after temperature scaling."""
    title = "Calibration"
    bins = objs(ev.get("reliability"))
    ece, after, temp = ev.get("ece"), ev.get("ece_calibrated"), ev.get("temperature")
    rows = [["ECE, raw rewards (15 bins)", fixed(ece)], ["ECE after temperature scaling (cross-fitted)", fixed(after)],
            ["temperature T", fixed(temp, 2)]]
    bound = ev.get("temperature_at_bound")
    if bound:
        rows.append(["note", esc(f"T is at its {bound} search bound: a limit, not a measured temperature")])
    elif num(after) is not None and num(ece) is not None and (num(after) or 0) >= (num(ece) or 0):
        rows.append(["note", "temperature scaling does not lower the ECE here: use the raw rewards"])
    facts = kv_table(rows)
    intro = ("The model's preference probability is p = σ((r_chosen − r_rejected) / T). Bars show how often the "
             "preferred response is the chosen one among pairs at each confidence; bars below the diagonal mean "
             "overconfidence. T > 1 shrinks overconfident differences.")
    if not bins:
        body = unavailable("reliability diagram", "metrics.json has no eval.reliability bins; "
                           "re-run `rewardlab train` (or `rewardlab eval --json`) with this version.")
        return section("calibration", title, body + facts, intro=esc(intro))
    n = sum(int(num(b.get("count")) or 0) for b in bins)
    fig = figure("reliability", reliability_diagram("reliability", "Reliability diagram (raw rewards, T = 1)", bins),
                 f"Reliability of the raw rewards over {n:,} pairs; the number in each bar is its pair count.")
    return section("calibration", title, f'<div class="grid">{fig}<div>{facts}</div></div>', intro=esc(intro))


def _bar(value: Any, ci: Any = None) -> str:
    x = num(value)
    if x is None:
        return NA
    interval = accuracy_ci({"ci95": ci})
    tail = (f'<br><small class="ci" title="95% interval, clustered by prompt">{100 * interval[0]:.1f}–'
            f'{100 * interval[1]:.1f}%</small>' if interval else "")
    return (f'<span class="nowrap"><span class="meter"><span class="meter-fill" '
            f'style="width:{100 * min(max(x, 0), 1):.1f}%"></span></span> {pct(x)}</span>{tail}')


def breakdown_section(ev: dict[str, Any]) -> str:
    """Accuracy per subset, per annotator strength and per margin tercile."""
    parts = []
    for key, label, title in (("by_subset", "subset", "subset"), ("by_strength", "strength", "preference strength"),
                              ("by_margin", "margin", "margin")):
        rows = obj(ev.get(key))
        if not rows:
            continue
        gold = any("gold_accuracy" in r for r in rows.values() if isinstance(r, dict))
        head = [label, "pairs", "accuracy (95% CI)", *(["gold acc."] if gold else []), "ties"]
        body = []
        for name, r in rows.items():
            r = obj(r)
            body.append([esc(name), fixed(r.get("n")), _bar(r.get("accuracy"), r.get("ci95")),
                         *([_bar(r.get("gold_accuracy"), r.get("gold_ci95"))] if gold else []),
                         fixed(r.get("model_ties"))])
        parts.append(f"<div><h3>By {esc(title)}</h3>" + table(head, body, numeric=[1, len(head) - 1]) + "</div>")
    if not parts:
        parts.append(unavailable("breakdowns", "the held-out pairs carry no subset, strength or margin fields."))
    return section("breakdowns", "Accuracy by subset", f'<div class="grid">{"".join(parts)}</div>')


def _length_table(length: dict[str, Any]) -> str:
    sev = length.get("severity")
    rows = [
        ["Pearson r (reward, words)", signed(length.get("pearson"), 2)],
        ["Spearman ρ (reward, words)", signed(length.get("spearman"), 2)],
        ["Pearson r within pairs (Δ reward, Δ words)", signed(length.get("pair_pearson"), 2)],
        ["accuracy when chosen is longer", f"{pct(length.get('acc_chosen_longer'))} "
                                            f"<small>(n={fixed(length.get('n_chosen_longer'))})</small>"],
        ["accuracy when chosen is shorter", f"{pct(length.get('acc_chosen_shorter'))} "
                                             f"<small>(n={fixed(length.get('n_chosen_shorter'))})</small>"],
        ["pairs of equal length", fixed(length.get("n_equal"))],
        ["accuracy gap (longer − shorter)", _points(length.get("gap"))],
        ["severity", _length_badge(sev, length.get("prefers"))],
    ]
    return "<h3>Length bias (audit)</h3>" + kv_table(rows)


def _length_badge(severity: Any, prefers: Any) -> str:
    if not isinstance(severity, str):
        return NA
    label = f"{severity} · prefers {prefers}" if prefers in ("longer", "shorter") else severity
    return badge(label, severity)


def _points(value: Any) -> str:
    x = num(value)
    return NA if x is None else f"{100 * x:+.1f} pts".replace("-", "\u2212")


def length_section(scores: list[dict[str, Any]] | None, audit: dict[str, Any] | None, why_scores: str,
                   why_audit: str) -> str:
    """Reward against response length in words for both sides, and the audit's length statistics."""
    title = "Reward vs length"
    parts = []
    if scores is None:
        parts.append(unavailable("reward-vs-length plot", why_scores))
    else:
        groups = []
        for side, colour in (("chosen", CHOSEN), ("rejected", REJECTED)):
            pts = [(w, r) for w, r in ((num(s.get(f"{side}_words")), num(s.get(side))) for s in scores)
                   if w is not None and r is not None]
            groups.append((side, pts, colour))
        n = max(len(g[1]) for g in groups)
        every = stride(n, SCATTER_MAX)
        thinned = f" Every {every}th point is drawn ({SCATTER_MAX:,} per side at most); the means use all." \
            if every > 1 else ""
        parts.append(figure("reward-vs-length",
                            scatter("reward-vs-length", "Reward against response length", groups, x_label="words",
                                    y_label="reward", max_points=SCATTER_MAX),
                            "Each held-out response's reward against its length; lines are means over ten "
                            f"equal-count length bins.{esc(thinned)}"))
    length = obj(audit).get("length")
    if isinstance(length, dict):
        parts.append(f"<div>{_length_table(length)}</div>")
    else:
        why = why_audit if audit is None else "audit.json has no length entry."
        parts.append(f"<div>{unavailable('length-bias statistics', why)}</div>")
    return section("length", title, f'<div class="grid">{"".join(parts)}</div>')
