"""What to do with records longer than the model's context: error, drop or truncate.

The data layer only decides and counts; it never cuts text itself. With ``truncate`` the
records are kept and the model layer truncates from the left at tokenization (keeping
the end of the response, where the scored token is). Every case is counted in a
:class:`LengthReport` (invariant 4, docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

from rewardlab.errors import ConfigError, DataError

__all__ = ["LengthPolicy", "LengthReport", "apply_length_policy"]

LengthPolicy = Literal["error", "drop", "truncate"]
R = TypeVar("R")


@dataclass(frozen=True)
class LengthReport:
    """Counts from one :func:`apply_length_policy` call."""

    total: int
    over_length: int
    dropped: int
    truncated: int
    max_seen: int
    max_length: int
    policy: str

    def summary(self) -> str:
        """One line for logs: how many were over, and what was done with them."""
        text = (
            f"{self.over_length} of {self.total} records longer than max_length={self.max_length} "
            f"(longest {self.max_seen}), policy {self.policy}"
        )
        if self.dropped:
            text += f": {self.dropped} dropped"
        if self.truncated:
            text += f": {self.truncated} kept, to be truncated from the left at tokenization"
        return text


def apply_length_policy(
    records: Sequence[R],
    measure: Callable[[R], int],
    max_length: int,
    policy: LengthPolicy,
) -> tuple[list[R], LengthReport]:
    """Apply ``policy`` to records whose ``measure`` exceeds ``max_length``.

    ``measure`` is typically the token length of the longer formatted side (prompt +
    chosen or prompt + rejected). ``error`` raises a ``DataError`` naming the source and
    line of the first over-long record and how many are over; ``drop`` removes them;
    ``truncate`` keeps them unchanged for the model layer to cut.
    """
    if policy not in get_args(LengthPolicy):
        raise ConfigError(f"length policy {policy!r} is unknown; choose 'error', 'drop' or 'truncate'")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ConfigError(f"max_length must be a positive integer, got {max_length!r}")
    lengths = [measure(record) for record in records]
    over = [i for i, n in enumerate(lengths) if n > max_length]
    if over and policy == "error":
        first = records[over[0]]
        meta: dict[str, Any] = getattr(first, "meta", None) or {}
        source = meta.get("source")
        raise DataError(
            f"{len(over)} of {len(records)} records are longer than max_length={max_length} "
            f"(this one: {lengths[over[0]]}); raise max_length or choose the length policy "
            "'drop' or 'truncate'",
            source=None if source is None else str(source),
            line=meta.get("line"),
        )
    kept = [r for r, n in zip(records, lengths, strict=True) if n <= max_length] if policy == "drop" else list(records)
    report = LengthReport(
        total=len(records),
        over_length=len(over),
        dropped=len(over) if policy == "drop" else 0,
        truncated=len(over) if policy == "truncate" else 0,
        max_seen=max(lengths, default=0),
        max_length=max_length,
        policy=policy,
    )
    return kept, report
