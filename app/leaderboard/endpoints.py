"""Routes of the leaderboard domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["leaderboard"])
