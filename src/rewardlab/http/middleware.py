"""ASGI middleware: the API key (401), the body-size limit (413) and per-endpoint request accounting.

All are plain ASGI so they see every request, including those that never reach a route
(404, 405, a rejected body). The key is checked from the headers alone, before a byte of
the body is read or parsed: a client without a key gets 401, never 400 or 413, and cannot
make the server buffer or parse anything. The body limit reads at most ``max_bytes + 1``
bytes before refusing: a client cannot make the server buffer more than the limit.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from rewardlab.http.auth import UNAUTHORIZED, key_matches, offered_key
from rewardlab.http.errors import error_bytes

__all__ = ["BodyLimit", "RequestMetrics", "RequireKey"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _send_error(send: Send, status: int, kind: str, message: str,
                      extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = error_bytes(kind, message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


class RequireKey:
    """401 for requests to ``protected`` paths without a valid key, decided from the headers alone."""

    def __init__(self, app: ASGIApp, keys: frozenset[str], protected: frozenset[str]) -> None:
        self.app = app
        self.keys = frozenset(k.encode() for k in keys)
        self.protected = protected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or scope["path"] not in self.protected \
                or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers") or []}
        auth, key = headers.get(b"authorization"), headers.get(b"x-api-key")
        offered = offered_key(auth.decode("latin-1") if auth else None, key.decode("latin-1") if key else None)
        if not key_matches(offered, self.keys):
            await _send_error(send, 401, "unauthorized", UNAUTHORIZED, [(b"www-authenticate", b"Bearer")])
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 (by Content-Length, or while reading)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        too_large = f"the request body exceeds the server's limit of {self.max_bytes} bytes (split the request)"
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _send_error(send, 400, "invalid_request", "the Content-Length header is not a number")
                return
            if size > self.max_bytes:
                await _send_error(send, 413, "body_too_large", too_large)
                return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await _send_error(send, 413, "body_too_large", too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


#: Called once per request with (endpoint, status, seconds).
Record = Callable[[str, int, float], None]


class RequestMetrics:
    """Report every request's endpoint, status and duration to ``record``; unknown paths share one label."""

    def __init__(self, app: ASGIApp, record: Record, endpoints: frozenset[str]) -> None:
        self.app = app
        self.record = record
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = scope["path"] if scope["path"] in self.endpoints else "other"
        status = 500
        t0 = time.perf_counter()

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.record(endpoint, status, time.perf_counter() - t0)
