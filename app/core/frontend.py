"""Serving the web app: the static build of ``frontend/`` at ``/``, beside the API.

A GET for a file of the build gets that file (hashed assets cached for a year); any other GET
outside the API and its docs gets ``index.html``, so that the single-page app's own routes work
when opened or reloaded directly. Everything else goes to the API as if the web app were not
there (unknown API paths stay 404 problem details).
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.middleware import WEB_APP_CSP

ASSET_CACHE = "public, max-age=31536000, immutable"
API_PREFIXES = ("/api", "/docs", "/redoc", "/openapi.json")
PAGE_HEADERS = {"Content-Security-Policy": WEB_APP_CSP}


def _is_api(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


class WebAppMiddleware:
    """Answer page and asset requests from the build in ``dist``; pass the rest on."""

    def __init__(self, app: ASGIApp, dist: Path) -> None:
        self.app = app
        self.root = dist.resolve()
        self.index = self.root / "index.html"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or _is_api(path):
            await self.app(scope, receive, send)
            return
        await self._answer(path)(scope, receive, send)

    def _answer(self, path: str) -> Response:
        relative = path.lstrip("/")
        try:
            file = (self.root / relative).resolve() if relative else self.index
        except (OSError, ValueError):  # e.g. an embedded NUL byte
            file = None
        if file is not None and file.is_file() and file.is_relative_to(self.root):
            in_assets = file.is_relative_to(self.root / "assets")
            cache = ASSET_CACHE if in_assets else "no-cache"
            return FileResponse(file, headers={"Cache-Control": cache, **PAGE_HEADERS})
        if relative.startswith("assets/") or "." in relative.rsplit("/", 1)[-1]:
            # A missing file (an old asset, a favicon): 404, not the app's page as that file.
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(self.index, headers={"Cache-Control": "no-cache", **PAGE_HEADERS})


def web_app_built(dist: Path) -> bool:
    """Whether ``dist`` holds a build of the web app."""
    return (dist / "index.html").is_file()
