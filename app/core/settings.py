"""Configuration from the environment (prefix ``BOUNTY_``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105


class Settings(BaseSettings):
    """Every setting of the API, the workers and the CLI."""

    model_config = SettingsConfigDict(env_prefix="BOUNTY_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    database_url: str = "sqlite:///var/bounty.db"
    # Connections per process (kept, and extra under load). The API serves sync endpoints from
    # 40 threads; with PostgreSQL, keep (API processes + workers) x (pool + overflow) below the
    # server's max_connections (100 by default).
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)
    public_url: str = "http://127.0.0.1:8000"
    cors_origins: list[str] = Field(default_factory=list)

    # The web app's production build (``npm run build`` in frontend/), served at "/".
    frontend_dir: Path = Path(__file__).resolve().parents[2] / "frontend" / "dist"

    storage: Literal["local", "s3"] = "local"
    storage_dir: Path = Path("var/artifacts")
    s3_bucket: str = "bias-bounty"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None

    max_upload_bytes: int = 200 * 1024 * 1024
    max_model_bytes: int = 50 * 1024 * 1024
    max_archive_bytes: int = 2 * 1024 * 1024 * 1024  # a round archive, packed or unpacked
    access_token_minutes: int = 60
    # Requests per client address, as "COUNT/SECONDS" (per API process).
    rate_signup: str = Field(default="50/3600", pattern=r"^\d+/\d+(\.\d+)?$")
    rate_sign_in: str = Field(default="60/60", pattern=r"^\d+/\d+(\.\d+)?$")
    rate_api_key: str = Field(default="60/3600", pattern=r"^\d+/\d+(\.\d+)?$")

    worker_lease_seconds: float = 60.0
    worker_poll_seconds: float = 0.5
    embedded_workers: int = Field(default=2, ge=1, le=32)
    """Evaluation workers in ``bounty demo``'s process: evaluations run in sandbox children, so
    two keep two cores busy while decisions take turns on one shared round cache."""
    sandbox_cpu_seconds: int = 60
    sandbox_wall_seconds: float = 120.0
    sandbox_memory_mb: int = 4096
    # Refuse to evaluate where the sandbox cannot take the child off the network.
    sandbox_require_no_network: bool = False
    # Refuse to evaluate where the kernel cannot confine the child to its own files (Landlock).
    sandbox_require_file_isolation: bool = False
    sandbox_warm_up: bool = True
    """Start the evaluation fork server with the API (seconds of CPU: it imports the engine and
    runs a small evaluation), so the first upload does not wait for it; off, the first upload or
    evaluation starts it (for an API process that may never be sent one)."""

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key.get_secret_value() == DEVELOPMENT_SECRET
            or len(self.secret_key.get_secret_value()) < 32
        ):
            raise ValueError(
                "BOUNTY_SECRET_KEY must be set to a random string of at least 32 characters "
                "in production (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
