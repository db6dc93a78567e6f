from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storedesk.db.base import Base, BigId, IdMixin, TimestampMixin, shop_fk
from storedesk.kit.time import utcnow


class Role(StrEnum):
    admin = "admin"
    agent = "agent"
    viewer = "viewer"


# the languages the agent workspace has catalogues for (storedesk/web/i18n); the profile offers these
UI_LANGUAGES: tuple[str, ...] = ("en", "de")


class Agent(IdMixin, TimestampMixin, Base):
    """A person who works the inbox (a user). Belongs to exactly one shop."""

    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("shop_id", "email"),)

    shop_id: Mapped[int] = shop_fk()
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(String(16), default=Role.agent)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the workspace's language after sign-in (one of UI_LANGUAGES); NULL: the browser's (cookie, Accept-Language)
    ui_language: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("shop_id", "name"),)

    shop_id: Mapped[int] = shop_fk()
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[int] = shop_fk()


class TokenKind(StrEnum):
    session = "session"
    api = "api"


class AuthToken(IdMixin, TimestampMixin, Base):
    """UI sessions and API tokens. Only a SHA-256 digest of the secret is stored."""

    __tablename__ = "auth_tokens"
    __table_args__ = (Index("ix_auth_tokens_agent", "agent_id", "kind"),)

    shop_id: Mapped[int] = shop_fk()
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id", ondelete="CASCADE"))
    kind: Mapped[TokenKind] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Notification(IdMixin, Base):
    """In-app notification for an agent (assignment, mention, SLA breach); emailed too when configured."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_agent_unread", "agent_id", "read_at", "id"),)

    shop_id: Mapped[int] = shop_fk()
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None]
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
