"""Routes of deployment populations: adding them, their figures, deployers and watched groups
(docs/populations.md). Participants never reach any of them."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi import Path as PathParam

from app.auth.deps import CurrentUser
from app.core.deps import MAX_ID, NotifierDep, RoundSlug, SessionDep, SettingsDep, StoreDep
from app.core.openapi import problems
from app.core.uploads import safe_name, spool
from app.populations import service
from app.populations.figures import population_figures, population_out
from app.populations.follow_up import create_follow_up
from app.populations.models import WatchedGroup
from app.populations.problems import WatchedGroupNotFound
from app.populations.schemas import (
    DeployerIn,
    DeployerOut,
    FollowUpIn,
    PopulationFiguresOut,
    PopulationOut,
    WatchedGroupIn,
    WatchedGroupOut,
)
from app.rounds.access import get_round, is_organizer_of, require_organizer_of
from app.rounds.schemas import RoundOut
from app.rounds.views import round_out

router = APIRouter(prefix="/api/v1", tags=["populations"])

PopulationId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="The population's id.")]
UserId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="The user's id.")]
GroupId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="The watched group's id.")]


@router.post(
    "/rounds/{slug}/populations",
    status_code=status.HTTP_201_CREATED,
    response_model=PopulationOut,
    responses=problems(401, 403, 404, 409, 413, 422, 503, 507),
)
def add_population(
    slug: RoundSlug,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    notifier: NotifierDep,
    name: Annotated[
        str,
        Form(
            min_length=1,
            max_length=100,
            description="Its name in the round.",
            examples=["clinic-b"],
        ),
    ],
    file: Annotated[
        UploadFile, File(description="A CSV or Parquet table: the round's features and label.")
    ],
    description: Annotated[
        str,
        Form(
            max_length=5000,
            description="Where and when the rows come from.",
            examples=["Patients seen at clinic B in 2026"],
        ),
    ] = "",
) -> PopulationOut:
    """Add a labelled table from where the model is deployed (the round's organizer, or a
    deployer the organizer named; once the round is open). It is never shown to participants
    and never decides a pair: the workers measure every version of the model on it."""
    round_ = get_round(session, slug)
    with tempfile.TemporaryDirectory(prefix="bounty-upload-") as tmp:
        path = spool(
            file,
            Path(tmp) / safe_name(file.filename, "file"),
            field="file",
            limit=settings.max_upload_bytes,
        )
        population = service.add_population(
            session,
            store,
            round_,
            user,
            path=path,
            name=name.strip(),
            description=description.strip(),
        )
    answer = population_out(session, population)
    session.commit()  # stored before a worker is woken to measure it
    notifier.notify()
    return answer


@router.get(
    "/rounds/{slug}/populations",
    response_model=list[PopulationOut],
    responses=problems(401, 403, 404),
)
def list_populations(
    slug: RoundSlug, user: CurrentUser, session: SessionDep
) -> list[PopulationOut]:
    """The round's populations: all of them for its organizer, their own for a deployer."""
    round_ = get_round(session, slug)
    return [population_out(session, p) for p in service.populations_for(session, round_, user)]


@router.get(
    "/rounds/{slug}/populations/{population_id}",
    response_model=PopulationFiguresOut,
    responses=problems(401, 403, 404),
)
def population(
    slug: RoundSlug,
    population_id: PopulationId,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
) -> PopulationFiguresOut:
    """Every version of the round's model, and each accepted or watched group, measured on the
    population: loss, and on two-class rounds false-positive and false-negative rates."""
    round_ = get_round(session, slug)
    found = service.population_for(session, round_, population_id, user)
    exact = is_organizer_of(round_, user)
    return population_figures(session, store, round_, found, exact=exact)


