"""One evaluation of held-out pairs: the metrics, RewardBench sections and human agreement it supports.

RewardBench's sections are added when the pairs carry RewardBench subset names (or ``rewardbench``
is set), and agreement with human annotators when at least two pairs carry several votes each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rewardlab.data.records import Comparison
from rewardlab.eval import EvalReport, ScoredPair, evaluate, render_report
from rewardlab.eval.agreement import AgreementReport, agreement_report, render_agreement
from rewardlab.eval.rewardbench import is_rewardbench_subsets, rewardbench_scores_from_pairs
from rewardlab.scoring import RewardScorer

__all__ = ["DatasetEvaluation", "evaluate_dataset", "evaluate_rewardbench2", "render_rewardbench"]


@dataclass
class DatasetEvaluation:
    """The report, the scored pairs, and the optional sections (``rewardbench``, ``agreement``)."""

    report: EvalReport
    pairs: list[ScoredPair]
    extras: dict[str, Any] = field(default_factory=dict)
    agreement: AgreementReport | None = None  # kept to render; its dict is extras["agreement"]
    notes: dict[str, str] = field(default_factory=dict)  # section -> a note shown with it

    def to_dict(self) -> dict[str, Any]:
        """The eval JSON: every metric, then the optional sections."""
        return {**self.report.to_dict(), **self.extras}

    def render(self, title: str, skipped: dict[str, int] | None = None) -> str:
        """The terminal text: the metrics table, then each optional section."""
        parts = [render_report(self.report, title=title, skipped=skipped)]
        if "rewardbench" in self.extras:
            note = self.notes.get("rewardbench", "")
            parts.append(render_rewardbench(self.extras["rewardbench"], f"RewardBench{note}"))
        if self.agreement is not None:
            parts.append(render_agreement(self.agreement) + self.notes.get("agreement", ""))
        return "\n\n".join(parts)


def evaluate_dataset(model: RewardScorer, records: Sequence[Comparison], *, batch_size: int = 64,
                     precision: str = "auto", seed: int = 0, rewardbench: bool = False) -> DatasetEvaluation:
    """Score ``records`` once and compute everything the data supports."""
    report, pairs = evaluate(model, records, batch_size=batch_size, precision=precision, seed=seed)
    out = DatasetEvaluation(report, pairs)
    if rewardbench or is_rewardbench_subsets(p.record.subset for p in pairs):
        eligible = [p for p in pairs if not p.record.tie and p.record.subset is not None]
        if eligible:
            rb = rewardbench_scores_from_pairs(eligible)
            left_out = len(pairs) - len(eligible)
            out.extras["rewardbench"] = {**rb.to_dict(), "n_left_out": left_out}
            if left_out:
                out.notes["rewardbench"] = f" ({left_out} pairs without a subset or labelled a tie left out)"
    voted = [p for p in pairs if p.record.votes and len(p.record.votes) >= 2]
    if len(voted) >= 2:
        k, _ = Counter(len(p.record.votes or ()) for p in voted).most_common(1)[0]
        same = [p for p in voted if len(p.record.votes or ()) == k]
        out.agreement = agreement_report(same)
        out.extras["agreement"] = out.agreement.to_dict()
        if len(same) < len(voted):
            out.notes["agreement"] = f" ({len(voted) - len(same)} pairs with another number of votes left out)"
    return out


def evaluate_rewardbench2(scorer: RewardScorer, source: str, *, split: str | None = None, limit: int | None = None,
                          batch_size: int = 64) -> dict[str, Any]:
    """RewardBench 2 (best-of-n) on a data set in its format: the result as JSON (render it with
    :func:`render_rewardbench`)."""
    from rewardlab.eval.rewardbench2 import load_rewardbench2, rewardbench2_scores, score_rewardbench2

    records = load_rewardbench2(source, split=split)
    items = score_rewardbench2(scorer, records[:limit] if limit else records, batch_size=batch_size)
    return rewardbench2_scores(items).to_dict()


def render_rewardbench(result: dict[str, Any], title: str) -> str:
    """RewardBench per-subset accuracies, sections and the overall score as a terminal table."""
    lines = [title, "=" * len(title)]
    for name, acc in result["per_subset"].items():
        lines.append(f"  {name:<28} {result['counts'][name]:>6}  {100 * acc:5.1f}%")
    for name, value in result.get("sections", {}).items():
        lines.append(f"  section {name:<20} {'':>6}  {100 * value:5.1f}%")
    overall = result.get("overall")
    lines.append(f"  overall                      {'':>6}  " + (f"{100 * overall:5.1f}%" if overall is not None else
                                                              "  n/a (not every section is in the data)"))
    if result.get("unknown_subsets"):
        lines.append(f"  subsets RewardBench does not define (scored, not in sections): "
                     f"{', '.join(result['unknown_subsets'])}")
    return "\n".join(lines)
