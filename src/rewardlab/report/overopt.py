"""The report's over-optimization section, drawn from ``overopt.json`` (``rewardlab overopt``, docs/overopt.md).

Two plots against d = √KL: the primary scorer's proxy and gold under best-of-n (with the
fitted gold curve and the KL-regularized policy's gold beside it), and the gold of every
scorer side by side (single model and conservative ensemble rules); then the table of
operating points and the verdict.
"""

from __future__ import annotations

import math
from typing import Any

from rewardlab import rundir
from rewardlab.report.axes import PALETTE
from rewardlab.report.markup import arr, badge, esc, figure, fixed, num, obj, section, table, unavailable
from rewardlab.report.svg import Series, line_chart

__all__ = ["overopt_section"]

TITLE = "Over-optimization"


def _points(xs: list[Any], ys: list[Any]) -> list[tuple[float, float | None]]:
    out: list[tuple[float, float | None]] = []
    for x, y in zip(xs, ys):
        xv, yv = num(x), num(y)
        if xv is not None:
            out.append((xv, yv))
    return out


def _fit_points(fit: dict[str, Any], d_max: float) -> list[tuple[float, float | None]]:
    alpha, beta = num(fit.get("alpha")), num(fit.get("beta"))
    if alpha is None or beta is None or d_max <= 0:
        return []
    xs = [d_max * k / 40 for k in range(41)]
    if fit.get("form") == "rl":
        return [(x, x * (alpha - beta * math.log(x)) if x > 0 else 0.0) for x in xs]
    return [(x, x * (alpha - beta * x)) for x in xs]


def _primary_figure(name: str, s: dict[str, Any]) -> str:
    bon, tilted = obj(s.get("best_of_n")), obj(s.get("tilted"))
    d, gold, proxy = arr(bon.get("d")), arr(bon.get("gold")), arr(bon.get("proxy"))
    base = num(gold[0]) if gold else None
    fit = obj(obj(s.get("fits")).get("best_of_n"))
    d_max = max((num(x) or 0.0 for x in d), default=0.0)
    fitted = [(x, (y + base) if y is not None and base is not None else None) for x, y in _fit_points(fit, d_max)]
    series = [
        Series("gold (best-of-n)", _points(d, gold), PALETTE[0], "both"),
        Series("proxy (best-of-n)", _points(d, proxy), PALETTE[1], "both", dashed=True),
        Series("gold fit d(α − βd)", fitted, PALETTE[0], "faint"),
        Series("gold (KL-regularized)", _points(arr(tilted.get("d")), arr(tilted.get("gold"))), PALETTE[2], "markers"),
    ]
    svg = line_chart("overopt-primary", f"{name}: proxy and gold against √KL", series, x_label="d = √KL (nats^½)",
                     y_label="expected score of the pick")
    return figure("overopt-primary", svg, f"Best-of-n against <strong>{esc(name)}</strong>: the proxy (dashed) "
                  "keeps rising as n grows; the gold (solid) is the true quality. Faint: Gao et al.'s fit. Dots: the "
                  "KL-regularized optimum over the same samples (what RL would reach at that KL).")


def _compare_figure(scorers: dict[str, Any]) -> str:
    series = []
    for k, (name, s) in enumerate(scorers.items()):
        bon = obj(obj(s).get("best_of_n"))
        series.append(Series(name, _points(arr(bon.get("d")), arr(bon.get("gold"))), PALETTE[k % len(PALETTE)], "both"))
    svg = line_chart("overopt-rules", "Gold of the best-of-n pick, per scorer", series, x_label="d = √KL (nats^½)",
                     y_label="gold")
    return figure("overopt-rules", svg, "The gold each scorer's best-of-n pick reaches: a conservative rule that "
                  "helps stays higher at large KL.")


