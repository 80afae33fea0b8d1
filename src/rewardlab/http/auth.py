"""API keys: which key a request offers, and a constant-time check against the configured ones.

Used by :class:`~rewardlab.http.middleware.RequireKey` (from the raw headers, before the body is
read) and by :func:`key_dependency` (which also documents the schemes in the OpenAPI spec).
"""

from __future__ import annotations

import hmac
from typing import Any

from rewardlab.errors import Unauthorized

__all__ = ["UNAUTHORIZED", "key_dependency", "key_matches", "offered_key"]

UNAUTHORIZED = "a valid API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key'"


def offered_key(authorization: str | None, api_key: str | None) -> str:
    """The key a request offers: ``Authorization: Bearer <key>``, else ``X-API-Key``; ``""`` for none."""
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    return api_key or ""


def key_matches(offered: str, keys: frozenset[bytes]) -> bool:
    """Constant-time comparison against every key (no early exit: timing says nothing about which matched)."""
    raw = offered.encode("utf-8", "surrogateescape")
    return any([hmac.compare_digest(raw, k) for k in keys])


def key_dependency(keys: frozenset[str]) -> Any:
    """A FastAPI dependency that raises :class:`Unauthorized` without a valid key (none configured: open).

    ``RequireKey`` has already refused such a request before its body was read; this documents
    the schemes in the OpenAPI spec and holds for an app mounted without the middleware.
    """
    from fastapi import Depends
    from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

    bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
    header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key")
    encoded = frozenset(k.encode() for k in keys)

    async def require_key(creds: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
                          key: str | None = Depends(header)) -> None:
        if not encoded:
            return
        offered = (creds.credentials if creds is not None else key) or ""
        if not key_matches(offered, encoded):
            raise Unauthorized(UNAUTHORIZED)

    return require_key
