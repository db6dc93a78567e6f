"""Agents, teams, sign-in and tokens. Each function is the single write path for its change."""

from __future__ import annotations

import secrets
import time
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.models import (
    UI_LANGUAGES,
    Agent,
    AuthToken,
    Notification,
    Role,
    Team,
    TeamMember,
    TokenKind,
)
from storedesk.agents.repository import AgentRepository, TeamRepository
from storedesk.agents.security import MIN_PASSWORD_LENGTH, AuthContext, hash_password, verify_password
from storedesk.db.session import after_commit
from storedesk.events.service import record
from storedesk.kit.actor import Actor
from storedesk.kit.crypto import new_token, token_digest
from storedesk.kit.errors import Conflict, TooManyRequests, Unauthenticated, ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters",
            details={"field": "password"},
            reason="password_too_short",
            params={"min": MIN_PASSWORD_LENGTH},
        )


MAX_NAME = 200


def clean_name(name: str) -> str:
    """An agent's name trimmed; refused when nothing visible is left (spaces, tabs, no-break spaces and
    invisible format characters such as the zero-width space are not a name)."""
    cleaned = name.strip()
    visible = [c for c in cleaned if not c.isspace() and unicodedata.category(c) != "Cf"]
    if not visible or len(cleaned) > MAX_NAME:
        raise ValidationFailed(
            f"a name needs 1–{MAX_NAME} characters, not only spaces",
            details={"field": "name"},
            reason="agent_name_blank",
            params={"max": MAX_NAME},
        )
    return cleaned


async def create_agent(
    session: AsyncSession,
    *,
    shop_id: int,
    email: str,
    name: str,
    role: Role,
    password: str | None,
    languages: list[str] | None = None,
    actor: Actor,
) -> Agent:
    name = clean_name(name)
    if password is not None:
        _check_password(password)
    repo = AgentRepository(session, shop_id)
    if await repo.by_email(email) is not None:
        raise Conflict(
            f"an agent with email {email} already exists",
            details={"field": "email"},
            reason="agent_email_taken",
            params={"email": email},
        )
    agent = Agent(
        shop_id=shop_id,
        email=email.lower(),
        name=name,
        role=role,
        password_hash=hash_password(password) if password else None,
        languages=languages or [],
    )
    session.add(agent)
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="agent.created",
        actor=actor,
        data={"agent_id": agent.id, "email": agent.email, "role": role.value},
    )
    return agent


