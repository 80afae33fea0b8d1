"""Multi-stage work behind the CLI verbs, one module per verb or shared stage.

``rewardlab eval`` and the evaluation after ``rewardlab train`` call the same
:func:`~rewardlab.pipeline.evaluation.evaluate_dataset`, so the two give the same report on the
same model and data (RewardBench sections and human agreement included when the data has them).

- ``training.py``: ``train`` (the run config, train, evaluate, record); ``after_training.py``: what
  runs after evaluation (per-pair scores, audit, suite, report); ``parity.py``: the export check.
- ``evaluation.py``: one data set's evaluation; ``sources.py``: ``eval`` and ``audit`` over one or
  several sources; ``inputs.py``: how those verbs load a model and data.
- ``demo.py``: ``demo``; ``study.py``: ``overopt``; ``score_file.py``: ``score``.
"""

from __future__ import annotations

from rewardlab.pipeline.evaluation import (
    DatasetEvaluation,
    evaluate_dataset,
    evaluate_rewardbench2,
    render_rewardbench,
)

__all__ = ["DatasetEvaluation", "evaluate_dataset", "evaluate_rewardbench2", "render_rewardbench"]
