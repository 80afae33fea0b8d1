"""Running a known-good / known-bad suite against a model, and rendering the outcome.

Every distinct (prompt, response) in the suite is scored once; each check then passes or fails
on those scores. The suite types and their strict loading are in :mod:`rewardlab.eval.suites`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rewardlab.data.records import prompt_text
from rewardlab.eval.suites import Check, PairCheck, Suite
from rewardlab.scoring import DistinctInputs, RewardScorer

__all__ = ["CheckResult", "SuiteResult", "SuiteScorer", "render_suite", "run_suite"]


SuiteScorer = RewardScorer  # the scorer contract (scoring.RewardScorer)


@dataclass(frozen=True)
class CheckResult:
    """One check with the score(s) it got; ``score_b`` is the worse response's (pairs only)."""

    check: Check
    score_a: float
    score_b: float | None
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        c = self.check
        if isinstance(c, PairCheck):
            texts = {"a": c.better, "b": c.worse, "margin": c.margin, "min": None, "max": None}
        else:
            texts = {"a": c.response, "b": None, "margin": None, "min": c.min, "max": c.max}
        return {
            "id": c.id,
            "kind": c.kind,
            "prompt": prompt_text(c.prompt),
            "a": texts["a"],
            "b": texts["b"],
            "score_a": self.score_a,
            "score_b": self.score_b,
            "margin": texts["margin"],
            "min": texts["min"],
            "max": texts["max"],
            "passed": self.passed,
            "tags": list(c.tags),
            "note": c.note,
        }


@dataclass(frozen=True)
class SuiteResult:
    """Every check's outcome; ``to_dict`` is the JSON the HTML report reads."""

    suite: Suite
    results: tuple[CheckResult, ...]

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    @property
    def pass_rate(self) -> float:
        return 1.0 - len(self.failures) / len(self.results)

    def by_tag(self) -> dict[str, dict[str, int]]:
        """``{tag: {"n", "passed"}}`` in tag order (untagged checks count only in the total)."""
        out: dict[str, dict[str, int]] = {}
        for r in self.results:
            for tag in r.check.tags:
                row = out.setdefault(tag, {"n": 0, "passed": 0})
                row["n"] += 1
                row["passed"] += int(r.passed)
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite.name,
            "source": self.suite.source,
            "n_checks": len(self.results),
            "n_failed": len(self.failures),
            "pass_rate": self.pass_rate,
            "by_tag": self.by_tag(),
            "checks": [r.to_dict() for r in self.results],
            "failures": [r.to_dict() for r in self.failures],
        }


def _passes(check: Check, a: float, b: float | None) -> bool:
    if isinstance(check, PairCheck):
        return b is not None and a - b > check.margin
    return (check.min is None or a >= check.min) and (check.max is None or a <= check.max)


def run_suite(
    scorer: SuiteScorer, suite: Suite, *, batch_size: int = 32, score_options: Mapping[str, Any] | None = None
) -> SuiteResult:
    """Score every distinct (prompt, response) of ``suite`` once and judge each check.

    ``score_options`` go to ``scorer.score`` as keywords (e.g. ``{"normalize": True}``,
    which threshold checks written for normalized rewards need).
    """
    inputs = DistinctInputs()
    rows = []
    for check in suite.checks:
        a_text, b_text = (check.better, check.worse) if isinstance(check, PairCheck) else (check.response, None)
        rows.append((inputs.add(check.prompt, a_text), None if b_text is None else inputs.add(check.prompt, b_text)))
    scores = inputs.score(scorer, batch_size=batch_size, **dict(score_options or {}))
    results = []
    for check, (ia, ib) in zip(suite.checks, rows):
        a, b = scores[ia], None if ib is None else scores[ib]
        results.append(CheckResult(check, a, b, _passes(check, a, b)))
    return SuiteResult(suite, tuple(results))


# --- rendering ----------------------------------------------------------------------------------


def _needs(check: Check) -> str:
    if isinstance(check, PairCheck):
        return "a > b" if check.margin == 0 else f"a > b + {check.margin:g}"
    return f">= {check.min:g}" if check.min is not None else f"<= {check.max:g}"


def render_suite(result: SuiteResult) -> str:
    """Failures with their scores and what they needed, pass rate per tag, then the pass rate."""
    suite, failures = result.suite, result.failures
    lines = [f"Suite {suite.name} ({suite.source}): {len(result.results)} checks, {len(failures)} failed", ""]
    if failures:
        width = min(60, max(len("id"), *(len(r.check.id) for r in failures)))
        lines.append(f"  {'id':<{width}}  {'kind':<9}  {'score a':>8}  {'score b':>8}  {'needs':<12}  tags")
        for r in failures:
            b = "-" if r.score_b is None else f"{r.score_b:+.3f}"
            lines.append(f"  {r.check.id[:width]:<{width}}  {r.check.kind:<9}  {r.score_a:+8.3f}  {b:>8}  "
                         f"{_needs(r.check):<12}  {', '.join(r.check.tags)}")
        lines.append("")
    tags = result.by_tag()
    if tags:
        width = max(len("tag"), *(len(t) for t in tags))
        lines.append(f"  {'tag':<{width}}  {'passed':>7}")
        for tag, row in tags.items():
            lines.append(f"  {tag:<{width}}  {row['passed']:>3}/{row['n']:<3}  {100 * row['passed'] / row['n']:5.1f}%")
        lines.append("")
    passed = len(result.results) - len(failures)
    lines.append(f"Pass rate: {100 * result.pass_rate:.1f}% ({passed}/{len(result.results)} checks)")
    return "\n".join(lines)
