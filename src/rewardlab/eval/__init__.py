"""Evaluation: pairwise metrics, calibration, verdict bands, the eval report."""

from rewardlab.eval.evaluate import EvalReport, evaluate, evaluate_scores, score_comparisons
from rewardlab.eval.metrics import ScoredPair
from rewardlab.eval.render import render_report
from rewardlab.eval.verdict import verdict

__all__ = ["EvalReport", "ScoredPair", "evaluate", "evaluate_scores", "render_report", "score_comparisons", "verdict"]
