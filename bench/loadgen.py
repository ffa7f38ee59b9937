"""A light HTTP/1.1 load generator for the service benchmarks.

``python -m bench.loadgen URL --requests N --concurrency C`` prints one JSON line: requests per
second, every latency in seconds, and the error count. It keeps one keep-alive connection per
simulated client and speaks just enough HTTP/1.1 (GET, Content-Length or chunked bodies), so
that on a small machine the generator costs far less CPU than the server it measures; a
general-purpose client such as httpx would be the bottleneck instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def run(url: str, n_requests: int, concurrency: int) -> tuple[float, list[float], int]:
    """Requests per second, latencies (s) and non-200 count for ``n_requests`` GETs."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n\r\n".encode()
    latencies: list[float] = []
    errors = 0
    remaining = iter(range(n_requests))

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for _ in remaining:
                start = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - start)
                errors += status != 200
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return n_requests / (time.perf_counter() - start), latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    rate, latencies, errors = asyncio.run(run(args.url, args.requests, args.concurrency))
    print(json.dumps({"rate": rate, "latencies": latencies, "errors": errors}))


if __name__ == "__main__":
    main()
