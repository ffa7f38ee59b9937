"""The soak's checks, against the database and the artifact store once every process stopped.

- every accepted upload (202) is exactly one submission row, and nothing else is (refused
  uploads left none); each row is decided, with exactly one ``verdict`` audit event that agrees;
- a sequential replay of the round by the engine alone (stored splits, base model and the
  submitted files, in arrival order, in this process) gives the same verdicts, versions and
  predictions (the exported model on holdout, the stored train predictions);
- every digest the database names is in the store, every file of the store is named by the
  database, and each file's content hashes to its name (no partial or temporary files).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core.audit import AuditEvent
from app.core.storage import INCOMING, LocalStore
from app.rounds.engine_view import load_split, round_rules, round_schema
from app.rounds.models import ModelVersion, Round
from app.rounds.train_predictions import load_train_predictions
from app.submissions.models import Submission
from app.worker.runner import ABANDONED, PLATFORM_ABANDONED
from bounty_engine.bundle import load_bundle
from bounty_engine.groups import Group, ModelGroup, RuleGroup
from bounty_engine.models import load_model
from bounty_engine.round import BountyRound
from bounty_engine.round import Submission as EngineSubmission

DIGEST = re.compile(r"^[0-9a-f]{64}$")
_ABANDONED = (ABANDONED, PLATFORM_ABANDONED)  # abandoned jobs have no outputs to replay


@dataclass(frozen=True)
class Sent:
    """One upload as its researcher saw it: the key, the final HTTP status, the id if 202."""

    key: str
    email: str
    kind: str
    status: int
    submission_id: int | None


@dataclass
class Findings:
    """Figures measured by the checks, and the guarantees found broken."""

    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_everything(
    engine: Engine, storage_dir: Path, slug: str, sent: Sequence[Sent], bundle: Path
) -> Findings:
    """Every check of the module; figures and problems."""
    found = Findings()
    with Session(engine) as session:
        round_ = session.scalars(select(Round).where(Round.slug == slug)).one()
        rows = list(
            session.scalars(
                select(Submission).where(Submission.round_id == round_.id).order_by(Submission.id)
            )
        )
        _check_uploads(session, rows, sent, found)
        _check_verdicts(session, round_, rows, found)
        _check_replay(session, LocalStore(storage_dir), round_, rows, bundle=bundle, found=found)
        _check_artifacts(session, storage_dir, found)
    return found


def _check_uploads(
    session: Session, rows: list[Submission], sent: Sequence[Sent], found: Findings
) -> None:
    statuses = Counter(s.status for s in sent)
    found.figures["uploads"] = len(sent)
    found.figures["uploads answered 202"] = statuses.pop(202, 0)
    found.figures["uploads refused 422"] = statuses.pop(422, 0)
    for status, n in statuses.items():
        found.problems.append(f"{n} upload(s) finally answered {status}")
    for s in sent:
        if (s.kind == "refused") != (s.status == 422):
            found.problems.append(f"a {s.kind} pair (key {s.key}) was answered {s.status}")
    accepted = {s.key: s for s in sent if s.status == 202}
    users = {row.id: row.email for row in session.execute(select(User.id, User.email))}
    by_key = {row.idempotency_key: row for row in rows}
    lost = [
        s for s in accepted.values() if getattr(by_key.get(s.key), "id", None) != s.submission_id
    ]
    extra = [row for row in rows if row.idempotency_key not in accepted]
    duplicated = len(rows) - len(by_key) + len(extra)
    found.figures["lost"] = len(lost)
    found.figures["duplicated"] = duplicated
    found.figures["submission rows"] = len(rows)
    for s in lost:
        found.problems.append(f"upload {s.key} answered 202 as {s.submission_id}: no such row")
    if duplicated:
        found.problems.append(f"{duplicated} submission row(s) match no accepted upload")
    for row in rows:
        if (
            row.idempotency_key in accepted
            and users[row.user_id] != accepted[row.idempotency_key].email
        ):
            found.problems.append(f"submission {row.id} is stored under another user")


def _check_verdicts(
    session: Session, round_: Round, rows: list[Submission], found: Findings
) -> None:
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.round_id == round_.id, AuditEvent.action == "verdict")
    ).all()
    verdicts: dict[int, list[str]] = {}
    for event in events:
        verdicts.setdefault(int(event.detail["submission_id"]), []).append(event.detail["outcome"])
    for row in rows:
        if row.status != "decided" or row.outcome is None or row.decided_at is None:
            found.problems.append(f"submission {row.id} is {row.status}, not decided")
        if verdicts.get(row.id, []) != [row.outcome]:
            found.problems.append(
                f"submission {row.id} ({row.outcome}) has verdict events {verdicts.get(row.id)}"
            )
    found.figures["outcomes"] = dict(Counter(row.outcome for row in rows))
    found.figures["re-evaluated after an interruption"] = sum(row.attempts > 1 for row in rows)
    found.figures["most attempts"] = max((row.attempts for row in rows), default=0)
    found.figures["abandoned"] = sum(row.eval_error in _ABANDONED for row in rows)


def _group(store: LocalStore, row: Submission, round_: Round) -> Group:
    if row.group_model_sha is not None:
        with store.local_copy(row.group_model_sha) as path:
            return ModelGroup(load_model(path))
    assert row.group_expression is not None
    return RuleGroup.parse(row.group_expression, round_schema(round_))


def _check_replay(
    session: Session,
    store: LocalStore,
    round_: Round,
    rows: list[Submission],
    *,
    bundle: Path,
    found: Findings,
) -> None:
    """The engine alone decides the stored pairs again, in arrival order, running g and h here."""
    assert round_.base_model_sha is not None
    with store.local_copy(round_.base_model_sha) as path:
        base = load_model(path)
    splits = {name: load_split(store, round_, name) for name in ("holdout", "train", "test")}
    replay = BountyRound(round_schema(round_), round_rules(round_), base, splits)
    before = len(found.problems)
    for row in rows:
        if row.eval_error in _ABANDONED:  # no outputs to decide on: invalid, as it was
            if row.outcome != "invalid":
                found.problems.append(f"abandoned submission {row.id} is {row.outcome}")
            continue
        with store.local_copy(row.model_sha) as path:
            h = load_model(path)
        decision = replay.submit(EngineSubmission(str(row.id), _group(store, row, round_), h))
        stats = decision.stats.get("holdout")
        same = (row.outcome, row.reason, row.version) == (
            decision.outcome.value,
            decision.reason.value,
            decision.version,
        ) and _close(row.score, stats.score if stats else None)
        if not same:
            found.problems.append(
                f"submission {row.id}: stored {row.outcome}/{row.reason} v{row.version} "
                f"score {row.score}, replayed {decision.outcome.value}/{decision.reason.value} "
                f"v{decision.version} score {stats.score if stats else None}"
            )
    versions = session.scalars(
        select(ModelVersion)
        .where(ModelVersion.round_id == round_.id)
        .order_by(ModelVersion.version)
    ).all()
    stored = [(v.version, v.kind, v.submission_id, v.target_version) for v in versions]
    replayed = [
        (v.version, v.kind, int(v.group_key) if v.group_key else None, v.target_version)
        for v in replay.evaluator.versions_
    ]
    if stored != replayed:
        found.problems.append(f"model versions differ: stored {stored}, replayed {replayed}")
    for v, info in zip(versions, replay.evaluator.versions_, strict=False):
        if not _close(v.holdout_loss, info.loss["holdout"]):
            found.problems.append(f"version {v.version}'s holdout loss differs from the replay")
    if round_.head_version != replay.evaluator.head_version:
        found.problems.append(
            f"head version {round_.head_version}, replay {replay.evaluator.head_version}"
        )
    _check_predictions(store, versions, replay, bundle, found)
    found.figures["replay equal"] = len(found.problems) == before


def _check_predictions(
    store: LocalStore,
    versions: Sequence[ModelVersion],
    replay: BountyRound,
    bundle: Path,
    found: Findings,
) -> None:
    holdout = replay.features["holdout"]
    exported = load_bundle(bundle).model.predict_codes(holdout)
    if not np.array_equal(exported, replay.model.predict_codes(holdout)):
        found.problems.append("the exported model's holdout predictions differ from the replay's")
    if not np.array_equal(exported, replay.evaluator.head_predictions("holdout")):
        found.problems.append("the exported model's holdout predictions differ from the cached")
    head = versions[-1] if versions else None
    if head is None or head.train_predictions_sha is None:
        found.problems.append("the head version has no stored train predictions")
    else:
        train = load_train_predictions(store, head.train_predictions_sha)
        if not np.array_equal(train, replay.evaluator.head_predictions("train")):
            found.problems.append("the head's stored train predictions differ from the replay's")


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)


def _digests_in(value: Any) -> Iterator[str]:
    """Every sha256 hex digest in a JSON value (audit events name the raw uploads)."""
    if isinstance(value, str) and DIGEST.match(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _digests_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _digests_in(item)


def _referenced(session: Session) -> set[str]:
    columns = [
        Round.train_sha,
        Round.holdout_sha,
        Round.test_sha,
        Round.base_model_sha,
        Submission.model_sha,
        Submission.group_model_sha,
        Submission.outputs_sha,
        ModelVersion.train_predictions_sha,
    ]
    named = {sha for column in columns for sha in session.scalars(select(column)) if sha}
    for detail in session.scalars(select(AuditEvent.detail)):
        named.update(_digests_in(detail))
    return named


def _check_artifacts(session: Session, storage_dir: Path, found: Findings) -> None:
    everything = [p for p in storage_dir.rglob("*") if p.is_file()]
    # Temporary files of writers killed mid-write: never visible as blobs, swept when stale.
    interrupted = [p for p in everything if p.parent == storage_dir / INCOMING]
    files = [p for p in everything if p.parent != storage_dir / INCOMING]
    found.figures["interrupted writes left in .incoming"] = len(interrupted)
    stored, strays = set(), []
    for path in files:
        relative = path.relative_to(storage_dir)
        well_placed = relative.parts == (path.name[:2], path.name) and DIGEST.match(path.name)
        if well_placed and hashlib.sha256(path.read_bytes()).hexdigest() == path.name:
            stored.add(path.name)
        else:
            strays.append(str(relative))
    named = _referenced(session)
    orphaned, missing = stored - named, named - stored
    found.figures["stored files"] = len(files)
    found.figures["orphaned artifacts"] = len(orphaned)
    found.figures["missing artifacts"] = len(missing)
    found.figures["partial or misplaced files"] = len(strays)
    found.problems += [f"orphaned artifact {sha}" for sha in sorted(orphaned)]
    found.problems += [f"missing artifact {sha}" for sha in sorted(missing)]
    found.problems += [f"partial or misplaced file in the store: {p}" for p in strays]
