"""Settings: environment variables with the prefix LIANLUO_, and an optional `.env` file."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("lianluo", appauthor=False))


def _default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'lianluo.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LIANLUO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(default_factory=_default_database_url)
    database_pool_size: int = Field(default=10, ge=1, le=200)
    secret_key: str = ""
    token_ttl_s: int = Field(default=8 * 3600, ge=60, le=30 * 24 * 3600)
    cookie_secure: bool = False
    login_max_failures: int = Field(default=5, ge=1)
    login_window_s: int = Field(default=300, ge=1)
    redis_url: str | None = None
    nats_url: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # e-mail of saved reports (reports/scheduler.py); no host: saved reports are not sent
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "lianluo@localhost"
    smtp_starttls: bool = True
    smtp_timeout_s: float = Field(default=30.0, gt=0, le=600)
    reports_scheduler_interval_s: float = Field(default=60.0, ge=1)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value.startswith("sqlite://") or value.startswith("postgresql+psycopg://"):
            return value
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            raise ValueError("use the psycopg 3 driver: write postgresql+psycopg://user@host/db")
        raise ValueError("must start with sqlite:// or postgresql+psycopg://")

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("nats://", "tls://")):
            raise ValueError("must start with nats:// or tls://")
        return value or None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def effective_secret_key(self) -> str:
        """The configured key, or one kept in the data directory so tokens survive restarts."""
        if self.secret_key:
            return self.secret_key
        path = default_data_dir() / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


class ConfigurationError(Exception):
    """A setting is wrong; the message names it (LIANLUO_…)."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"LIANLUO_{field.upper()}: {message}")
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None


settings = None  # type: ignore[assignment]


def get_settings() -> Settings:
    global settings
    if settings is None:
        settings = load_settings()
    return settings


def reset_settings(new: Settings | None = None) -> Settings:
    """Replace the process-wide settings (CLI options and tests)."""
    global settings
    settings = new if new is not None else load_settings()
    return settings
