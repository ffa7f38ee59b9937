"""ASGI middleware: request ids, security headers, and a hard cap on request body size."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import ContentTooLarge


class _ResponseHeadersMiddleware:
    """Add the headers ``headers_for(scope)`` gives to every HTTP response (those the app
    already set are left as they are)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def headers_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestIdMiddleware(_ResponseHeadersMiddleware):
    """Tag each request with an id (``X-Request-ID``), for logs and error reports."""

    def headers_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        return [(b"x-request-id", request_id.encode())]


SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")
WEB_APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""The web app's Content-Security-Policy: its own scripts only (inline styles are allowed for
the charts' style attributes). Not sent with the API docs, which load Swagger UI's assets."""


class SecurityHeadersMiddleware(_ResponseHeadersMiddleware):
    """Add the headers every response should carry (no sniffing, no framing, no referrer
    leaks across origins), and HSTS when the request came over HTTPS."""

    def headers_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        return [*SECURITY_HEADERS, HSTS] if scope.get("scheme") == "https" else SECURITY_HEADERS


class BodySizeLimitMiddleware:
    """Answer 413 for a body over ``max_bytes`` (or the limit ``per_path`` gives the request's
    path): at once from Content-Length, or mid-stream."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_path: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, send, limit)

    async def _reject(self, scope: Scope, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": ContentTooLarge.type_uri(),
                "title": ContentTooLarge.title,
                "status": ContentTooLarge.status,
                "detail": f"the request body is larger than the limit of {limit} bytes",
                "instance": scope.get("path", ""),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": ContentTooLarge.status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):  # noqa: N818
    """Raised inside the app when the streamed body passes the limit."""


class ConcurrencyLimitMiddleware:
    """Let at most ``limit`` API requests run at once; the rest wait here, holding nothing.

    A sync endpoint takes a database connection in one worker thread and needs another thread
    for its next step. With more requests in flight than connections, every thread can end up
    waiting for a connection that a request waiting for a thread holds, until the pool times
    out. Admitting no more requests than there are connections rules that out. Event streams
    (long-lived, and holding no connection while they wait) are not counted.

    Uploads (multipart POST and PUT: a submission waits seconds for its pair's check) have
    slots of their own, a third of ``limit``, taken from the others': a burst of them used to
    take every slot, and every participant's poll waited behind them for seconds.
    """

    def __init__(self, app: ASGIApp, limit: int, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix
        uploads = limit // 3
        self._slots = asyncio.Semaphore(max(1, limit - uploads))
        self._uploads = asyncio.Semaphore(uploads) if uploads else self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.prefix) or path.endswith("/events"):
            await self.app(scope, receive, send)
            return
        async with self._uploads if _is_upload(scope) else self._slots:
            await self.app(scope, receive, send)


def _is_upload(scope: Scope) -> bool:
    if scope.get("method") not in {"POST", "PUT"}:
        return False
    content_type: bytes = dict(scope.get("headers", [])).get(b"content-type", b"")
    return content_type.lower().startswith(b"multipart/")
