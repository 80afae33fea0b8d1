"""Assemble the report page: one HTML file with its CSS inline and no scripts.

The page loads nothing: a Content-Security-Policy forbids scripts and any fetch, so it reads
the same offline, from an e-mail attachment or a CI artifact, and data text that slipped
through unescaped still could not run. Collapsible parts are ``<details>``; tooltips are SVG
``<title>`` elements.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from rewardlab import __version__, rundir
from rewardlab.report.checks import probes_section, suite_section
from rewardlab.report.details import details_section
from rewardlab.report.evals import evals_section
from rewardlab.report.load import RunFiles
from rewardlab.report.markup import esc, obj
from rewardlab.report.overopt import overopt_section
from rewardlab.report.sections import (
    breakdown_section,
    calibration_section,
    headline_section,
    length_section,
    rewards_section,
    training_section,
)
from rewardlab.report.summary import summary_paragraph

__all__ = ["CSS", "render_page", "render_study_page"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
NAV = (("verdict", "Verdict"), ("training", "Training"), ("rewards", "Rewards"), ("calibration", "Calibration"),
       ("breakdowns", "Breakdowns"), ("length", "Length"), ("probes", "Probes"), ("suite", "Suite"),
       ("overopt", "Over-optimization"), ("details", "Run details"))
FILES = (rundir.METRICS, rundir.CONFIG, rundir.DATA_REPORT, rundir.HISTORY, rundir.EVAL_SCORES,
         rundir.AUDIT, rundir.SUITE, rundir.OVEROPT)

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--bg:#f4f6f8;--card:#fff;--line:#d8dee4;--soft:#f6f8fa;
--risky:#cf222e;--weak:#d4670b;--usable:#a37700;--solid:#1a7f37;--excellent:#0b6e70;--none:#6e7781}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans","DejaVu Sans",sans-serif;font-variant-numeric:tabular-nums}
header.top{background:#1f2328;color:#fff;padding:22px 0 0}
.wrap{max-width:1180px;margin:0 auto;padding:0 20px}
header.top h1{margin:0;font-size:24px;font-weight:650;letter-spacing:-.01em}
header.top .meta{color:#b6bec7;font-size:13px;margin:4px 0 14px;word-break:break-all}
nav{display:flex;flex-wrap:wrap;gap:2px}
nav a{color:#d0d7de;text-decoration:none;font-size:13.5px;padding:7px 11px;border-radius:6px 6px 0 0}
nav a:hover{background:#32383f;color:#fff}
main{padding:18px 0 40px}
.card,.headline{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px 24px;
margin:0 0 18px;box-shadow:0 1px 2px rgba(31,35,40,.04)}
h2{font-size:19px;margin:0 0 12px;font-weight:650;letter-spacing:-.01em}
h3{font-size:14px;margin:18px 0 8px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;font-weight:600}
.intro{color:var(--muted);margin:-4px 0 14px;max-width:95ch;font-size:14px}
.note{color:var(--muted);font-size:13.5px;margin:8px 0}
.headline{display:grid;grid-template-columns:minmax(220px,300px) 1fr;gap:8px 36px;align-items:center;
border-left:8px solid var(--vc,var(--none))}
.verdict-risky{--vc:var(--risky)}.verdict-weak{--vc:var(--weak)}.verdict-usable{--vc:var(--usable)}
.verdict-solid{--vc:var(--solid)}.verdict-excellent{--vc:var(--excellent)}.verdict-inverted{--vc:var(--risky)}
.verdict-uncertain{--vc:var(--none)}
.ci{color:var(--muted);font-size:13.5px;white-space:nowrap}
.kicker{font-size:12.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-weight:600}
.big{font-size:56px;font-weight:700;line-height:1.05;color:var(--vc,var(--fg));letter-spacing:-.02em;margin:4px 0 8px}
.verdict-line .badge{font-size:14px;padding:4px 12px}
.band-range{color:var(--muted);font-size:13.5px;margin-left:6px}
.tiles{grid-column:1/-1;display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:10px;margin-top:14px}
.tile{background:var(--soft);border-radius:8px;padding:10px 12px}
.tile-label{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;font-weight:600}
.tile-value{font-size:19px;white-space:nowrap;font-weight:650;margin-top:2px}
.tile-note{font-size:12.5px;color:var(--muted)}
.summary{grid-column:1/-1;font-size:15.5px;line-height:1.6;margin:14px 0 0;max-width:110ch;
border-top:1px solid var(--line);padding-top:14px}
.ladder{position:relative;height:30px;margin:26px 0 4px}
.seg{position:absolute;top:0;bottom:0;display:flex;align-items:center;justify-content:center;overflow:hidden;
font-size:11px;font-weight:650;text-transform:uppercase;letter-spacing:.05em;color:rgba(0,0,0,.62);
border-right:2px solid #fff}
.seg-risky{background:#ffd8d3;border-radius:6px 0 0 6px}.seg-weak{background:#ffe2c2}.seg-usable{background:#fbefb5}
.seg-solid{background:#c9ecd2}.seg-excellent{background:#bfe6e6;border-radius:0 6px 6px 0;border-right:0}
.pin{position:absolute;top:-7px;bottom:-7px;width:0;transform:translateX(-50%)}
.pin-model{border-left:4px solid var(--fg)}
.pin-gold{border-left:3px solid #8250df}
.pin-ceiling{border-left:3px dashed #6e7781}
.ladder-ticks{position:relative;height:18px;font-size:11px;color:var(--muted)}
.ladder-ticks span{position:absolute;transform:translateX(-50%)}
.ladder-ticks span:last-child{transform:translateX(-100%)}
.ladder-keys{display:flex;flex-wrap:wrap;gap:4px 18px;font-size:13px;margin-top:4px}
.key i{display:inline-block;width:0;height:14px;vertical-align:-2px;margin-right:6px}
.key-model i{border-left:4px solid var(--fg)}.key-gold i{border-left:3px solid #8250df}
.key-ceiling i{border-left:3px dashed #6e7781}
.badge{display:inline-block;padding:2px 9px;border-radius:999px;font-size:12px;font-weight:650;letter-spacing:.03em;
white-space:nowrap;border:1px solid transparent;line-height:1.5}
.badge-risky,.badge-high,.badge-fail,.badge-inverted{background:#ffebe9;color:#a40e26;border-color:#ffcecb}
.badge-weak,.badge-medium{background:#fff1e5;color:#953800;border-color:#ffd8b5}
.badge-usable,.badge-low{background:#fff8c5;color:#7d4e00;border-color:#f5e0a0}
.badge-solid,.badge-pass,.badge-none{background:#dafbe1;color:#116329;border-color:#aceebb}
.badge-excellent{background:#d5f4f4;color:#0b5557;border-color:#a7e3e3}
.badge-uncertain{background:#eef1f4;color:#424a53;border-color:#d0d7de}
.badge-tag{background:#eef1f4;color:#424a53;font-weight:500;text-transform:none}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:18px 28px;align-items:start}
.grid.three{grid-template-columns:repeat(auto-fit,minmax(min(100%,300px),1fr))}
figure.plot{margin:0;min-width:0}
svg.chart{display:block;width:100%;height:auto;max-height:440px;font-family:inherit}
figcaption{font-size:13px;color:var(--muted);margin-top:6px}
.axes .grid{stroke:#eaeef2;stroke-width:1}
.axes .axis{stroke:#8c959f;stroke-width:1}
.axes .tickmark{stroke:#8c959f}
.tick{fill:#59636e;font-size:12px}
.axis-label{fill:#1f2328;font-size:13px;font-weight:600}
.legend-text{fill:#1f2328;font-size:12px}
.ref{stroke:#6e7781;stroke-width:1.2;stroke-dasharray:3 3}
.ref-text{fill:#6e7781;font-size:11px}
.count{fill:#fff;font-size:11px;font-weight:600}.count.above{fill:#424a53}
.no-data{fill:#8c959f;font-size:15px}
.hit{stroke:none}.hit:hover{fill:rgba(31,35,40,.18)}
.mark:hover,.pt:hover{fill-opacity:1;stroke:#1f2328}
.bar:hover{fill-opacity:.75}
.table-wrap{overflow-x:auto;margin:6px 0 10px}
table.data{border-collapse:collapse;width:100%;font-size:14px}
table.data.compact{width:auto;min-width:280px}
table.data.kv td:first-child{color:var(--muted)}
.nowrap{white-space:nowrap}
.failures td:first-child{min-width:16ch;max-width:28ch}
.failures code{overflow-wrap:break-word}
table.data th{text-align:left;font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;
letter-spacing:.04em;border-bottom:2px solid var(--line);padding:7px 9px;white-space:nowrap}
table.data td{padding:7px 9px;border-bottom:1px solid #eaeef2;vertical-align:top}
table.data tbody tr:nth-child(even){background:#fafbfc}
table.data .num{text-align:right;white-space:nowrap}
table.data tr.flagged{background:#fff6ee}
table.data tr.flagged td:first-child{box-shadow:inset 4px 0 0 var(--weak)}
.desc{color:var(--muted);font-size:12.5px;max-width:42ch}
.ci{color:var(--muted)}
.na{color:#8c959f}
small{font-size:12px;color:var(--muted)}
.meter{display:inline-block;width:56px;height:8px;background:#eaeef2;border-radius:4px;vertical-align:middle;
overflow:hidden;margin-right:4px}
.meter-fill{display:block;height:100%;background:#0072B2}
.unavailable{background:var(--soft);border:1px dashed #c4ccd4;border-radius:8px;padding:10px 14px;color:var(--muted);
font-size:14px;margin:8px 0}
.unavailable strong{color:var(--fg)}
.text{white-space:pre-wrap;word-break:break-word;max-height:9.5em;overflow:auto;background:var(--soft);
border-radius:6px;padding:5px 8px;font-size:13px;min-width:14ch}
.failures td:nth-child(2),.failures td:nth-child(3){min-width:24ch;max-width:48ch}
.ex-label{display:block;font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;
margin:4px 0 2px}
details{border:1px solid var(--line);border-radius:8px;padding:0 12px;margin:8px 0;background:#fff}
details>summary{cursor:pointer;padding:8px 0;font-weight:600;font-size:14px}
details[open]>summary{border-bottom:1px solid #eaeef2;margin-bottom:8px}
.example{padding:6px 0 10px;border-bottom:1px dashed #eaeef2}
.example:last-child{border-bottom:0}
.ex-pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,280px),1fr));gap:10px}
.ex-delta{font-size:13px;margin-top:6px;font-weight:600}
.audit-summary{font-size:14.5px}
pre{white-space:pre-wrap;font:12.5px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;
background:var(--soft);padding:10px;border-radius:6px;max-height:480px;overflow:auto}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
ul.notes{margin:6px 0;padding-left:20px;font-size:13.5px}
footer{color:var(--muted);font-size:12.5px;padding:0 0 30px}
footer .files{display:flex;flex-wrap:wrap;gap:2px 14px}
footer .files span{white-space:nowrap}
@media (max-width:720px){.headline{grid-template-columns:1fr}.big{font-size:44px}.card,.headline{padding:16px}
.seg{font-size:8.5px;letter-spacing:0}}
@media print{
@page{margin:14mm}
body{background:#fff;font-size:11pt}
header.top{background:#fff;color:var(--fg);padding:0;border-bottom:2px solid var(--fg)}
header.top .meta{color:var(--muted)}
nav{display:none}
.card,.headline{box-shadow:none;break-inside:avoid-page;border-color:#bbb}
figure.plot,table.data tr{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
details::details-content{content-visibility:visible;display:block;height:auto}
.text,pre{max-height:none;overflow:visible}
.table-wrap{overflow:visible}
table.data{font-size:9pt}
table.data .num,.nowrap,table.data th{white-space:normal}
}
"""


