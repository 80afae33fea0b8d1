"""The report's one-paragraph summary, written from the numbers alone.

Plain sentences in a fixed order: accuracy and its band, gold accuracy against the label
noise ceiling, calibration, audit findings (flagged probes, length bias) and suite failures.
Anything absent is left out or said to be absent, never guessed.
"""

from __future__ import annotations

from typing import Any

from rewardlab.audit.severity import MIN_CLUSTERS
from rewardlab.eval.verdict import INVERTED, UNCERTAIN, VERDICTS, band_range, verdict
from rewardlab.report.markup import arr, num, obj, objs

__all__ = ["accuracy_ci", "band_range", "calibration_phrase", "ci_text", "flagged_probes", "summary_paragraph",
           "verdict_of", "verdict_phrase"]

ECE_GOOD, ECE_FAIR = 0.03, 0.08  # below: well calibrated; below: somewhat miscalibrated; else poorly


def verdict_of(ev: dict[str, Any]) -> str | None:
    """The recorded verdict (a band, ``uncertain`` or ``inverted``), or the band of the recorded
    accuracy for files written before verdicts had intervals; ``None`` without an accuracy."""
    acc = num(ev.get("accuracy"))
    if acc is None:
        return None
    recorded = ev.get("verdict")
    return recorded if isinstance(recorded, str) and recorded in VERDICTS else verdict(acc)


def accuracy_ci(ev: dict[str, Any]) -> tuple[float, float] | None:
    """The recorded 95% interval of an accuracy (``ci95`` or ``accuracy_ci95``), if it is two numbers."""
    ci = ev.get("accuracy_ci95", ev.get("ci95"))
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        low, high = num(ci[0]), num(ci[1])
        if low is not None and high is not None:
            return low, high
    return None


def ci_text(ci: tuple[float, float] | None) -> str:
    """``95% CI 72.1–77.9%``, or empty without an interval."""
    return "" if ci is None else f"95% CI {100 * ci[0]:.1f}–{100 * ci[1]:.1f}%"


def verdict_phrase(ev: dict[str, Any]) -> str:
    """How the verdict reads in a sentence: ``in the solid band (75–80%)``, ``between the usable and
    solid bands: too few pairs to tell``, ``inverted: ...``."""
    name = verdict_of(ev)
    ci = accuracy_ci(ev)
    if name == INVERTED:
        return "significantly below chance: the model is inverted, it prefers the rejected responses"
    if name == UNCERTAIN and ci is not None:
        low, high = verdict(ci[0]), verdict(ci[1])
        return f"between the {low} and {high} bands: {int(num(ev.get('n_pairs')) or 0):,} pairs are too few to tell"
    if name == UNCERTAIN:
        return "not in one band: too few pairs to tell"
    return f"in the {name} band ({band_range(str(name))})"


def _p(x: float) -> str:
    return f"{100 * x:.1f}%"


def _accuracy_sentences(ev: dict[str, Any]) -> list[str]:
    acc = num(ev.get("accuracy"))
    band = verdict_of(ev)
    if acc is None or band is None:
        return ["No held-out accuracy was recorded, so this run has no verdict."]
    n = num(ev.get("n_pairs"))
    on = f"On {int(n):,} held-out pairs the" if n is not None else "The"
    ci = ci_text(accuracy_ci(ev))
    out = [f"{on} model gives the chosen response the higher reward {_p(acc)} of the time"
           f"{f' ({ci})' if ci else ''}, which is {verdict_phrase(ev)}."]
    gold = num(obj(ev.get("gold")).get("accuracy"))
    ceiling = obj(ev.get("noise_ceiling"))
    bayes, agree = num(ceiling.get("bayes_accuracy")), num(ceiling.get("label_gold_agreement"))
    if gold is not None:
        text = f"Against the gold order it is right {_p(gold)} of the time"
        out.append(text + ("." if bayes is None else ";"))
    if bayes is not None:
        gap = 100 * (bayes - acc)
        where = ("level with that ceiling" if abs(gap) < 1 else
                 f"{gap:.1f} points below that ceiling" if gap > 0 else f"{-gap:.1f} points above that ceiling")
        labels = f"the labels agree with gold {_p(agree)} of the time and " if agree is not None else ""
        sentence = (f"{labels}the best accuracy a model can expect against these noisy labels is {_p(bayes)}, "
                    f"so it is {where}.")
        out.append(sentence if gold is not None else sentence[0].upper() + sentence[1:])
    return out


def calibration_phrase(ece: float, temperature: float | None) -> str:
    """``well calibrated``, ``somewhat miscalibrated (overconfident)`` and so on."""
    quality = "well calibrated" if ece < ECE_GOOD else "somewhat miscalibrated" if ece < ECE_FAIR else \
        "poorly calibrated"
    if temperature is None or quality == "well calibrated":
        return quality
    if temperature > 1.1:
        return f"{quality} (overconfident)"
    if temperature < 0.9:
        return f"{quality} (underconfident)"
    return quality


