"""``create_app``: the FastAPI scoring server (routes, auth, error mapping, lifespan).

Endpoints: ``POST /v1/score``, ``POST /get_reward`` (OpenRLHF), ``GET /v1/model``,
``GET /healthz`` (the process is up), ``GET /readyz`` (the model is loaded and work is
taken), ``GET /metrics`` (Prometheus), ``GET /docs`` (OpenAPI). Every refusal has the body
``{"error": {"type", "message"}}``; 503s carry ``Retry-After``. Request texts are never logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from rewardlab.errors import ModelError, Unauthorized
from rewardlab.serve.backend import Backend, Scored
from rewardlab.serve.config import ServeConfig, resolve_api_keys
from rewardlab.serve.docs import install_docs
from rewardlab.serve.errors import ModelFailed, ServeError
from rewardlab.serve.inputs import Prepared, get_reward_texts, score_request_pairs
from rewardlab.serve.middleware import UNAUTHORIZED, BodyLimit, RequestMetrics, RequireKey, key_matches
from rewardlab.serve.runtime import ModelSource, Runtime
from rewardlab.serve.schemas import (
    ErrorBody,
    GetRewardRequest,
    GetRewardResponse,
    ItemResult,
    ScoreRequest,
    ScoreResponse,
    Usage,
)

__all__ = ["create_app"]

log = logging.getLogger("rewardlab.serve")

ENDPOINTS = frozenset({"/v1/score", "/get_reward", "/v1/model", "/healthz", "/readyz", "/metrics", "/docs",
                       "/openapi.json"})
#: Endpoints that need an API key when keys are configured.
PROTECTED = frozenset({"/v1/score", "/get_reward", "/v1/model"})
_RETRY = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "the body is not valid JSON"},
    401: {"model": ErrorBody, "description": "a valid API key is required"},
    413: {"model": ErrorBody, "description": "the body exceeds max_body_bytes"},
    422: {"model": ErrorBody, "description": "the body breaks the schema or a limit"},
    503: {"model": ErrorBody, "description": "queue full, model loading or server draining", "headers": _RETRY},
    504: {"model": ErrorBody, "description": "not answered within request_timeout_s"},
}


def _error(status: int, kind: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status, headers=dict(headers or {}))


def _auth_dependency(keys: frozenset[str]) -> Any:
    bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
    header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key")
    encoded = frozenset(k.encode() for k in keys)

    # RequireKey has already refused a request without a valid key, before its body was read; this
    # dependency documents the schemes in the OpenAPI spec and holds for an app mounted without it.
    async def require_key(creds: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
                          key: str | None = Depends(header)) -> None:
        if not encoded:
            return
        offered = (creds.credentials if creds is not None else key) or ""
        if not key_matches(offered, encoded):
            raise Unauthorized(UNAUTHORIZED)

    return require_key


def _runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def _finite(scored: Sequence[Scored]) -> list[float]:
    rewards = [s.reward for s in scored]
    if not all(math.isfinite(r) for r in rewards):
        raise ModelFailed("the model produced a non-finite reward (NaN or inf); check the model")
    return rewards


def _spread(scored: Sequence[Scored]) -> list[float] | None:
    spread = [s.spread for s in scored]
    return None if not spread or any(s is None for s in spread) else [float(s or 0.0) for s in spread]


def _score_response(backend: Backend, counts: Sequence[int], prepared: Prepared,
                    scored: Sequence[Scored]) -> ScoreResponse:
    rewards = _finite(scored)
    normalized = backend.normalize(rewards)
    results, start = [], 0
    for n in counts:
        part = slice(start, start + n)
        rows = scored[part]
        results.append(ItemResult(
            rewards=rewards[part], normalized_rewards=normalized[part] if normalized is not None else None,
            spread=_spread(rows),
            attributes=[dict(s.attributes or {}) for s in rows] if rows and rows[0].attributes else None,
            truncated=prepared.truncated[part], tokens=prepared.tokens[part],
        ))
        start += n
    usage = Usage(responses=len(rewards), tokens=sum(prepared.tokens), truncated=sum(prepared.truncated))
    return ScoreResponse(results=results, usage=usage)


def _install_handlers(app: FastAPI, config: ServeConfig) -> None:
    retry = {"Retry-After": str(config.retry_after_s)}

    @app.exception_handler(ServeError)
    async def serve_error(request: Request, exc: ServeError) -> JSONResponse:
        status = exc.status or 500
        headers = dict(retry) if status == 503 else {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if status == 503:
            _runtime(request).metrics.rejected.labels(exc.kind).inc()
        if status >= 500 and status != 503:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return _error(status, exc.kind, str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "invalid_json", "the request body is not valid JSON")
        if "json" not in request.headers.get("content-type", ""):
            return _error(400, "invalid_json", "send the body as JSON with 'Content-Type: application/json'")
        parts = []
        for e in errors[:5]:
            loc = ".".join(str(p) for p in e.get("loc", ())[1:]) or "body"
            parts.append(f"{loc}: {str(e.get('msg', 'invalid')).removeprefix('Value error, ')}")
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        return _error(422, "invalid_input", "; ".join(parts) + more)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "http_error", str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
        return _error(500, "internal", "internal server error; see the server log")


def _install_routes(app: FastAPI, auth: Any) -> None:
    @app.post("/v1/score", response_model=ScoreResponse, responses=_ERRORS, dependencies=[Depends(auth)],
              summary="Score responses to prompts")
    async def score(body: ScoreRequest, request: Request) -> ScoreResponse:
        rt = _runtime(request)
        backend = rt.require_ready()
        pairs = score_request_pairs(body, rt.config)
        prepared, scored = await rt.score_pairs(pairs)
        return _score_response(backend, pairs.counts, prepared, scored)

    @app.post("/get_reward", response_model=GetRewardResponse, response_model_exclude_none=True,
              responses=_ERRORS, dependencies=[Depends(auth)], summary="OpenRLHF remote reward model")
    async def get_reward(body: GetRewardRequest, request: Request) -> GetRewardResponse:
        rt = _runtime(request)
        backend = rt.require_ready()
        texts, labels = get_reward_texts(body, rt.config, backend.pad_text)
        prepared, scored = await rt.score_texts(texts, labels)
        rewards = _finite(scored)
        if rt.config.openrlhf_normalize:
            rewards = backend.normalize(rewards) or rewards
        return GetRewardResponse(rewards=rewards, scores=rewards, truncated=prepared.truncated,
                                 spread=_spread(scored))

    @app.get("/v1/model", responses=_ERRORS, dependencies=[Depends(auth)], summary="The served model and limits")
    async def model_info(request: Request) -> dict[str, Any]:
        rt = _runtime(request)
        cfg = rt.config
        limits = {"max_responses_per_request": cfg.max_responses_per_request, "max_text_chars": cfg.max_text_chars,
                  "max_body_bytes": cfg.max_body_bytes, "on_overlong": cfg.on_overlong}
        return {"model": rt.require_ready().info(), "limits": limits}

    @app.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: the model is loaded and work is taken",
             responses={503: {"description": "loading, failed or draining", "headers": _RETRY}})
    async def readyz(request: Request) -> JSONResponse:
        rt = _runtime(request)
        if rt.state == "ready":
            return JSONResponse({"status": "ready"})
        body: dict[str, Any] = {"status": rt.state, **({"error": rt.error} if rt.error else {})}
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(rt.config.retry_after_s)})

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(_runtime(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)


def create_app(model: ModelSource, config: ServeConfig | None = None, *,
               environ: Mapping[str, str] | None = None, wait_for_model: bool | None = None,
               owns_model: bool | None = None) -> FastAPI:
    """The scoring app for ``model``: a loaded model, a model directory or a zero-argument loader.

    A loaded model is ready when the server starts. A directory or loader is loaded at startup
    on the model thread: in the background (``/readyz`` says when) or, with ``wait_for_model``,
    before the server accepts connections (a failure then stops the startup). API keys are the
    config's plus those in ``environ[config.api_keys_env]`` (default: the process environment,
    read now, not at import). Only a model loaded from a directory is changed for speed (at bf16,
    linear weights stored in bf16: the same scores); a model object or a loader's model is the
    caller's and is left as it is, unless ``owns_model`` says the server may change it.
    """
    cfg = config or ServeConfig()
    runtime = Runtime(model, cfg, wait_for_model=wait_for_model, owns_model=owns_model)
    keys = resolve_api_keys(cfg, environ)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if wait_for_model and runtime.state == "failed":
            raise ModelError(f"the model failed to load: {runtime.error}")
        try:
            yield
        finally:
            await runtime.stop()

    from rewardlab import __version__

    app = FastAPI(title="rewardlab scoring server", version=__version__, lifespan=lifespan,
                  description="Reward-model scoring with dynamic batching. See docs/serve.md.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json" if cfg.docs else None)
    if cfg.docs:
        install_docs(app)  # Swagger UI from local assets: /docs works offline
    app.state.runtime = runtime
    _install_handlers(app, cfg)
    _install_routes(app, _auth_dependency(keys))
    app.add_middleware(BodyLimit, max_bytes=cfg.max_body_bytes)
    app.add_middleware(RequireKey, keys=keys, protected=PROTECTED)  # outside BodyLimit: 401 before any body
    app.add_middleware(RequestMetrics, metrics=runtime.metrics, endpoints=ENDPOINTS)
    if cfg.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cfg.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-API-Key"])
    if not keys and cfg.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s without API keys: anyone who reaches the port can use the model", cfg.host)
    return app
