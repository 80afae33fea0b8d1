"""Multi-stage work shared by the CLI verbs and training runs: one evaluation of a data set, for both.

``rewardlab eval`` and the evaluation after ``rewardlab train`` call the same
:func:`~rewardlab.pipeline.evaluation.evaluate_dataset`, so the two give the same report on the
same model and data (RewardBench sections and human agreement included when the data has them).
"""

from __future__ import annotations

from rewardlab.pipeline.evaluation import DatasetEvaluation, evaluate_dataset, render_rewardbench

__all__ = ["DatasetEvaluation", "evaluate_dataset", "render_rewardbench"]
