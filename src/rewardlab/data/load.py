"""The loaders: any supported source and format → validated records with a ``DataReport``.

``load_comparisons``, ``load_rankings``, ``load_ratings`` and ``load_labels`` share one
loop (source → raw rows → format converter → record), parameterised by a
:class:`_RecordReader`. It keeps the books: every row read is either returned or counted
as skipped under a reason, and noteworthy rows (ties decided by vote, ignored columns)
are written into the report, so nothing is dropped silently (invariant 4, docs/architecture.md).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, get_args

from rewardlab.data.columns import apply_columns, check_columns
from rewardlab.data.formats import (
    FORMATS,
    FormatContext,
    PairFormat,
    convert_row,
    detect_format,
    llmbar_subset_from_path,
)
from rewardlab.data.record_formats import (
    LABEL_FORMATS,
    RANKING_FORMATS,
    RATING_FORMATS,
    convert_label,
    convert_ranking,
    convert_rating,
    detect_record_format,
)
from rewardlab.data.records import Comparison, Label, Ranking, Rating
from rewardlab.data.sources import RawRow, open_source
from rewardlab.data.validation import MISSING_FIELD, Fields, InvalidRecordError, RowError
from rewardlab.errors import ConfigError, DataError, Hint

__all__ = [
    "DataReport",
    "Format",
    "LabelFormat",
    "LoadedData",
    "LoadedLabels",
    "LoadedRankings",
    "LoadedRatings",
    "OnInvalid",
    "RankingFormat",
    "RatingFormat",
    "load_comparisons",
    "load_labels",
    "load_rankings",
    "load_ratings",
]

Format = Literal["auto", PairFormat]
RankingFormat = Literal["auto", "rewardlab"]
RatingFormat = Literal["auto", "rewardlab", "helpsteer", "scalar"]
LabelFormat = Literal["auto", "rewardlab", "trl"]
OnInvalid = Literal["error", "skip"]
Columns = Mapping[str, str]
R = TypeVar("R")
SKIP_HINT = Hint("on_invalid", "skip", "to skip bad rows (each is counted by reason in the report)")


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


@dataclass
class LoadedRankings:
    """The rankings of a source and the report of how they were read."""

    records: list[Ranking]
    report: DataReport


@dataclass
class LoadedRatings:
    """The ratings of a source and the report of how they were read."""

    records: list[Rating]
    report: DataReport


@dataclass
class LoadedLabels:
    """The good/bad labels of a source and the report of how they were read."""

    records: list[Label]
    report: DataReport


@dataclass(frozen=True)
class _RecordReader(Generic[R]):
    """How one record type is read: its formats, how the format is detected, how a row converts.

    ``context`` builds the converters' :class:`FormatContext` once the format is known
    (given, or detected from the first parseable row) from the format and the source name.
    """

    formats: tuple[str, ...]
    detect: Callable[[Any], str]
    convert: Callable[[str, Fields, FormatContext], R]
    context: Callable[[str, str], FormatContext] = field(default=lambda fmt, source: FormatContext())


def _comparison_context(fmt: str, source: str) -> FormatContext:
    return FormatContext(subset=llmbar_subset_from_path(source) if fmt == "llmbar" else None)


_COMPARISONS = _RecordReader(FORMATS, detect_format, convert_row, _comparison_context)
_RANKINGS = _RecordReader(RANKING_FORMATS, partial(detect_record_format, "ranking"), convert_ranking)
_RATINGS = _RecordReader(RATING_FORMATS, partial(detect_record_format, "rating"), convert_rating)
_LABELS = _RecordReader(LABEL_FORMATS, partial(detect_record_format, "label"), convert_label)


def load_comparisons(
    source: str | Path,
    *,
    format: Format = "auto",
    split: str | None = None,
    on_invalid: OnInvalid = "error",
    limit: int | None = None,
    columns: Columns | None = None,
) -> LoadedData:
    """Load pairwise preferences from a file, a ``save_to_disk`` folder or a hub id.

    ``format="auto"`` detects the format from the first row (see :func:`detect_format`).
    A bad row raises :class:`~rewardlab.errors.DataError` (an ``InvalidRecordError`` with a
    ``reason``) naming source, line and field; with ``on_invalid="skip"`` it is dropped and
    counted in ``report.skipped``. ``limit`` caps the number of rows *read* (not records
    kept), so a quick look at a large file stays cheap. Each record gets
    ``meta["source"]`` and ``meta["line"]`` so later stages can point at its origin.
    ``columns`` maps rewardlab field names onto the file's own (``{"prompt": "question"}``,
    see ``data/columns.py``).
    """
    located, report = _load(_COMPARISONS, source, format, split, on_invalid, limit, columns)
    for line, record in located:
        record.meta["source"] = report.source
        record.meta["line"] = line
    return LoadedData(records=[record for _, record in located], report=report)


def load_rankings(
    source: str | Path,
    *,
    format: RankingFormat = "auto",
    split: str | None = None,
    on_invalid: OnInvalid = "error",
    limit: int | None = None,
    columns: Columns | None = None,
) -> LoadedRankings:
    """Load best-to-worst rankings of K >= 2 responses (see docs/data.md, "Rankings").

    Sources, ``split``, ``on_invalid``, ``limit`` and the report work as in
    :func:`load_comparisons`. ``Ranking`` has no ``meta``, so rows are located by the
    report and by the line in any error.
    """
    located, report = _load(_RANKINGS, source, format, split, on_invalid, limit, columns)
    return LoadedRankings(records=[record for _, record in located], report=report)


def load_ratings(
    source: str | Path,
    *,
    format: RatingFormat = "auto",
    split: str | None = None,
    on_invalid: OnInvalid = "error",
    limit: int | None = None,
    columns: Columns | None = None,
) -> LoadedRatings:
    """Load scalar or multi-attribute ratings of single responses (see docs/data.md, "Ratings").

    Reads rewardlab ``ratings`` objects, HelpSteer/HelpSteer2 attribute columns, or one
    ``rating``/``score`` (stored as ``overall``); otherwise as :func:`load_comparisons`.
    """
    located, report = _load(_RATINGS, source, format, split, on_invalid, limit, columns)
    return LoadedRatings(records=[record for _, record in located], report=report)


def load_labels(
    source: str | Path,
    *,
    format: LabelFormat = "auto",
    split: str | None = None,
    on_invalid: OnInvalid = "error",
    limit: int | None = None,
    columns: Columns | None = None,
) -> LoadedLabels:
    """Load good/bad labels of single responses (see docs/data.md, "Good/bad labels").

    Reads rewardlab ``good`` rows and TRL unpaired-preference (KTO) ``completion``/``label``
    rows; otherwise as :func:`load_comparisons`.
    """
    located, report = _load(_LABELS, source, format, split, on_invalid, limit, columns)
    return LoadedLabels(records=[record for _, record in located], report=report)


def _load(
    reader: _RecordReader[R],
    source: str | Path,
    format: str,
    split: str | None,
    on_invalid: str,
    limit: int | None,
    columns: Columns | None = None,
) -> tuple[list[tuple[int, R]], DataReport]:
    """Read every row of ``source`` with ``reader``; returns ``(line, record)`` pairs and the report."""
    _check_options(reader.formats, format, on_invalid, limit)
    mapping = dict(columns or {})
    check_columns(mapping)
    raw = open_source(source, split)
    report = DataReport(source=raw.name, format=format)
    ctx: FormatContext | None = None
    located: list[tuple[int, R]] = []
    first_problem: dict[str, str] = {}
    ignored: set[str] = set()
    for row in itertools.islice(raw.rows, limit):
        report.rows_read += 1
        data = row.data
        try:
            if row.problem is not None:
                raise row.problem
            missing: list[str] = []
            if mapping:
                data, missing = apply_columns(data, mapping)
            if report.format == "auto":
                try:
                    report.format = _detect(reader.detect, RawRow(row.line, data), raw.name)
                except DataError:
                    if not missing:
                        raise
                    # the mapping named a column the file lacks: say so, not "cannot detect the format"
                    lacking = next(f for f, c in mapping.items() if c == missing[0])
                    raise RowError(MISSING_FIELD, "required field is missing", lacking) from None
            if ctx is None:
                ctx = reader.context(report.format, raw.name)
            fields = Fields(data, text_cells=raw.text_cells)
            record = reader.convert(report.format, fields, ctx)
        except RowError as err:
            field, message = err.field, err.message
            if err.reason == MISSING_FIELD and field in mapping:
                field, message = mapping[field], f"column {mapping[field]!r} (mapped to {field!r}) is missing"
            problem = InvalidRecordError(
                message, reason=err.reason, source=raw.name, line=row.line, field=field, hint=SKIP_HINT
            )
            if on_invalid == "error":
                raise problem from None
            report.skipped[err.reason] = report.skipped.get(err.reason, 0) + 1
            first_problem.setdefault(err.reason, problem.message)  # no "pass on_invalid=skip": it was
            continue
        ignored.update(str(key) for key in data if key not in fields.used)
        located.append((row.line, record))
    if report.rows_read == 0:
        raise DataError("the source holds no rows", source=raw.name)
    report.notes = _notes(report.format, first_problem, ignored, ctx.notes if ctx is not None else Counter())
    return located, report


def _check_options(formats: tuple[str, ...], format: str, on_invalid: str, limit: int | None) -> None:
    if format not in ("auto", *formats):
        raise ConfigError(f"format={format!r} is unknown; choose one of {', '.join(('auto', *formats))}")
    if on_invalid not in get_args(OnInvalid):
        raise ConfigError(f"on_invalid={on_invalid!r} is unknown; choose 'error' or 'skip'")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be a positive integer or None, got {limit!r}")


def _detect(detect: Callable[[Any], str], row: RawRow, source: str) -> str:
    """Detect from the first parseable row; an unrecognisable row is a whole-file problem."""
    try:
        return detect(row.data)
    except DataError as err:
        raise DataError(err.detail, source=source, line=row.line, field=err.field, hint=err.hint) from None


def _notes(fmt: str, first_problem: dict[str, str], ignored: set[str], tallies: Counter[str]) -> list[str]:
    notes = [f"{message}: {n} rows" for message, n in sorted(tallies.items())]
    notes.extend(f"first skipped row ({reason}): {text}" for reason, text in sorted(first_problem.items()))
    if ignored:
        notes.append(f"columns not used by the {fmt} format were ignored: {', '.join(sorted(ignored))}")
    return notes
