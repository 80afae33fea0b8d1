"""``rewardlab report RUN_DIR``: read a run directory and write its one-file HTML report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rewardlab import rundir
from rewardlab.errors import DataError
from rewardlab.report.load import load_run
from rewardlab.report.page import render_page

__all__ = ["REPORT_NAME", "render_report_html", "write_report"]

REPORT_NAME = rundir.REPORT


def render_report_html(run_dir: str | Path, *, generated: str | None = None,
                       extra_evals: Sequence[str | Path] = ()) -> str:
    """The report for ``run_dir`` as an HTML string (``generated`` overrides the timestamp shown);
    ``extra_evals`` are ``rewardlab eval --json`` files shown under "Other evaluations"."""
    return render_page(load_run(run_dir, extra_evals), generated=generated)


def write_report(run_dir: str | Path, out: str | Path | None = None, *,
                 extra_evals: Sequence[str | Path] = ()) -> Path:
    """Write the report for ``run_dir`` to ``out`` (default ``RUN_DIR/report.html``); returns the path.

    Raises :class:`DataError` when the run directory or its ``metrics.json`` is missing or
    unreadable, or when ``out`` cannot be written.
    """
    html = render_report_html(run_dir, extra_evals=extra_evals)
    path = Path(out) if out is not None else Path(run_dir) / REPORT_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as err:
        raise DataError(f"cannot write the report to {path}: {err.strerror or err}; choose another output path") \
            from err
    return path
