"""Routes: sign-up, sign-in (OAuth2 password flow), sign-out, the caller, API keys."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, status
from sqlalchemy import select

from app.auth import service
from app.auth.deps import CurrentUser, oauth2
from app.auth.models import ApiKey
from app.auth.problems import ApiKeyNotFound
from app.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, SignUp, TokenOut, UserOut
from app.core.db import transaction, utcnow
from app.core.deps import ApiKeyId, SessionDep, SettingsDep
from app.core.errors import Problem
from app.core.openapi import problems
from app.core.ratelimit import rate_limit

router = APIRouter(prefix="/api/v1", tags=["accounts"])

SignUpLimit = Annotated[None, Depends(rate_limit("sign-up", "rate_signup"))]
SignInLimit = Annotated[None, Depends(rate_limit("sign-in", "rate_sign_in"))]
ApiKeyLimit = Annotated[None, Depends(rate_limit("API key", "rate_api_key"))]


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=problems(409, 422, 429),
)
def sign_up(body: SignUp, session: SessionDep, _: SignUpLimit) -> UserOut:
    """Create a participant account (at most ``BOUNTY_RATE_SIGNUP`` per client address)."""
    user = service.create_user(session, body.email, body.display_name, body.password)
    return UserOut.model_validate(user)


@router.post("/auth/token", response_model=TokenOut, responses=problems(401, 422, 429))
def sign_in(
    username: Annotated[
        str, Form(description="The account's email.", examples=["researcher@example.com"])
    ],
    password: Annotated[str, Form(examples=["correct horse battery staple"])],
    request: Request,
    settings: SettingsDep,
    _: SignInLimit,
    grant_type: Annotated[
        Literal["password"] | None,
        Form(description="OAuth2 password flow; may be left out.", examples=["password"]),
    ] = None,
) -> TokenOut:
    """Exchange email (as ``username``) and password for a short-lived bearer token: the OAuth2
    password flow (form fields ``username``, ``password``, optional ``grant_type=password``).

    Five failures in a row lock the account for 15 minutes (429 with ``Retry-After``), and a
    client address gets at most ``BOUNTY_RATE_SIGN_IN`` attempts (429 too).
    """
    refusal: Problem | None = None
    # Committed even when the sign-in is refused, so that failures are counted.
    with transaction(request.app.state.session_factory) as session:
        try:
            user = service.authenticate(session, username, password)
        except Problem as exc:
            refusal = exc
        else:
            token = service.issue_access_token(
                session, user, settings.secret_key.get_secret_value(), settings.access_token_minutes
            )
    if refusal is not None:
        raise refusal
    return TokenOut(access_token=token, expires_in=settings.access_token_minutes * 60)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401))
def sign_out(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> None:
    """Revoke the access token used for this request."""
    if token is not None:
        service.revoke_access_token(session, token, settings.secret_key.get_secret_value())


@router.get("/me", response_model=UserOut, responses=problems(401))
def me(user: CurrentUser) -> UserOut:
    """The signed-in account."""
    return UserOut.model_validate(user)


@router.get("/me/api-keys", response_model=list[ApiKeyOut], responses=problems(401))
def list_api_keys(user: CurrentUser, session: SessionDep) -> list[ApiKeyOut]:
    """The caller's API keys (never the keys themselves)."""
    keys = session.scalars(select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.id))
    return [ApiKeyOut.model_validate(k) for k in keys]


@router.post(
    "/me/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=problems(401, 422, 429),
)
def create_api_key(
    body: ApiKeyCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    _: ApiKeyLimit,
) -> ApiKeyCreated:
    """Create an API key for scripts. The key is in this response only: store it now. At most
    ``BOUNTY_RATE_API_KEY`` keys per client address."""
    api_key, secret = service.create_api_key(
        session, user, body.name, settings.secret_key.get_secret_value(), body.expires_in_days
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(api_key).model_dump(), key=secret)


@router.delete(
    "/me/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 404)
)
def revoke_api_key(key_id: ApiKeyId, user: CurrentUser, session: SessionDep) -> None:
    """Revoke one of the caller's API keys; it stops working at once."""
    api_key = session.get(ApiKey, key_id)
    if api_key is None or api_key.user_id != user.id:
        raise ApiKeyNotFound("no such API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
