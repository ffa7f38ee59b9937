"""Rate limits per client address or per account, for the endpoints attackers hammer.

A sliding window kept in the API process: each process counts its own requests, so behind a
load balancer with N API processes a client gets up to N times the limit (still far below
what a brute-force or sign-up flood needs). The per-account sign-in lockout is in the
database and holds across processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fastapi import Request

from app.core.errors import RateLimited

MAX_KEYS = 50_000
"""Most distinct (action, client) keys remembered; the least recently seen are dropped."""


class RateLimiter:
    """Counts hits per key over a sliding window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: tuple[str, str], limit: int, window: float) -> float | None:
        """Count a hit; None if within ``limit`` per ``window`` seconds, else the seconds
        until the next hit would be allowed (the refused hit is not counted)."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            self._hits.move_to_end(key)
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return hits[0] + window - now
            hits.append(now)
            while len(self._hits) > MAX_KEYS:
                self._hits.popitem(last=False)
        return None


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a trusted proxy, uvicorn's
    ``--proxy-headers`` puts the forwarded address here)."""
    return request.client.host if request.client else "unknown"


def rate_limit(action: str, setting: str) -> Callable[[Request], None]:
    """A dependency refusing more than the configured ``setting`` (``"N/SECONDS"``) hits of
    ``action`` per client address with 429 and ``Retry-After``."""

    def check(request: Request) -> None:
        count, window = parse_rate(getattr(request.app.state.settings, setting))
        limiter: RateLimiter = request.app.state.rate_limiter
        wait = limiter.hit((action, client_address(request)), count, window)
        if wait is not None:
            raise RateLimited(
                f"too many {action} requests from this address; try again in {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )

    return check


def parse_rate(text: str) -> tuple[int, float]:
    """``"10/3600"`` -> (10, 3600.0): at most 10 requests per 3600 seconds."""
    count, _, seconds = text.partition("/")
    return int(count), float(seconds)
