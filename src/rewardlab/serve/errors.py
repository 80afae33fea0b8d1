"""The server's and the client's errors, under :class:`rewardlab.errors.RewardLabError`.

``ServeError`` is the one type a client catches; ``status`` is the HTTP status when the
server answered (None for a connection that failed). ``QueueFull`` and ``ShuttingDown``
are raised by the batcher and answered as 503 with ``Retry-After``.
"""

from __future__ import annotations

from rewardlab.errors import RewardLabError

__all__ = ["ModelFailed", "NotReady", "QueueFull", "RequestTimeout", "ServeError", "ShuttingDown"]


class ServeError(RewardLabError):
    """Scoring through the HTTP server failed; ``status`` is the HTTP status when there was one."""

    kind = "error"  # the ``error.type`` of the JSON error body

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class QueueFull(ServeError):
    """The server holds as much work as it may; retry after a moment (HTTP 503)."""

    kind = "queue_full"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=503)


class ShuttingDown(ServeError):
    """The server is draining for shutdown and takes no new work (HTTP 503)."""

    kind = "shutting_down"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=503)


class NotReady(ServeError):
    """The model is still loading, failed to load, or the server is draining (HTTP 503)."""

    kind = "not_ready"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=503)


class RequestTimeout(ServeError):
    """A request was not answered within ``request_timeout_s`` (HTTP 504)."""

    kind = "timeout"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=504)


class ModelFailed(ServeError):
    """The model raised on this request's inputs (HTTP 500); other requests are unaffected."""

    kind = "model_error"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=500)
