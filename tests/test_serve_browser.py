"""The server's /docs page in a real headless Chromium with no other host reachable.

FastAPI's stock pages load Swagger UI from a CDN and render blank offline; ours must draw every
endpoint from assets the server itself serves. Skips (or fails under
``REWARDLAB_REQUIRE_BROWSER=1``) without Chromium and playwright, as the report's browser test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from rewardlab.models import RewardModel
from rewardlab.serve import BackgroundServer, ServeConfig, create_app
from serve_support import save_reward_model
from test_report_browser import CHROMIUM_ARGS, playwright_and_chromium


@pytest.fixture(scope="module")
def server(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    rm = RewardModel.from_pretrained(save_reward_model(tiny_bert_dir, tmp_path_factory.mktemp("docs") / "rm"))
    cfg = ServeConfig(precision="fp32", port=0)
    with BackgroundServer(create_app(rm, cfg, environ={}), cfg) as s:
        yield s


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page whose requests to any host but 127.0.0.1 are refused and recorded."""
    sync_playwright, executable = playwright_and_chromium()
    elsewhere: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-docs")), executable_path=executable, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        context.route("**/*", only_loopback)
        try:
            yield context.new_page(), elsewhere
        finally:
            context.close()


def test_swagger_ui_draws_every_endpoint_offline(server: BackgroundServer, page: tuple[Any, list[str]]) -> None:
    tab, elsewhere = page
    errors: list[str] = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    tab.goto(f"{server.url}/docs")
    tab.wait_for_selector(".opblock", timeout=15_000)
    paths = tab.locator(".opblock-summary-path").all_inner_texts()
    assert {"/v1/score", "/get_reward", "/v1/model", "/healthz"} <= {p.replace("\u200b", "") for p in paths}
    assert not errors and not elsewhere, (errors, elsewhere)
