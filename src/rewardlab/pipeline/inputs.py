"""What the scoring verbs read: a model loaded to be scored, and data sources loaded as their flags say.

``eval``, ``audit`` and ``score`` take the same data options (:class:`DataOptions`); a source's data
report and the warning about prompts the model was trained on go to ``warn`` (stderr by default).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rewardlab.data import load_comparisons
from rewardlab.data.columns import parse_columns
from rewardlab.data.load import Format, LoadedData, OnInvalid
from rewardlab.data.records import Comparison
from rewardlab.models.loading import Scorer

__all__ = ["DataOptions", "load_for_scoring", "load_source", "warn_training_overlap"]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass(frozen=True)
class DataOptions:
    """How to read a data source: format, split, invalid-row policy, row limit and column mapping."""

    format: Format = "auto"
    split: str | None = None
    on_invalid: OnInvalid = "error"
    limit: int | None = None
    columns: str | None = None  # FIELD=COLUMN,... (data/columns.py)

    @classmethod
    def of(cls, values: Any) -> DataOptions:
        """From an object with these attributes (the parsed command line); missing ones keep their default."""
        return cls(**{k: getattr(values, k) for k in ("format", "split", "on_invalid", "limit", "columns")
                      if getattr(values, k, None) is not None})

    def load(self, source: str) -> LoadedData:
        return load_comparisons(source, format=self.format, split=self.split, on_invalid=self.on_invalid,
                                limit=self.limit, columns=parse_columns(self.columns))


def load_for_scoring(path: str, precision: str) -> Scorer:
    """A model loaded only to be scored: at bf16 its linear weights are stored in bf16 once (same scores)."""
    from rewardlab.models import load_model
    from rewardlab.models.precision import resolve_precision, scoring_device, store_bf16_weights

    model = load_model(path)
    if resolve_precision(precision, scoring_device(model)) == "bf16":
        store_bf16_weights(model)
    return model


def warn_training_overlap(model_dir: str, records: Sequence[Comparison],
                          warn: Callable[[str], Any] = _stderr) -> dict[str, int] | None:
    """Warn when evaluation prompts were in the model's training data; the counts, or None if unknown."""
    from rewardlab.models.train_prompts import overlap

    counts = overlap(model_dir, (r.prompt for r in records))
    if counts is None:
        return None
    seen, total = counts
    if seen:
        warn(f"warning: {seen} of the {total} distinct prompts here ({100 * seen / total:.0f}%) were in this "
             "model's training data; numbers on them overstate held-out quality (evaluate on held-out data)")
    return {"trained_prompts": seen, "prompts": total}


def load_source(source: str, options: DataOptions, model_dir: str,
                warn: Callable[[str], Any] = _stderr) -> tuple[LoadedData, dict[str, int] | None]:
    """One source's pairs; its data report and the training-overlap warning go to ``warn``."""
    loaded = options.load(source)
    warn(loaded.report.summary())
    return loaded, warn_training_overlap(model_dir, loaded.records, warn)
