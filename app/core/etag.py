"""Conditional reads: a JSON answer with a strong ETag, and ``304 Not Modified`` for a client
that already has it (docs/caching.md).

The ETag is a digest of the answer's exact bytes, taken once when the answer is built (and
cached with it): two answers share an ETag only if they are byte for byte the same, whoever
asked and whichever process built them. So a 304 can never confirm a body the caller would
not get now, and a change anywhere the answer shows gives a new tag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

from fastapi import Request, Response
from pydantic import BaseModel

CACHE_CONTROL: Final = "private, no-cache"
"""Answers depend on the caller's credentials (private) and change at any time: a cache may
keep one but must revalidate it (``If-None-Match``) before each use."""
VARY: Final = "Authorization, Cookie"

CONDITIONAL_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "headers": {
            "ETag": {
                "description": "A strong tag of this exact answer: send it back in "
                "`If-None-Match` to get 304 while the answer is unchanged.",
                "schema": {"type": "string"},
            },
            "Cache-Control": {
                "description": "`private, no-cache`: revalidate before reuse.",
                "schema": {"type": "string"},
            },
        }
    },
    304: {"description": "Not Modified: the answer is still the one `If-None-Match` names."},
}
"""The ``responses`` of a route answered with ``conditional_response``."""


@dataclass(frozen=True)
class Answer:
    """A serialized JSON answer and its strong ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> Answer:
        """``body`` with its ETag (a 128-bit digest of the bytes, quoted)."""
        return cls(body, f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"')

    @classmethod
    def json(cls, model: BaseModel) -> Answer:
        """``model`` as JSON, with its ETag."""
        return cls.of(model.model_dump_json().encode())


def none_match(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (or is ``*``): the weak comparison
    RFC 9110 prescribes for it, so ``W/"x"`` matches ``"x"``."""
    if not header:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def conditional_response(request: Request, answer: Answer) -> Response:
    """``answer`` as a 200, or a 304 without a body if the request's ``If-None-Match`` names
    it; both with the ETag and the caching headers."""
    headers = {"ETag": answer.etag, "Cache-Control": CACHE_CONTROL, "Vary": VARY}
    if none_match(request.headers.get("if-none-match"), answer.etag):
        return Response(status_code=304, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)
