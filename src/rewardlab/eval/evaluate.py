"""``rewardlab eval``: score held-out comparisons once and compute every pairwise metric.

Each distinct (prompt, response) is scored once. Calibration uses 2-fold cross-fitting by
prompt: the temperature applied to one fold is fitted on the other, so the calibrated ECE
is measured on data the temperature never saw.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from rewardlab.data.records import Comparison
from rewardlab.errors import DataError
from rewardlab.eval.calibration import (
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
    temperature_bound,
)
from rewardlab.eval.metrics import ScoredPair, accuracy_summary, by_bucket, gold_accuracy, reward_stats
from rewardlab.eval.verdict import judge
from rewardlab.scoring import DistinctInputs, RewardScorer

__all__ = ["EvalReport", "evaluate", "evaluate_scores", "score_comparisons"]

ECE_BINS = 15


@dataclass
class EvalReport:
    """Everything ``rewardlab eval`` reports; ``to_dict`` is the ``--json`` output."""

    n_pairs: int
    n_data_ties: int
    accuracy: float
    model_ties: int
    verdict: str  # a band, "uncertain" (the interval straddles bands) or "inverted" (significantly < 50%)
    reward: dict[str, float]
    ece: float
    ece_calibrated: float
    temperature: float
    temperature_at_bound: str | None = None  # "upper" / "lower": T is the search limit, not a measurement
    calibration_helps: bool = True  # temperature scaling lowered the cross-fitted ECE
    gold: dict[str, Any] | None = None
    noise_ceiling: dict[str, float] | None = None
    by_subset: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_strength: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_margin: dict[str, dict[str, Any]] = field(default_factory=dict)
    reliability: list[dict[str, float]] = field(default_factory=list)
    accuracy_ci95: tuple[float, float] | None = None  # 95% interval, clustered by prompt
    verdict_text: str = ""  # the verdict as a phrase: "solid", "between usable and solid: too few pairs to tell"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_comparisons(
    model: RewardScorer, records: Sequence[Comparison], *, batch_size: int = 64, precision: str = "auto"
) -> list[ScoredPair]:
    """Rewards for both sides of every comparison; each distinct input is scored once."""
    inputs = DistinctInputs()
    rows = [(inputs.add(r.prompt, r.chosen), inputs.add(r.prompt, r.rejected)) for r in records]
    scores = inputs.score(model, batch_size=batch_size, precision=precision, progress="eval: scoring")
    return [ScoredPair(r, scores[c], scores[j]) for r, (c, j) in zip(records, rows)]


def _cross_fitted_diffs(pairs: Sequence[ScoredPair], seed: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(raw diffs, diffs divided by the other fold's temperature, temperature fitted on all)."""
    groups = sorted({p.record.group for p in pairs})
    random.Random(seed).shuffle(groups)
    fold_of = {g: i % 2 for i, g in enumerate(groups)}
    diffs = torch.tensor([p.diff for p in pairs], dtype=torch.float64)
    folds = torch.tensor([fold_of[p.record.group] for p in pairs])
    calibrated = diffs.clone()
    for k in (0, 1):
        train = diffs[folds != k]
        if train.numel() == 0:
            return diffs, diffs, 1.0
        calibrated[folds == k] = diffs[folds == k] / fit_temperature(train)
    return diffs, calibrated, fit_temperature(diffs)


def evaluate_scores(pairs: Sequence[ScoredPair], *, seed: int = 0) -> EvalReport:
    """All metrics from already-scored pairs (no model needed)."""
    judged = [p for p in pairs if not p.record.tie]
    if not judged:
        raise DataError("no non-tie pairs to evaluate")
    summary = accuracy_summary(pairs)
    low, high = summary["ci95"]
    judged_as = judge(summary["accuracy"], low, high)
    raw, calibrated, temperature = _cross_fitted_diffs(judged, seed)
    ece_raw = expected_calibration_error(raw, ECE_BINS)
    ece_calibrated = expected_calibration_error(calibrated, ECE_BINS)
    gold = gold_accuracy(judged)
    ceiling = None
    if gold["n"] and all("p_label" in p.record.meta for p in judged):
        from rewardlab.synth import noise_ceiling

        ceiling = noise_ceiling([p.record for p in pairs])
    return EvalReport(
        n_pairs=summary["n"],
        n_data_ties=len(pairs) - len(judged),
        accuracy=summary["accuracy"],
        model_ties=summary["model_ties"],
        verdict=judged_as.name,
        accuracy_ci95=(low, high),
        verdict_text=judged_as.text,
        reward=reward_stats(judged),
        ece=ece_raw,
        ece_calibrated=ece_calibrated,
        temperature=temperature,
        temperature_at_bound=temperature_bound(temperature),
        calibration_helps=ece_calibrated < ece_raw,
        gold=gold if gold["n"] else None,
        noise_ceiling=ceiling,
        by_subset=by_bucket(judged, "subset"),
        by_strength=by_bucket(judged, "strength"),
        by_margin=by_bucket(judged, "margin"),
        reliability=reliability_bins(raw, ECE_BINS),
    )


def evaluate(
    model: RewardScorer,
    records: Sequence[Comparison],
    *,
    batch_size: int = 64,
    precision: str = "auto",
    seed: int = 0,
) -> tuple[EvalReport, list[ScoredPair]]:
    """Score ``records`` with ``model`` and compute the full report."""
    pairs = score_comparisons(model, records, batch_size=batch_size, precision=precision)
    return evaluate_scores(pairs, seed=seed), pairs
