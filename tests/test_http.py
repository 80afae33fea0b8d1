"""The shared HTTP pieces (rewardlab.http) on an app of their own: what a second rewardlab web app gets."""

from __future__ import annotations

import logging

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from rewardlab.errors import QueueFull
from rewardlab.http.auth import key_dependency, offered_key
from rewardlab.http.errors import install_error_handlers
from rewardlab.http.middleware import BodyLimit, RequestMetrics, RequireKey


class Item(BaseModel):
    text: str


def _app(seen: list[tuple[str, int]], bodies_read: list[int]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, retry_after_s=7, log=logging.getLogger("test"),
                           on_unavailable=lambda request, kind: seen.append((kind, 503)))

    @app.post("/items", dependencies=[Depends(key_dependency(frozenset({"sekret"})))])
    async def items(item: Item) -> dict[str, int]:
        bodies_read.append(len(item.text))
        if item.text == "busy":
            raise QueueFull("the queue is full; retry later")
        return {"n": len(item.text)}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    app.add_middleware(BodyLimit, max_bytes=64)
    app.add_middleware(RequireKey, keys=frozenset({"sekret"}), protected=frozenset({"/items"}))
    app.add_middleware(RequestMetrics, record=lambda endpoint, status, s: seen.append((endpoint, status)),
                       endpoints=frozenset({"/items"}))
    return app


@pytest.fixture
def client() -> tuple[TestClient, list[tuple[str, int]], list[int]]:
    seen: list[tuple[str, int]] = []
    bodies: list[int] = []
    return TestClient(_app(seen, bodies), raise_server_exceptions=False), seen, bodies


def test_a_missing_key_is_401_before_the_body_is_read_even_when_it_is_too_large(client: tuple) -> None:
    c, seen, bodies = client
    r = c.post("/items", content=b"x" * 10_000, headers={"content-type": "application/json"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["type"] == "unauthorized" and bodies == []
    assert seen == [("/items", 401)]


def test_with_the_key_bodies_are_limited_validated_and_served(client: tuple) -> None:
    c, seen, bodies = client
    key = {"Authorization": "Bearer sekret"}
    assert c.post("/items", content=b"x" * 100, headers={**key, "content-type": "application/json"}).status_code == 413
    bad = c.post("/items", json={"txt": "a"}, headers={"X-API-Key": "sekret"}).json()["error"]
    assert bad["type"] == "invalid_input" and "text" in bad["message"]
    assert bodies == []  # neither the 413 nor the 422 reached the route
    assert c.post("/items", json={"text": "abc"}, headers=key).json() == {"n": 3}
    busy = c.post("/items", json={"text": "busy"}, headers=key)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "7" and ("queue_full", 503) in seen


def test_unexpected_failures_are_500_without_their_details(client: tuple) -> None:
    c, seen, _ = client
    r = c.get("/boom")
    assert r.status_code == 500 and r.json() == {"error": {"type": "internal",
                                                           "message": "internal server error; see the server log"}}
    assert ("other", 500) in seen


def test_the_offered_key_prefers_a_bearer_token() -> None:
    assert offered_key("Bearer a", "b") == "a"
    assert offered_key("Basic a", "b") == "b"
    assert offered_key(None, None) == ""
