"""Routes of the rounds domain: settings, dataset, base model, lifecycle, public data."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Final

import pyarrow.parquet as pq
from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from app.auth.deps import BearerToken, OptionalUser, Organizer, resolve_user
from app.auth.models import User
from app.core.deps import MAX_ID, RoundSlug, SessionDep, SettingsDep, StoreDep, read_in_thread
from app.core.downloads import attachment
from app.core.errors import ArtifactMissing
from app.core.etag import CONDITIONAL_RESPONSES, Answer, conditional_response
from app.core.openapi import problems
from app.core.storage import ArtifactStore
from app.core.uploads import CHUNK, safe_name, spool
from app.rounds import access, base_model, datasets, engine_view, service
from app.rounds.answers import cached_answer
from app.rounds.models import Round
from app.rounds.problems import DatasetFiles, NoDataset, NoPredictions
from app.rounds.schemas import (
    BaseModelOut,
    DatasetOut,
    RoundCreate,
    RoundOut,
    RoundUpdate,
    VersionOut,
)
from app.rounds.scoring import SandboxScoringDep
from app.rounds.train_predictions import train_predictions_parquet
from app.rounds.views import (
    base_model_out,
    dataset_out,
    round_out,
    version_out,
)
from bounty_engine.schema import FeatureSchema

router = APIRouter(prefix="/api/v1", tags=["rounds"])

_CSV_BATCH_ROWS: Final = 50_000


# --------------------------------------------------------------------------- uploads


def _save_upload(upload: UploadFile, folder: Path, default: str, limit: int) -> Path:
    """Copy an upload to ``folder``, named like the client's file made safe (its suffix tells
    CSV from Parquet); 413 beyond ``limit`` bytes."""
    return spool(upload, folder / safe_name(upload.filename, default), field=default, limit=limit)


def _managed_round(session: Session, slug: str, user: User, *, lock: bool = False) -> Round:
    found = access.get_round(session, slug, for_update=lock)
    access.require_organizer_of(found, user)
    return found


# --------------------------------------------------------------------------- rounds


@router.post(
    "/rounds",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundOut,
    responses=problems(401, 403, 409, 422),
)
def create_round(body: RoundCreate, user: Organizer, session: SessionDep) -> RoundOut:
    """Create a draft round (organizers). The slug is derived from the title if omitted."""
    return round_out(service.create_round(session, user, body), user)


@router.get("/rounds", response_model=list[RoundOut], responses=problems(401))
def list_rounds(
    session: SessionDep,
    user: OptionalUser,
    limit: Annotated[int, Query(ge=1, le=200, description="Most rounds to return.")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="Rounds to skip.")] = 0,
) -> list[RoundOut]:
    """Rounds that are open, frozen or closed, and, for organizers, their own drafts."""
    rounds = access.list_rounds(session, user, limit=limit, offset=offset)
    return [round_out(r, user) for r in rounds]


@router.get(
    "/rounds/{slug}",
    response_model=RoundOut,
    responses={**CONDITIONAL_RESPONSES, **problems(401, 404)},
)
async def get_round(
    slug: RoundSlug, request: Request, settings: SettingsDep, token: BearerToken
) -> Response:
    """A round's details and rules. Drafts are visible only to their organizer. Conditional:
    `If-None-Match` with the answer's ETag gets 304 while it is unchanged."""

    def answer(session: Session) -> Answer:
        user = resolve_user(session, token, settings)
        found = access.visible_round(session, slug, user)
        # The answer is the row as one of two viewers sees it (the organizer also sees the
        # split seed), cached while no column of the row changes.
        key = ("round", found.id, access.is_organizer_of(found, user))
        return cached_answer(request, key, found, lambda: round_out(found, user))

    return conditional_response(request, await read_in_thread(request, answer))


@router.patch(
    "/rounds/{slug}", response_model=RoundOut, responses=problems(401, 403, 404, 409, 422)
)
def update_round(
    slug: RoundSlug, body: RoundUpdate, user: Organizer, session: SessionDep, store: StoreDep
) -> RoundOut:
    """Change a round (its organizer): rules only in draft; title, description and schedule
    until the round is closed. Changing the loss to one of another task re-reads the label
    and clears the base model."""
    found = _managed_round(session, slug, user, lock=True)
    return round_out(service.update_round(session, store, found, user, body), user)


# --------------------------------------------------------------------------- dataset


