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
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rewardlab.errors import ModelError
from rewardlab.http.auth import key_dependency
from rewardlab.http.errors import ErrorBody, install_error_handlers
from rewardlab.http.middleware import BodyLimit, RequestMetrics, RequireKey
from rewardlab.serve.backend import Backend, Scored
from rewardlab.serve.config import ServeConfig, resolve_api_keys
from rewardlab.serve.docs import install_docs
from rewardlab.serve.errors import ModelFailed
from rewardlab.serve.inputs import Prepared, get_reward_texts, score_request_pairs
from rewardlab.serve.runtime import ModelSource, Runtime
from rewardlab.serve.schemas import (
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
    install_error_handlers(app, retry_after_s=cfg.retry_after_s, log=log,
                           on_unavailable=lambda request, kind: runtime.metrics.rejected.labels(kind).inc())
    _install_routes(app, key_dependency(keys))
    app.add_middleware(BodyLimit, max_bytes=cfg.max_body_bytes)
    app.add_middleware(RequireKey, keys=keys, protected=PROTECTED)  # outside BodyLimit: 401 before any body
    app.add_middleware(RequestMetrics, record=runtime.metrics.record_request, endpoints=ENDPOINTS)
    if cfg.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cfg.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-API-Key"])
    if not keys and cfg.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s without API keys: anyone who reaches the port can use the model", cfg.host)
    return app
