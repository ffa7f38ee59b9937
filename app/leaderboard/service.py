"""Leaderboard queries: standings, model history, feature usage, accepted groups, and export.

Every view is a handful of queries whatever the number of teams and submissions: counts and
sums are aggregated in SQL, grouped by team. A frozen round is shown as of its freeze.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, case, cast, func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.core.errors import Problem
from app.core.storage import ArtifactStore
from app.leaderboard.problems import ModelIncomplete
from app.rounds.access import is_organizer_of, model_versions, visible_round
from app.rounds.disclosure import disclosure_for, holdout_mean
from app.rounds.engine_view import round_schema
from app.rounds.models import Disclosure, ModelVersion, Round, RoundStatus
from app.rounds.problems import NoBaseModel
from app.submissions.disclosure import holdout_stats
from app.submissions.models import Submission
from app.submissions.schemas import SplitStatsOut
from app.submissions.verdict_record import StoredVerdict
from app.teams.models import Team
from bounty_engine.bundle import export_bundle
from bounty_engine.groups import Group, ModelGroup, RuleGroup
from bounty_engine.models import LoadedModel, load_model
from bounty_engine.pdl import PatchNode, PointerDecisionList, PointerNode
from bounty_engine.schema import FeatureSchema

ACCEPTED = "accepted"
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Cutoff:
    """What a frozen round shows: the moment it was frozen and the last submission decided by
    then (0 if none).

    Decisions are made in arrival order, so the submissions decided by the freeze are those with
    an id up to ``through``. The worker's ``verdict`` audit events tell it; unlike ``decided_at``
    they are never rewritten, not even when a disqualification replays the round.
    """

    at: datetime
    through: int


@dataclass(frozen=True)
class Viewer:
    """A round as one caller may see it: which holdout numbers, and up to when."""

    round: Round
    organizer: bool
    cutoff: Cutoff | None

    @property
    def as_of(self) -> datetime | None:
        """When the round was frozen, if it is."""
        return self.cutoff.at if self.cutoff is not None else None

    @property
    def disclosure(self) -> Disclosure:
        """The disclosure that applies to this caller (exact for the round's organizer)."""
        return disclosure_for(self.round, organizer=self.organizer)

    def holdout(self, value: float | None) -> float | None:
        """A mean over the holdout (a version's loss, a credited improvement) as this caller
        may see it."""
        return holdout_mean(value, self.round, self.disclosure)

    def group_stats(self, verdict: StoredVerdict) -> SplitStatsOut | None:
        """An accepted submission's holdout statistics (from its verdict) as this caller may
        see them."""
        return holdout_stats(verdict.split("holdout"), self.round, self.disclosure)


def viewer(session: Session, slug: str, user: User | None) -> Viewer:
    """The round ``slug`` as ``user`` sees it; 404 for drafts unless ``user`` organizes it."""
    found = visible_round(session, slug, user)
    cutoff = freeze_cutoff(session, found) if found.status == RoundStatus.FROZEN else None
    return Viewer(found, is_organizer_of(found, user), cutoff)


def freeze_cutoff(session: Session, round: Round) -> Cutoff | None:
    """The cut-off of a frozen round, from the audit log (None if it has no freeze event)."""
    at = session.scalar(
        select(AuditEvent.created_at)
        .where(AuditEvent.round_id == round.id, AuditEvent.action == "round.frozen")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if at is None:
        return None
    last_verdict = session.scalar(
        select(AuditEvent.detail)
        .where(
            AuditEvent.round_id == round.id,
            AuditEvent.action == "verdict",
            AuditEvent.created_at <= at,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return Cutoff(at, int((last_verdict or {}).get("submission_id", 0)))


def _credited(cutoff: Cutoff | None) -> ColumnElement[bool]:
    """Submissions that count: accepted, not disqualified, decided by the cut-off."""
    condition = and_(Submission.outcome == ACCEPTED, Submission.disqualified_at.is_(None))
    if cutoff is not None:
        condition = and_(condition, Submission.id <= cutoff.through)
    return condition


# --------------------------------------------------------------------------- standings


@dataclass(frozen=True)
class Standing:
    """One team's exact numbers."""

    team_id: int
    team: str
    improvement: float
    accepted: int
    submissions: int
    last_improvement_at: datetime | None


def standings(session: Session, round: Round, cutoff: Cutoff | None) -> list[Standing]:
    """Every team of the round with its credited improvement and counts.

    Two queries, merged here: the round's teams, and one pass over its submissions grouped by
    team. (Joined in SQL, PostgreSQL may plan a nested loop that aggregates the submissions
    again for every team while its statistics still see a small table, as they do while a
    round fills up: that cost 40 ms for 40 teams and 4,000 submissions.)
    """
    credited = _credited(cutoff)
    per_team = select(
        Submission.team_id,
        func.count(),
        func.count(case((credited, Submission.id))),
        func.sum(case((credited, Submission.score))),
        func.max(case((credited, Submission.decided_at))),
    ).where(Submission.round_id == round.id)
    if cutoff is not None:
        per_team = per_team.where(Submission.created_at <= cutoff.at)
    stats = {
        team_id: (submissions, accepted, improvement, last)
        for team_id, submissions, accepted, improvement, last in session.execute(
            per_team.group_by(Submission.team_id)
        )
    }
    teams = session.execute(select(Team.id, Team.name).where(Team.round_id == round.id))
    out = []
    for team_id, name in teams:
        submissions, accepted, improvement, last = stats.get(team_id, (0, 0, None, None))
        out.append(
            Standing(
                team_id=team_id,
                team=name,
                improvement=float(improvement or 0.0),
                accepted=int(accepted or 0),
                submissions=int(submissions or 0),
                last_improvement_at=last,
            )
        )
    return out


def ranked(
    teams: list[Standing], key: Callable[[Standing], tuple[float, ...]]
) -> list[tuple[int | None, Standing]]:
    """Teams with an accepted submission ranked by ``key`` (higher first), then the others
    unranked, by name. Teams with equal keys share a rank (1, 1, 3): ranks say no more than
    the figures shown, so a rounded improvement never reveals the order it hides. Within a
    tie, the earliest last improvement is listed first."""

    def order(s: Standing) -> tuple[tuple[float, ...], datetime, int]:
        return tuple(-k for k in key(s)), s.last_improvement_at or _NEVER, s.team_id

    scoring = sorted((s for s in teams if s.accepted > 0), key=order)
    out: list[tuple[int | None, Standing]] = []
    for position, standing in enumerate(scoring, start=1):
        tied = out and key(out[-1][1]) == key(standing)
        out.append((out[-1][0] if tied else position, standing))
    others = sorted(
        (s for s in teams if s.accepted == 0), key=lambda s: (s.team.casefold(), s.team_id)
    )
    return out + [(None, s) for s in others]


# --------------------------------------------------------------------------- history and groups


def history(
    session: Session, round: Round, cutoff: Cutoff | None
) -> list[tuple[ModelVersion, int | None, str | None]]:
    """The round's versions, oldest first, with the team of each node's submission; with a
    cut-off, those made before the first patch by a submission decided after it."""
    query = (
        select(ModelVersion, Team.id, Team.name)
        .outerjoin(Submission, Submission.id == ModelVersion.submission_id)
        .outerjoin(Team, Team.id == Submission.team_id)
        .where(ModelVersion.round_id == round.id)
        .order_by(ModelVersion.version)
    )
    rows: list[tuple[ModelVersion, int | None, str | None]] = []
    for version, team_id, name in session.execute(query):
        if cutoff is not None and version.kind == "patch" and _after(version, cutoff):
            break
        rows.append((version, team_id, name))
    return rows


def _after(version: ModelVersion, cutoff: Cutoff) -> bool:
    return version.submission_id is not None and version.submission_id > cutoff.through


@dataclass(frozen=True)
class CreditedGroup:
    """What the accepted groups view shows of a credited submission (not its whole row)."""

    id: int
    team_id: int
    team: str
    group_kind: str
    group_expression: str | None
    score: float | None
    version: int | None
    verdict: dict[str, Any] | None
    decided_at: datetime | None


def accepted_groups(session: Session, round: Round, cutoff: Cutoff | None) -> list[CreditedGroup]:
    """The round's credited submissions in arrival order, with their team's name."""
    query = (
        select(
            Submission.id,
            Submission.team_id,
            Team.name,
            Submission.group_kind,
            Submission.group_expression,
            Submission.score,
            Submission.version,
            Submission.verdict,
            Submission.decided_at,
        )
        .join(Team, Team.id == Submission.team_id)
        .where(Submission.round_id == round.id, _credited(cutoff))
        .order_by(Submission.id)
    )
    return [CreditedGroup(*row) for row in session.execute(query)]


# --------------------------------------------------------------------------- feature usage


@dataclass
class Usage:
    """One team's group counts: rule groups per feature, and model groups."""

    team_id: int
    team: str
    rule_groups: int = 0
    model_groups: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def feature_usage(session: Session, round: Round) -> list[Usage]:
    """Per team (by name), how many rule groups read each feature, and how many model groups."""
    teams = session.execute(
        select(Team.id, Team.name).where(Team.round_id == round.id).order_by(Team.name, Team.id)
    )
    usage = {team_id: Usage(team_id, name) for team_id, name in teams}
    columns = cast(Submission.group_columns, Text)
    rows = session.execute(
        select(Submission.team_id, Submission.group_kind, columns, func.count())
        .where(Submission.round_id == round.id)
        .group_by(Submission.team_id, Submission.group_kind, columns)
    )
    for team_id, kind, used, count in rows:
        entry = usage.get(team_id)
        if entry is None:
            continue
        if kind != "rule":
            entry.model_groups += count
            continue
        entry.rule_groups += count
        for name in set(json.loads(used or "[]")):
            entry.counts[name] = entry.counts.get(name, 0) + count
    return list(usage.values())


def feature_names(round: Round) -> list[str]:
    """The round's feature names (none before its dataset is uploaded)."""
    return round_schema(round).feature_names if round.feature_schema is not None else []


# --------------------------------------------------------------------------- export


def current_model(
    session: Session, store: ArtifactStore, round: Round, schema: FeatureSchema
) -> PointerDecisionList:
    """The round's head model rebuilt from its base model and its versions' nodes.

    Node keys are submission ids; a pointer node shares its patch node's group. 409 if the
    round has no base model or a version lost its submission.
    """
    if round.base_model_sha is None:
        raise NoBaseModel("the round has no base model to export")
    loaded: dict[str, LoadedModel] = {}

    def model(sha: str) -> LoadedModel:
        if sha not in loaded:
            loaded[sha] = load_model(store.read_bytes(sha), feature_names=schema.feature_names)
        return loaded[sha]

    versions = [v for v in model_versions(session, round) if v.version > 0]
    ids = {v.submission_id for v in versions if v.submission_id is not None}
    subs = {s.id: s for s in session.scalars(select(Submission).where(Submission.id.in_(ids)))}
    pdl = PointerDecisionList(model(round.base_model_sha), schema.label)
    groups: dict[int, Group] = {}
    for v in versions:
        sub = subs.get(v.submission_id) if v.submission_id is not None else None
        if sub is None or (v.kind == "pointer" and sub.id not in groups):
            raise _broken(v.version)
        if v.kind == "patch":
            groups[sub.id] = _group(sub, schema, model)
            pdl.append(PatchNode(str(sub.id), groups[sub.id], model(sub.model_sha)))
        elif v.target_version is not None:
            pdl.append(PointerNode(str(sub.id), groups[sub.id], v.target_version))
        if pdl.head_version != v.version:
            raise _broken(v.version)
    return pdl


def _broken(version: int) -> Problem:
    return ModelIncomplete(f"version {version} of the model cannot be rebuilt from storage")


def _group(sub: Submission, schema: FeatureSchema, model: Callable[[str], LoadedModel]) -> Group:
    if sub.group_model_sha is not None:
        return ModelGroup(model(sub.group_model_sha))
    return RuleGroup.parse(sub.group_expression or "", schema)


def export_round(session: Session, store: ArtifactStore, round: Round, path: Path) -> Path:
    """Write the round's head model as a bundle zip at ``path``."""
    schema = round_schema(round)
    model = current_model(session, store, round, schema)
    metadata = {
        "round": round.slug,
        "title": round.title,
        "version": model.head_version,
        "exported_at": utcnow().isoformat(),
    }
    return export_bundle(model, schema, path, metadata)
