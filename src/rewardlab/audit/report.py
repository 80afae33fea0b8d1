"""The audit report: its JSON shape (read by the HTML report) and its terminal rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rewardlab.audit.length import LengthBias
from rewardlab.audit.probes import ProbeResult
from rewardlab.audit.severity import MIN_CLUSTERS, SEVERITIES
from rewardlab.digits import decimals_for
from rewardlab.errors import DataError

__all__ = ["AuditReport", "render_audit"]


@dataclass(frozen=True)
class AuditReport:
    """What ``rewardlab audit`` reports; ``to_dict`` is the ``--json`` output.

    ``n_prompts`` counts the distinct prompts of the audited pairs, the clusters of every
    standard error (``None`` in JSON written before it was recorded). ``points`` holds
    ``(words, reward)`` of every distinct original response, for a reward-vs-length plot; it
    is not part of the JSON (``from_dict`` leaves it empty).
    """

    n_pairs: int
    n_skipped_ties: int
    reward_std: float
    probes: tuple[ProbeResult, ...]
    length: LengthBias
    n_prompts: int | None = None
    points: tuple[tuple[int, float], ...] = field(default=(), compare=False, repr=False)

    @property
    def flagged(self) -> list[str]:
        """Names of the probes with a severity, then ``"length"`` if the length check has one."""
        names = [p.name for p in self.probes if p.severity != "none"]
        return [*names, "length"] if self.length.severity != "none" else names

    def probe(self, name: str) -> ProbeResult:
        """The result of the probe called ``name``."""
        for p in self.probes:
            if p.name == name:
                return p
        raise DataError(f"the audit has no probe {name!r}; it has {[p.name for p in self.probes]}")

    @property
    def summary(self) -> str:
        """One or two sentences: what was flagged, and the worst probe's numbers."""
        hits = sorted((p for p in self.probes if p.severity != "none"),
                      key=lambda p: (-SEVERITIES.index(p.severity), -p.effect))
        length = f"length bias: {self.length.verdict}"
        if not hits:
            text = f"No probe found a bias a policy could exploit over {self.n_pairs} pairs; {length}."
        else:
            listed = ", ".join(f"{p.name} ({p.severity})" for p in hits)
            worst = hits[0]
            text = (
                f"{len(hits)} of {len(self.probes)} probes found a rewarded bias: {listed}; {length}. "
                f"Worst, {worst.name}: {worst.mean_delta:+.3g} reward ({worst.effect:+.2f} sd), the worse response "
                f"now wins {100 * worst.flip_rate:.0f}% of pairs (was {100 * worst.base_flip_rate:.0f}%)."
            )
        penalised = [p.name for p in self.probes if p.direction == "penalised"]
        text += f" Penalised: {', '.join(penalised)}." if penalised else ""
        if self.n_prompts is not None and self.n_prompts < MIN_CLUSTERS:
            text += (f" Only {self.n_prompts} distinct prompt{'s' if self.n_prompts != 1 else ''}: no verdict "
                     f"is given below {MIN_CLUSTERS}; audit pairs of more prompts.")
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_pairs": self.n_pairs,
            "n_prompts": self.n_prompts,
            "n_skipped_ties": self.n_skipped_ties,
            "reward_std": self.reward_std,
            "probes": [p.to_dict() for p in self.probes],
            "length": self.length.to_dict(),
            "flagged": self.flagged,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> AuditReport:
        """The report back from :meth:`to_dict` output (``flagged``/``summary`` are recomputed)."""
        try:
            return cls(
                n_pairs=int(row["n_pairs"]),
                n_skipped_ties=int(row["n_skipped_ties"]),
                reward_std=float(row["reward_std"]),
                probes=tuple(ProbeResult.from_dict(p) for p in row["probes"]),
                length=LengthBias.from_dict(row["length"]),
                n_prompts=None if row.get("n_prompts") is None else int(row["n_prompts"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise DataError(f"not an audit report ({type(err).__name__}: {err}); expected AuditReport.to_dict() "
                            "output") from err


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def render_audit(report: AuditReport, title: str = "Reward-hacking audit") -> str:
    """An aligned terminal table: per probe Δ, its interval, effect, flips before → after, severity."""
    lines = [title, "=" * len(title)]
    k = report.n_prompts
    prompts = "" if k is None else f" of {k} prompt{'s' if k != 1 else ''}"
    d = decimals_for(report.reward_std)  # every reward number on the reward's own scale, alike
    lines.append(f"  {report.n_pairs} pairs{prompts} ({report.n_skipped_ties} ties skipped); "
                 f"reward sd {report.reward_std:.{d}f}")
    lines.append("")
    width = max(5, *(len(p.name) for p in report.probes)) if report.probes else 5
    w = max(9, d + 4)
    lines.append(f"  {'probe':<{width}}  {'Δ reward':>{w}}  {'95% CI':^{2 * w + 4}}  {'effect':>6}  "
                 f"{'worse wins: base → after':>24}  severity")
    for p in report.probes:
        flips = f"{_pct(p.base_flip_rate):>6} → {_pct(p.flip_rate):<6}"
        verdict = p.severity.upper() + (f" ({p.direction})" if p.direction != "neutral" else "")
        ci = f"[{p.ci95[0]:>+{w}.{d}f}, {p.ci95[1]:>+{w}.{d}f}]"
        lines.append(f"  {p.name:<{width}}  {p.mean_delta:>+{w}.{d}f}  {ci}  {p.effect:>+6.2f}  {flips:>24}  {verdict}")
    n = report.length
    gap = "n/a" if n.gap is None else f"{100 * n.gap:+.1f} pts"
    lines += [
        "",
        f"  length   accuracy when chosen is longer {_pct(n.acc_chosen_longer)} (n={n.n_chosen_longer}), "
        f"shorter {_pct(n.acc_chosen_shorter)} (n={n.n_chosen_shorter}); gap {gap}; equal length {n.n_equal}",
        f"           reward~words pearson {n.pearson:+.2f}, spearman {n.spearman:+.2f}; within pairs "
        f"{n.pair_pearson:+.2f}; severity {n.severity.upper()}"
        + (f" (prefers {n.prefers} responses)" if n.prefers else ""),
        "",
        report.summary,
    ]
    return "\n".join(lines)
