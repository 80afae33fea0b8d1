"""``rewardlab overopt``: an over-optimization study in its own run directory, with its HTML report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rewardlab import rundir
from rewardlab.overopt.config import OverOptConfig
from rewardlab.overopt.study import StudyResult, render_study, run_study

__all__ = ["study_run"]


def study_run(cfg: OverOptConfig, out: Path, *, overwrite: bool = False,
              log: Callable[[str], Any] = print) -> tuple[StudyResult, Path]:
    """Run the study into ``out`` (empty or absent unless ``overwrite``), log its summary; the result and
    the report page (``overopt.json`` and ``report.html`` in ``out``)."""
    from rewardlab.report.page import render_study_page

    rundir.prepare_run_dir(out, resume=False, overwrite=overwrite)
    result = run_study(cfg, out, log=log)
    log(render_study(result))
    study = rundir.read_json(out / rundir.OVEROPT)
    page = out / rundir.REPORT
    rundir.write_text_atomic(page, render_study_page(out, study))
    return result, page