async def update_agent(
    session: AsyncSession,
    ctx: AuthContext,
    agent_id: int,
    *,
    name: str | None = None,
    role: Role | None = None,
    languages: list[str] | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> Agent:
    agent = await AgentRepository(session, ctx.shop_id).get_or_404(agent_id)
    before = {"role": agent.role, "is_active": agent.is_active}
    if agent.id == ctx.agent_id and (role not in (None, Role.admin) or is_active is False):
        raise ValidationFailed(
            "you cannot demote or deactivate yourself", details={"field": "role"}, reason="self_demotion"
        )
    if name is not None:
        agent.name = clean_name(name)
    if role is not None:
        agent.role = role
        clear_auth_cache(session)
    if languages is not None:
        agent.languages = languages
    if is_active is not None:
        agent.is_active = is_active
        if not is_active:
            await revoke_all_tokens(session, agent.id)
    if password is not None:
        _check_password(password)
        agent.password_hash = hash_password(password)
    await record(
        session,
        shop_id=ctx.shop_id,
        type="agent.updated",
        actor=ctx.actor,
        data={
            "agent_id": agent.id,
            "before": {k: str(v) for k, v in before.items()},
            "after": {"role": str(agent.role), "is_active": str(agent.is_active)},
        },
    )
    return agent


_UNSET: Any = object()


async def update_profile(
    session: AsyncSession, ctx: AuthContext, *, name: str | None = None, ui_language: Any = _UNSET
) -> Agent:
    """The signed-in agent changes their own profile (any role): name, and the workspace's language
    (one of ``UI_LANGUAGES``; ``None``: follow the browser)."""
    agent = await AgentRepository(session, ctx.shop_id).get_or_404(ctx.agent_id)
    changed: dict[str, Any] = {}
    if name is not None and (cleaned := clean_name(name)) != agent.name:
        agent.name = changed["name"] = cleaned
    if ui_language is not _UNSET and ui_language != agent.ui_language:
        if ui_language is not None and ui_language not in UI_LANGUAGES:
            raise ValidationFailed(
                f"ui_language must be one of {', '.join(UI_LANGUAGES)}",
                details={"field": "ui_language"},
                reason="ui_language_unknown",
            )
        agent.ui_language = changed["ui_language"] = ui_language
    if changed:
        await record(
            session,
            shop_id=ctx.shop_id,
            type="agent.profile_updated",
            actor=ctx.actor,
            data={"agent_id": agent.id, "after": changed},
        )
    return agent


async def revoke_all_tokens(session: AsyncSession, agent_id: int) -> None:
    clear_auth_cache(session)
    await session.execute(
        update(AuthToken)
        .where(AuthToken.agent_id == agent_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def _issue_token(
    session: AsyncSession, agent: Agent, kind: TokenKind, *, name: str | None, ttl: timedelta | None
) -> tuple[AuthToken, str]:
    secret = new_token("sd" if kind == TokenKind.api else "sds")
    token = AuthToken(
        shop_id=agent.shop_id,
        agent_id=agent.id,
        kind=kind,
        name=name,
        digest=token_digest(secret),
        csrf_token=secrets.token_urlsafe(24) if kind == TokenKind.session else None,
        expires_at=utcnow() + ttl if ttl else None,
    )
    session.add(token)
    await session.flush()
    return token, secret


async def login(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    shop_slug: str | None,
    session_ttl: timedelta,
    max_failures: int,
    lockout: timedelta,
) -> tuple[Agent, AuthToken, str]:
    """Check the password, apply the lockout, and open a session. Errors never say which part was wrong."""
    stmt = select(Agent).join(Shop, Shop.id == Agent.shop_id).where(func.lower(Agent.email) == email.lower())
    if shop_slug:
        stmt = stmt.where(Shop.slug == shop_slug)
    candidates = (await session.execute(stmt)).scalars().all()
    if len(candidates) > 1:
        raise ValidationFailed(
            "this email belongs to agents of several shops; say which shop",
            details={"field": "shop"},
            reason="email_in_several_shops",
        )
    agent = candidates[0] if candidates else None
    now = utcnow()
    if agent is not None and agent.locked_until is not None and agent.locked_until > now:
        raise TooManyRequests(
            "too many failed sign-ins; try again later",
            details={"retry_after": int((agent.locked_until - now).total_seconds()) + 1},
        )
    ok = verify_password(password, agent.password_hash if agent else None)
    if agent is None or not ok or not agent.is_active:
        if agent is not None and not ok:
            agent.failed_logins += 1
            if agent.failed_logins >= max_failures:
                agent.locked_until = now + lockout
                agent.failed_logins = 0
                await record(
                    session,
                    shop_id=agent.shop_id,
                    type="agent.locked_out",
                    actor=Actor("system"),
                    data={"agent_id": agent.id},
                )
        # the failure counter must survive the error response
        session.info["commit_on_error"] = True
        raise Unauthenticated("email or password is wrong")
    agent.failed_logins = 0
    agent.locked_until = None
    agent.last_login_at = now
    token, secret = await _issue_token(session, agent, TokenKind.session, name="login", ttl=session_ttl)
    return agent, token, secret


async def create_api_token(
    session: AsyncSession, *, agent: Agent, name: str, ttl: timedelta | None = None
) -> tuple[AuthToken, str]:
    token, secret = await _issue_token(session, agent, TokenKind.api, name=name, ttl=ttl)
    await record(
        session,
        shop_id=agent.shop_id,
        type="token.created",
        actor=Actor("agent", agent.id),
        data={"token_id": token.id, "name": name},
    )
    return token, secret


# Sessions and tokens are looked up on every request; a short in-process cache saves the query.
# Any change to a token or an agent in this process clears it at once (and again after commit);
# another process sees a revocation within AUTH_CACHE_SECONDS.
AUTH_CACHE_SECONDS = 5.0
_auth_cache: dict[str, tuple[float, AuthContext, datetime | None]] = {}


def clear_auth_cache(session: AsyncSession | None = None) -> None:
    _auth_cache.clear()
    if session is not None:
        after_commit(session, _auth_cache.clear)


async def authenticate_token(session: AsyncSession, secret: str) -> AuthContext:
    digest = token_digest(secret)
    now = utcnow()
    cached = _auth_cache.get(digest)
    if cached is not None:
        cached_at, ctx, expires_at = cached
        if time.monotonic() - cached_at < AUTH_CACHE_SECONDS and (expires_at is None or expires_at > now):
            return ctx
        _auth_cache.pop(digest, None)
    row = (
        await session.execute(
            select(AuthToken, Agent)
            .join(Agent, Agent.id == AuthToken.agent_id)
            .where(AuthToken.digest == digest)
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated("the token is not valid")
    token, agent = row
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        raise Unauthenticated("the token has expired or was revoked")
    if not agent.is_active:
        raise Unauthenticated("this agent is deactivated")
    ctx = AuthContext(
        shop_id=token.shop_id,
        agent_id=agent.id,
        role=Role(agent.role),
        token_kind=TokenKind(token.kind),
        token_id=token.id,
        csrf_token=token.csrf_token,
    )
    if len(_auth_cache) > 10_000:
        _auth_cache.clear()
    _auth_cache[digest] = (time.monotonic(), ctx, token.expires_at)
    return ctx


async def revoke_token(session: AsyncSession, ctx: AuthContext, token_id: int) -> None:
    stmt = select(AuthToken).where(AuthToken.id == token_id, AuthToken.shop_id == ctx.shop_id)
    token = (await session.execute(stmt)).scalar_one_or_none()
    from storedesk.kit.errors import NotFound

    if token is None or (token.agent_id != ctx.agent_id and ctx.role != Role.admin):
        raise NotFound("token", token_id)
    token.revoked_at = utcnow()
    clear_auth_cache(session)


async def create_team(session: AsyncSession, ctx: AuthContext, *, name: str, description: str | None) -> Team:
    team = Team(shop_id=ctx.shop_id, name=name, description=description)
    session.add(team)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"a team named {name!r} already exists",
            details={"field": "name"},
            reason="team_name_taken",
            params={"name": name},
        ) from exc
    await record(
        session, shop_id=ctx.shop_id, type="team.created", actor=ctx.actor, data={"team_id": team.id}
    )
    return team


async def set_team_members(
    session: AsyncSession, ctx: AuthContext, team_id: int, agent_ids: list[int]
) -> Team:
    team = await TeamRepository(session, ctx.shop_id).get_or_404(team_id)
    agents = AgentRepository(session, ctx.shop_id)
    for agent_id in agent_ids:
        await agents.get_or_404(agent_id)
    existing: set[int] = set(await TeamRepository(session, ctx.shop_id).member_ids(team_id))
    wanted = set(agent_ids)
    for agent_id in wanted - existing:
        session.add(TeamMember(team_id=team.id, agent_id=agent_id, shop_id=ctx.shop_id))
    for agent_id in existing - wanted:
        member = await session.get(TeamMember, (team.id, agent_id))
        if member is not None:
            await session.delete(member)
    await record(
        session,
        shop_id=ctx.shop_id,
        type="team.members_changed",
        actor=ctx.actor,
        data={"team_id": team.id, "added": sorted(wanted - existing), "removed": sorted(existing - wanted)},
    )
    return team


# --- password reset by email (the agent workspace) ------------------------------------------------------
# A reset token is ``<agent id>.<expiry>.<HMAC>``; the HMAC covers the current password hash, so a token
# stops working once it has been used (or the password changed some other way). Nothing is stored.

PASSWORD_RESET_TTL = timedelta(hours=1)


def _reset_signature(agent: Agent, expires: int, secret: str) -> str:
    import hashlib
    import hmac

    message = f"{agent.id}.{agent.shop_id}.{expires}.{agent.password_hash or ''}.{agent.email}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def password_reset_token(agent: Agent, secret: str) -> str:
    expires = int((utcnow() + PASSWORD_RESET_TTL).timestamp())
    return f"{agent.id}.{expires}.{_reset_signature(agent, expires, secret)}"


async def agents_for_password_reset(session: AsyncSession, *, email: str) -> list[Agent]:
    """Active agents (of any shop) signing in with ``email``: each gets their own reset link."""
    stmt = select(Agent).where(func.lower(Agent.email) == email.strip().lower(), Agent.is_active.is_(True))
    return list((await session.execute(stmt.order_by(Agent.id))).scalars())


async def reset_password(session: AsyncSession, *, token: str, password: str, secrets_: list[str]) -> Agent:
    """Set a new password with a reset token; ends every session of the agent and lifts a lockout."""
    from storedesk.kit.crypto import constant_time_equals

    invalid = ValidationFailed("the reset link is invalid or has expired", details={"field": "token"})
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise invalid
    agent = await session.get(Agent, int(parts[0]))
    expires = int(parts[1])
    if agent is None or not agent.is_active or expires < int(utcnow().timestamp()):
        raise invalid
    if not any(constant_time_equals(_reset_signature(agent, expires, s), parts[2]) for s in secrets_):
        raise invalid
    _check_password(password)
    agent.password_hash = hash_password(password)
    agent.failed_logins = 0
    agent.locked_until = None
    await revoke_all_tokens(session, agent.id)
    await record(
        session,
        shop_id=agent.shop_id,
        type="agent.password_reset",
        actor=Actor("agent", agent.id),
        data={"agent_id": agent.id},
    )
    return agent


async def end_session(session: AsyncSession, ctx: AuthContext) -> None:
    """Sign out: revoke the session token the request came with."""
    token = await session.get(AuthToken, ctx.token_id)
    if token is not None and token.kind == TokenKind.session and token.revoked_at is None:
        token.revoked_at = utcnow()
        clear_auth_cache(session)
        clear_auth_cache(session)


async def notify(
    session: AsyncSession,
    *,
    shop_id: int,
    agent_id: int,
    kind: str,
    text: str,
    conversation_id: int | None = None,
) -> Notification:
    """An in-app notification (bell); pushed to the agent's open browsers after commit."""
    from storedesk.realtime import publish_after_commit

    notification = Notification(
        shop_id=shop_id, agent_id=agent_id, kind=kind, text=text[:500], conversation_id=conversation_id
    )
    session.add(notification)
    publish_after_commit(
        session,
        shop_id,
        {
            "type": "notification.created",
            "agent_id": agent_id,
            "conversation_id": conversation_id,
            "customer_id": None,
        },
    )
    return notification


async def mark_notifications_read(
    session: AsyncSession, ctx: AuthContext, notification_ids: list[int] | None = None
) -> int:
    """Mark the agent's own notifications read (all unread ones when no ids are given)."""
    stmt = (
        update(Notification)
        .where(Notification.shop_id == ctx.shop_id, Notification.agent_id == ctx.agent_id)
        .where(Notification.read_at.is_(None))
    )
    if notification_ids is not None:
        stmt = stmt.where(Notification.id.in_(notification_ids))
    result = await session.execute(stmt.values(read_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
