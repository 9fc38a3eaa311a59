"""``/docs`` (Swagger UI) and ``/redoc`` served with the lab's own copy of their assets: they work offline.

FastAPI's default doc pages load Swagger UI and ReDoc from a public CDN, so on a machine without internet
they answer 200 and draw a blank page -- the first thing a learner opens. Every HTTP app of the lab (model
service, drift monitor, pager, traffic feed) calls :func:`serve_docs_offline` (FastAPI) or mounts
:func:`docs_routes` (plain Starlette) instead of copying this.

The assets come from the PyPI package ``fastapi-offline`` (installed with the project): it ships Swagger UI
5's ``swagger-ui-bundle.js``/``swagger-ui.css`` and ReDoc 2's ``redoc.standalone.js``, is re-released when
those move (1.7.7, June 2026), and only its static folder is used here -- the pages themselves are FastAPI's
own ``get_swagger_ui_html``/``get_redoc_html``, so they follow FastAPI. ``swagger-ui-bundle`` (PyPI) was the
other candidate: it stopped at Swagger UI 4.15 in 2023 and has no ReDoc.

Two requests the bundles would still make to the internet are cut here: Swagger UI's online validator badge
(``validatorUrl: null``; it sends the schema's URL to validator.swagger.io on every load), and ReDoc's
"powered by" logo, an ``<img>`` hard-coded to cdn.redoc.ly in ``redoc.standalone.js`` -- the script is
served with that one URL pointed at the local favicon (``_redoc_js``). tests/aiops_core/test_api_docs.py
loads every page in Chromium and fails on any request that leaves 127.0.0.1.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/_docs-assets"  # where the JS/CSS are served; outside every API's own paths
DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
SWAGGER_PARAMETERS = {"validatorUrl": None}
REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_js() -> bytes:
    """ReDoc's bundle with its CDN logo replaced by the local favicon (read once; 1 MB)."""
    return (ASSETS_DIR / "redoc.standalone.js").read_bytes().replace(REDOC_CDN_LOGO,
                                                                    f"{ASSETS_PATH}/favicon.png".encode())


def docs_routes(title: str, openapi_url: str = "/openapi.json",
                swagger_parameters: dict[str, object] | None = None) -> list[BaseRoute]:
    """The routes of both doc pages and their assets, for any Starlette app that serves ``openapi_url``."""
    parameters = {**SWAGGER_PARAMETERS, **(swagger_parameters or {})}

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    async def swagger(request: Request) -> HTMLResponse:
        base = root(request)
        return get_swagger_ui_html(
            openapi_url=base + openapi_url, title=f"{title} - Swagger UI",
            oauth2_redirect_url=base + OAUTH2_REDIRECT_PATH,
            swagger_js_url=f"{base}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{base}{ASSETS_PATH}/favicon.png", swagger_ui_parameters=parameters)

    async def redoc(request: Request) -> HTMLResponse:
        base = root(request)
        return get_redoc_html(openapi_url=base + openapi_url, title=f"{title} - ReDoc",
                              redoc_js_url=f"{base}{ASSETS_PATH}/redoc.standalone.js",
                              redoc_favicon_url=f"{base}{ASSETS_PATH}/favicon.png", with_google_fonts=False)

    async def oauth2_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc_js(_: Request) -> Response:
        return Response(_redoc_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

    return [
        Route(f"{ASSETS_PATH}/redoc.standalone.js", redoc_js, methods=["GET"], include_in_schema=False),
        Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS_DIR), name="docs-assets"),
        Route(DOCS_PATH, swagger, methods=["GET"], include_in_schema=False),
        Route(OAUTH2_REDIRECT_PATH, oauth2_redirect, methods=["GET"], include_in_schema=False),
        Route(REDOC_PATH, redoc, methods=["GET"], include_in_schema=False),
    ]


def serve_docs_offline(app: FastAPI) -> FastAPI:
    """Replace a FastAPI app's CDN-backed ``/docs`` and ``/redoc`` with the offline ones (same paths)."""
    if app.openapi_url is None:
        raise ValueError(f"{app.title}: no OpenAPI schema to document (openapi_url is None)")
    cdn_pages = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in cdn_pages]
    app.docs_url, app.redoc_url = DOCS_PATH, REDOC_PATH
    app.swagger_ui_oauth2_redirect_url = OAUTH2_REDIRECT_PATH
    app.router.routes.extend(docs_routes(app.title, app.openapi_url, app.swagger_ui_parameters))
    return app
