"""After a load run: was every submission answered with 202 decided, exactly once?

Checked three ways: the organizer's list of the round's submissions (each acknowledged one is
there and decided, and nothing else is), the append-only audit log in the database (one
``verdict`` event per submission), and the model's versions (one patch node per accepted
submission).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import make_engine
from app.rounds.models import Round


@dataclass(frozen=True)
class SubmissionAudit:
    """The fate of the submissions of a load run."""

    sent: int
    """Answered 202 (distinct submissions)."""
    decided: int
    """Of those, decided by the end of the drain."""
    accepted: int
    lost: list[int]
    """Answered 202 but missing, or not decided by the end of the drain."""
    unacknowledged: list[int]
    """Stored in the round although no 202 told a submitter about them."""
    verdicts_not_once: dict[int, int]
    """Decided submission -> number of verdict events, where that is not exactly one."""
    patches_not_once: dict[int, int]
    """Submission -> number of patch versions, where that is not one for an accepted
    submission and none for any other."""

    @property
    def ok(self) -> bool:
        """Nothing lost, duplicated or decided twice."""
        return not (
            self.lost or self.unacknowledged or self.verdicts_not_once or self.patches_not_once
        )


def _all_submissions(http: httpx.Client, slug: str) -> list[dict[str, Any]]:
    """Every submission of the round, as its organizer sees them (paged, newest first)."""
    found: list[dict[str, Any]] = []
    params: dict[str, int] = {"limit": 500}
    while True:
        answer = http.get(f"/api/v1/rounds/{slug}/submissions", params=params)
        answer.raise_for_status()
        page: list[dict[str, Any]] = answer.json()
        found += page
        if len(page) < params["limit"]:
            return found
        params["before_id"] = page[-1]["id"]


def _verdict_events(database_url: str, slug: str) -> Counter[int]:
    """Verdict events in the audit log, per submission."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            details = connection.scalars(
                select(AuditEvent.detail)
                .join(Round, Round.id == AuditEvent.round_id)
                .where(Round.slug == slug, AuditEvent.action == "verdict")
            )
            return Counter(int(detail["submission_id"]) for detail in details)
    finally:
        engine.dispose()


def audit_submissions(
    api_url: str,
    organizer_token: str,
    database_url: str,
    slug: str,
    acknowledged: Mapping[int, str],
) -> SubmissionAudit:
    """Compare what the submitters were told (``acknowledged``: id -> idempotency key) with
    what the deployment stored and decided."""
    auth = {"Authorization": f"Bearer {organizer_token}"}
    with httpx.Client(base_url=api_url, headers=auth, timeout=120) as http:
        stored = {s["id"]: s for s in _all_submissions(http, slug)}
        versions = http.get(f"/api/v1/rounds/{slug}/versions")
        versions.raise_for_status()
    verdicts = _verdict_events(database_url, slug)
    decided = [i for i in acknowledged if i in stored and stored[i]["status"] == "decided"]
    accepted = {i for i in decided if (stored[i]["verdict"] or {}).get("outcome") == "accepted"}
    patches = Counter(v["submission_id"] for v in versions.json() if v["kind"] == "patch")
    return SubmissionAudit(
        sent=len(acknowledged),
        decided=len(decided),
        accepted=len(accepted),
        lost=sorted(set(acknowledged) - set(decided)),
        unacknowledged=sorted(set(stored) - set(acknowledged)),
        verdicts_not_once={i: verdicts[i] for i in decided if verdicts[i] != 1},
        patches_not_once={
            i: patches[i] for i in accepted | set(patches) if patches[i] != 1 or i not in accepted
        },
    )
