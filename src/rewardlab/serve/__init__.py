"""Serving reward models over HTTP: a FastAPI app with dynamic batching, and its client.

``create_app`` and ``serve`` need the server's dependencies (``pip install 'rewardlab[serve]'``);
``ServeClient`` needs only httpx. Names load lazily, so importing the client does not import
FastAPI or torch. See docs/serve.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BackgroundServer": "rewardlab.serve.run",
    "RemoteScorer": "rewardlab.serve.client",
    "ScoreResult": "rewardlab.serve.client",
    "ServeClient": "rewardlab.serve.client",
    "ServeConfig": "rewardlab.serve.config",
    "ServeError": "rewardlab.serve.errors",
    "create_app": "rewardlab.serve.app",
    "serve": "rewardlab.serve.run",
}

__all__ = sorted(_EXPORTS)

_HINT = {"fastapi", "uvicorn", "prometheus_client", "httpx"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rewardlab.serve' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name in _HINT:
            from rewardlab.errors import ConfigError

            raise ConfigError(f"rewardlab.serve.{name} needs {exc.name}: pip install 'rewardlab[serve]'") from exc
        raise
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
