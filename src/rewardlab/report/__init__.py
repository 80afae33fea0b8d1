"""One self-contained HTML report per run: verdict, curves, rewards, calibration, audit, suite.

``write_report(run_dir)`` reads the run directory's result files and writes
``RUN_DIR/report.html``; plots are inline SVG drawn here, so the page needs no network, no
plotting library and no JavaScript.
"""

from rewardlab.report.build import REPORT_NAME, render_report_html, write_report
from rewardlab.report.load import RunFiles, load_run
from rewardlab.report.summary import summary_paragraph

__all__ = ["REPORT_NAME", "RunFiles", "load_run", "render_report_html", "summary_paragraph", "write_report"]