def _rows(scorers: dict[str, Any]) -> str:
    rows = []
    for name, s in scorers.items():
        s = obj(s)
        bon, peak, fit = obj(s.get("best_of_n")), obj(s.get("peak")), obj(obj(s.get("fits")).get("best_of_n"))
        gold = arr(bon.get("gold"))
        band = arr(s.get("gold_lost_band"))
        lost = fixed(s.get("gold_lost"), 3) + (f" ({fixed(band[0], 2)}–{fixed(band[1], 2)})" if len(band) == 2 else "")
        d_peak = num(fit.get("d_peak"))
        fit_text = f"d* {d_peak:.2f}" if d_peak is not None else esc(str(fit.get("reason") or "none"))
        rows.append([esc(name), fixed(gold[0] if gold else None), esc(str(peak.get("n", ""))), fixed(peak.get("kl"), 2),
                     fixed(peak.get("gold")), fixed(s.get("gold_at_max_n")), lost,
                     badge("falls", "risky") if s.get("turns_down") else badge("holds", "solid"),
                     fixed(fit.get("r2"), 2), fit_text])
    return table(["scorer", "gold at n=1", "peak n", "KL at peak", "gold at peak", "gold at max n",
                  "gold lost (95% CI)", "past the peak", "fit R²", "fitted peak"], rows, numeric=range(1, 9))


def _d_star(row: dict[str, Any]) -> str:
    d = num(row.get("fit_d_peak"))
    return f"{d:.2f}" if d is not None else "none"


def _experiments(study: dict[str, Any]) -> str:
    parts = []
    scaling = [obj(r) for r in arr(study.get("scaling"))]
    if scaling:
        rows = [[esc(str(r.get("budget"))), fixed(r.get("noise"), 2), fixed(r.get("alpha")), fixed(r.get("beta")),
                 _d_star(r), esc(str(r.get("peak_n"))), fixed(r.get("gold_at_peak")), fixed(r.get("gold_lost"))]
                for r in scaling]
        parts.append("<h3>Scaling: label budget and noise</h3>" + table(
            ["pairs", "noise", "α", "β", "fitted d*", "peak n", "gold at peak", "gold lost"], rows,
            numeric=range(0, 8)))
    rounds = [obj(r) for r in arr(study.get("iterate"))]
    if rounds:
        rows = [[esc(str(r.get("round"))), esc(str(r.get("policy_labels"))), fixed(r.get("gold_at_max_n")),
                 esc(str(r.get("peak_n"))), fixed(r.get("gold_at_peak")), fixed(r.get("gold_lost"))] for r in rounds]
        parts.append("<h3>Iterated reward-model updates</h3>" + table(
            ["round", "labels of policy outputs", "gold at max n", "peak n", "gold at peak", "gold lost"], rows,
            numeric=range(0, 6)))
    stops = obj(obj(study.get("early_stopping")).get("budgets"))
    if stops:
        items = "".join(f"<li>{esc(str(obj(s).get('line', '')))}</li>" for s in stops.values())
        parts.append(f"<h3>Early stopping from gold spot checks</h3><ul>{items}</ul>")
    return "".join(parts)


def overopt_section(study: dict[str, Any] | None, why: str) -> str:
    """The section for ``overopt.json`` (or a note saying how to get one)."""
    if study is None:
        return section("overopt", TITLE, unavailable(rundir.OVEROPT, f"{why}. Run `rewardlab overopt MODEL_DIR` "
                                                     "to study how hard a policy can push on this model."))
    scorers = {k: obj(v) for k, v in obj(study.get("scorers")).items()}
    primary = str(study.get("primary") or next(iter(scorers), ""))
    verdict = obj(study.get("verdict"))
    if not scorers or primary not in scorers:
        return section("overopt", TITLE, unavailable("the study's curves", "overopt.json holds no scorers"))
    cands = obj(study.get("candidates"))
    intro = (f"Best-of-n against the proxy on {esc(str(cands.get('prompts', '?')))} prompts × up to "
             f"{esc(str(cands.get('n_max', '?')))} samples ({esc(str(cands.get('source', '?')))}); the gold is the "
             "true quality. Past the gold's peak, optimizing harder against this reward model makes real "
             "quality worse.")
    level = "risky" if verdict.get("over_optimizes") else "solid"
    budget = obj(verdict.get("kl_budget")).get("line")
    head = (f'<p class="verdict-line">{badge("verdict", level)} {esc(str(verdict.get("line", "")))}</p>'
            + (f'<p class="note">RL with a KL penalty: {esc(str(budget))}</p>' if budget else ""))
    figs = f'<div class="grid">{_primary_figure(primary, scorers[primary])}{_compare_figure(scorers)}</div>'
    return section("overopt", TITLE, head + figs + _rows(scorers) + _experiments(study), intro=intro)
