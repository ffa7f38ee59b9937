"""Serving the web app: the static build of ``frontend/`` at ``/``, beside the API.

A GET for a file of the build gets that file (hashed assets cached for a year); any other GET
outside the API and its docs gets ``index.html``, so that the single-page app's own routes work
when opened or reloaded directly. Everything else goes to the API as if the web app were not
there (unknown API paths stay 404 problem details).
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse
from starlette.types import ASGIApp, Receive, Scope, Send

ASSET_CACHE = "public, max-age=31536000, immutable"
API_PATHS = ("/api/", "/docs", "/redoc", "/openapi.json")


class WebAppMiddleware:
    """Answer page and asset requests from the build in ``dist``; pass the rest on."""

    def __init__(self, app: ASGIApp, dist: Path) -> None:
        self.app = app
        self.root = dist.resolve()
        self.index = self.root / "index.html"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or path == "/api"
            or path.startswith(API_PATHS)
        ):
            await self.app(scope, receive, send)
            return
        await self._file_for(path)(scope, receive, send)

    def _file_for(self, path: str) -> FileResponse:
        relative = path.lstrip("/")
        if relative:
            file = (self.root / relative).resolve()
            if file.is_file() and file.is_relative_to(self.root):
                cache = ASSET_CACHE if relative.startswith("assets/") else "no-cache"
                return FileResponse(file, headers={"Cache-Control": cache})
        return FileResponse(self.index, headers={"Cache-Control": "no-cache"})


def web_app_built(dist: Path) -> bool:
    """Whether ``dist`` holds a build of the web app."""
    return (dist / "index.html").is_file()
