"""The lean transport (``storedesk.api.hotroutes``, ADR 0008) answers byte for byte like the FastAPI routes
it stands in front of, writes nothing when it refuses, and keeps shops apart.

Two apps share one database: ``lean`` (as served) and ``plain`` (``create_app(hot_routes=False)``: FastAPI
routing only). Every request goes to both; status, headers and body must be equal, and the lean app's
counters show which path answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from storedesk.api.app import create_app
from storedesk.api.hotroutes import HotRouteStats
from storedesk.channels.meta.graph import signature_for
from storedesk.config import Settings
from storedesk.db.session import Database
from tests.api.test_bad_input import all_counts
from tests.api.test_conversations import open_conv
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio


@dataclass
class Pair:
    lean: httpx.AsyncClient
    plain: httpx.AsyncClient
    stats: HotRouteStats

    async def both(self, method: str, url: str, **kw: Any) -> tuple[httpx.Response, httpx.Response]:
        return await self.lean.request(method, url, **kw), await self.plain.request(method, url, **kw)


@pytest.fixture
async def pair(settings: Settings, db: Database) -> AsyncIterator[Pair]:
    lean_app = create_app(settings, db=db, run_jobs=False, realtime_pg=False)
    plain_app = create_app(settings, db=db, run_jobs=False, realtime_pg=False, hot_routes=False)
    async with lean_app.router.lifespan_context(lean_app), plain_app.router.lifespan_context(plain_app):
        base = "http://testserver"
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=lean_app), base_url=base) as lean,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=plain_app), base_url=base) as plain,
        ):
            yield Pair(lean, plain, lean_app.state.hot_routes)


def same(a: httpx.Response, b: httpx.Response) -> None:
    assert (a.status_code, a.headers.raw, a.content) == (b.status_code, b.headers.raw, b.content)


async def test_success_has_the_routes_status_headers_and_bytes(pair: Pair, shop_a: ShopWorld) -> None:
    conv = await open_conv(pair.plain, shop_a)
    url = f"/api/v1/conversations/{conv['id']}/messages"
    body = {"text": "  Your parcel ships today. ", "html": "<p>Your parcel ships today.</p>"}
    lean, plain = await pair.both("POST", url, json=body, headers=shop_a.h())
    assert pair.stats.served == 1
    assert (lean.status_code, plain.status_code) == (201, 201)
    assert lean.headers.raw[1:] == plain.headers.raw[1:]  # content-length aside: ids and times differ
    assert list(lean.json()) == list(plain.json())
    assert lean.json()["text"] == plain.json()["text"] == "Your parcel ships today."
    # the same message read back through FastAPI's serialisation of MessageOut: the very same bytes
    again = await pair.plain.get(f"/api/v1/messages/{lean.json()['id']}", headers=shop_a.h())
    assert again.content == lean.content
    note, _ = await pair.both("POST", url, json={"text": "internal", "kind": "note"}, headers=shop_a.h())
    again = await pair.plain.get(f"/api/v1/messages/{note.json()['id']}", headers=shop_a.h())
    assert (note.status_code, again.content) == (201, note.content)
    r = await pair.plain.get(f"/api/v1/conversations/{conv['id']}", headers=shop_a.h())
    assert r.json()["message_count"] == 3  # the customer's, two replies; notes are not counted
    assert pair.stats.served == 2


async def test_each_refusal_is_the_routes_and_writes_nothing(
    pair: Pair, shop_a: ShopWorld, shop_b: ShopWorld, db: Database
) -> None:
    conv = await open_conv(pair.plain, shop_a)
    closed = await open_conv(pair.plain, shop_a)
    r = await pair.plain.post(
        f"/api/v1/conversations/{closed['id']}/status", json={"status": "closed"}, headers=shop_a.h()
    )
    assert r.status_code == 200
    url = f"/api/v1/conversations/{conv['id']}/messages"
    json_h = {"content-type": "application/json"}
    ok = b'{"text": "hello"}'
    cases: list[tuple[str, bytes, dict[str, str], int, str, bool]] = [
        # url, body, headers, status, code, answered by the lean path
        (url, ok, {**json_h, "Authorization": "Bearer not-a-token"}, 401, "unauthenticated", True),
        (url, ok, {**json_h, "Authorization": "Basic abc"}, 401, "unauthenticated", True),
        (url, ok, json_h, 401, "unauthenticated", False),  # no token: cookies are FastAPI's
        (url, ok, {**json_h, **shop_a.h("viewer")}, 403, "forbidden", True),
        (url, ok, {**json_h, **shop_b.h()}, 404, "not_found", True),  # another shop's conversation
        ("/api/v1/conversations/424242/messages", ok, {**json_h, **shop_a.h()}, 404, "not_found", True),
        (f"/api/v1/conversations/{closed['id']}/messages", ok, {**json_h, **shop_a.h()}, 409, "", True),
        (url, b'{"text": "   "}', {**json_h, **shop_a.h()}, 422, "validation_failed", True),  # the service's
        (url, b'{"text": 5}', {**json_h, **shop_a.h()}, 422, "validation_failed", False),
        (url, b'{"text": "x", "surprise": 1}', {**json_h, **shop_a.h()}, 422, "validation_failed", False),
        (url, b'{"kind": "shout", "text": "x"}', {**json_h, **shop_a.h()}, 422, "validation_failed", False),
        (url, b"[]", {**json_h, **shop_a.h()}, 422, "validation_failed", False),
        (url, b"", {**json_h, **shop_a.h()}, 422, "validation_failed", False),
        (url, b"{nope", {**json_h, **shop_a.h()}, 400, "malformed_json", False),
        (url, b"{nope", {**json_h, "Authorization": "Bearer bad"}, 400, "malformed_json", False),
        (url, b'{"text": "x", "channel_id": 99999999999999999999}', {**json_h, **shop_a.h()}, 422, "", False),
        (url, ok, {"content-type": "text/plain", **shop_a.h()}, 422, "validation_failed", False),
        ("/api/v1/conversations/0/messages", ok, {**json_h, **shop_a.h()}, 422, "validation_failed", False),
        ("/api/v1/conversations/007/messages", ok, {**json_h, **shop_b.h()}, 404, "not_found", False),
        ("/api/v1/conversations/99999999999999999999/messages", ok, {**json_h, **shop_a.h()}, 422, "", False),
        (
            url,
            b'{"text": "' + b"x" * 1_100_000 + b'"}',
            {**json_h, **shop_a.h()},
            413,
            "body_too_large",
            False,
        ),
    ]
    # another shop's channel on our conversation
    foreign_channel = b'{"text": "x", "channel_id": %d}' % shop_b.channel_id
    cases.append((url, foreign_channel, {**json_h, **shop_a.h()}, 404, "not_found", True))
    before = await all_counts(db)
    for path, body, headers, status, code, lean_path in cases:
        served = pair.stats.served
        lean, plain = await pair.both("POST", path, content=body, headers=headers)
        assert lean.status_code == status, (path, body[:40], lean.text[:200])
        if code:
            assert lean.json()["error"]["code"] == code
        same(lean, plain)
        assert pair.stats.served == served + lean_path, (path, body[:40])
    assert await all_counts(db) == before


async def test_chunked_bodies_are_limited_and_read_alike(pair: Pair, shop_a: ShopWorld, db: Database) -> None:
    conv = await open_conv(pair.plain, shop_a)
    url = f"/api/v1/conversations/{conv['id']}/messages"
    headers = {"content-type": "application/json", **shop_a.h()}

    def chunks(total: int) -> Any:
        async def gen() -> AsyncIterator[bytes]:
            yield b'{"text": "'
            for _ in range(total // 8192):
                yield b"x" * 8192
            yield b'"}'

        return gen()

    before = await all_counts(db)
    lean = await pair.lean.post(url, content=chunks(2_000_000), headers=headers)
    plain = await pair.plain.post(url, content=chunks(2_000_000), headers=headers)
    assert lean.status_code == 413
    same(lean, plain)
    assert await all_counts(db) == before
    lean = await pair.lean.post(url, content=chunks(8192 * 10), headers=headers)
    assert lean.status_code == 201
    assert len(lean.json()["text"]) == 8192 * 10


async def test_webhooks_answer_alike_and_refusals_store_nothing(pair: Pair, db: Database) -> None:
    body = b'{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "555"}, "messages": []}}]}]}'
    before = await all_counts(db)
    served = pair.stats.served
    for path in ("/webhooks/whatsapp", "/webhooks/meta"):
        for headers in (
            {"content-type": "application/json"},  # no signature
            {
                "content-type": "application/json",
                "x-hub-signature-256": signature_for(body, "s"),
            },  # no channel
            {"content-type": "application/json", "x-hub-signature-256": "sha256=00"},
        ):
            lean, plain = await pair.both("POST", path, content=body, headers=headers)
            assert lean.status_code in (401, 404)
            same(lean, plain)
        lean, plain = await pair.both(
            "POST", path, content=b"{nope", headers={"x-hub-signature-256": "sha256=00"}
        )
        assert lean.status_code == 400
        same(lean, plain)
    for path in ("/webhooks/twilio/424242/sms", "/webhooks/twilio/424242/voice/status"):
        for headers in ({}, {"x-twilio-signature": "abc"}):
            lean, plain = await pair.both("POST", path, content=b"From=%2B49&Body=hi", headers=headers)
            assert lean.status_code in (401, 404)
            same(lean, plain)
    assert pair.stats.served == served + 12
    # not lean: other methods and ids FastAPI would refuse
    lean, plain = await pair.both("POST", "/webhooks/twilio/0/sms", content=b"", headers={})
    same(lean, plain)
    lean, plain = await pair.both("GET", "/webhooks/whatsapp")
    same(lean, plain)
    assert pair.stats.served == served + 12
    assert await all_counts(db) == before
