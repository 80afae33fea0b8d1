"""Error bodies: every refusal is ``{"error": {"type": ..., "message": ...}}``, and the handlers that make it so.

:func:`install_error_handlers` maps a :class:`~rewardlab.errors.ServeError` to its status (503
with ``Retry-After``, 401 with ``WWW-Authenticate``), a schema violation to 422 naming the fields
(400 for a body that is not JSON), any other HTTP error to its status, and anything unexpected to
a 500 whose details go to the log only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, Field

from rewardlab.errors import ServeError

__all__ = ["ErrorBody", "ErrorDetail", "error_bytes", "error_response", "install_error_handlers"]


class ErrorDetail(BaseModel):
    type: str = Field(description="a stable machine-readable kind, e.g. queue_full or invalid_input")
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_bytes(kind: str, message: str) -> bytes:
    """The JSON error body as bytes (for ASGI middleware, which answers before FastAPI)."""
    return json.dumps({"error": {"type": kind, "message": message}}).encode()


def error_response(status: int, kind: str, message: str, headers: Mapping[str, str] | None = None) -> Any:
    """The JSON error body as a FastAPI response."""
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status, headers=dict(headers or {}))


def install_error_handlers(app: Any, *, retry_after_s: int, log: logging.Logger,
                           on_unavailable: Callable[[Any, str], None] | None = None) -> None:
    """Answer every error of ``app`` (a FastAPI app) with the error body; ``on_unavailable(request, kind)``
    is called for each 503 (e.g. to count rejections)."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    retry = {"Retry-After": str(retry_after_s)}

    @app.exception_handler(ServeError)
    async def serve_error(request: Request, exc: ServeError) -> Any:
        status = exc.status or 500
        headers = dict(retry) if status == 503 else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if status == 503 and on_unavailable is not None:
            on_unavailable(request, exc.kind)
        if status >= 500 and status != 503:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return error_response(status, exc.kind, str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "invalid_json", "the request body is not valid JSON")
        if "json" not in request.headers.get("content-type", ""):
            return error_response(400, "invalid_json", "send the body as JSON with 'Content-Type: application/json'")
        parts = []
        for e in errors[:5]:
            loc = ".".join(str(p) for p in e.get("loc", ())[1:]) or "body"
            parts.append(f"{loc}: {str(e.get('msg', 'invalid')).removeprefix('Value error, ')}")
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        return error_response(422, "invalid_input", "; ".join(parts) + more)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        return error_response(exc.status_code, "http_error", str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Any:
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
        return error_response(500, "internal", "internal server error; see the server log")
