"""Accounts and credentials: sign-up, sign-in with lockout, access tokens, API keys."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.auth.models import AccessToken, ApiKey, Role, User
from app.auth.problems import AccountLocked, EmailTaken, InvalidCredentials
from app.core.db import utcnow, without_waiting_for_writers
from app.core.security import (
    ACCESS_TOKEN_PREFIX,
    API_KEY_PREFIX,
    hash_password,
    new_secret,
    secret_digest,
    verify_password,
)

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
LAST_USED_RESOLUTION = timedelta(minutes=1)

log = logging.getLogger("bounty.auth")


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively."""
    return email.strip().lower()


def create_user(
    session: Session, email: str, display_name: str, password: str, role: Role = Role.PARTICIPANT
) -> User:
    """A new account; 409 if the email is taken."""
    email = normalize_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken("an account with this email already exists")
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        role=role,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The user with these credentials; 401 otherwise, with a lockout after repeated failures."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(
            "too many failed sign-ins; try again later",
            headers={"Retry-After": str(int((user.locked_until - now).total_seconds()) + 1)},
        )
    if user is None or not verify_password(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
        raise InvalidCredentials(
            "wrong email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user.failed_logins = 0
    user.locked_until = None
    return user


def issue_access_token(session: Session, user: User, key: str, minutes: int) -> str:
    """A new short-lived bearer token for ``user``."""
    token = new_secret(ACCESS_TOKEN_PREFIX)
    session.add(
        AccessToken(
            user_id=user.id,
            digest=secret_digest(token, key),
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    return token


def create_api_key(
    session: Session, user: User, name: str, key: str, expires_in_days: int | None
) -> tuple[ApiKey, str]:
    """A new API key row and the key itself (shown once)."""
    secret = new_secret(API_KEY_PREFIX)
    api_key = ApiKey(
        user_id=user.id,
        name=name,
        prefix=secret[: len(API_KEY_PREFIX) + 6],
        digest=secret_digest(secret, key),
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(api_key)
    session.flush()
    return api_key, secret


def user_for_secret(session: Session, secret: str, key: str) -> User | None:
    """The user a bearer secret (access token or API key) belongs to, if it is valid now."""
    digest = secret_digest(secret, key)
    now = utcnow()
    if secret.startswith(API_KEY_PREFIX):
        api_key = session.scalar(select(ApiKey).where(ApiKey.digest == digest))
        if api_key is None or api_key.revoked_at is not None:
            return None
        if api_key.expires_at is not None and api_key.expires_at <= now:
            return None
        _note_use(session, api_key, now)
        return session.get(User, api_key.user_id)
    token = session.scalar(select(AccessToken).where(AccessToken.digest == digest))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    return session.get(User, token.user_id)


def _note_use(session: Session, api_key: ApiKey, now: datetime) -> None:
    """Record when the key was last used, to the minute, without failing the request.

    Even a read request writes here, so the write is rare (at most once a minute per key) and
    best effort: in a savepoint, given up if the database refuses it (a SQLite reader whose
    snapshot another writer has since moved on cannot become a writer) or if another writer
    holds SQLite's write lock: a read must not queue behind the writers for a timestamp (in a
    burst of uploads and verdicts, every poller's first request waited about 6 s there).
    """
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    try:
        with session.begin_nested(), without_waiting_for_writers(session):
            session.execute(update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now))
    except OperationalError:
        log.info("last use of API key %s not recorded: the database is busy", api_key.id)


def revoke_access_token(session: Session, secret: str, key: str) -> None:
    """Sign out: the token stops working."""
    token = session.scalar(
        select(AccessToken).where(AccessToken.digest == secret_digest(secret, key))
    )
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
