"""Agents, teams, sign-in and tokens. Each function is the single write path for its change."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.models import Agent, AuthToken, Role, Team, TeamMember, TokenKind
from storedesk.agents.repository import AgentRepository, TeamRepository
from storedesk.agents.security import MIN_PASSWORD_LENGTH, AuthContext, hash_password, verify_password
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
        )


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
    if password is not None:
        _check_password(password)
    repo = AgentRepository(session, shop_id)
    if await repo.by_email(email) is not None:
        raise Conflict(f"an agent with email {email} already exists", details={"field": "email"})
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
        raise ValidationFailed("you cannot demote or deactivate yourself", details={"field": "role"})
    if name is not None:
        agent.name = name
    if role is not None:
        agent.role = role
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


async def revoke_all_tokens(session: AsyncSession, agent_id: int) -> None:
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
            "this email belongs to agents of several shops; say which shop", details={"field": "shop"}
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


async def authenticate_token(session: AsyncSession, secret: str) -> AuthContext:
    row = (
        await session.execute(
            select(AuthToken, Agent)
            .join(Agent, Agent.id == AuthToken.agent_id)
            .where(AuthToken.digest == token_digest(secret))
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated("the token is not valid")
    token, agent = row
    now = utcnow()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        raise Unauthenticated("the token has expired or was revoked")
    if not agent.is_active:
        raise Unauthenticated("this agent is deactivated")
    return AuthContext(
        shop_id=token.shop_id,
        agent_id=agent.id,
        role=Role(agent.role),
        token_kind=TokenKind(token.kind),
        token_id=token.id,
        csrf_token=token.csrf_token,
    )


async def revoke_token(session: AsyncSession, ctx: AuthContext, token_id: int) -> None:
    stmt = select(AuthToken).where(AuthToken.id == token_id, AuthToken.shop_id == ctx.shop_id)
    token = (await session.execute(stmt)).scalar_one_or_none()
    from storedesk.kit.errors import NotFound

    if token is None or (token.agent_id != ctx.agent_id and ctx.role != Role.admin):
        raise NotFound("token", token_id)
    token.revoked_at = utcnow()


async def create_team(session: AsyncSession, ctx: AuthContext, *, name: str, description: str | None) -> Team:
    team = Team(shop_id=ctx.shop_id, name=name, description=description)
    session.add(team)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a team named {name!r} already exists", details={"field": "name"}) from exc
    await record(session, shop_id=ctx.shop_id, type="team.created", actor=ctx.actor, data={"team_id": team.id})
    return team


async def set_team_members(session: AsyncSession, ctx: AuthContext, team_id: int, agent_ids: list[int]) -> Team:
    team = await TeamRepository(session, ctx.shop_id).get_or_404(team_id)
    agents = AgentRepository(session, ctx.shop_id)
    for agent_id in agent_ids:
        await agents.get_or_404(agent_id)
    existing = set(await TeamRepository(session, ctx.shop_id).member_ids(team_id))
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
