"""After a run's evaluation: per-pair scores, bias probes, a suite and the HTML report.

Part of the pipeline, above eval, audit and report (the layers of docs/architecture.md). Every file it
writes is one the report reads: ``eval_scores.jsonl``, ``audit.json``, ``suite.json``,
``report.html``. Each step is switched by the run's ``audit`` config section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rewardlab import rundir
from rewardlab.audit import AuditReport, render_audit, run_probes, word_count
from rewardlab.errors import RewardLabError
from rewardlab.eval import ScoredPair
from rewardlab.eval.suite_run import SuiteResult, render_suite, run_suite
from rewardlab.eval.suites import resolve_suite
from rewardlab.models.loading import BoundScorer, Scorer
from rewardlab.train import RunConfig

__all__ = ["audit_run", "check_suite", "evaluate_suite", "suite_spec", "write_eval_scores"]


def write_eval_scores(pairs: Sequence[ScoredPair], path: Path) -> None:
    """One JSON line per held-out pair: both rewards, both word counts, subset, tie."""
    rows = [{"chosen": p.chosen, "rejected": p.rejected, "chosen_words": word_count(p.record.chosen),
             "rejected_words": word_count(p.record.rejected), "subset": p.record.subset, "tie": p.record.tie}
            for p in pairs]
    rundir.write_jsonl(path, rows)


def suite_spec(cfg: RunConfig) -> str | None:
    """The suite a run checks: ``audit.suite``, with ``auto`` = the synthetic world's suite on synth data."""
    spec = cfg.audit.suite
    if spec == "auto":
        return "builtin:synth" if cfg.data.train == "synth" and cfg.data.eval in (None, "synth") else None
    return None if spec is None or spec.lower() in ("", "none", "off") else spec


def check_suite(cfg: RunConfig) -> None:
    """Load the run's suite now, so a bad ``audit.suite`` fails before training, not after it."""
    spec = suite_spec(cfg)
    if spec:
        resolve_suite(spec)


def audit_run(
    cfg: RunConfig, run_dir: str | Path, model: Scorer, pairs: Sequence[ScoredPair], *, precision: str,
    log: Callable[[str], Any] = print,
) -> tuple[AuditReport | None, SuiteResult | None, Path | None]:
    """Write the held-out scores, the audit, the suite result and the report into ``run_dir``.

    Training and evaluation are already saved when this runs, so a step that fails here is
    logged with how to rerun it and the others still run: a finished run is never lost to it.
    """
    run = Path(run_dir)
    audit = suite = page = None
    with _step("held-out scores", log, "rewardlab eval RUN/model DATA --json out.json"):
        write_eval_scores(pairs, run / rundir.EVAL_SCORES)
    scorer = BoundScorer(model, precision=precision)
    if cfg.audit.probes:
        with _step("audit", log, "rewardlab audit RUN/model DATA --json RUN/audit.json"):
            audit = run_probes(scorer, [p.record for p in pairs], batch_size=cfg.eval.batch_size,
                               max_pairs=cfg.audit.max_pairs, seed=cfg.data.split_seed)
            rundir.write_json(run / rundir.AUDIT, audit.to_dict())
            log(render_audit(audit))
    spec = suite_spec(cfg)
    if spec:
        with _step("suite", log, f"rewardlab eval RUN/model --suite {spec}"):
            suite = _run_suite(model, spec, precision, cfg.eval.batch_size, run / rundir.SUITE, log)
    if cfg.audit.report:
        with _step("report", log, "rewardlab report RUN"):
            from rewardlab.report import write_report

            page = write_report(run)
            log(f"report: {page}")
    return audit, suite, page


def evaluate_suite(model: Scorer, spec: str, *, precision: str, batch_size: int) -> SuiteResult:
    """Run a suite on the model's normalized rewards when it has statistics (threshold checks assume them).

    ``rewardlab eval --suite`` and a run's suite step both call this, so they give the same result.
    """
    options = {"normalize": True} if model.metadata.get("normalization") else {}
    return run_suite(BoundScorer(model, precision=precision), resolve_suite(spec), batch_size=batch_size,
                     score_options=options)


def _run_suite(model: Scorer, spec: str, precision: str, batch_size: int, out: Path,
               log: Callable[[str], Any]) -> SuiteResult:
    """The run's suite step: evaluate the suite, write ``suite.json`` and log the table."""
    normalized = bool(model.metadata.get("normalization"))
    suite = evaluate_suite(model, spec, precision=precision, batch_size=batch_size)
    rundir.write_json(out, {**suite.to_dict(), "normalized": normalized})
    log(render_suite(suite))
    if not normalized and any(r.score_b is None for r in suite.results):
        log("note: threshold checks compared raw rewards (the model has no saved normalization statistics)")
    return suite


@contextmanager
def _step(name: str, log: Callable[[str], Any], rerun: str) -> Iterator[None]:
    """Run one post-training step; a rewardlab or file error is logged (with how to rerun) instead of raised."""
    try:
        yield
    except (RewardLabError, OSError) as exc:
        log(f"{name} failed: {exc}. The trained model and metrics are saved; rerun it with `{rerun}`.")
