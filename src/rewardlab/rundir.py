"""A run directory: the name of every file a run holds, its status, and safe writes into it.

``rewardlab train`` and ``rewardlab demo`` own the entries listed in :data:`OWNED`; nothing
else in a run directory is ever touched. A run records its state in ``run.json``
(``running``, ``finished``, ``failed``, ``interrupted``), so a directory whose training
died half way never looks like a finished one, ``--resume`` knows a finished run, and
``--overwrite`` removes exactly what an earlier run wrote. Files a later stage reads are
written atomically (:func:`write_text_atomic`, :func:`write_json`, :func:`write_jsonl`): a crash
leaves the old file or the new one, never half of one. Reading them back
(:func:`read_text`, :func:`read_json`, :func:`read_jsonl`) turns every failure into a
:class:`~rewardlab.errors.DataError` naming the file and, for JSONL, the line.

``data_report.json`` has one shape, :class:`DataReportFile`, whichever training path wrote it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rewardlab.errors import ConfigError, DataError

__all__ = [
    "AUDIT",
    "CHECKPOINTS",
    "CONFIG",
    "DATA",
    "DATA_REPORT",
    "EVAL_SCORES",
    "HISTORY",
    "MEMBERS",
    "METRICS",
    "MODEL",
    "OVEROPT",
    "OWNED",
    "PROXY",
    "REPORT",
    "STATUS",
    "SUITE",
    "TENSORBOARD",
    "DataReportFile",
    "RunState",
    "atomic_dir",
    "clear_owned",
    "fsync_dir",
    "is_finished",
    "prepare_run_dir",
    "read_data_report",
    "read_json",
    "read_jsonl",
    "read_status",
    "read_text",
    "write_data_report",
    "write_json",
    "write_jsonl",
    "write_status",
    "write_text_atomic",
]

CONFIG = "config.yaml"  # the resolved run config
DATA_REPORT = "data_report.json"  # what was read, skipped, dropped, truncated
HISTORY = "train_history.jsonl"  # one line per logged step
TENSORBOARD = "tensorboard"  # training curves
CHECKPOINTS = "checkpoints"  # step-NNNNNNNN/ (train/checkpoint.py)
MODEL = "model"  # the exported model directory
MEMBERS = "members"  # an ensemble's member runs, members/K/
METRICS = "metrics.json"  # training and held-out evaluation numbers
EVAL_SCORES = "eval_scores.jsonl"  # both rewards and word counts of every held-out pair
AUDIT = "audit.json"  # the bias probes
SUITE = "suite.json"  # the behaviour suite
REPORT = "report.html"  # the self-contained report
STATUS = "run.json"  # the run's state
DATA = "data"  # the demo's synthetic world
OVEROPT = "overopt.json"  # the over-optimization study
PROXY = "proxy"  # the study's default proxy, proxy/member-K/

#: Everything a run writes; ``--overwrite`` removes exactly these.
OWNED = (CONFIG, DATA_REPORT, HISTORY, TENSORBOARD, CHECKPOINTS, MODEL, MEMBERS, METRICS, EVAL_SCORES, AUDIT,
         SUITE, REPORT, STATUS, DATA, OVEROPT, PROXY)
_TMP_PREFIX = ".rewardlab-tmp-"

RunState = Literal["running", "finished", "failed", "interrupted"]


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename inside it) to disk; a no-op where the OS does not allow it."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, fsync and rename: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def _jsonable(value: Any) -> Any:
    """A numpy or torch scalar as its Python number; anything else JSON cannot hold as its text."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError, RuntimeError):  # an array of several values: its text
            pass
    return str(value)


def write_json(path: Path, value: Any) -> None:
    """``value`` as indented JSON, atomically (scalars of numpy/torch as numbers, other non-JSON values as
    text, NaN as ``NaN``)."""
    write_text_atomic(path, json.dumps(value, indent=2, default=_jsonable) + "\n")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """One JSON object per line, atomically."""
    write_text_atomic(path, "".join(json.dumps(row, default=_jsonable) + "\n" for row in rows))


