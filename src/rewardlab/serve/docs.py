"""Interactive API docs (Swagger UI at ``/docs``) served from local assets.

FastAPI's default pages load Swagger UI from a CDN, so on a machine without internet access
``/docs`` is a blank page. The same pages are rendered here with their JavaScript and CSS
served by the app itself from ``/docs/assets`` (the Swagger UI 5 bundle shipped in the
``fastapi-offline`` wheel; only its static files are used), so nothing is fetched from anywhere
else. (ReDoc is not offered: its page fetches its logo from a CDN whatever the options.)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from rewardlab.errors import ConfigError

__all__ = ["ASSETS_URL", "docs_assets", "install_docs"]

ASSETS_URL = "/docs/assets"
_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")


def docs_assets() -> Path:
    """The folder holding the Swagger UI and ReDoc bundles; ConfigError naming the fix when absent."""
    try:
        folder = Path(str(resources.files("fastapi_offline") / "static"))
    except ModuleNotFoundError as err:
        raise ConfigError("serving /docs needs the Swagger UI assets: pip install 'rewardlab[serve]' "
                          "(fastapi-offline), or set serve docs=false") from err
    missing = [f for f in _FILES if not (folder / f).is_file()]
    if missing:
        raise ConfigError(f"the Swagger UI assets in {folder} lack {missing}; reinstall fastapi-offline, "
                          "or set serve docs=false")
    return folder


def install_docs(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Mount the assets and add a ``GET /docs`` page that uses only them."""
    app.mount(ASSETS_URL, StaticFiles(directory=docs_assets()), name="docs-assets")
    title = f"{app.title} – API docs"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=title,
                                   swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS_URL}/favicon.png")