def _footer(run: RunFiles, generated: str) -> str:
    marks = []
    for name in FILES:
        ok = name == rundir.METRICS or name not in run.problems
        status = "read" if ok else run.problems[name]
        marks.append(f'<span title="{esc(status)}">{"✓" if ok else "✗"} {esc(name)}</span>')
    return (f'<footer><div class="wrap"><p>Generated by rewardlab {esc(__version__)} on {esc(generated)}.</p>'
            f'<p class="files">{"".join(marks)}</p></div></footer>')


def _document(title: str, subtitle: str, nav: str, body: str, footer: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="rewardlab report">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><div class="wrap"><h1>{esc(title)}</h1>'
        f'<div class="meta">{esc(subtitle)}</div><nav>{nav}</nav></div></header>'
        f'<main class="wrap">{body}</main>{footer}</body></html>\n'
    )


def render_study_page(run_dir: Path, study: dict[str, Any], *, generated: str | None = None) -> str:
    """The report of a run directory that holds only an over-optimization study (``rewardlab overopt``)."""
    when = generated or dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    footer = (f'<footer><div class="wrap"><p>Generated by rewardlab {esc(__version__)} on {esc(when)} from '
              "overopt.json.</p></div></footer>")
    return _document(f"Over-optimization study: {run_dir.name or run_dir}", str(run_dir.resolve()),
                     '<a href="#overopt">Over-optimization</a>', overopt_section(study, ""), footer)