def read_text(path: Path) -> str:
    """The file's UTF-8 text; a read or decoding failure is a :class:`DataError` naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"not UTF-8 text (byte {err.object[err.start]:#04x} at offset {err.start}); "
                        "re-save the file as UTF-8", source=str(path)) from err
    except OSError as err:
        raise DataError(f"cannot be read ({err.strerror or err}); check that it is a readable file",
                        source=str(path)) from err


def read_json(path: Path) -> Any:
    """Parse a JSON file; NaN/Infinity (as :func:`write_json` writes them) become floats."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})",
                        source=str(path)) from err


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file (blank lines skipped); a bad line is a DataError naming it."""
    rows = []
    for i, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"not valid JSON ({err.msg})", source=str(path), line=i) from err
        if not isinstance(row, dict):
            raise DataError("each line must be a JSON object", source=str(path), line=i)
        rows.append(row)
    return rows


@dataclass(frozen=True)
class DataReportFile:
    """``data_report.json``: what a run read and did to its data. Every key is always present."""

    notes: list[str] = field(default_factory=list)  # each source's load report, splits, drops, warnings
    counts: dict[str, int] = field(default_factory=dict)  # train_pairs / train_rankings / ..., heldout_pairs
    train_hash: str = ""  # the training records' fingerprint (also in the model's rewardlab.json)
    lengths: dict[str, str] = field(default_factory=dict)  # split -> what the length policy did ({}: not measured)

    @classmethod
    def from_dict(cls, value: Any, source: str = DATA_REPORT) -> DataReportFile:
        """Read the file's object back; a value of the wrong type is a DataError naming the key."""
        if not isinstance(value, dict):
            raise DataError(f"expected a JSON object, found {type(value).__name__}", source=source)
        kinds = {"notes": list, "counts": dict, "train_hash": str, "lengths": dict}
        for key, kind in kinds.items():
            if key in value and not isinstance(value[key], kind):
                raise DataError(f"'{key}' must be a JSON {kind.__name__.replace('str', 'string')}, found "
                                f"{type(value[key]).__name__}", source=source)
        return cls(**{k: value[k] for k in kinds if k in value})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_data_report(run: Path, report: DataReportFile) -> None:
    write_json(run / DATA_REPORT, report.to_dict())


def read_data_report(run: Path) -> DataReportFile:
    """``run``'s data report; DataError when it is missing, unreadable or malformed."""
    path = run / DATA_REPORT
    return DataReportFile.from_dict(read_json(path), source=str(path))


@contextlib.contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it replaces ``path`` in one rename.

    A failure (or a kill) inside the block leaves ``path`` as it was: a half-written model
    directory never appears under its final name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{path.name}-", dir=path.parent))
    try:
        yield tmp
        old = None
        if path.exists():
            old = path.parent / f"{_TMP_PREFIX}{path.name}-old-{os.getpid()}-{time.monotonic_ns()}"
            os.replace(path, old)
        os.replace(tmp, path)
        fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_status(run: Path) -> dict[str, Any] | None:
    """The parsed ``run.json``, or ``None`` when it is absent or unreadable."""
    try:
        value = json.loads((run / STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_status(run: Path, state: RunState, **extra: Any) -> None:
    """Record the run's state (and when), keeping what earlier writes recorded."""
    from rewardlab import __version__

    status = read_status(run) or {}
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    status.update({"state": state, "updated": now, "rewardlab_version": __version__, **extra})
    status.setdefault("started", now)
    if state == "running":
        status.pop("error", None)
    write_json(run / STATUS, status)


def is_finished(run: Path) -> bool:
    """Whether the run finished: ``run.json`` says so, or (runs made before it existed) metrics and model are there."""
    status = read_status(run)
    if status is not None:
        return status.get("state") == "finished"
    return (run / METRICS).is_file() and (run / MODEL / "rewardlab.json").is_file()


def _entries(run: Path) -> list[str]:
    try:
        return sorted(p.name for p in run.iterdir())
    except OSError:
        return []


def clear_owned(run: Path, keep: tuple[str, ...] = ()) -> list[str]:
    """Remove every entry a run owns (and stale temporary files) except ``keep``; returns the names removed."""
    removed = []
    for name in _entries(run):
        if name in keep:
            continue
        if name in OWNED or name.startswith(_TMP_PREFIX):
            target = run / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
            removed.append(name)
    return removed


def prepare_run_dir(run: Path, *, resume: bool, overwrite: bool, keep: tuple[str, ...] = ()) -> None:
    """Check that a run may write into ``run`` (nothing is written here).

    A new run needs an empty or absent directory; ``overwrite`` allows a used one (its owned
    entries are removed by :func:`clear_owned` once every other check passed); ``resume``
    continues the run that is there.
    """
    if resume and overwrite:
        raise ConfigError("--resume continues the run in --out and --overwrite replaces it; pass one of them")
    if run.exists() and not run.is_dir():
        raise ConfigError(f"--out {run} is a file, not a directory; choose another --out")
    entries = [e for e in _entries(run) if e not in keep]
    if resume:
        if not entries:
            raise ConfigError(f"--resume: {run} holds no run to continue; start without --resume")
        if is_finished(run):
            raise ConfigError(f"--resume: the run in {run} already finished (its model is {run / MODEL}); "
                              "there is nothing to resume. Pass --overwrite to train it again, or choose a new --out")
        return
    if entries and not overwrite:
        shown = ", ".join(entries[:6]) + (f" and {len(entries) - 6} more" if len(entries) > 6 else "")
        raise ConfigError(f"--out {run} is not empty (it holds {shown}); pass --resume to continue the run in it, "
                          "--overwrite to replace it, or choose a new --out")
