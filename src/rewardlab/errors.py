"""The one exception tree of rewardlab.

Every error a user can cause derives from :class:`RewardLabError`, so callers can catch
one type; each subclass names the stage that failed and its message says what to fix.

An error may carry a :class:`Hint`: an option that would fix it (``on_invalid`` set to
``skip``, say). The library names the option once, in :attr:`Hint.option`; ``str(err)``
spells it as a Python keyword (``on_invalid='skip'``) and the CLI spells it as its flag
(``--on-invalid skip``) through :meth:`RewardLabError.render`, so a message never tells a
command-line user to pass a Python keyword.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "Hint",
    "ModelError",
    "RewardLabError",
    "TrainingError",
    "typed_errors",
]


@dataclass(frozen=True)
class Hint:
    """An option that fixes an error: ``why`` says what it does, ``value`` is what to set it to."""

    option: str  # the library's keyword, e.g. "on_invalid", "format", "split", "columns"
    value: str | None
    why: str

    def python(self) -> str:
        """The hint as a Python keyword: ``to skip bad rows, pass on_invalid='skip'``."""
        value = "..." if self.value is None else repr(self.value)
        return f"{self.why}, pass {self.option}={value}"


class RewardLabError(Exception):
    """Base class of every error rewardlab raises on purpose."""

    def __init__(self, message: str = "", *, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.render()

    def render(self, spell: Callable[[Hint], str | None] | None = None) -> str:
        """The message with its hint, the option spelt by ``spell`` (None: as a Python keyword)."""
        if self.hint is None:
            return self.message
        text = spell(self.hint) if spell is not None else None
        return f"{self.message}; {text or self.hint.python()}"


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
        hint: Hint | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.detail = message
        where = []
        if source is not None:
            where.append(str(source))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}", hint=hint)


class ModelError(RewardLabError):
    """A backbone or model directory cannot be loaded or used as a reward model."""


class CheckpointError(RewardLabError):
    """A checkpoint is missing, incomplete or does not match the run."""


class TrainingError(RewardLabError):
    """Training cannot continue (for example, the loss became NaN or infinite)."""


@contextlib.contextmanager
def typed_errors(error: type[RewardLabError], what: str) -> Iterator[None]:
    """Re-raise anything a dependency raises inside the block as ``error`` (``what``: the failed action).

    For boundaries where foreign input meets third-party code (loading a model directory):
    rewardlab's own errors pass through; any other exception becomes one typed error whose
    message holds the original's type and first line, chained for debugging.
    """
    try:
        yield
    except RewardLabError:
        raise
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        raise error(f"{what}: {type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")) from exc
