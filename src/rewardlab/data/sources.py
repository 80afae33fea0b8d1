"""Reading files and Hugging Face data sets into raw rows, each with its line number.

Format-agnostic: this module only knows containers (JSONL, JSON, CSV, Parquet,
``save_to_disk`` folders, hub ids). Each row keeps the 1-based number a user would look
up (the line for JSONL/CSV, the item index for JSON/Parquet/datasets), so that any later
error can point at it. A row that cannot even be parsed is passed on as a problem rather
than raised here, so the loader's skip policy applies to it like any other bad row.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab.data.validation import DUPLICATE_KEY, INVALID_JSON, MALFORMED_ROW, NOT_AN_OBJECT, RowError
from rewardlab.errors import DataError, Hint

__all__ = ["SUFFIXES", "DuplicateKeyError", "RawRow", "RawSource", "check_exists", "loads_strict", "looks_local",
           "open_source"]

SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".csv", ".parquet")
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
# Long model outputs: the csv module's default cell limit (128 KiB) would refuse them.
CSV_FIELD_LIMIT = 1 << 30


@dataclass(frozen=True)
class RawRow:
    """One row as stored: ``data`` is the parsed object, or ``problem`` says why there is none."""

    line: int
    data: Any = None
    problem: RowError | None = None


@dataclass
class RawSource:
    """An opened source: its display name, its rows, and how to read their cells.

    ``text_cells`` is true for CSV, whose cells are all text (see ``Fields``).
    """

    name: str
    rows: Iterator[RawRow]
    text_cells: bool = False


def open_source(source: str | Path, split: str | None = None) -> RawSource:
    """Open a file, a ``save_to_disk`` folder or a hub id; rows are read lazily.

    A path that exists is read by its extension; a folder must come from
    ``Dataset.save_to_disk``/``DatasetDict.save_to_disk``. Anything else that looks like
    ``name`` or ``owner/name`` is loaded from the Hugging Face hub.
    """
    text = str(source)
    path = Path(text).expanduser()
    if path.is_dir():
        return _saved_dataset(path, split)
    if path.is_file():
        reader = _reader_for(path)
        if split is not None:
            raise DataError(
                f"a split ({split!r}) only applies to a DatasetDict folder or a hub id, not to a single file",
                source=text, hint=Hint("split", None, "leave the split out for a file"),
            )
        return RawSource(name=text, rows=_guard(reader(path), text), text_cells=_suffix(path) == ".csv")
    check_exists(text)
    return _hub_dataset(text, split)


def check_exists(source: str | Path) -> None:
    """DataError "no such file or folder" for a source that names a local path that is not there
    (a hub id passes); cheap, so commands call it before loading a model."""
    text = str(source)
    path = Path(text).expanduser()
    if path.exists():
        return
    if _suffix(path) or not _HUB_ID.fullmatch(text) or looks_local(path):
        raise DataError("no such file or folder", source=text)


def looks_local(path: Path) -> bool:
    """Whether a path that does not exist still plainly means a local one (``runs/a`` where ``runs/`` exists).

    Hub ids look like ``owner/name``; when the ``owner`` part is a local folder the user meant
    that folder, and "no such file" is the helpful answer, not the hub's.
    """
    parts = path.parts
    return str(path).startswith((".", "/", "~")) or (len(parts) > 1 and Path(parts[0]).is_dir())


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in sorted(SUFFIXES, key=len, reverse=True) if name.endswith(s)), None)


def _reader_for(path: Path) -> Callable[[Path], Iterator[RawRow]]:
    readers: dict[str, Callable[[Path], Iterator[RawRow]]] = {
        ".jsonl": _jsonl_rows,
        ".jsonl.gz": _jsonl_rows,
        ".json": _json_rows,
        ".csv": _csv_rows,
        ".parquet": _parquet_rows,
    }
    suffix = _suffix(path)
    if suffix is None:
        raise DataError(
            f"unknown file type; expected one of {', '.join(SUFFIXES)} or a save_to_disk folder",
            source=str(path),
        )
    return readers[suffix]


def _guard(rows: Iterator[RawRow], name: str) -> Iterator[RawRow]:
    """Turn low-level read failures (corrupt gzip, bad Parquet, I/O) into a DataError."""
    try:
        yield from rows
    except DataError:
        raise
    except (OSError, EOFError, ValueError, csv.Error) as err:
        raise DataError(f"cannot read the file: {err}", source=name) from err


def _object_row(number: int, data: Any) -> RawRow:
    if not isinstance(data, dict):
        kind = type(data).__name__
        message = f"expected an object with named fields, got {kind}"
        return RawRow(number, problem=RowError(NOT_AN_OBJECT, message))
    return RawRow(number, data)


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice (plain ``json.loads`` would silently keep the last value)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(f"an object names the key {key!r} twice (only one value could be kept); "
                                    "remove the repeated key")
        out[key] = value
    return out


def loads_strict(text: str) -> Any:
    """``json.loads`` that refuses an object with a repeated key instead of dropping its first value."""
    return json.loads(text, object_pairs_hook=_unique_keys)


def _jsonl_rows(path: Path) -> Iterator[RawRow]:
    """JSON Lines (optionally gzipped): one object per line; blank lines carry no row."""
    opener: Callable[..., Any] = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                message = f"line is not valid UTF-8 ({err.reason})"
                yield RawRow(number, problem=RowError(INVALID_JSON, message))
                continue
            if not line.strip():
                continue
            try:
                data = loads_strict(line)
            except DuplicateKeyError as err:
                yield RawRow(number, problem=RowError(DUPLICATE_KEY, str(err)))
                continue
            except json.JSONDecodeError as err:
                message = f"line is not valid JSON ({err.msg} at column {err.colno})"
                yield RawRow(number, problem=RowError(INVALID_JSON, message))
                continue
            except RecursionError:
                yield RawRow(number, problem=RowError(INVALID_JSON, "the JSON on this line is nested too deeply"))
                continue
            yield _object_row(number, data)


def _json_rows(path: Path) -> Iterator[RawRow]:
    """A JSON file holding a list of objects; the row number is the 1-based list index."""
    try:
        data = loads_strict(path.read_text(encoding="utf-8-sig"))
    except DuplicateKeyError as err:
        raise DataError(str(err), source=str(path)) from None
    except RecursionError:
        raise DataError("the JSON is nested too deeply to read", source=str(path)) from None
    except json.JSONDecodeError as err:
        hint = "; it looks like JSON Lines, so name it .jsonl" if err.msg == "Extra data" else ""
        message = f"not valid JSON ({err.msg} at column {err.colno}){hint}"
        raise DataError(message, source=str(path), line=err.lineno) from None
    except UnicodeDecodeError as err:
        raise DataError(f"not valid UTF-8 ({err.reason})", source=str(path)) from None
    if not isinstance(data, list):
        raise DataError(f"expected a JSON list of objects, got a {type(data).__name__}", source=str(path))
    for number, item in enumerate(data, 1):
        yield _object_row(number, item)


def _csv_rows(path: Path) -> Iterator[RawRow]:
    """CSV with a header row; the row number is the file line where the record starts."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise DataError(f"the header names a column more than once ({', '.join(map(repr, repeated))}); "
                            "rename the repeated columns", source=str(path), line=1)
        start = 2
        for record in reader:
            if None in record or any(v is None for v in record.values()):
                cells = len(reader.fieldnames or [])
                problem = RowError(MALFORMED_ROW, f"the record does not have the header's {cells} cells")
                yield RawRow(start, problem=problem)
            else:
                yield RawRow(start, dict(record))
            start = reader.line_num + 1


