from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from storedesk.agents import service
from storedesk.agents.models import AuthToken, TokenKind
from storedesk.agents.repository import AgentRepository, TeamRepository
from storedesk.agents.schemas import (
    AgentCreate,
    AgentOut,
    AgentUpdate,
    LoginIn,
    LoginOut,
    ProfileUpdate,
    TeamCreate,
    TeamMembersIn,
    TeamOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
)
from storedesk.api.deps import SESSION_COOKIE, AdminAuth, Auth, Session
from storedesk.api.params import IdPath
from storedesk.config import Settings
from storedesk.shops.models import Shop

auth_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(tags=["agents"])


@auth_router.post("/login", response_model=LoginOut, summary="Sign in with email and password")
async def login(body: LoginIn, request: Request, response: Response, session: Session) -> LoginOut:
    settings: Settings = request.app.state.settings
    agent, token, secret = await service.login(
        session,
        email=body.email,
        password=body.password,
        shop_slug=body.shop,
        session_ttl=timedelta(hours=settings.session_ttl_hours),
        max_failures=settings.login_max_failures,
        lockout=timedelta(minutes=settings.login_lockout_minutes),
    )
    slug = (await session.execute(select(Shop.slug).where(Shop.id == agent.shop_id))).scalar_one()
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
        path="/",
    )
    return LoginOut(
        token=secret,
        csrf_token=token.csrf_token,
        expires_at=token.expires_at,
        agent=AgentOut.model_validate(agent),
        shop=slug,
    )


@auth_router.post("/logout", status_code=204, summary="End this session or revoke this token")
async def logout(ctx: Auth, response: Response, session: Session) -> Response:
    await service.end_session(session, ctx)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", response_model=AgentOut, summary="The signed-in agent")
async def me(ctx: Auth, session: Session) -> AgentOut:
    return AgentOut.model_validate(await AgentRepository(session, ctx.shop_id).get_or_404(ctx.agent_id))


@router.patch("/me", response_model=AgentOut, summary="Change your own profile (name, UI language)")
async def update_me(body: ProfileUpdate, ctx: Auth, session: Session) -> AgentOut:
    agent = await service.update_profile(session, ctx, **body.model_dump(exclude_unset=True))
    return AgentOut.model_validate(agent)


@router.get("/agents", response_model=list[AgentOut], summary="Agents of the shop")
async def list_agents(ctx: Auth, session: Session) -> list[AgentOut]:
    return [AgentOut.model_validate(a) for a in await AgentRepository(session, ctx.shop_id).list()]


@router.post("/agents", response_model=AgentOut, status_code=201, summary="Invite an agent (admin)")
async def create_agent(body: AgentCreate, ctx: AdminAuth, session: Session) -> AgentOut:
    agent = await service.create_agent(
        session,
        shop_id=ctx.shop_id,
        email=str(body.email),
        name=body.name,
        role=body.role,
        password=body.password,
        languages=body.languages,
        actor=ctx.actor,
    )
    return AgentOut.model_validate(agent)


@router.get("/agents/{agent_id}", response_model=AgentOut)
async def get_agent(agent_id: IdPath, ctx: Auth, session: Session) -> AgentOut:
    return AgentOut.model_validate(await AgentRepository(session, ctx.shop_id).get_or_404(agent_id))


@router.patch("/agents/{agent_id}", response_model=AgentOut, summary="Change an agent (admin)")
async def update_agent(agent_id: IdPath, body: AgentUpdate, ctx: AdminAuth, session: Session) -> AgentOut:
    agent = await service.update_agent(session, ctx, agent_id, **body.model_dump(exclude_unset=True))
    return AgentOut.model_validate(agent)


@router.get("/tokens", response_model=list[TokenOut], summary="Your API tokens")
async def list_tokens(ctx: Auth, session: Session) -> list[TokenOut]:
    stmt = (
        select(AuthToken)
        .where(AuthToken.shop_id == ctx.shop_id, AuthToken.agent_id == ctx.agent_id)
        .where(AuthToken.kind == TokenKind.api)
        .order_by(AuthToken.id)
    )
    return [TokenOut.model_validate(t) for t in (await session.execute(stmt)).scalars()]


@router.post(
    "/tokens", response_model=TokenCreated, status_code=201, summary="Create an API token for yourself"
)
async def create_token(body: TokenCreate, ctx: Auth, session: Session) -> TokenCreated:
    agent = await AgentRepository(session, ctx.shop_id).get_or_404(ctx.agent_id)
    ttl = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, secret = await service.create_api_token(session, agent=agent, name=body.name, ttl=ttl)
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
async def revoke_token(token_id: IdPath, ctx: Auth, session: Session) -> Response:
    await service.revoke_token(session, ctx, token_id)
    return Response(status_code=204)


async def _team_out(repo: TeamRepository, team_id: int) -> TeamOut:
    team = await repo.get_or_404(team_id)
    out = TeamOut.model_validate(team)
    out.member_ids = await repo.member_ids(team.id)
    return out


@router.get("/teams", response_model=list[TeamOut])
async def list_teams(ctx: Auth, session: Session) -> list[TeamOut]:
    repo = TeamRepository(session, ctx.shop_id)
    return [await _team_out(repo, t.id) for t in await repo.list()]


@router.post("/teams", response_model=TeamOut, status_code=201, summary="Create a team (admin)")
async def create_team(body: TeamCreate, ctx: AdminAuth, session: Session) -> TeamOut:
    team = await service.create_team(session, ctx, name=body.name, description=body.description)
    return await _team_out(TeamRepository(session, ctx.shop_id), team.id)


@router.get("/teams/{team_id}", response_model=TeamOut)
async def get_team(team_id: IdPath, ctx: Auth, session: Session) -> TeamOut:
    return await _team_out(TeamRepository(session, ctx.shop_id), team_id)


@router.put("/teams/{team_id}/members", response_model=TeamOut, summary="Set a team's members (admin)")
async def set_members(team_id: IdPath, body: TeamMembersIn, ctx: AdminAuth, session: Session) -> TeamOut:
    await service.set_team_members(session, ctx, team_id, body.agent_ids)
    await session.flush()
    return await _team_out(TeamRepository(session, ctx.shop_id), team_id)
