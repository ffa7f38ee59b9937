"""Who is calling: bearer access tokens and API keys, and role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.auth.problems import InvalidToken, OrganizersOnly
from app.auth.service import user_for_secret
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import NotAuthenticated
from app.core.settings import Settings

oauth2 = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="An access token from /api/v1/auth/token, or an API key (bbk_...).",
)


BearerToken = Annotated[str | None, Depends(oauth2)]


def optional_user(session: SessionDep, settings: SettingsDep, token: BearerToken) -> User | None:
    """The caller, or None for anonymous requests; 401 for a bad or expired credential."""
    return resolve_user(session, token, settings)


def resolve_user(session: Session, token: str | None, settings: Settings) -> User | None:
    """The user behind ``token`` (None when there is no token); 401 for a bad credential."""
    if token is None:
        return None
    user = user_for_secret(session, token, settings.secret_key.get_secret_value())
    if user is None:
        raise InvalidToken(
            "the access token or API key is invalid, expired or revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The signed-in caller; 401 for anonymous requests."""
    if user is None:
        raise NotAuthenticated("sign in first", headers={"WWW-Authenticate": "Bearer"})
    return user


async def organizer(user: Annotated[User, Depends(current_user)]) -> User:
    """The caller, who must be an organizer; 403 otherwise."""
    if user.role != Role.ORGANIZER:
        raise OrganizersOnly("only organizers may do this")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
Organizer = Annotated[User, Depends(organizer)]
