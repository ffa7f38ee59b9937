"""A minimal keep-alive HTTP/1.1 client for the load test (see ``bench.loadgen`` for why).

One ``Connection`` per simulated participant. It sends any method with a body, reads
Content-Length or chunked answers (a Server-Sent Events stream is read until the server ends
it), and reconnects once, transparently, when the server has closed an idle keep-alive
connection, as browsers and HTTP libraries do. A failure on a fresh connection is raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import urlsplit

_STALE = (ConnectionError, asyncio.IncompleteReadError)


class Connection:
    """A keep-alive connection to one server, (re)opened on demand."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> tuple[int, bytes]:
        """Send one request; the status code and the whole body of the answer."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(body)}")
        message = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        reused = self._streams is not None
        try:
            return await self._exchange(message)
        except _STALE:
            self.close()
            if not reused:
                raise
        # The server closed the idle connection before reading: send again on a new one (a
        # POST here always carries an Idempotency-Key, so this cannot store it twice).
        return await self._exchange(message)

    async def _exchange(self, message: bytes) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(message)
        await writer.drain()
        status, body, keep = await _read_response(reader)
        if not keep:
            self.close()
        return status, body

    def close(self) -> None:
        """Drop the connection (the next request opens a new one)."""
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            chunks.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(chunk[:-2] for chunk in chunks)
    else:
        body = b""
    return status, body, headers.get(b"connection", b"").lower() != b"close"
