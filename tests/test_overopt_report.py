"""The report's over-optimization section: plots, table, verdict, escaping, and the standalone study page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rewardlab.overopt.analysis import aggregate_members, analyse, verdict
from rewardlab.overopt.bon import log_spaced_ns
from rewardlab.report import render_report_html
from rewardlab.report.page import render_study_page
from test_report_rundir import SCRIPT, full_run


def study_dict() -> dict:
    rng = np.random.default_rng(0)
    gold = [rng.normal(size=80) for _ in range(20)]
    members = [[g + rng.normal(0, 1.0, size=80) + 0.8 * (np.arange(80) % 7) for g in gold] for _ in range(3)]
    ns = log_spaced_ns(80, 10)
    findings = {f"member-0 {SCRIPT}": analyse("member-0", members[0], gold, ns, bootstrap=30)}
    for rule in ("mean", "min"):
        findings[f"ensemble:{rule}"] = analyse(rule, aggregate_members(members, rule), gold, ns, bootstrap=30)
    primary = "ensemble:mean"
    return json.loads(json.dumps({
        "format_version": 1, "primary": primary, "verdict": verdict(findings[primary]),
        "candidates": {"source": "synth", "prompts": 20, "n_max": 80},
        "scorers": {k: f.to_dict() for k, f in findings.items()},
        "scaling": [{"budget": 250, "noise": 1.0, "alpha": 0.5, "beta": 0.2, "fit_d_peak": None, "peak_n": 4,
                     "gold_at_peak": 1.1, "gold_lost": 0.3}],
        "iterate": [{"round": 0, "policy_labels": 0, "gold_at_max_n": 0.8, "peak_n": 6, "gold_at_peak": 1.2,
                     "gold_lost": 0.4}],
        "early_stopping": {"budgets": {"50": {"line": f"with 50 gold spot checks {SCRIPT}"}}}}, default=float))


def test_a_run_with_a_study_gets_the_over_optimization_section(tmp_path: Path) -> None:
    run = full_run(tmp_path / "run")
    (run / "overopt.json").write_text(json.dumps(study_dict()))
    page = render_report_html(run)
    assert 'id="overopt"' in page and 'data-plot="overopt-primary"' in page and 'data-plot="overopt-rules"' in page
    assert "ensemble:min" in page and "gold lost (95% CI)" in page
    assert "Scaling: label budget and noise" in page and "Iterated reward-model updates" in page
    assert "with 50 gold spot checks" in page
    assert SCRIPT not in page and "&lt;script&gt;" in page
    assert '<a href="#overopt">' in page


def test_a_run_without_a_study_says_how_to_get_one(tmp_path: Path) -> None:
    page = render_report_html(full_run(tmp_path / "run"))
    assert "Not available: overopt.json" in page and "rewardlab overopt MODEL_DIR" in page


def test_the_standalone_study_page_has_the_section_and_no_scripts(tmp_path: Path) -> None:
    page = render_study_page(tmp_path, study_dict())
    assert 'data-plot="overopt-primary"' in page and "Content-Security-Policy" in page
    assert SCRIPT not in page
