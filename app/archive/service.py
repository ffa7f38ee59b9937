"""A round as one archive, and back: export on one instance, import and replay on another.

The archive is a zip of ``manifest.json`` (the round's settings, data hashes, teams,
submissions with their verdicts, model versions, audit log, deployment populations with their
measured outputs and watched groups) and ``blobs/<sha256>`` (every artifact those rows name:
the splits, the base model, the submitted files, the stored outputs of their evaluations and
the populations' tables and outputs). Deployers are accounts of the exporting instance and
are not carried over. Import checks every blob against its name, creates the round
for the importing organizer, replays the decided submissions in arrival order from their
stored outputs (docs/acceptance.md: replay yields the identical model and verdicts) and
refuses the archive, importing nothing, unless the replay reproduces every verdict and every
model version exactly.
"""

from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Final

from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import Session

from app.archive.problems import BadArchive
from app.auth.models import User
from app.core import audit
from app.core.audit import AuditEvent
from app.core.db import Base, UTCDateTime, utcnow
from app.core.errors import Problem
from app.core.storage import ArtifactStore, file_sha256
from app.evaluation.cache import RoundCache
from app.evaluation.replay import replay_round
from app.populations.models import Population, PopulationOutput, WatchedGroup
from app.rounds.models import ModelVersion, Round, RoundStatus
from app.rounds.problems import SlugTaken
from app.rounds.service import base_version
from app.submissions.models import Submission, SubmissionStatus
from app.teams.models import Team
from bounty_engine.significance import AcceptanceTest

FORMAT: Final = "bias-bounty-round-archive/1"
MANIFEST: Final = "manifest.json"
_MAX_MANIFEST_BYTES: Final = 64 * 1024 * 1024

# Columns that belong to one instance and are not carried over.
_ROUND_LOCAL: Final = {"id", "organizer_id", "revision", "head_version", "status"}
_SUBMISSION_LOCAL: Final = {
    "id", "round_id", "team_id", "user_id", "idempotency_key", "attempts", "lease_owner",
    "lease_expires_at",
}  # fmt: skip
_VERDICT: Final = ("outcome", "reason", "score", "version", "verdict")
_ROUND_BLOBS: Final = ("train_sha", "holdout_sha", "test_sha", "base_model_sha")
_SUBMISSION_BLOBS: Final = ("model_sha", "group_model_sha", "outputs_sha")
# A population's uploader is an account of the exporting instance: the importer owns it here.
_POPULATION_LOCAL: Final = {
    "id",
    "round_id",
    "uploaded_by",
    "attempts",
    "lease_owner",
    "lease_expires_at",
}


def _columns(model: type[Base]) -> dict[str, Any]:
    return {c.key: c for c in inspect(model).columns}