@router.post(
    "/rounds/{slug}/dataset",
    response_model=DatasetOut,
    responses=problems(401, 403, 404, 409, 413, 422, 503, 507),
)
def upload_dataset(
    slug: RoundSlug,
    user: Organizer,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    label: Annotated[
        str, Form(min_length=1, max_length=200, description="The label column.", examples=["y"])
    ],
    file: Annotated[
        UploadFile | None, File(description="One CSV or Parquet table, split at random.")
    ] = None,
    train: Annotated[
        UploadFile | None, File(description="The train split (with holdout, test).")
    ] = None,
    holdout: Annotated[UploadFile | None, File(description="The hidden holdout split.")] = None,
    test: Annotated[UploadFile | None, File(description="The sealed test split.")] = None,
    train_fraction: Annotated[
        float, Form(ge=0, le=1, description="Share of rows for train.", examples=[0.6])
    ] = 0.6,
    holdout_fraction: Annotated[
        float, Form(ge=0, le=1, description="Share for the holdout.", examples=[0.2])
    ] = 0.2,
    test_fraction: Annotated[
        float, Form(ge=0, le=1, description="Share for the test split.", examples=[0.2])
    ] = 0.2,
    seed: Annotated[
        int, Form(ge=0, le=2**32 - 1, description="Seed of the random split.", examples=[0])
    ] = 0,
) -> DatasetOut:
    """Upload the round's data (its organizer, draft only), replacing any earlier data and
    base model: either one table `file` split at random by the fractions and seed, or three
    tables `train`, `holdout` and `test` used as they are. The response has the inferred
    schema, the split sizes and what alpha means on this holdout."""
    found = _managed_round(session, slug, user, lock=True)
    access.require_draft(found, "upload a dataset")
    label = label.strip()
    parts = {"train": train, "holdout": holdout, "test": test}
    given = [name for name, upload in parts.items() if upload is not None]
    limit = settings.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="bounty-upload-") as tmp:
        folder = Path(tmp)
        if file is not None and not given:
            path = _save_upload(file, folder / "file", "file", limit)
            spec = datasets.SplitSpec(
                label, (train_fraction, holdout_fraction, test_fraction), seed
            )
            datasets.import_table(session, store, found, user, path=path, spec=spec)
        elif file is None and train is not None and holdout is not None and test is not None:
            paths = {
                "train": _save_upload(train, folder / "train", "train", limit),
                "holdout": _save_upload(holdout, folder / "holdout", "holdout", limit),
                "test": _save_upload(test, folder / "test", "test", limit),
            }
            datasets.import_splits(session, store, found, user, paths=paths, label=label)
        else:
            sent = (["file"] if file is not None else []) + given
            raise DatasetFiles(
                "upload either one table as `file`, or three tables as `train`, `holdout` and "
                f"`test`; got {', '.join(sent) or 'no file'}",
            )
    return dataset_out(found)


# --------------------------------------------------------------------------- base model


@router.post(
    "/rounds/{slug}/base-model",
    response_model=BaseModelOut,
    responses=problems(401, 403, 404, 409, 413, 422, 503, 507),
)
def upload_base_model(
    slug: RoundSlug,
    user: Organizer,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="A skops or ONNX model file (never pickle).")],
) -> BaseModelOut:
    """Set the base model f0 from a file (its organizer, draft, after the dataset). The file is
    loaded safely and must predict valid labels for a sample of holdout rows."""
    found = _managed_round(session, slug, user, lock=True)
    access.require_draft(found, "set the base model")
    with tempfile.TemporaryDirectory(prefix="bounty-model-") as tmp:
        path = _save_upload(file, Path(tmp), "file", settings.max_model_bytes)
        base_model.upload_base_model(session, store, found, user, path)
    result = base_model_out(found)
    assert result is not None  # noqa: S101 (just set)
    return result


@router.post(
    "/rounds/{slug}/base-model/default",
    response_model=BaseModelOut,
    responses=problems(401, 403, 404, 409, 422, 503, 507),
)
def train_base_model(
    slug: RoundSlug, user: Organizer, session: SessionDep, store: StoreDep
) -> BaseModelOut:
    """Train the documented default model (a scikit-learn pipeline with logistic regression or
    ridge) on the train split and make it the base model (its organizer, draft)."""
    found = _managed_round(session, slug, user, lock=True)
    base_model.train_base_model(session, store, found, user)
    result = base_model_out(found)
    assert result is not None  # noqa: S101 (just set)
    return result


# --------------------------------------------------------------------------- lifecycle


@router.post(
    "/rounds/{slug}/open",
    response_model=RoundOut,
    responses=problems(401, 403, 404, 409, 422, 503, 507),
)
def open_round(
    slug: RoundSlug,
    user: Organizer,
    session: SessionDep,
    store: StoreDep,
    scoring: SandboxScoringDep,
) -> RoundOut:
    """draft -> open (its organizer): needs the dataset and a base model; scores the base model
    on every split as version 0 (a model bundle in the evaluation sandbox). 409 if the round
    is not a draft."""
    found = _managed_round(session, slug, user, lock=True)
    service.open_round(session, store, found, user, scoring=scoring)
    return round_out(found, user)


@router.post(
    "/rounds/{slug}/freeze", response_model=RoundOut, responses=problems(401, 403, 404, 409)
)
def freeze_round(slug: RoundSlug, user: Organizer, session: SessionDep) -> RoundOut:
    """open -> frozen (its organizer): no new submissions; queued ones are still decided."""
    found = _managed_round(session, slug, user, lock=True)
    service.freeze_round(session, found, user)
    return round_out(found, user)


