"""``rewardlab demo``: the whole loop on the synthetic world, and its verdict.

Writes the world into the run directory, trains and evaluates (with the audit, the suite and the
report, as ``train`` does), checks that plain transformers reproduces the exported model's
rewards, optionally runs a small over-optimization study, and sums it all up in a few lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab import rundir
from rewardlab.overopt.study import StudyResult
from rewardlab.pipeline.after_training import check_suite
from rewardlab.pipeline.training import RunOutcome
from rewardlab.train.config import RunConfig

__all__ = ["DemoOutcome", "demo_defaults", "render_verdict", "run_demo"]


def demo_defaults() -> dict[str, Any]:
    """The demo's embedded run config (``rewardlab/configs/demo.yaml``)."""
    from importlib import resources

    import yaml

    text = resources.files("rewardlab").joinpath("configs/demo.yaml").read_text()
    return dict(yaml.safe_load(text))


@dataclass
class DemoOutcome:
    """What the demo produced: the train-and-evaluate outcome, parity, the study, the wall time."""

    run: RunOutcome
    parity: float
    n_parity: int
    study: StudyResult | None  # None with --overopt-prompts 0
    seconds: float


def run_demo(cfg: RunConfig, out: Path, *, overwrite: bool = False, overopt_prompts: int = 30,
             log: Callable[[str], Any] = print) -> DemoOutcome:
    """Run the demo into ``out``, which must be empty or absent unless ``overwrite``."""
    from rewardlab.pipeline.parity import hf_parity
    from rewardlab.pipeline.training import train_and_evaluate
    from rewardlab.synth import generate_world, write_world

    rundir.prepare_run_dir(out, resume=False, overwrite=overwrite)
    check_suite(cfg)  # a bad audit.suite fails before anything is written
    t0 = time.perf_counter()
    log(f"rewardlab demo: a Bradley-Terry reward model on the synthetic preference world -> {out}\n")
    if overwrite:
        rundir.clear_owned(out)
    write_world(generate_world(cfg.synth), out / rundir.DATA)
    outcome = train_and_evaluate(cfg, out, keep=(rundir.DATA,), log=log)
    heldout = outcome.train.data.heldout[:16]
    inputs = [(r.prompt, r.chosen) for r in heldout] + [(r.prompt, r.rejected) for r in heldout]
    ours = outcome.train.model.score([p for p, _ in inputs], [x for _, x in inputs], precision="fp32")
    parity = hf_parity(outcome.train.model_dir, inputs, ours)
    study = _study(outcome.train.model_dir, out, cfg.synth.seed, overopt_prompts, log) if overopt_prompts else None
    return DemoOutcome(outcome, parity, len(inputs), study, time.perf_counter() - t0)


def _study(model_dir: Path, out: Path, seed: int, prompts: int, log: Callable[[str], Any]) -> StudyResult:
    """A small over-optimization study of the demo's model (fresh prompts x 300 samples), added to the report."""
    from rewardlab.overopt.config import OverOptConfig
    from rewardlab.overopt.study import run_study
    from rewardlab.report import write_report

    log(f"\nover-optimization: best-of-n against the new model on {prompts} fresh prompts x 300 samples")
    cfg = OverOptConfig(proxy=str(model_dir), n_prompts=prompts, n=300, seed=seed, points=16, bootstrap=100,
                        spot_checks=(50,))
    study = run_study(cfg, out, log=lambda m: log(f"  {m}"), progress=False)
    if (out / rundir.REPORT).exists():
        write_report(out)
    return study


def render_verdict(demo: DemoOutcome) -> str:
    """The demo's closing lines: accuracy with its interval and verdict, gold, ECE, audit, suite, study."""
    outcome, report = demo.run, demo.run.report
    lines = ["", "Verdict", "-------"]
    if report is not None:
        ceiling = report.noise_ceiling or {}
        low, high = report.accuracy_ci95 or (float("nan"), float("nan"))
        lines.append(f"  held-out accuracy vs annotators {100 * report.accuracy:.1f}% "
                     f"[95% CI {100 * low:.1f}–{100 * high:.1f}] "
                     f"(their noise ceiling {100 * ceiling.get('bayes_accuracy', float('nan')):.1f}%) -> "
                     f"{report.verdict_text or report.verdict}")
        if report.gold:
            g_low, g_high = report.gold.get("ci95", (float("nan"), float("nan")))
            lines.append(f"  accuracy vs the gold order     {100 * report.gold['accuracy']:.1f}% "
                         f"[95% CI {100 * g_low:.1f}–{100 * g_high:.1f}]")
        lines.append(f"  ECE                            {report.ece:.3f} (after temperature "
                     f"{report.ece_calibrated:.3f})")
    if outcome.audit is not None:
        lines.append(f"  biases flagged by the audit    {', '.join(outcome.audit.flagged) or 'none'} (audit.json)")
    if outcome.suite is not None:
        lines.append(f"  suite {outcome.suite.suite.name:<24} {100 * outcome.suite.pass_rate:.0f}% of "
                     f"{len(outcome.suite.results)} checks pass (suite.json)")
    if demo.study is not None:
        lines.append(f"  over-optimization              {demo.study.verdict['line']} (overopt.json)")
    lines.append(f"  plain transformers parity      max |Δreward| = {demo.parity:.2e} on {demo.n_parity} responses")
    lines.append(f"  model directory                {outcome.train.model_dir}")
    if outcome.page is not None:
        lines.append(f"  report                         {outcome.page}")
    lines.append(f"  total time                     {demo.seconds:.0f}s")
    return "\n".join(lines)
