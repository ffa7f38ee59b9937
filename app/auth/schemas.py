"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.auth.models import Role


class SignUp(BaseModel):
    """A new account."""

    email: EmailStr = Field(examples=["ada@example.org"])
    display_name: str = Field(min_length=1, max_length=100, examples=["Ada"])
    password: str = Field(min_length=10, max_length=200, examples=["correct-horse-battery"])


class UserOut(BaseModel):
    """An account as its owner sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(examples=[42])
    email: str = Field(examples=["ada@example.org"])
    display_name: str = Field(examples=["Ada"])
    role: Role
    created_at: datetime = Field(examples=["2026-11-01T08:30:00Z"])


class TokenOut(BaseModel):
    """An OAuth2 bearer token from the password flow."""

    access_token: str = Field(examples=["bbt_x2xSqvJErcFbUz0zwgzJ_pLkSLjh-eNxeDQQ1XMLmDU"])
    token_type: str = Field(default="bearer", examples=["bearer"])
    expires_in: int = Field(description="Seconds until the token expires.", examples=[3600])


class ApiKeyCreate(BaseModel):
    """A new API key."""

    name: str = Field(min_length=1, max_length=100, examples=["notebook on my laptop"])
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, examples=[90])


class ApiKeyOut(BaseModel):
    """An API key as listed: never the key itself."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(examples=[3])
    name: str = Field(examples=["notebook on my laptop"])
    prefix: str = Field(examples=["bbk_680QXs"])
    created_at: datetime = Field(examples=["2026-11-20T10:00:00Z"])
    last_used_at: datetime | None = Field(examples=["2026-11-24T12:00:00Z"])
    expires_at: datetime | None = Field(examples=["2027-02-18T10:00:00Z"])
    revoked_at: datetime | None = Field(examples=["2026-11-30T18:00:00Z"])


class ApiKeyCreated(ApiKeyOut):
    """A newly created API key: the only time the key is shown."""

    key: str = Field(examples=["bbk_680QXsFHBiPmEMAv_DwK16PapWWIvIreefWWxpJbroQ"])
