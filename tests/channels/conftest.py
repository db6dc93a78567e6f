"""Fixtures for the channel tests: a real local HTTP server standing in for Meta's Graph API and Twilio,
signing helpers, and channels of every kind."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storedesk.channels import meta, webform
from storedesk.channels.meta.graph import signature_for
from storedesk.channels.meta.whatsapp import WhatsAppSender
from storedesk.channels.models import ChannelKind
from storedesk.channels.outbound import register_sender
from storedesk.channels.service import create_channel
from storedesk.channels.widget import endpoints as widget_endpoints
from storedesk.db.session import Database
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox
from tests.conftest import TEST_SECRET, ShopWorld
from tests.servers import free_port

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str, **replace: str) -> bytes:
    text = (FIXTURES / name).read_text()
    for key, value in replace.items():
        text = text.replace("{{" + key + "}}", value)
    return text.encode()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


@dataclass
class FakeProvider:
    """A real HTTP server on 127.0.0.1 that checks what the provider would check and answers as told."""

    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    queue: list[tuple[int, Any, float]] = field(default_factory=list)
    counter: int = 0
    # Graph API media: id → (bytes, mime type); the next N downloads answer 500
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media_failures: int = 0

    def reset(self) -> None:
        self.requests.clear()
        self.queue.clear()
        self.counter = 0
        self.media.clear()
        self.media_failures = 0

    def respond(self, status: int, body: Any, delay: float = 0.0) -> None:
        self.queue.append((status, body, delay))


def _provider_app(state: FakeProvider) -> Starlette:
    async def graph_messages(request: Request) -> Response:
        body = await request.body()
        state.requests.append(Recorded(request.method, request.url.path, dict(request.headers), body))
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse(
                {"error": {"message": "An access token is required", "type": "OAuthException", "code": 190}},
                401,
            )
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse({"error": {"message": "(#100) Invalid JSON", "code": 100}}, 400)
        if state.queue:
            status, answer, delay = state.queue.pop(0)
            if delay:
                await asyncio.sleep(delay)
            return JSONResponse(answer, status)
        state.counter += 1
        if "messaging_product" in payload:  # WhatsApp Cloud API
            if payload.get("messaging_product") != "whatsapp" or "to" not in payload or "type" not in payload:
                return JSONResponse({"error": {"message": "(#100) Invalid parameter", "code": 100}}, 400)
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": payload["to"], "wa_id": payload["to"]}],
                    "messages": [{"id": f"wamid.TEST{state.counter:04d}"}],
                }
            )
        if "recipient" not in payload or "message" not in payload:
            return JSONResponse({"error": {"message": "(#100) Invalid parameter", "code": 100}}, 400)
        return JSONResponse(
            {"recipient_id": payload["recipient"]["id"], "message_id": f"m_TEST{state.counter:04d}"}
        )

    async def twilio_messages(request: Request) -> Response:
        body = await request.body()
        state.requests.append(Recorded(request.method, request.url.path, dict(request.headers), body))
        sid = request.path_params["sid"]
        expected = "Basic " + base64.b64encode(f"{sid}:twilio-auth-token".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return JSONResponse({"code": 20001, "message": "form body expected", "status": 400}, 400)
        if state.queue:
            status, answer, delay = state.queue.pop(0)
            if delay:
                await asyncio.sleep(delay)
            return JSONResponse(answer, status)
        form = await request.form()
        state.counter += 1
        return JSONResponse(
            {
                "sid": f"SM{state.counter:032d}",
                "status": "queued",
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
            },
            201,
        )

    def _bearer_ok(request: Request) -> bool:
        return request.headers.get("authorization", "").startswith("Bearer EAAG")

    async def graph_media(request: Request) -> Response:
        """``GET /{version}/{media-id}`` as the Cloud API documents it: where to download the media."""
        state.requests.append(Recorded(request.method, request.url.path, dict(request.headers), b""))
        if not _bearer_ok(request):
            return JSONResponse(
                {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}},
                401,
            )
        media_id = request.path_params["media_id"]
        if media_id not in state.media:
            return JSONResponse(
                {
                    "error": {
                        "message": f"Unsupported get request. Object with ID '{media_id}' does not exist",
                        "type": "GraphMethodException",
                        "code": 100,
                        "error_subcode": 33,
                    }
                },
                400,
            )
        data, mime = state.media[media_id]
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{state.base_url}/whatsapp_business/attachments/?mid={media_id}&ext=1749416383",
                "mime_type": mime,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": str(len(data)),
                "id": media_id,
            }
        )

    async def media_download(request: Request) -> Response:
        """The media URL (lookaside): the bytes, only with the bearer token."""
        state.requests.append(Recorded(request.method, request.url.path, dict(request.headers), b""))
        if not _bearer_ok(request):
            return Response(b"", 401)
        if state.media_failures:
            state.media_failures -= 1
            return JSONResponse({"error": {"message": "Service temporarily unavailable", "code": 2}}, 500)
        found = state.media.get(request.query_params.get("mid", ""))
        if found is None:
            return Response(b"", 404)
        return Response(found[0], media_type=found[1])

    async def cdn(request: Request) -> Response:
        """A Messenger/Instagram CDN link: public, no token."""
        state.requests.append(Recorded(request.method, request.url.path, dict(request.headers), b""))
        found = state.media.get(request.query_params.get("asset_id", ""))
        if found is None:
            return Response(b"", 404)
        return Response(found[0], media_type=found[1])

    return Starlette(
        routes=[
            Route("/whatsapp_business/attachments/", media_download, methods=["GET"]),
            Route("/ig_messaging_cdn/", cdn, methods=["GET"]),
            Route("/{version}/{media_id}", graph_media, methods=["GET"]),
            Route("/{version}/{phone_number_id}/messages", graph_messages, methods=["POST"]),
            Route("/{version}/me/messages", graph_messages, methods=["POST"]),
            Route("/2010-04-01/Accounts/{sid}/Messages.json", twilio_messages, methods=["POST"]),
        ]
    )


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Agents of the test shops get argon2 hashes with minimal cost: the channel tests never log in by
    password, and three full-cost hashes per shop would dominate the suite's run time."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from storedesk.agents import security

    original = security._hasher
    security._hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    yield
    security._hasher = original


@pytest.fixture(scope="session")
def provider_server() -> Iterator[FakeProvider]:
    state = FakeProvider()
    config = uvicorn.Config(
        _provider_app(state), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "fake provider did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    state.base_url = f"http://127.0.0.1:{port}"
    yield state
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def provider(provider_server: FakeProvider) -> FakeProvider:
    provider_server.reset()
    return provider_server


class Capture:
    """An SMTP sink (aiosmtpd handler) keeping every mail it accepts."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        msg = BytesParser(policy=default).parsebytes(envelope.original_content or envelope.content)
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[tuple[Capture, int]]:
    """A real SMTP relay on a loopback port (aiosmtpd) that records what storedesk sends."""
    capture = Capture()
    port = free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    yield capture, port
    controller.stop()


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    widget_endpoints.reset_limits()
    webform.form_limit.reset()


@pytest.fixture
def meta_window(db: Database) -> Iterator[None]:
    """The WhatsApp sender checks the 24-hour window in this test's database."""
    meta.configure(db)
    yield
    register_sender("whatsapp", WhatsAppSender())


def meta_signature(body: bytes, secret: str) -> dict[str, str]:
    return {"X-Hub-Signature-256": signature_for(body, secret), "Content-Type": "application/json"}


async def add_channel(
    db: Database,
    shop: ShopWorld,
    kind: ChannelKind,
    *,
    external_id: str | None = None,
    credentials: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    name: str | None = None,
) -> int:
    async with db.transaction() as session:
        channel = await create_channel(
            session,
            shop_id=shop.id,
            actor=SYSTEM,
            box=SecretBox([TEST_SECRET]),
            kind=kind,
            name=name or kind.value,
            external_id=external_id,
            credentials=credentials,
            settings=settings or {},
        )
        return channel.id


# adapter-mapping tests (payload shapes, error codes) behave the same on both databases: run them once
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
