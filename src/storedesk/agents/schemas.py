from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from storedesk.agents.models import Role
from storedesk.kit.schemas import Email, In, Out


class AgentOut(Out):
    id: int
    email: str
    name: str
    role: Role
    languages: list[str]
    ui_language: str | None = Field(description="the agent workspace's language; null: the browser's")
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime


class AgentCreate(In):
    email: Email
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.agent
    password: str = Field(min_length=10, max_length=200)
    languages: list[str] = Field(default_factory=list, max_length=30)


class AgentUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    languages: list[str] | None = Field(default=None, max_length=30)
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200)


class ProfileUpdate(In):
    """What an agent changes of their own profile (``PATCH /api/v1/me``)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    ui_language: Literal["en", "de"] | None = Field(
        default=None, description="the agent workspace's language; null: follow the browser"
    )


class LoginIn(In):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=200)
    shop: str | None = Field(default=None, max_length=64)


class LoginOut(Out):
    token: str
    csrf_token: str | None
    expires_at: datetime | None
    agent: AgentOut
    shop: str


class TokenCreate(In):
    name: str = Field(min_length=1, max_length=200)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(Out):
    id: int
    name: str | None
    kind: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str


class TeamOut(Out):
    id: int
    name: str
    description: str | None
    member_ids: list[int] = Field(default_factory=list)


class TeamCreate(In):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)


class TeamMembersIn(In):
    agent_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(max_length=500)
