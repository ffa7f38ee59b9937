"""Routes: a round exported as one archive, and an archive imported (and replayed) here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from app.archive import service as archive
from app.auth.deps import CurrentUser, Organizer
from app.core.deps import RoundSlug, SessionDep, SettingsDep, StoreDep
from app.core.downloads import temporary_file_response
from app.core.openapi import problems
from app.core.uploads import received
from app.evaluation.deps import round_cache
from app.rounds.access import require_organizer_of, visible_round
from app.rounds.schemas import SLUG_PATTERN, RoundOut
from app.rounds.views import round_out

router = APIRouter(prefix="/api/v1", tags=["rounds"])


class RoundImportOut(BaseModel):
    """An imported round, and what its replay checked."""

    round: RoundOut
    submissions: int = Field(description="Submissions imported.", examples=[120])
    versions: int = Field(
        description="Model versions, reproduced exactly by the replay.", examples=[9]
    )
    verdicts_checked: int = Field(
        description="Verdicts the replay reproduced exactly; the rest were queued again.",
        examples=[118],
    )


@router.get(
    "/rounds/{slug}/archive",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The round as an archive."},
        **problems(401, 403, 404),
    },
)
def export_archive(
    slug: RoundSlug, session: SessionDep, store: StoreDep, user: CurrentUser
) -> StreamingResponse:
    """The whole round as one zip (its organizer only): settings, data hashes, teams,
    submissions and verdicts, model versions, the audit log, and every file they name. Import
    it on another instance with ``POST /rounds/import``."""
    round_ = visible_round(session, slug, user)
    require_organizer_of(round_, user)
    return temporary_file_response(
        f"{round_.slug}-archive.zip",
        lambda path: archive.write_archive(session, store, round_, path),
    )


@router.post(
    "/rounds/import",
    status_code=201,
    response_model=RoundImportOut,
    responses=problems(401, 403, 409, 413, 422, 503, 507),
)
def import_archive(
    request: Request,
    user: Organizer,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="An archive from GET /rounds/{slug}/archive.")],
    slug: Annotated[
        str | None,
        Form(
            pattern=SLUG_PATTERN,
            max_length=80,
            description="A new slug (default: the archived one).",
            examples=["income-autumn-2026-copy"],
        ),
    ] = None,
) -> RoundImportOut:
    """Import a round archive (organizers): the round is created for you, its decided
    submissions are replayed from their stored outputs, and the import is refused, with
    nothing imported, unless the replay reproduces every verdict and model version exactly."""
    with received(file, "file", settings.max_archive_bytes) as path:
        result = archive.import_archive(
            session,
            store,
            round_cache(request),
            user,
            path,
            slug=slug,
            max_bytes=settings.max_archive_bytes,
        )
    return RoundImportOut(
        round=round_out(result.round, user),
        submissions=result.submissions,
        versions=result.versions,
        verdicts_checked=result.verdicts_checked,
    )
