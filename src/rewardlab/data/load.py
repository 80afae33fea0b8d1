"""``load_comparisons``: any supported source and format → validated ``Comparison`` records.

The loader ties the pieces together (source → raw rows → format converter → record) and
keeps the books: every row read is either returned or counted as skipped under a reason,
and noteworthy rows (ties decided by vote, ignored columns) are written into the report,
so nothing is dropped silently (DESIGN invariant 4).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from rewardlab.data.formats import FormatContext, convert_row, detect_format, llmbar_subset_from_path
from rewardlab.data.records import Comparison
from rewardlab.data.sources import RawRow, open_source
from rewardlab.data.validation import Fields, InvalidRecordError, RowError
from rewardlab.errors import ConfigError, DataError

__all__ = ["DataReport", "Format", "LoadedData", "OnInvalid", "load_comparisons"]

Format = Literal["auto", "rewardlab", "trl", "hh", "rewardbench", "pandalm", "llmbar"]
OnInvalid = Literal["error", "skip"]


@dataclass
class DataReport:
    """What happened while loading: rows read, rows skipped by reason, and notes.

    ``rows_read`` counts every row the source yielded (blank JSONL lines are not rows);
    ``rows_read == kept + sum(skipped.values())`` always holds.
    """

    source: str
    format: str
    rows_read: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def kept(self) -> int:
        """Rows that became records."""
        return self.rows_read - sum(self.skipped.values())

    def summary(self) -> str:
        """A few human-readable lines for logs and the CLI."""
        total_skipped = sum(self.skipped.values())
        lines = [
            f"{self.source} (format {self.format}): {self.rows_read} rows read, "
            f"{self.kept} loaded, {total_skipped} skipped"
        ]
        if self.skipped:
            reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(self.skipped.items()))
            lines.append(f"  skipped by reason: {reasons}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass
class LoadedData:
    """The records of a source and the report of how they were read."""

    records: list[Comparison]
    report: DataReport


def load_comparisons(
    source: str | Path,
    *,
    format: Format = "auto",
    split: str | None = None,
    on_invalid: OnInvalid = "error",
    limit: int | None = None,
) -> LoadedData:
    """Load pairwise preferences from a file, a ``save_to_disk`` folder or a hub id.

    ``format="auto"`` detects the format from the first row (see :func:`detect_format`).
    A bad row raises :class:`~rewardlab.errors.DataError` (an ``InvalidRecordError`` with a
    ``reason``) naming source, line and field; with ``on_invalid="skip"`` it is dropped and
    counted in ``report.skipped``. ``limit`` caps the number of rows *read* (not records
    kept), so a quick look at a large file stays cheap. Each record gets
    ``meta["source"]`` and ``meta["line"]`` so later stages can point at its origin.
    """
    _check_options(format, on_invalid, limit)
    raw = open_source(source, split)
    report = DataReport(source=raw.name, format=format)
    ctx = FormatContext(subset=llmbar_subset_from_path(raw.name) if format == "llmbar" else None)
    records: list[Comparison] = []
    first_problem: dict[str, str] = {}
    ignored: set[str] = set()
    for row in itertools.islice(raw.rows, limit):
        report.rows_read += 1
        try:
            if row.problem is not None:
                raise row.problem
            if report.format == "auto":
                report.format = _detect(row, raw.name)
                if report.format == "llmbar":
                    ctx.subset = llmbar_subset_from_path(raw.name)
            fields = Fields(row.data, text_cells=raw.text_cells)
            record = convert_row(report.format, fields, ctx)
        except RowError as err:
            located = InvalidRecordError(
                err.message, reason=err.reason, source=raw.name, line=row.line, field=err.field
            )
            if on_invalid == "error":
                raise located from None
            report.skipped[err.reason] = report.skipped.get(err.reason, 0) + 1
            first_problem.setdefault(err.reason, str(located))
            continue
        record.meta["source"] = raw.name
        record.meta["line"] = row.line
        ignored.update(str(key) for key in row.data if key not in fields.used)
        records.append(record)
    if report.rows_read == 0:
        raise DataError("the source holds no rows", source=raw.name)
    report.notes = _notes(report.format, first_problem, ignored, ctx.notes)
    return LoadedData(records=records, report=report)


def _check_options(format: str, on_invalid: str, limit: int | None) -> None:
    if format not in get_args(Format):
        raise ConfigError(f"format={format!r} is unknown; choose one of {', '.join(get_args(Format))}")
    if on_invalid not in get_args(OnInvalid):
        raise ConfigError(f"on_invalid={on_invalid!r} is unknown; choose 'error' or 'skip'")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive integer or None, got {limit!r}")


def _detect(row: RawRow, source: str) -> str:
    """Detect from the first parseable row; an unrecognisable row is a whole-file problem."""
    try:
        return detect_format(row.data)
    except DataError as err:
        raise DataError(str(err), source=source, line=row.line) from None


def _notes(fmt: str, first_problem: dict[str, str], ignored: set[str], tallies: Counter[str]) -> list[str]:
    notes = [f"{message}: {n} rows" for message, n in sorted(tallies.items())]
    notes.extend(f"first skipped row ({reason}): {text}" for reason, text in sorted(first_problem.items()))
    if ignored:
        notes.append(f"columns not used by the {fmt} format were ignored: {', '.join(sorted(ignored))}")
    return notes
