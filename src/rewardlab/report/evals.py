"""The report section for evaluations run outside training: ``rewardlab eval --json`` files.

``rewardlab report RUN --eval pandalm.json --eval llmbar.json`` puts each file's accuracy with its
95% interval and verdict beside the run's own held-out numbers, with gold accuracy, RewardBench's
overall score and agreement with human annotators where the file has them. A file written for
several sources shows one row per source and its total.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rewardlab.report.markup import NA, badge, esc, num, obj, pct, section, table
from rewardlab.report.summary import accuracy_ci, verdict_of

__all__ = ["evals_section"]


def _row(name: str, ev: dict[str, Any]) -> list[str]:
    ci = accuracy_ci(ev)
    interval = f'<br><small class="ci">{100 * ci[0]:.1f}–{100 * ci[1]:.1f}%</small>' if ci else ""
    band = verdict_of(ev)
    gold = num(obj(ev.get("gold")).get("accuracy"))
    rb = num(obj(ev.get("rewardbench")).get("overall"))
    human = num(obj(obj(obj(ev.get("agreement")).get("model")).get("vs_majority")).get("rate"))
    return [esc(name), f"{int(num(ev.get('n_pairs')) or 0):,}", f"{pct(num(ev.get('accuracy')))}{interval}",
            badge(band.upper(), band) if band else NA, pct(gold) if gold is not None else NA,
            pct(rb) if rb is not None else NA, pct(human) if human is not None else NA]


def evals_section(evals: list[tuple[Path, dict[str, Any]]]) -> str:
    """One table row per evaluated source (a file's per-source rows, then its total)."""
    rows: list[list[str]] = []
    classes: list[str] = []
    for path, payload in evals:
        label = str(payload.get("data") if isinstance(payload.get("data"), str) else path.name)
        for part in payload.get("files") or []:
            if isinstance(part, dict):
                rows.append(_row(f"{path.name}: {part.get('data')}", part))
                classes.append("")
        if num(payload.get("accuracy")) is not None:
            rows.append(_row(f"{path.name}: total" if payload.get("files") else label, payload))
            classes.append("total" if payload.get("files") else "")
    head = ["data", "pairs", "accuracy (95% CI)", "verdict", "gold acc.", "RewardBench", "vs human majority"]
    intro = ("Evaluations of this model on other data (<code>rewardlab eval --json</code> files given to "
             "<code>rewardlab report --eval</code>). The verdict is a band only when the whole 95% interval lies "
             "in it.")
    return section("other-evals", "Other evaluations", table(head, rows, numeric=[1, 2, 4, 5, 6],
                                                              row_classes=classes), intro=intro)
