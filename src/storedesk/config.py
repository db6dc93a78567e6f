"""One settings object, read from ``STOREDESK_*`` environment variables (see docs/configuration.md)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOREDESK_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path(".storedesk-data"), description="SQLite file, attachments, models")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    secret_key: str | None = Field(
        default=None,
        description="Comma-separated secrets; the first encrypts, all decrypt (rotation). "
        "Default: generated once into data_dir/secret.key",
    )
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    smtp_port: int = 2525
    smtp_host: str = "127.0.0.1"
    jobs_mode: str = Field(
        default="embedded", description="embedded: in-process runner; external: storedesk worker"
    )
    jobs_keep_done_days: int = Field(
        default=7, ge=0, description="finished jobs older than this are deleted hourly; 0 keeps them"
    )
    session_ttl_hours: int = 12
    max_body_bytes: int = 1_048_576
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    log_level: str = "info"
    access_log: bool = Field(
        default=False, description="one log line per HTTP request from uvicorn (costs CPU on every request)"
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0 — rate limits counted once for every API process (default: per process)",
    )
    assistant_llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (ending in /v1) the assistant may use to rephrase answers and "
        "summarise hand-overs; unset = off",
    )
    assistant_llm_model: str = Field(default="", description="model name sent to that endpoint")
    assistant_llm_api_key: str | None = Field(default=None, description="sent as 'Authorization: Bearer'")
    assistant_llm_timeout_seconds: float = Field(
        default=4.0, gt=0, le=60, description="per request; on timeout the assistant uses its own text"
    )
    assistant_llm_uses: str = Field(
        default="rephrase,summary",
        description="comma-separated: rephrase (customer replies), summary (the hand-over note)",
    )

    @field_validator("assistant_llm_uses")
    @classmethod
    def _known_uses(cls, value: str) -> str:
        uses = [u.strip().lower() for u in value.split(",") if u.strip()]
        unknown = sorted(set(uses) - {"rephrase", "summary"})
        if unknown:
            raise ValueError(f"unknown assistant_llm_uses {unknown}; known: rephrase, summary")
        return ",".join(uses)

    @property
    def assistant_llm_use_list(self) -> list[str]:
        return [u for u in self.assistant_llm_uses.split(",") if u]

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'storedesk.db').resolve()}"

    @property
    def secret_keys(self) -> list[str]:
        if self.secret_key:
            return [k.strip() for k in self.secret_key.split(",") if k.strip()]
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return [path.read_text().strip()]


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite:///`` URLs and pick the async drivers we ship."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
