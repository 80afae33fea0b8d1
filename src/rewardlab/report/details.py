"""The report's "run details" section: training numbers, what the data loader did, the config."""

from __future__ import annotations

from typing import Any

from rewardlab import rundir
from rewardlab.report.markup import NA, duration, esc, fixed, kv_table, obj, section, table, unavailable
from rewardlab.rundir import DataReportFile

__all__ = ["CONFIG_HIGHLIGHTS", "details_section"]

# Dotted config keys worth seeing without opening the full YAML.
CONFIG_HIGHLIGHTS = ("model.backbone", "model.method", "data.train", "data.eval", "loss.name", "train.epochs",
                     "train.max_steps", "train.batch_size", "train.lr", "ensemble.members")
RECORD_KINDS = ("pairs", "rankings", "ratings", "labels")


def _lookup(config: dict[str, Any], dotted: str) -> Any:
    value: Any = config
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _train_rows(metrics: dict[str, Any]) -> list[list[str]]:
    train = obj(metrics.get("train"))
    kind = next((k for k in RECORD_KINDS if k in train), None)
    rows = [
        ["objective", esc(train.get("objective", "")) or NA],
        ["method", esc(train.get("method", "")) or NA],
        ["ensemble members", fixed(train.get("ensemble"))],
        ["optimizer steps", fixed(train.get("steps"))],
        [f"training {kind or 'records'}", fixed(train.get(kind)) if kind else NA],
        [f"{kind or 'examples'} per second", fixed(train.get("examples_per_s"), 1)],
        ["training time", duration(train.get("train_seconds"))],
        ["final loss", fixed(train.get("final_loss"), 4)],
        ["training precision", esc(train.get("precision", "")) or NA],
        ["evaluation time", duration(metrics.get("eval_seconds"))],
        ["evaluation precision", esc(metrics.get("eval_precision", "")) or NA],
    ]
    return rows


def _data_report(report: DataReportFile) -> str:
    parts = []
    if report.counts:
        parts.append(table(["count", "value"], [[esc(k), fixed(v) if isinstance(v, int | float) else esc(v)]
                                                for k, v in report.counts.items()], numeric=[1], cls="compact"))
    notes = [str(n) for n in report.notes] + [f"{k}: {v}" for k, v in report.lengths.items()]
    if notes:
        parts.append("<ul class='notes'>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    if report.train_hash:
        parts.append(f'<p class="note">training data hash <code>{esc(report.train_hash)}</code></p>')
    return "".join(parts) or '<p class="note">data_report.json is empty.</p>'


def details_section(metrics: dict[str, Any], config: dict[str, Any] | None, config_text: str | None,
                    data_report: DataReportFile | None, why_config: str, why_data: str) -> str:
    """Training and evaluation numbers, the data report, and the resolved config (collapsed)."""
    left = "<h3>Training</h3>" + kv_table(_train_rows(metrics))
    middle = "<h3>Data</h3>" + (_data_report(data_report) if data_report is not None
                                else unavailable(rundir.DATA_REPORT, why_data))
    if config_text is None:
        right = "<h3>Config</h3>" + unavailable(rundir.CONFIG, why_config)
    else:
        shown = [(k, _lookup(config or {}, k)) for k in CONFIG_HIGHLIGHTS]
        rows = [[f"<code>{esc(k)}</code>", esc(v)] for k, v in shown if v is not None]
        right = ("<h3>Config</h3>" + (table(["key", "value"], rows, cls="compact") if rows else "")
                 + '<details class="config"><summary>Full resolved config (config.yaml)</summary>'
                 f"<pre>{esc(config_text)}</pre></details>")
    return section("details", "Run details", (f'<div class="grid three"><div>{left}</div><div>{middle}</div>'
                                                    f"<div>{right}</div></div>"))