def _row(obj: Base, skip: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    out = {}
    for key in _columns(type(obj)):
        if key in skip:
            continue
        value = getattr(obj, key)
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _fields(model: type[Base], data: Mapping[str, Any], skip: set[str]) -> dict[str, Any]:
    """Keyword arguments for ``model`` from an archived row: known columns only, dates parsed."""
    columns = _columns(model)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in skip or key not in columns:
            continue
        is_date = isinstance(columns[key].type, UTCDateTime) and isinstance(value, str)
        out[key] = datetime.fromisoformat(value) if is_date else value
    return out


# --------------------------------------------------------------------------- export


def _versions_of(round_id: int) -> Select[ModelVersion]:
    return (
        select(ModelVersion).where(ModelVersion.round_id == round_id).order_by(ModelVersion.version)
    )


def _manifest(session: Session, round_: Round) -> dict[str, Any]:
    teams = session.scalars(select(Team).where(Team.round_id == round_.id).order_by(Team.id))
    subs = session.scalars(
        select(Submission).where(Submission.round_id == round_.id).order_by(Submission.id)
    ).all()
    versions = session.scalars(
        select(ModelVersion)
        .where(ModelVersion.round_id == round_.id)
        .order_by(ModelVersion.version)
    )
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.round_id == round_.id).order_by(AuditEvent.id)
    )
    populations = session.scalars(
        select(Population).where(Population.round_id == round_.id).order_by(Population.id)
    ).all()
    measured = session.scalars(
        select(PopulationOutput)
        .where(PopulationOutput.population_id.in_([p.id for p in populations]))
        .order_by(PopulationOutput.id)
    )
    watched = session.scalars(
        select(WatchedGroup).where(WatchedGroup.round_id == round_.id).order_by(WatchedGroup.id)
    )
    return {
        "format": FORMAT,
        "exported_at": utcnow().isoformat(),
        "round": _row(round_, {"id", "organizer_id", "revision"}),
        "teams": [{"id": t.id, "name": t.name} for t in teams],
        "submissions": [_row(s, _SUBMISSION_LOCAL - {"id", "team_id"}) for s in subs],
        "versions": [_row(v, {"id", "round_id", "train_predictions_sha"}) for v in versions],
        "audit": [_row(e, {"round_id"}) for e in events],
        "populations": [_row(p, _POPULATION_LOCAL - {"id"}) for p in populations],
        "population_outputs": [_row(o, {"id"}) for o in measured],
        "watched_groups": [w.expression for w in watched],
    }


def _blobs(manifest: Mapping[str, Any]) -> set[str]:
    shas = {manifest["round"][key] for key in _ROUND_BLOBS}
    for sub in manifest["submissions"]:
        shas |= {sub[key] for key in _SUBMISSION_BLOBS}
    for population in manifest.get("populations", []):
        shas |= {population["data_sha"], population["base_outputs_sha"]}
    shas |= {o["outputs_sha"] for o in manifest.get("population_outputs", [])}
    return {sha for sha in shas if sha}


def write_archive(session: Session, store: ArtifactStore, round_: Round, path: Path) -> Path:
    """Write the round as an archive at ``path``."""
    manifest = _manifest(session, round_)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        for sha in sorted(_blobs(manifest)):
            with store.local_copy(sha) as blob:
                archive.write(blob, f"blobs/{sha}")
    return path


# --------------------------------------------------------------------------- import


def _bad(detail: str) -> Problem:
    return BadArchive(f"the archive cannot be imported: {detail}")


@dataclass(frozen=True)
class ImportResult:
    """What an import made and checked."""

    round: Round
    submissions: int
    versions: int
    verdicts_checked: int


def _open_archive(path: Path, max_bytes: int) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad("it is not a zip file") from exc
    total = 0
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        blob = len(name.parts) == 2 and name.parts[0] == "blobs" and _is_sha(name.parts[1])
        if not (info.filename == MANIFEST or blob):
            raise _bad(f"unexpected member {info.filename[:100]!r}")
        total += info.file_size
    if total > max_bytes:
        raise _bad(f"it unpacks to {total} bytes, more than the limit of {max_bytes}")
    return archive