@router.get(
    "/rounds/{slug}/deployers",
    response_model=list[DeployerOut],
    responses=problems(401, 403, 404),
)
def list_deployers(slug: RoundSlug, user: CurrentUser, session: SessionDep) -> list[DeployerOut]:
    """Who may add populations to the round (its organizer only)."""
    round_ = get_round(session, slug)
    require_organizer_of(round_, user)
    return [
        DeployerOut(id=u.id, email=u.email, display_name=u.display_name)
        for u in service.deployers(session, round_)
    ]


@router.post(
    "/rounds/{slug}/deployers",
    status_code=status.HTTP_201_CREATED,
    response_model=DeployerOut,
    responses=problems(401, 403, 404, 422),
)
def grant_deployer(
    slug: RoundSlug, body: DeployerIn, user: CurrentUser, session: SessionDep
) -> DeployerOut:
    """Let a registered user add populations to the round and read the figures of their own
    (its organizer only): a downstream customer who deploys the model."""
    round_ = get_round(session, slug)
    granted = service.grant_deployer(session, round_, user, body.email)
    return DeployerOut(id=granted.id, email=granted.email, display_name=granted.display_name)


@router.delete(
    "/rounds/{slug}/deployers/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404),
)
def revoke_deployer(
    slug: RoundSlug, user_id: UserId, user: CurrentUser, session: SessionDep
) -> None:
    """Take the role back (its organizer only); the populations they added stay."""
    service.revoke_deployer(session, get_round(session, slug), user, user_id)


@router.get(
    "/rounds/{slug}/watched-groups",
    response_model=list[WatchedGroupOut],
    responses=problems(401, 403, 404),
)
def list_watched_groups(
    slug: RoundSlug, user: CurrentUser, session: SessionDep
) -> list[WatchedGroupOut]:
    """The groups the organizer named to measure on every population (its organizer and
    deployers)."""
    round_ = get_round(session, slug)
    service.require_adder(session, round_, user)
    return [
        WatchedGroupOut(id=g.id, expression=g.expression)
        for g in service.watched_groups(session, round_)
    ]


@router.post(
    "/rounds/{slug}/watched-groups",
    status_code=status.HTTP_201_CREATED,
    response_model=WatchedGroupOut,
    responses=problems(401, 403, 404, 422),
)
def watch_group(
    slug: RoundSlug, body: WatchedGroupIn, user: CurrentUser, session: SessionDep
) -> WatchedGroupOut:
    """Name a group (a rule over the round's features) to measure on every population, next
    to the accepted groups (its organizer only)."""
    group = service.watch_group(session, get_round(session, slug), user, body.expression)
    return WatchedGroupOut(id=group.id, expression=group.expression)


@router.delete(
    "/rounds/{slug}/watched-groups/{group_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404),
)
def unwatch_group(
    slug: RoundSlug, group_id: GroupId, user: CurrentUser, session: SessionDep
) -> None:
    """Stop measuring a named group (its organizer only)."""
    round_ = get_round(session, slug)
    require_organizer_of(round_, user)
    group = session.get(WatchedGroup, group_id)
    if group is None or group.round_id != round_.id:
        raise WatchedGroupNotFound(f"round {slug!r} has no watched group {group_id}")
    session.delete(group)


@router.post(
    "/rounds/{slug}/populations/{population_id}/follow-up",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundOut,
    responses=problems(401, 403, 404, 409, 422, 503, 507),
)
def follow_up(
    slug: RoundSlug,
    population_id: PopulationId,
    body: FollowUpIn,
    user: CurrentUser,
    session: SessionDep,
    store: StoreDep,
) -> RoundOut:
    """Start a follow-up round (its organizer only): a draft with the same rules and features,
    the round's public train split, this population as the hidden holdout, and the round's
    current model as the base model, scored in the sandbox when the draft is opened."""
    source = get_round(session, slug)
    require_organizer_of(source, user)
    found = service.population_for(session, source, population_id, user)
    new = create_follow_up(session, store, source, found, user, title=body.title, slug=body.slug)
    return round_out(new, user)
