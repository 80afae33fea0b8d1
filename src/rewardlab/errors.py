"""The one exception tree of rewardlab: every error a user can cause, all in this module.

Every error a user can cause derives from :class:`RewardLabError`, so callers can catch
one type; each subclass names the stage that failed and its message says what to fix::

    RewardLabError
    ├── ConfigError           a config value or option is unknown, of the wrong type or out of range
    ├── DataError             a data file or record is malformed (source, line, field)
    │   ├── InvalidRecordError    one record; ``reason`` is what ``on_invalid=skip`` counts
    │   └── CheckError            a behaviour-suite check's fields are wrong
    ├── ModelError            a backbone or model directory cannot be loaded or used
    ├── CheckpointError       a checkpoint is missing, damaged, unsafe or from another run
    ├── TrainingError         training cannot continue (a non-finite loss, no full batch)
    └── ServeError            scoring through the HTTP server failed (``status``, ``kind``)
        ├── InputRejected         422: the request breaks a limit or cannot be scored
        ├── Unauthorized          401: no API key, or an unknown one
        ├── QueueFull             503: the server holds as much work as it may
        ├── ShuttingDown          503: draining for shutdown
        ├── NotReady              503: the model is loading, failed, or the server is draining
        ├── RequestTimeout        504: not answered within ``request_timeout_s``
        └── ModelFailed           500: the model raised on this request's inputs

Three exceptions live elsewhere because they never reach a user: ``data.validation.RowError``
(a row's problem before its location is known; the loader turns it into an
``InvalidRecordError``), ``data.sources.DuplicateKeyError`` (a JSON hook's signal) and private
``_``-named signals inside single modules.

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
    "CheckError",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "Hint",
    "InputRejected",
    "InvalidRecordError",
    "ModelError",
    "ModelFailed",
    "NotReady",
    "QueueFull",
    "RequestTimeout",
    "RewardLabError",
    "ServeError",
    "ShuttingDown",
    "TrainingError",
    "Unauthorized",
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


class InvalidRecordError(DataError):
    """A record that cannot be loaded; ``reason`` is the key counted under ``on_invalid="skip"``."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: Hint | None = None,
    ) -> None:
        super().__init__(message, source=source, line=line, field=field, hint=hint)
        self.reason = reason


class CheckError(DataError):
    """A behaviour-suite check whose fields are wrong; ``problem`` is the message without its location."""

    def __init__(self, problem: str, field: str | None = None) -> None:
        super().__init__(problem, field=field)
        self.problem = problem


class ModelError(RewardLabError):
    """A backbone or model directory cannot be loaded or used as a reward model."""


class CheckpointError(RewardLabError):
    """A checkpoint is missing, incomplete or does not match the run."""


class TrainingError(RewardLabError):
    """Training cannot continue (for example, the loss became NaN or infinite)."""


class ServeError(RewardLabError):
    """Scoring through the HTTP server failed; ``status`` is the HTTP status when there was one
    (None for a connection that failed), ``kind`` the ``error.type`` of the JSON error body."""

    kind = "error"
    code: int | None = None  # the HTTP status a subclass is always answered with

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status if status is not None else self.code


class InputRejected(ServeError):
    """A request is well-formed JSON but breaks a limit or cannot be scored (HTTP 422)."""

    kind, code = "invalid_input", 422


class Unauthorized(ServeError):
    """No API key, or an unknown one (HTTP 401)."""

    kind, code = "unauthorized", 401


class QueueFull(ServeError):
    """The server holds as much work as it may; retry after a moment (HTTP 503)."""

    kind, code = "queue_full", 503


class ShuttingDown(ServeError):
    """The server is draining for shutdown and takes no new work (HTTP 503)."""

    kind, code = "shutting_down", 503


class NotReady(ServeError):
    """The model is still loading, failed to load, or the server is draining (HTTP 503)."""

    kind, code = "not_ready", 503


class RequestTimeout(ServeError):
    """A request was not answered within ``request_timeout_s`` (HTTP 504)."""

    kind, code = "timeout", 504


class ModelFailed(ServeError):
    """The model raised on this request's inputs (HTTP 500); other requests are unaffected."""

    kind, code = "model_error", 500


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
