"""Routes of the leaderboard domain: standings, model history, feature usage, accepted groups
and the organizer's export of the model."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from app.auth.deps import BearerToken, CurrentUser, resolve_user
from app.core.deps import RoundSlug, SessionDep, SettingsDep, StoreDep, read_in_thread
from app.core.downloads import temporary_file_response
from app.core.etag import CONDITIONAL_RESPONSES, Answer, conditional_response
from app.core.openapi import problems
from app.leaderboard import service
from app.leaderboard.report import ClosingReport, closing_report
from app.leaderboard.schemas import (
    AcceptedGroupOut,
    FeatureUsageOut,
    GroupsOut,
    HistoryOut,
    HistoryPoint,
    LeaderboardEntry,
    LeaderboardOut,
    TeamFeatureUsage,
)
from app.rounds.access import require_organizer_of, visible_round
from app.rounds.answers import cached_answer
from app.rounds.disclosure import holdout_mean_step
from app.rounds.models import Disclosure, Round
from app.submissions.disclosure import repairs_out
from app.submissions.verdict_record import StoredVerdict

router = APIRouter(prefix="/api/v1", tags=["leaderboard"])


async def _answer_read(request: Request, work: Callable[[Session], Answer]) -> Response:
    """``work`` in one trip to the thread pool, answered as a conditional response."""
    return conditional_response(request, await read_in_thread(request, work))


@router.get(
    "/rounds/{slug}/leaderboard",
    response_model=LeaderboardOut,
    responses={**CONDITIONAL_RESPONSES, **problems(401, 404)},
)
async def leaderboard(
    slug: RoundSlug, request: Request, settings: SettingsDep, token: BearerToken
) -> Response:
    """Teams ranked by credited improvement: the sum of the holdout scores of their accepted,
    not disqualified submissions. Teams with no accepted submission follow, unranked. When the
    round discloses no holdout numbers, the ranking is by accepted submissions, then earliest
    last improvement. A frozen round shows the leaderboard as of its freeze. Conditional:
    `If-None-Match` with the answer's ETag gets 304 while it is unchanged."""

    def answer(session: Session) -> Answer:
        view = service.viewer(session, slug, resolve_user(session, token, settings))
        key = ("leaderboard", view.round.id, view.disclosure)
        return cached_answer(request, key, view.round, lambda: _board(session, view))

    # The hottest read of the API: one trip to the thread pool, and the answer cached as JSON.
    return await _answer_read(request, answer)


def _board(session: Session, view: service.Viewer) -> LeaderboardOut:
    by_improvement = view.disclosure != Disclosure.NONE
    teams = service.standings(session, view.round, view.cutoff)
    shown = {s.team_id: view.holdout(s.improvement) for s in teams}

    def key(s: service.Standing) -> tuple[float, ...]:
        # The figure as shown, then the count: never an order the shown figures do not tell.
        return (shown[s.team_id] or 0.0, s.accepted) if by_improvement else (s.accepted,)

    entries = [
        LeaderboardEntry(
            rank=rank,
            team_id=s.team_id,
            team=s.team,
            improvement=shown[s.team_id],
            accepted=s.accepted,
            submissions=s.submissions,
            last_improvement_at=s.last_improvement_at,
        )
        for rank, s in service.ranked(teams, key)
    ]
    return LeaderboardOut(
        round=view.round.slug,
        disclosure=view.disclosure,
        as_of=view.as_of,
        ranked_by="improvement" if by_improvement else "accepted",
        resolution=holdout_mean_step(view.round, view.disclosure),
        entries=entries,
    )


@router.get(
    "/rounds/{slug}/history",
    response_model=HistoryOut,
    responses={**CONDITIONAL_RESPONSES, **problems(401, 404)},
)
async def history(
    slug: RoundSlug, request: Request, settings: SettingsDep, token: BearerToken
) -> Response:
    """The model's versions, oldest first: the node that made each one, the team behind it,
    and its holdout loss (as the round discloses it) and train loss (exact). Conditional, like
    the leaderboard."""

    def answer(session: Session) -> Answer:
        view = service.viewer(session, slug, resolve_user(session, token, settings))
        key = ("history", view.round.id, view.disclosure)
        return cached_answer(request, key, view.round, lambda: _history(session, view))

    return await _answer_read(request, answer)


def _history(session: Session, view: service.Viewer) -> HistoryOut:
    versions = [
        HistoryPoint(
            version=v.version,
            kind=v.kind,
            submission_id=v.submission_id,
            team_id=team_id,
            team=team,
            target_version=v.target_version,
            created_at=v.created_at,
            holdout_loss=view.holdout(v.holdout_loss),
            train_loss=v.train_loss,
        )
        for v, team_id, team in service.history(session, view.round, view.cutoff)
    ]
    return HistoryOut(
        round=view.round.slug, disclosure=view.disclosure, as_of=view.as_of, versions=versions
    )