def render_page(run: RunFiles, *, generated: str | None = None) -> str:
    """The whole report for ``run`` as one HTML document."""
    metrics = run.metrics
    ev = obj(metrics.get("eval"))
    summary = summary_paragraph(metrics, run.audit, run.suite)
    why = run.why_missing
    body = [
        headline_section(metrics, run.audit, run.suite, summary),
        training_section(run.history, why(rundir.HISTORY)),
        rewards_section(run.scores, ev, why(rundir.EVAL_SCORES)),
        calibration_section(ev),
        breakdown_section(ev),
        *([evals_section(run.extra_evals)] if run.extra_evals else []),
        length_section(run.scores, run.audit, why(rundir.EVAL_SCORES), why(rundir.AUDIT)),
        probes_section(run.audit, why(rundir.AUDIT)),
        suite_section(run.suite, why(rundir.SUITE)),
        overopt_section(run.overopt, why(rundir.OVEROPT)),
        details_section(metrics, run.config, run.config_text, run.data_report, why(rundir.CONFIG),
                        why(rundir.DATA_REPORT)),
    ]
    when = generated or dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    title = f"Reward model report: {run.run_dir.name or run.run_dir}"
    links = [*NAV[:5], ("other-evals", "Other evals"), *NAV[5:]] if run.extra_evals else list(NAV)
    nav = "".join(f'<a href="#{sid}">{esc(label)}</a>' for sid, label in links)
    return _document(title, str(run.run_dir.resolve()), nav, "".join(body), _footer(run, when))