@router.post(
    "/rounds/{slug}/close", response_model=RoundOut, responses=problems(401, 403, 404, 409)
)
def close_round(slug: RoundSlug, user: Organizer, session: SessionDep) -> RoundOut:
    """open or frozen -> closed (its organizer). Final."""
    found = _managed_round(session, slug, user, lock=True)
    service.close_round(session, found, user)
    return round_out(found, user)


# --------------------------------------------------------------------------- public data


@router.get(
    "/rounds/{slug}/schema", response_model=FeatureSchema, responses=problems(401, 404, 409)
)
def get_schema(slug: RoundSlug, session: SessionDep, user: OptionalUser) -> FeatureSchema:
    """The round's feature columns and label (anyone, once the round is open)."""
    return engine_view.round_schema(access.visible_round(session, slug, user))


def _train_sha(session: Session, slug: str, user: User | None, store: ArtifactStore) -> str:
    found = access.visible_round(session, slug, user)
    if found.train_sha is None:
        raise NoDataset("the round has no dataset yet; upload one first")
    if not store.exists(found.train_sha):
        raise ArtifactMissing("the training split is missing from the store")
    return found.train_sha


def _blob_chunks(store: ArtifactStore, sha: str) -> Iterator[bytes]:
    with store.local_copy(sha) as path, path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _csv_chunks(store: ArtifactStore, sha: str) -> Iterator[bytes]:
    with store.local_copy(sha) as path:
        batches = pq.ParquetFile(path).iter_batches(batch_size=_CSV_BATCH_ROWS)
        for i, batch in enumerate(batches):
            yield batch.to_pandas().to_csv(index=False, header=i == 0).encode()


def _download_headers(slug: str, sha: str, suffix: str) -> dict[str, str]:
    return {**attachment(f"{slug}-train.{suffix}"), "ETag": f'"{sha}"'}


@router.get(
    "/rounds/{slug}/data/train.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The train split as CSV."},
        **problems(401, 404, 409),
    },
)
def download_train_csv(
    slug: RoundSlug, session: SessionDep, store: StoreDep, user: OptionalUser
) -> StreamingResponse:
    """The public training split as CSV (anyone, once the round is open). There is no route
    for the holdout or the test split."""
    sha = _train_sha(session, slug, user, store)
    return StreamingResponse(
        _csv_chunks(store, sha),
        media_type="text/csv; charset=utf-8",
        headers=_download_headers(slug, sha, "csv"),
    )


@router.get(
    "/rounds/{slug}/data/train.parquet",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/vnd.apache.parquet": {}}, "description": "Parquet."},
        **problems(401, 404, 409),
    },
)
def download_train_parquet(
    slug: RoundSlug, session: SessionDep, store: StoreDep, user: OptionalUser
) -> StreamingResponse:
    """The public training split as Parquet (anyone, once the round is open)."""
    sha = _train_sha(session, slug, user, store)
    return StreamingResponse(
        _blob_chunks(store, sha),
        media_type="application/vnd.apache.parquet",
        headers=_download_headers(slug, sha, "parquet"),
    )


@router.get(
    "/rounds/{slug}/data/train-predictions.parquet",
    response_class=Response,
    responses={
        200: {
            "content": {"application/vnd.apache.parquet": {}},
            "description": "One `prediction` column, a row for each train row, in its order; "
            "the `X-Model-Version` header names the version.",
        },
        **problems(401, 404, 409),
    },
)
def download_train_predictions(
    slug: RoundSlug, session: SessionDep, store: StoreDep, user: OptionalUser
) -> Response:
    """The current model's predictions on the public training split (anyone, once the round
    is open): what `bounty check` compares a pair against before it is submitted."""
    found = access.visible_round(session, slug, user)
    head = access.head_model_version(session, found)
    if head is None or head.train_predictions_sha is None:
        raise NoPredictions("the round's model has no train predictions yet: open it first")
    sha = head.train_predictions_sha
    body = train_predictions_parquet(store, sha, engine_view.round_schema(found).label)
    return Response(
        body,
        media_type="application/vnd.apache.parquet",
        headers={
            **attachment(f"{slug}-train-predictions.parquet"),
            "ETag": f'"{sha}"',
            "X-Model-Version": str(head.version),
        },
    )


# --------------------------------------------------------------------------- versions


@router.get(
    "/rounds/{slug}/versions", response_model=list[VersionOut], responses=problems(401, 404)
)
def list_versions(slug: RoundSlug, session: SessionDep, user: OptionalUser) -> list[VersionOut]:
    """The model's versions with their train loss and, as the round's disclosure allows,
    their holdout loss (the organizer sees exact holdout and test losses)."""
    found = access.visible_round(session, slug, user)
    organizer = access.is_organizer_of(found, user)
    return [version_out(v, found, organizer) for v in access.model_versions(session, found)]