def _calibration_sentence(ev: dict[str, Any]) -> list[str]:
    ece, after, t = num(ev.get("ece")), num(ev.get("ece_calibrated")), num(ev.get("temperature"))
    if ece is None:
        return []
    text = f"Its preference probabilities are {calibration_phrase(ece, t)}, with ECE {ece:.3f}"
    if ev.get("temperature_at_bound") and t is not None:
        text += (f"; temperature scaling hit its {ev['temperature_at_bound']} bound (T = {t:.2f}), so it says "
                 "nothing reliable")
    elif after is not None and t is not None:
        if after < ece:
            text += f"; dividing reward differences by a temperature of {t:.2f} lowers it to {after:.3f}"
        else:
            text += f"; a temperature of {t:.2f} does not lower it ({after:.3f})"
    return [text + "."]


def _audit_sentences(audit: dict[str, Any]) -> list[str]:
    probes = objs(audit.get("probes"))
    flagged = flagged_probes(audit)
    by_name = {str(p.get("name")): p for p in probes}
    out = []
    if flagged:
        named = [f"{f} ({by_name[f].get('severity')}, {by_name[f].get('direction')})" for f in flagged]
        out.append(f"The audit flagged {len(flagged)} of {len(probes)} probes: {', '.join(named)}.")
    elif probes:
        out.append(f"None of the {len(probes)} audit probes was flagged.")
    k = num(audit.get("n_prompts"))
    if k is not None and k < MIN_CLUSTERS:
        out.append(f"The audit saw only {int(k)} distinct prompt{'' if k == 1 else 's'}, too few for any "
                   f"verdict (it needs {MIN_CLUSTERS}).")
    penalised = [str(p.get("name")) for p in probes if p.get("direction") == "penalised"]
    if penalised:
        out.append(f"The reward drops under {', '.join(penalised)}.")
    out += _length_sentences(obj(audit.get("length")))
    return out


def _length_sentences(length: dict[str, Any]) -> list[str]:
    severity = length.get("severity")
    if not isinstance(severity, str):
        return []
    prefers = length.get("prefers")
    text = f"Length bias is {severity}"
    if prefers in ("longer", "shorter"):
        text += f": the reward favours {prefers} responses"
    rho = num(length.get("spearman"))
    if rho is not None:
        text += f" (Spearman correlation of reward with length {rho:+.2f})"
    longer, shorter = num(length.get("acc_chosen_longer")), num(length.get("acc_chosen_shorter"))
    if severity != "none" and longer is not None and shorter is not None:
        text += (f"; accuracy is {_p(longer)} when the chosen response is the longer one and "
                 f"{_p(shorter)} when it is the shorter")
    out = [text + "."]
    if severity in ("medium", "high") and prefers == "shorter":
        out.append("A policy optimized against it can gain reward by answering tersely or refusing.")
    elif severity in ("medium", "high") and prefers == "longer":
        out.append("A policy optimized against it can gain reward by padding its answers.")
    return out


def flagged_probes(audit: dict[str, Any]) -> list[str]:
    """Names in ``audit["flagged"]`` that are probes (the audit also lists ``"length"`` there)."""
    names = {str(p.get("name")) for p in objs(audit.get("probes"))}
    return [str(f) for f in arr(audit.get("flagged")) if str(f) in names]


def _suite_sentence(suite: dict[str, Any]) -> list[str]:
    n, failed = num(suite.get("n_checks")), num(suite.get("n_failed"))
    if n is None or failed is None:
        return []
    name = suite.get("suite")
    text = f"The {name} suite" if isinstance(name, str) and name else "The behaviour suite"
    text += f" passed {int(n - failed)} of {int(n)} checks"
    ids = [str(f.get("id")) for f in objs(suite.get("failures"))]
    if ids:
        shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        text += f"; failed: {shown}"
    return [text + "."]


def summary_paragraph(metrics: dict[str, Any], audit: dict[str, Any] | None, suite: dict[str, Any] | None) -> str:
    """One plain-text paragraph summarising the run (the page escapes it)."""
    ev = obj(metrics.get("eval"))
    sentences = _accuracy_sentences(ev) + _calibration_sentence(ev)
    if audit is not None:
        sentences += _audit_sentences(audit)
    if suite is not None:
        sentences += _suite_sentence(suite)
    absent = [what for what, value in (("audit", audit), ("behaviour-suite", suite)) if value is None]
    if absent:
        sentences.append(f"No {' or '.join(absent)} results are in this run directory.")
    return " ".join(sentences)