def _parquet_rows(path: Path) -> Iterator[RawRow]:
    import pyarrow.parquet as pq  # lazy: only Parquet users pay for the import

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for item in batch.to_pylist():
            number += 1
            yield _object_row(number, item)


def _dataset_rows(dataset: Iterable[Any]) -> Iterator[RawRow]:
    for number, item in enumerate(dataset, 1):
        yield _object_row(number, item)


def _saved_dataset(path: Path, split: str | None) -> RawSource:
    """A folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    import datasets  # lazy: importing datasets costs seconds

    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as err:
        raise DataError(
            f"this folder is not a Hugging Face dataset written by save_to_disk ({err})", source=str(path)
        ) from None
    if isinstance(loaded, datasets.DatasetDict):
        chosen = split or "train"
        if chosen not in loaded:
            raise DataError(
                f"no split {chosen!r}; available splits: {', '.join(sorted(loaded))}",
                source=str(path), hint=Hint("split", sorted(loaded)[0], "to read another split"),
            )
        return RawSource(name=f"{path}[{chosen}]", rows=_dataset_rows(loaded[chosen]))
    if split is not None and split != str(loaded.split):
        raise DataError(
            f"this folder holds a single Dataset (split {loaded.split}), so split {split!r} does not exist",
            source=str(path), hint=Hint("split", None, "leave the split out"),
        )
    return RawSource(name=str(path), rows=_dataset_rows(loaded))


def _hub_dataset(dataset_id: str, split: str | None) -> RawSource:
    """A data set on the Hugging Face hub (needs network, or a warm ``datasets`` cache)."""
    import datasets  # lazy: importing datasets costs seconds

    chosen = split or "train"
    try:
        loaded = datasets.load_dataset(dataset_id, split=chosen)
    except Exception as err:  # datasets raises many types (network, missing repo, bad split)
        raise DataError(
            f"not a local file or folder, and loading it as a Hugging Face hub data set failed: {err}",
            source=dataset_id,
        ) from err
    return RawSource(name=f"{dataset_id}[{chosen}]", rows=_dataset_rows(loaded))
