"""Request-boundary dependencies: the transaction, the authenticated agent, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.models import Role, TokenKind
from storedesk.agents.security import AuthContext
from storedesk.agents.service import authenticate_token
from storedesk.db.session import Database, commit
from storedesk.kit.crypto import SecretBox, constant_time_equals
from storedesk.kit.errors import Forbidden, Unauthenticated

SESSION_COOKIE = "storedesk_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.box
    return box


@asynccontextmanager
async def request_transaction(db: Database) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit when the endpoint returns, roll back when it raises
    (also the lean transport's, ``storedesk.api.hotroutes``)."""
    async with db.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            if session.info.pop("commit_on_error", False):
                await commit(session)
            else:
                await session.rollback()
            raise
        else:
            await commit(session)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request_transaction(get_db(request)) as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_auth(request: Request, session: Session) -> AuthContext:
    header = request.headers.get("authorization", "")
    if header:
        return await bearer_auth(session, header)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthenticated("sign in or send an API token")
    ctx = await authenticate_token(session, cookie)
    if ctx.token_kind != TokenKind.session:
        raise Unauthenticated("API tokens go in the Authorization header")
    if request.method not in SAFE_METHODS:
        check_csrf(request, ctx)
    return ctx


async def bearer_auth(session: AsyncSession, header: str) -> AuthContext:
    """The agent an ``Authorization`` header names (API tokens; cached per process)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("use 'Authorization: Bearer <token>'")
    return await authenticate_token(session, token.strip())


def check_csrf(request: Request, ctx: AuthContext) -> None:
    """Cookie-authenticated writes need the session's CSRF token and a same-origin Origin header."""
    sent = request.headers.get(CSRF_HEADER) or ""
    if not ctx.csrf_token or not constant_time_equals(sent, ctx.csrf_token):
        raise Forbidden("missing or wrong CSRF token", details={"header": "X-CSRF-Token"})
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise Forbidden("cross-origin request refused", details={"origin": origin})


Auth = Annotated[AuthContext, Depends(get_auth)]


def _role(role: Role):  # type: ignore[no-untyped-def]
    async def check(ctx: Auth) -> AuthContext:
        ctx.require(role)
        return ctx

    return check


AgentAuth = Annotated[AuthContext, Depends(_role(Role.agent))]
AdminAuth = Annotated[AuthContext, Depends(_role(Role.admin))]

Box = Annotated[SecretBox, Depends(get_box)]
