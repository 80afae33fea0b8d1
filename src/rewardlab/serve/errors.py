"""The server's and the client's errors: re-exported from :mod:`rewardlab.errors`, where the one tree is drawn.

``ServeError`` is the one type a client catches; ``status`` is the HTTP status when the
server answered (None for a connection that failed). ``QueueFull`` and ``ShuttingDown``
are raised by the batcher and answered as 503 with ``Retry-After``.
"""

from __future__ import annotations

from rewardlab.errors import ModelFailed, NotReady, QueueFull, RequestTimeout, ServeError, ShuttingDown

__all__ = ["ModelFailed", "NotReady", "QueueFull", "RequestTimeout", "ServeError", "ShuttingDown"]
