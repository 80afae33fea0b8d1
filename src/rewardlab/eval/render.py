"""Plain-text rendering of an evaluation report for the terminal."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rewardlab.eval.evaluate import EvalReport
from rewardlab.eval.verdict import BANDS

BAND_NAMES = {name for _, name in BANDS}

__all__ = ["render_report", "render_sources"]


def _pct(x: float | None) -> str:
    return "  n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:5.1f}%"


def _ci(ci: Any) -> str:
    """``[72.1, 77.9]``: a 95% interval in percent, or blanks when there is none."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return " " * 12
    return f"[{100 * ci[0]:4.1f}, {100 * ci[1]:5.1f}]"


def _table(title: str, rows: dict[str, dict[str, Any]], gold: bool) -> list[str]:
    if not rows:
        return []
    width = max(len(title), *(len(k) for k in rows))
    head = f"  {title:<{width}}  {'pairs':>6}  {'acc':>6}  {'95% CI':^12}" + (
        f"  {'gold acc':>8}  {'95% CI':^12}" if gold else "")
    lines = [head]
    for name, r in rows.items():
        line = f"  {name:<{width}}  {r['n']:>6}  {_pct(r['accuracy']):>6}  {_ci(r.get('ci95'))}"
        if gold:
            line += f"  {_pct(r.get('gold_accuracy')):>8}  {_ci(r.get('gold_ci95'))}"
        lines.append(line.rstrip())
    return [*lines, ""]


def calibration_line(report: EvalReport) -> str:
    """ECE before and after temperature scaling, never presenting a worse calibration as an improvement."""
    head = f"  ECE (15 bins)        {report.ece:6.3f}   "
    bound = report.temperature_at_bound
    if bound is not None:
        what = ("the reward differences carry almost no signal" if bound == "upper"
                else "the reward differences are far too small for their accuracy")
        return (head + f"(temperature scaling hit its {bound} bound, T={report.temperature:.2f}: {what}; "
                f"{report.ece_calibrated:.3f} after it)")
    if not report.calibration_helps:
        return head + (f"(temperature scaling does not lower it: {report.ece_calibrated:.3f} after T="
                       f"{report.temperature:.2f}, cross-fitted; keep the raw rewards)")
    return head + f"-> {report.ece_calibrated:.3f} after temperature T={report.temperature:.2f} (cross-fitted)"


def render_report(report: EvalReport, title: str = "Held-out evaluation",
                  skipped: Mapping[str, int] | None = None) -> str:
    """A compact, aligned summary: verdict first, then breakdowns; ``skipped`` rows of the data by reason."""
    lines = [title, "=" * len(title)]
    verdict = report.verdict_text or report.verdict
    lines.append(f"  accuracy vs labels   {_pct(report.accuracy)}   95% CI {_ci(report.accuracy_ci95)}  "
                 f"({report.n_pairs} pairs; verdict: {verdict.upper() if verdict in BAND_NAMES else verdict})")
    if skipped:
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(skipped.items()))
        lines.append(f"  rows skipped         {sum(skipped.values()):6d}   (not evaluated: {reasons})")
    if report.noise_ceiling:
        c = report.noise_ceiling
        lines.append(f"  label noise ceiling  {_pct(c['bayes_accuracy'])}   (best expected accuracy against "
                     f"these labels; labels agree with gold {_pct(c['label_gold_agreement']).strip()})")
    if report.gold:
        lines.append(f"  accuracy vs gold     {_pct(report.gold['accuracy'])}   95% CI {_ci(report.gold.get('ci95'))}  "
                     f"({report.gold['n']} pairs with distinct gold utility)")
    lines.append(calibration_line(report))
    r = report.reward
    lines.append(f"  reward chosen        {r['chosen_mean']:+.3f} ± {r['chosen_std']:.3f}   "
                 f"rejected {r['rejected_mean']:+.3f} ± {r['rejected_std']:.3f}")
    if report.model_ties or report.n_data_ties:
        lines.append(f"  model ties (wrong)   {report.model_ties}   data ties left out: {report.n_data_ties}")
    lines.append("")
    gold = report.gold is not None
    lines += _table("subset", report.by_subset, gold)
    lines += _table("strength", report.by_strength, gold)
    lines += _table("margin", report.by_margin, gold)
    lines.append("Bands: <65% risky, 65-70% weak, >=70% usable, >=75% solid, >=80% excellent; a band is given only "
                 "when the 95% CI (clustered by prompt) lies inside it, and a CI wholly below 50% is 'inverted'.")
    return "\n".join(lines)


def render_sources(files: list[dict[str, Any]], total: EvalReport) -> str:
    """One line per evaluated source (its eval JSON) and the total: pairs, accuracy, 95% CI, verdict."""
    names = [str(f["data"]) for f in files]
    width = max(len("total"), *(len(n) for n in names))
    lines = ["Per source", "==========", f"  {'source':<{width}}  {'pairs':>6}  {'acc':>6}  {'95% CI':^12}  verdict"]
    rows = [(n, f) for n, f in zip(names, files)]
    rows.append(("total", total.to_dict()))
    for name, f in rows:
        verdict = f.get("verdict_text") or f.get("verdict") or ""
        lines.append(f"  {name:<{width}}  {f['n_pairs']:>6}  {_pct(f['accuracy']):>6}  {_ci(f.get('accuracy_ci95'))}"
                     f"  {verdict}")
    return "\n".join(lines)
