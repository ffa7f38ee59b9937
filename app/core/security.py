"""Passwords (argon2) and bearer secrets (API keys, access tokens) stored only as keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

API_KEY_PREFIX = "bbk_"
ACCESS_TOKEN_PREFIX = "bbt_"  # noqa: S105 (a prefix, not a secret)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str) -> str:
    """A fresh bearer secret with 256 bits of entropy and a recognizable prefix."""
    return prefix + secrets.token_urlsafe(32)


def secret_digest(secret: str, key: str) -> str:
    """The keyed hash under which a bearer secret is stored (HMAC-SHA256 with the server key).

    Secrets are random, so a fast hash is safe; the key means a leaked table alone cannot be
    used to check guesses.
    """
    return hmac.new(key.encode(), secret.encode(), hashlib.sha256).hexdigest()
