"""The one exception tree of rewardlab.

Every error a user can cause derives from :class:`RewardLabError`, so callers can catch
one type; each subclass names the stage that failed and its message says what to fix.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "ModelError",
    "RewardLabError",
    "TrainingError",
]


class RewardLabError(Exception):
    """Base class of every error rewardlab raises on purpose."""


class ConfigError(RewardLabError):
    """A configuration value is unknown, of the wrong type or out of range."""


class DataError(RewardLabError):
    """A data file or record is malformed.

    ``source``, ``line`` and ``field`` locate the problem when known; they are also
    folded into the message so a plain ``str(err)`` tells the user where to look.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        where = []
        if source is not None:
            where.append(str(source))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class ModelError(RewardLabError):
    """A backbone or model directory cannot be loaded or used as a reward model."""


class CheckpointError(RewardLabError):
    """A checkpoint is missing, incomplete or does not match the run."""


class TrainingError(RewardLabError):
    """Training cannot continue (for example, the loss became NaN or infinite)."""
