"""Read a run directory's result files for the HTML report.

``metrics.json`` is required: missing, unreadable (a directory, no permission, not UTF-8) or
malformed, it is a :class:`DataError`. Every other file is optional. A missing or unreadable
optional file is not an error: it is recorded in :attr:`RunFiles.problems` so the page can
say, in place of the section, what is absent and how to get it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardlab import rundir
from rewardlab.errors import DataError

__all__ = ["HOW_TO_GET", "RunFiles", "load_run"]

# What to do when an optional file is absent; shown in the page next to "not available".
HOW_TO_GET = {
    rundir.CONFIG: "`rewardlab train` and `rewardlab demo` write the resolved config into the run directory.",
    rundir.DATA_REPORT: "`rewardlab train` and `rewardlab demo` write it when they load the data.",
    rundir.HISTORY: "`rewardlab train` writes it at the end of training (one line per logged step; "
                           "eval lines need train.eval_every > 0).",
    rundir.EVAL_SCORES: "`rewardlab train` and `rewardlab demo` write the per-pair held-out rewards; runs "
                         "made before this file existed do not have it.",
    rundir.AUDIT: "train and demo write it unless audit.probes=false; for an existing model run "
                  "`rewardlab audit RUN/model DATA --json RUN/audit.json`, then `rewardlab report RUN` again.",
    rundir.SUITE: "train and demo write it when audit.suite names a suite (auto: builtin:synth on synthetic "
                  "data); or run `rewardlab eval RUN/model --suite FILE --json out.json` and save its \"suite\" "
                  "object as RUN/suite.json.",
}


@dataclass
class RunFiles:
    """Everything the report reads from one run directory (``None`` = absent or unreadable)."""

    run_dir: Path
    metrics: dict[str, Any]
    config_text: str | None = None
    config: dict[str, Any] | None = None
    data_report: rundir.DataReportFile | None = None
    history: list[dict[str, Any]] | None = None
    scores: list[dict[str, Any]] | None = None
    audit: dict[str, Any] | None = None
    suite: dict[str, Any] | None = None
    overopt: dict[str, Any] | None = None
    extra_evals: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)  # `report --eval` files
    problems: dict[str, str] = field(default_factory=dict)

    def why_missing(self, name: str) -> str:
        """The note for an optional file that is not available: why, and how to get it."""
        problem = self.problems.get(name, "not found")
        if problem == "not found":
            return f"{name} is not in {self.run_dir}. {HOW_TO_GET.get(name, '')}".strip()
        return f"{name} could not be read: {problem}"


def _read_yaml(path: Path) -> tuple[str, dict[str, Any] | None]:
    import yaml

    text = rundir.read_text(path)
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        return text, None  # still shown verbatim; only the highlights need it parsed
    return text, parsed if isinstance(parsed, dict) else None


def _optional_object(run: RunFiles, name: str) -> dict[str, Any] | None:
    path = run.run_dir / name
    if not path.exists():
        run.problems[name] = "not found"
        return None
    try:
        value = rundir.read_json(path)
    except DataError as err:
        run.problems[name] = str(err)
        return None
    if not isinstance(value, dict):
        run.problems[name] = f"expected a JSON object, found {type(value).__name__}"
        return None
    return value


def _optional_lines(run: RunFiles, name: str) -> list[dict[str, Any]] | None:
    path = run.run_dir / name
    if not path.exists():
        run.problems[name] = "not found"
        return None
    try:
        return rundir.read_jsonl(path)
    except DataError as err:
        run.problems[name] = str(err)
        return None


def load_eval_json(path: str | Path) -> dict[str, Any]:
    """A ``rewardlab eval --json`` file; :class:`DataError` naming it when it is unreadable or not one."""
    source = Path(path)
    if not source.is_file():
        raise DataError("no such eval JSON file; write one with `rewardlab eval MODEL DATA --json FILE`",
                        source=str(source))
    payload = rundir.read_json(source)
    if not isinstance(payload, dict) or ("accuracy" not in payload and "files" not in payload):
        raise DataError("not a `rewardlab eval --json` file with pairwise results (no 'accuracy')", source=str(source))
    return payload


def load_run(run_dir: str | Path, extra_evals: Sequence[str | Path] = ()) -> RunFiles:
    """Read ``run_dir`` and any ``extra_evals`` (eval JSON files); raises :class:`DataError` when the
    run directory or its ``metrics.json`` is missing or bad, or an extra eval file is."""
    evals = [(Path(p), load_eval_json(p)) for p in extra_evals]  # before the run: a typo fails fast
    root = Path(run_dir)
    if not root.is_dir():
        raise DataError(f"run directory {root} does not exist; train a model into it first "
                        f"(`rewardlab train --out {root}` or `rewardlab demo --out {root}`)")
    metrics_path = root / rundir.METRICS
    if not metrics_path.exists() and (root / "rewardlab.json").is_file():
        raise DataError(f"{root} is a model directory; the report belongs to the run directory that holds it: "
                        f"rewardlab report {root.parent}")
    if not metrics_path.exists():
        raise DataError(f"{metrics_path} not found; it is written when `rewardlab train` or `rewardlab demo` "
                        "finishes training and evaluates on held-out pairs (a run without held-out data, "
                        "or one that is still training, has none)")
    metrics = rundir.read_json(metrics_path)
    if not isinstance(metrics, dict):
        raise DataError("expected a JSON object with 'train' and 'eval'", source=str(metrics_path))
    run = RunFiles(run_dir=root, metrics=metrics)
    config_path = root / rundir.CONFIG
    if config_path.exists():
        try:
            run.config_text, run.config = _read_yaml(config_path)
        except DataError as err:
            run.problems[rundir.CONFIG] = str(err)
    else:
        run.problems[rundir.CONFIG] = "not found"
    report = _optional_object(run, rundir.DATA_REPORT)
    if report is not None:
        try:
            run.data_report = rundir.DataReportFile.from_dict(report, source=str(root / rundir.DATA_REPORT))
        except DataError as err:
            run.problems[rundir.DATA_REPORT] = str(err)
    run.history = _optional_lines(run, rundir.HISTORY)
    run.scores = _optional_lines(run, rundir.EVAL_SCORES)
    run.audit = _optional_object(run, rundir.AUDIT)
    run.suite = _optional_object(run, rundir.SUITE)
    run.overopt = _optional_object(run, rundir.OVEROPT)
    run.extra_evals = evals
    return run