def _is_sha(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError as exc:
        raise _bad("it has no manifest.json") from exc
    if info.file_size > _MAX_MANIFEST_BYTES:
        raise _bad("its manifest is too large")
    try:
        manifest = json.loads(archive.read(info))
    except (ValueError, zipfile.BadZipFile) as exc:
        raise _bad("its manifest is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(f"it is not a {FORMAT} archive")
    for key in ("round", "teams", "submissions", "versions"):
        if key not in manifest:
            raise _bad(f"its manifest has no {key!r}")
    return manifest


def _store_blobs(
    archive: zipfile.ZipFile, store: ArtifactStore, needed: set[str], scratch: Path
) -> None:
    members = {PurePosixPath(n).name for n in archive.namelist() if n != MANIFEST}
    if missing := needed - members:
        raise _bad(f"it lacks {len(missing)} file(s) its manifest names, e.g. {min(missing)}")
    for sha in sorted(needed):
        target = scratch / sha
        with archive.open(f"blobs/{sha}") as src, target.open("wb") as out:
            while chunk := src.read(1024 * 1024):
                out.write(chunk)
        if file_sha256(target) != sha:
            raise _bad(f"the file blobs/{sha} does not match its digest")
        store.put_file(target, sha)
        target.unlink()


def _new_round(session: Session, data: Mapping[str, Any], user: User, slug: str | None) -> Round:
    fields = _fields(Round, data, _ROUND_LOCAL)
    fields["slug"] = slug or fields.get("slug")
    # Archives from before the significance rule were decided by the threshold rule.
    fields.setdefault("acceptance_test", AcceptanceTest.THRESHOLD.value)
    if session.scalar(select(Round.id).where(Round.slug == fields["slug"])) is not None:
        raise SlugTaken(f"a round {fields['slug']!r} exists here; import it under a new slug")
    round_ = Round(**fields, organizer_id=user.id, status=RoundStatus.DRAFT, head_version=0)
    session.add(round_)
    session.flush()
    return round_


def _comparable(sub: Mapping[str, Any], ids: Mapping[int, int]) -> dict[str, Any]:
    """A verdict with the submission ids it names mapped through ``ids``."""
    verdict = json.loads(json.dumps(sub.get("verdict")))  # a deep copy
    for repair in (verdict or {}).get("repairs", []):
        repair["submission_id"] = ids.get(repair["submission_id"])
    return {key: sub.get(key) for key in _VERDICT[:-1]} | {"verdict": verdict}


def _as_archived(replayed: Any, archived: Any) -> Any:
    """``replayed`` with only the keys ``archived`` has, at every depth: an archive from an
    older version lacks the figures verdicts gained since, and what it has must still match."""
    if isinstance(replayed, dict) and isinstance(archived, dict):
        return {
            key: _as_archived(value, archived[key])
            for key, value in replayed.items()
            if key in archived
        }
    if isinstance(replayed, list) and isinstance(archived, list) and len(replayed) == len(archived):
        return [_as_archived(r, a) for r, a in zip(replayed, archived, strict=True)]
    return replayed


def _version_rows(
    rows: Iterator[Mapping[str, Any]], ids: Mapping[int, int]
) -> list[tuple[Any, ...]]:
    return [
        (
            v["version"], v["kind"], ids.get(v["submission_id"]) if v["submission_id"] else None,
            v["target_version"], v["holdout_loss"], v["train_loss"], v["test_loss"],
        )
        for v in rows
    ]  # fmt: skip


def import_archive(
    session: Session,
    store: ArtifactStore,
    cache: RoundCache,
    user: User,
    path: Path,
    *,
    slug: str | None = None,
    max_bytes: int,
) -> ImportResult:
    """Create the archived round on this instance for ``user`` and check, by replaying it,
    that it reproduces exactly; 422 (nothing imported) if the archive is malformed or does not
    replay to the same verdicts and versions. The caller commits."""
    with _open_archive(path, max_bytes) as archive:
        manifest = _read_manifest(archive)
        try:
            _store_blobs(archive, store, _blobs(manifest), path.parent)
        except (KeyError, TypeError) as exc:
            raise _bad("its manifest is malformed") from exc
    try:
        return _create(session, store, cache, user, manifest, slug=slug)
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(f"its manifest is malformed ({type(exc).__name__}: {exc})") from exc


def _create(
    session: Session,
    store: ArtifactStore,
    cache: RoundCache,
    user: User,
    manifest: Mapping[str, Any],
    *,
    slug: str | None,
) -> ImportResult:
    archived = manifest["round"]
    round_ = _new_round(session, archived, user, slug)
    teams = {}
    for team in manifest["teams"]:
        row = Team(round_id=round_.id, name=team["name"], invite_code=secrets.token_urlsafe(12))
        session.add(row)
        teams[team["id"]] = row
    session.flush()
    ids: dict[int, int] = {}
    pending = 0
    for data in manifest["submissions"]:
        fields = _fields(Submission, data, _SUBMISSION_LOCAL)
        if fields.get("status") != SubmissionStatus.DECIDED:
            # Not decided when exported: queued again, the workers here evaluate it.
            fields |= {"status": SubmissionStatus.QUEUED, "outputs_sha": None, "eval_error": None}
            pending += 1
        sub = Submission(
            **fields, round_id=round_.id, team_id=teams[data["team_id"]].id, user_id=user.id
        )
        session.add(sub)
        session.flush()
        ids[data["id"]] = sub.id
    # Version 0, as opening the round records it; then the replay decides everything again.
    session.add(base_version(store, round_.id, cache.fresh(round_).evaluator))
    session.flush()
    replay_round(session, store, cache, round_)
    _check_reproduced(session, round_, manifest, ids)
    _create_populations(session, round_, user, manifest, ids)
    round_.status = RoundStatus(archived["status"])
    n_versions = len(manifest["versions"])
    audit.record(
        session,
        "round.imported",
        round_id=round_.id,
        actor_id=user.id,
        source_slug=archived["slug"],
        exported_at=manifest.get("exported_at"),
        submissions=len(ids),
        requeued=pending,
        versions=n_versions,
    )
    return ImportResult(round_, len(ids), n_versions, len(ids) - pending)


def _create_populations(
    session: Session,
    round_: Round,
    user: User,
    manifest: Mapping[str, Any],
    ids: Mapping[int, int],
) -> None:
    """The round's deployment populations, their measured outputs and watched groups
    (docs/populations.md); archives from before them have none."""
    populations: dict[int, Population] = {}
    for data in manifest.get("populations", []):
        row = Population(
            **_fields(Population, data, _POPULATION_LOCAL), round_id=round_.id, uploaded_by=user.id
        )
        session.add(row)
        populations[data["id"]] = row
    session.flush()
    for data in manifest.get("population_outputs", []):
        session.add(
            PopulationOutput(
                population_id=populations[data["population_id"]].id,
                submission_id=ids[data["submission_id"]],
                outputs_sha=data["outputs_sha"],
                error=data["error"],
            )
        )
    for expression in manifest.get("watched_groups", []):
        session.add(
            WatchedGroup(round_id=round_.id, expression=str(expression), created_by=user.id)
        )


def _check_reproduced(
    session: Session, round_: Round, manifest: Mapping[str, Any], ids: Mapping[int, int]
) -> None:
    new = {
        s.id: s for s in session.scalars(select(Submission).where(Submission.round_id == round_.id))
    }
    for data in manifest["submissions"]:
        if data.get("status") != SubmissionStatus.DECIDED:
            continue
        sub = new[ids[data["id"]]]
        want = _comparable(data, ids)
        got = _as_archived({key: getattr(sub, key) for key in _VERDICT}, want)
        if want != got:
            raise _bad(
                f"submission {data['id']} replays as {got['outcome']}/{got['reason']} "
                f"(version {got['version']}), not as archived"
                f" {want['outcome']}/{want['reason']} (version {want['version']})"
                if (want["outcome"], want["version"]) != (got["outcome"], got["version"])
                else f"submission {data['id']} replays with other statistics than archived"
            )
    versions = session.scalars(
        select(ModelVersion)
        .where(ModelVersion.round_id == round_.id)
        .order_by(ModelVersion.version)
    )
    mine = _version_rows((_row(v) for v in versions), {v: v for v in ids.values()})
    theirs = _version_rows(iter(manifest["versions"]), ids)
    if mine != theirs:
        raise _bad(f"the replay made {len(mine)} model versions unlike the {len(theirs)} archived")
    if round_.head_version != manifest["round"]["head_version"]:
        raise _bad("the replay ends at another head version than archived")
