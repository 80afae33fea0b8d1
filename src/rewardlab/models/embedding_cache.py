"""A disk cache of frozen-backbone embeddings, so each (model, text) is embedded once.

Training a head on frozen embeddings (Sun, Shen & Ton 2025) is cheap; embedding is not. The
cache makes re-training with another head, loss or seed, and re-scoring the same texts, cost
no backbone forward passes. It is one SQLite file (stdlib ``sqlite3``) in WAL mode: every
write is a transaction, so an interrupted run leaves the file consistent (the rows written
so far stay), several processes can read while one writes, and reopening is always safe.

A key is the SHA-256 of the embedder id (backbone, weights fingerprint, pooling, max length,
special-token setting) and the exact formatted input text, so a change to any of them misses.
Values are raw float32 bytes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

import numpy as np

from rewardlab.errors import ModelError

__all__ = ["CACHE_FILE", "EmbeddingCache", "cache_key", "default_cache_dir"]

CACHE_FILE = "cache.sqlite"
_CHUNK = 500  # keys per SELECT ... IN (...): below SQLite's default bound-parameter limit


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rewardlab/embeddings``, or ``~/.cache/rewardlab/embeddings``.

    Read at call time (never at import), so tests and callers can point it elsewhere.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rewardlab" / "embeddings"


def cache_key(embedder_id: str, text: str) -> str:
    """The cache key of one input text under one embedder: a hex SHA-256.

    The id and the text are length-prefixed so no (id, text) pair can collide with another.
    """
    blob = f"{len(embedder_id)}:{embedder_id}\n{text}".encode()
    return hashlib.sha256(blob).hexdigest()


class EmbeddingCache:
    """``key -> float32 vector`` on SQLite. Use ``get_many`` / ``put_many``; close when done."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=60.0)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: consistent after a crash
            with self._conn:
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID"
                )
        except (OSError, sqlite3.Error) as exc:
            raise ModelError(
                f"cannot open the embedding cache {self.path}: {exc}; pass another cache_dir, or delete the "
                "file if it is damaged (it only holds recomputable embeddings)"
            ) from exc

    @classmethod
    def in_dir(cls, cache_dir: str | os.PathLike[str] | None = None) -> EmbeddingCache:
        """The cache file inside ``cache_dir`` (default: :func:`default_cache_dir`)."""
        return cls(Path(cache_dir or default_cache_dir()) / CACHE_FILE)

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys`` (missing keys are absent from the result).

        The file is outside the model directory and anyone may have written it: an entry that is
        not a float32 buffer or holds NaN or infinity is treated as missing (recomputed and
        overwritten), never returned.
        """
        wanted = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(f"SELECT key, vec FROM embeddings WHERE key IN ({marks})", chunk)
            for key, blob in rows:
                if not isinstance(blob, bytes) or not blob or len(blob) % 4:
                    continue
                vec = np.frombuffer(blob, dtype=np.float32).copy()
                if np.isfinite(vec).all():
                    found[key] = vec
        return found

    def put_many(self, items: Mapping[str, np.ndarray]) -> None:
        """Store vectors (as float32) in one transaction: all of them or, if interrupted, none."""
        rows = [(k, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in items.items()]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO embeddings (key, vec) VALUES (?, ?)", rows)

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r})"