@router.get(
    "/rounds/{slug}/feature-usage",
    response_model=FeatureUsageOut,
    responses={**CONDITIONAL_RESPONSES, **problems(401, 404)},
)
async def feature_usage(
    slug: RoundSlug, request: Request, settings: SettingsDep, token: BearerToken
) -> Response:
    """The team x feature matrix: for each team, how many of its rule-group submissions read
    each of the round's features; model groups, whose features are unknown, are counted
    apart. Conditional, like the leaderboard."""

    def answer(session: Session) -> Answer:
        round_ = visible_round(session, slug, resolve_user(session, token, settings))
        key = ("feature-usage", round_.id)  # the same for every caller who may see the round
        return cached_answer(request, key, round_, lambda: _feature_usage(session, round_))

    return await _answer_read(request, answer)


def _feature_usage(session: Session, round_: Round) -> FeatureUsageOut:
    features = service.feature_names(round_)
    teams = [
        TeamFeatureUsage(
            team_id=u.team_id,
            team=u.team,
            rule_groups=u.rule_groups,
            model_groups=u.model_groups,
            counts=[u.counts.get(name, 0) for name in features],
        )
        for u in service.feature_usage(session, round_)
    ]
    totals = [sum(t.counts[i] for t in teams) for i in range(len(features))]
    return FeatureUsageOut(round=round_.slug, features=features, totals=totals, teams=teams)


@router.get(
    "/rounds/{slug}/groups",
    response_model=GroupsOut,
    responses={**CONDITIONAL_RESPONSES, **problems(401, 404)},
)
async def groups(
    slug: RoundSlug, request: Request, settings: SettingsDep, token: BearerToken
) -> Response:
    """The accepted, not disqualified submissions in the order they were accepted: the group,
    its size and loss before and after on the holdout (as the round discloses them), the
    version it made and the repairs it caused. Conditional, like the leaderboard."""

    def answer(session: Session) -> Answer:
        view = service.viewer(session, slug, resolve_user(session, token, settings))
        key = ("groups", view.round.id, view.disclosure)
        return cached_answer(request, key, view.round, lambda: _groups(session, view))

    return await _answer_read(request, answer)


def _groups(session: Session, view: service.Viewer) -> GroupsOut:
    out = []
    for sub in service.accepted_groups(session, view.round, view.cutoff):
        verdict = StoredVerdict.read(sub.verdict)
        stats = view.group_stats(verdict)
        out.append(
            AcceptedGroupOut(
                submission_id=sub.id,
                team_id=sub.team_id,
                team=sub.team,
                group=(sub.group_expression or "") if sub.group_kind == "rule" else "group model",
                group_kind="rule" if sub.group_kind == "rule" else "model",
                n_group=stats.n_group if stats else None,
                group_loss_before=stats.group_loss_before if stats else None,
                group_loss_after=stats.group_loss_after if stats else None,
                score=stats.score if stats else view.holdout(sub.score),
                version=sub.version,
                repairs=repairs_out(verdict),
                decided_at=sub.decided_at,
                **(stats.error_rates() if stats else {}),
            )
        )
    return GroupsOut(
        round=view.round.slug, disclosure=view.disclosure, as_of=view.as_of, groups=out
    )


@router.get(
    "/rounds/{slug}/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The model as a bundle zip."},
        **problems(401, 403, 404, 409),
    },
)
def export(
    slug: RoundSlug, session: SessionDep, store: StoreDep, user: CurrentUser
) -> StreamingResponse:
    """The round's current model as a bundle (the round's organizer only): a zip that
    ``bounty_engine.bundle.load_bundle`` loads without the server and that predicts exactly what
    the platform's head version predicts."""
    round_ = visible_round(session, slug, user)
    require_organizer_of(round_, user)
    name = f"{round_.slug}-v{round_.head_version}.zip"
    return temporary_file_response(
        name, lambda path: service.export_round(session, store, round_, path)
    )


@router.get(
    "/rounds/{slug}/report", response_model=ClosingReport, responses=problems(401, 403, 404)
)
def report(slug: RoundSlug, session: SessionDep, user: CurrentUser) -> ClosingReport:
    """The closing report (the round's organizer only): base vs final model on the holdout and
    the sealed test split, the overfitting gap, each team's contribution replayed on test (the
    private leaderboard) and per-group losses. Final once the round is closed."""
    round_ = visible_round(session, slug, user)
    require_organizer_of(round_, user)
    return closing_report(session, round_)
