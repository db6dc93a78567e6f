"""The lean transport for the hot routes (ADR 0008).

An ASGI layer in front of FastAPI's router that answers the few requests that dominate the load without
FastAPI's routing and dependency machinery (route matching over ~240 routes, dependency resolution,
body-field handling): an agent's reply through the API and the signed provider webhooks. It calls the
SAME endpoint functions with the same arguments, the same transaction boundary
(:func:`storedesk.api.deps.request_transaction`), the same auth (:func:`~storedesk.api.deps.bearer_auth`,
cached per process) and role check, the same schema models and the same error responses
(:mod:`storedesk.api.errors`), so the answers are byte for byte those of the FastAPI routes, which stay
declared (OpenAPI, and the fallback).

Anything unusual falls through to FastAPI unchanged (with the body already read handed on): a cookie
instead of a bearer token, a body that is not ``application/json`` or does not parse or validate, an
id outside the positive 64-bit range, a ``root_path``. The body-size limit (``BodySizeLimit``) and the
500 handler sit outside this layer and apply to both paths.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storedesk.agents.models import Role
from storedesk.api.deps import bearer_auth, request_transaction
from storedesk.api.errors import domain_error_response, http_error_response, integrity_error_response
from storedesk.conversations import endpoints as conversation_endpoints
from storedesk.conversations.schemas import MessageCreate, MessageOut
from storedesk.kit.errors import StoredeskError
from storedesk.kit.schemas import MAX_ID

# POST /api/v1/conversations/{id}/messages with a canonical positive id (anything else: FastAPI)
MESSAGES = re.compile(r"/api/v1/conversations/([1-9][0-9]{0,18})/messages")
TWILIO = re.compile(r"/webhooks/twilio/([1-9][0-9]{0,17})/(sms|status|voice|voice/status|voice/recording)")

_MESSAGE_IN: TypeAdapter[MessageCreate] = TypeAdapter(MessageCreate)
_MESSAGE_OUT: TypeAdapter[MessageOut] = TypeAdapter(MessageOut)


@dataclass
class HotRouteStats:
    """What the layer did in this app (tests assert which path answered)."""

    served: int = 0
    passed_on: int = 0


class _PassOn(Exception):
    """The request is not for the lean path after all: FastAPI answers it."""


class HotRoutes:
    def __init__(self, app: ASGIApp, stats: HotRouteStats | None = None) -> None:
        # imported here: the channel packages import the API's dependencies (import cycle at module level)
        from storedesk.channels.meta import endpoints as meta
        from storedesk.channels.twilio import endpoints as twilio

        self.app = app
        self.stats = stats or HotRouteStats()
        self.meta_paths = frozenset(meta.PATHS)
        self.meta_receive = meta.receive
        self.twilio: dict[str, Callable[[int, Request], Awaitable[Response]]] = {
            "sms": twilio.inbound_sms,
            "status": twilio.message_status,
            "voice": twilio.incoming_call,
            "voice/status": twilio.call_status,
            "voice/recording": twilio.recording,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            path: str = scope["path"]
            if path.startswith("/api/v1/conversations/"):
                match = MESSAGES.fullmatch(path)
                if match is not None and int(match[1]) <= MAX_ID:
                    await self._add_message(scope, receive, send, int(match[1]))
                    return
            elif path in self.meta_paths:
                self.stats.served += 1
                await self._webhook(scope, receive, send, self.meta_receive(Request(scope, receive)))
                return
            elif path.startswith("/webhooks/twilio/"):
                match = TWILIO.fullmatch(path)
                if match is not None:
                    self.stats.served += 1
                    endpoint = self.twilio[match[2]]
                    await self._webhook(
                        scope, receive, send, endpoint(int(match[1]), Request(scope, receive))
                    )
                    return
        await self.app(scope, receive, send)

    async def _webhook(self, scope: Scope, receive: Receive, send: Send, answer: Awaitable[Response]) -> None:
        """A provider webhook: the endpoint function itself (raw body, signature, one durable write)."""
        try:
            response = await answer
        except StoredeskError as exc:
            response = domain_error_response(exc)
        except IntegrityError as exc:
            response = integrity_error_response(exc)
        except StarletteHTTPException as exc:
            response = http_error_response(exc)
        await response(scope, receive, send)

    async def _add_message(self, scope: Scope, receive: Receive, send: Send, conversation_id: int) -> None:
        """``conversations.endpoints.add_message`` with the route's dependencies done by hand."""
        authorization = content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
        if not authorization or content_type is None or not _is_json(content_type):
            await self.app(scope, receive, send)  # cookie sessions (CSRF), forms, …: the full stack
            return
        chunks: list[bytes] = []
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except (
            StarletteHTTPException
        ) as exc:  # a chunked body over the limit (BodySizeLimit), as FastAPI says
            await http_error_response(exc)(scope, receive, send)
            return
        body = b"".join(chunks)
        response: Response
        try:
            data = orjson.loads(body)  # not JSON (or not what json.loads reads alike): FastAPI answers
            async with request_transaction(scope["app"].state.db) as session:
                ctx = await bearer_auth(session, authorization)
                ctx.require(Role.agent)
                try:
                    payload = _MESSAGE_IN.validate_python(data)
                except ValidationError as exc:
                    raise _PassOn from exc  # FastAPI's 422 (with its error locations)
                out = await conversation_endpoints.add_message(conversation_id, payload, ctx, session)
            response = Response(
                _MESSAGE_OUT.dump_json(out, by_alias=True), 201, media_type="application/json"
            )
        except (orjson.JSONDecodeError, _PassOn):
            self.stats.passed_on += 1
            await self.app(scope, _replay(body, receive), send)
            return
        except StoredeskError as exc:
            response = domain_error_response(exc)
        except IntegrityError as exc:
            response = integrity_error_response(exc)
        self.stats.served += 1
        await response(scope, receive, send)


def _is_json(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json"


def _replay(body: bytes, receive: Receive) -> Receive:
    """The request's body once more, for FastAPI (then whatever the server sends, e.g. a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
