"""The webhook routing cache: a channel's change (secret rotated, disconnected, connected) takes effect on
the next delivery, not after the cache's lifetime; redeliveries store nothing twice; tenants stay apart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import text

from storedesk.channels.models import ChannelKind
from storedesk.channels.twilio.signature import signature_for
from storedesk.channels.webhooks.kit import ROUTE_CACHE_SECONDS
from storedesk.db.session import Database
from tests.channels.conftest import add_channel, fixture_bytes, meta_signature
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio

PID_A = "106540352242922"
PID_NEW = "106540352249999"
OLD, NEW = "meta-app-secret-old", "meta-app-secret-new"


def wa_body(wamid: str, pid: str = PID_A) -> bytes:
    return fixture_bytes(
        "whatsapp_text.json", PHONE_NUMBER_ID=pid, WAMID=wamid, FROM="4915112345678", TEXT="Hi"
    )


async def eventually(check: Callable[[], Awaitable[bool]], limit: float = 3.0) -> float:
    """Seconds until ``check`` holds (PostgreSQL: the change reaches the process through NOTIFY)."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < limit, f"not within {limit}s"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_meta_channel_changes_take_effect_without_waiting_for_the_cache(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    channel_id = await add_channel(
        db, shop_a, ChannelKind.whatsapp, external_id=PID_A, credentials={"app_secret": OLD}
    )
    n = 0
    accepted: list[str] = []  # PostgreSQL: a delivery racing the NOTIFY may still pass — and is stored

    async def deliver(secret: str, pid: str = PID_A) -> int:
        nonlocal n
        n += 1
        body = wa_body(f"wamid.ROUTE{n:03d}", pid)
        r = await client.post("/webhooks/whatsapp", content=body, headers=meta_signature(body, secret))
        if r.status_code == 200:
            accepted.append(pid)
        return r.status_code

    assert await deliver(OLD) == 200  # the channel is now cached in this process
    assert await count_rows(db, "inbound_events") == 1

    # the secret is rotated: the old one stops working at once (well before ROUTE_CACHE_SECONDS)
    r = await client.patch(
        f"/api/v1/channels/{channel_id}", json={"credentials": {"app_secret": NEW}}, headers=shop_a.h("admin")
    )
    assert r.status_code == 200

    async def old_refused() -> bool:
        return await deliver(OLD) == 401

    assert await eventually(old_refused) < ROUTE_CACHE_SECONDS
    assert await count_rows(db, "inbound_events") == len(accepted)  # nothing stored for a refusal
    assert await deliver(NEW) == 200
    assert await count_rows(db, "inbound_events") == len(accepted)

    # disconnected: deliveries find no channel and store nothing; reconnected: accepted again
    r = await client.patch(
        f"/api/v1/channels/{channel_id}", json={"is_active": False}, headers=shop_a.h("admin")
    )
    assert r.status_code == 200

    async def gone() -> bool:
        return await deliver(NEW) == 404

    await eventually(gone)
    assert await count_rows(db, "inbound_events") == len(accepted)
    r = await client.patch(
        f"/api/v1/channels/{channel_id}", json={"is_active": True}, headers=shop_a.h("admin")
    )
    assert r.status_code == 200

    async def back() -> bool:
        return await deliver(NEW) == 200

    await eventually(back)
    assert await count_rows(db, "inbound_events") == len(accepted)

    # an unknown number is remembered as unknown, until a shop connects it (another tenant here)
    assert await deliver("shop-b-secret", PID_NEW) == 404
    r = await client.post(
        "/api/v1/channels",
        json={
            "kind": "whatsapp",
            "name": "WhatsApp B",
            "external_id": PID_NEW,
            "credentials": {"app_secret": "shop-b-secret"},
        },
        headers=shop_b.h("admin"),
    )
    assert r.status_code == 201, r.text

    async def connected() -> bool:
        return await deliver("shop-b-secret", PID_NEW) == 200

    await eventually(connected)
    # shop A's secret does not open shop B's number; what was stored belongs to the channel's own shop
    assert await deliver(NEW, PID_NEW) == 401
    assert await count_rows(db, "inbound_events") == len(accepted)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT shop_id, channel_id FROM inbound_events ORDER BY id"))).all()
    owner = {PID_A: (shop_a.id, channel_id), PID_NEW: (shop_b.id, r.json()["id"])}
    assert [tuple(r) for r in rows] == [owner[pid] for pid in accepted]
    assert accepted[-1] == PID_NEW and accepted.count(PID_NEW) == 1


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    settings.base_url = "https://desk.example.com"
    return settings


async def test_twilio_rotated_token_and_disconnect(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    channel_id = await add_channel(
        db,
        shop_a,
        ChannelKind.sms,
        external_id="+4930123456789",
        credentials={"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "token-old"},
    )
    path = f"/webhooks/twilio/{channel_id}/sms"
    n = 0
    accepted = 0

    async def sms(token: str) -> int:
        nonlocal n, accepted
        n += 1
        params = {"MessageSid": f"SM{n:032d}", "From": "+4915112345678", "To": "+4930123456789", "Body": "Hi"}
        signature = signature_for("https://desk.example.com" + path, list(params.items()), token)
        r = await client.post(
            path,
            content=urlencode(params),
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        )
        accepted += r.status_code == 200
        return r.status_code

    assert await sms("token-old") == 200
    r = await client.patch(
        f"/api/v1/channels/{channel_id}",
        json={
            "credentials": {"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "token-new"}
        },
        headers=shop_a.h("admin"),
    )
    assert r.status_code == 200

    async def old_refused() -> bool:
        return await sms("token-old") == 401

    await eventually(old_refused)
    assert await sms("token-new") == 200
    r = await client.patch(
        f"/api/v1/channels/{channel_id}", json={"is_active": False}, headers=shop_a.h("admin")
    )

    async def gone() -> bool:
        return await sms("token-new") == 404

    await eventually(gone)
    assert accepted >= 2
    assert await count_rows(db, "inbound_events") == accepted  # one event and one job per acknowledgement
    assert await count_rows(db, "jobs") == accepted


async def test_acknowledged_on_a_connection_pinged_at_checkout(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL pings a pooled connection that sat idle (``PING_AFTER_IDLE``), which leaves it inside a
    transaction: the webhook's write must still be one atomic, committed unit on such a connection."""
    from storedesk.db import session as db_session

    monkeypatch.setattr(db_session, "PING_AFTER_IDLE", 0.0)  # every checkout pings
    await add_channel(db, shop_a, ChannelKind.whatsapp, external_id=PID_A, credentials={"app_secret": OLD})
    for n in range(3):
        body = wa_body(f"wamid.PING{n}")
        r = await client.post("/webhooks/whatsapp", content=body, headers=meta_signature(body, OLD))
        assert r.status_code == 200, r.text
    body = wa_body("wamid.PING0")  # a redelivery
    r = await client.post("/webhooks/whatsapp", content=body, headers=meta_signature(body, OLD))
    assert r.status_code == 200
    assert await count_rows(db, "inbound_events") == 3
    assert await count_rows(db, "jobs") == 3


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_workers_are_woken_after_the_commit_not_inside_it(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, db_url: str
) -> None:
    """The ack transaction does not NOTIFY (that would serialise every ack's commit behind PostgreSQL's
    notify lock); one coalesced NOTIFY follows the commits and reaches a LISTENing worker."""
    import psycopg
    from sqlalchemy import event

    await add_channel(db, shop_a, ChannelKind.whatsapp, external_id=PID_A, credentials={"app_secret": OLD})
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    listener = await psycopg.AsyncConnection.connect(
        db_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    )
    try:
        await listener.execute("LISTEN storedesk_jobs")
        for n in range(5):
            body = wa_body(f"wamid.WAKE{n}")
            r = await client.post("/webhooks/whatsapp", content=body, headers=meta_signature(body, OLD))
            assert r.status_code == 200
        heard = 0
        async with asyncio.timeout(5):
            async for note in listener.notifies():
                assert (note.channel, note.payload) == ("storedesk_jobs", "")
                heard += 1
                break
    finally:
        await listener.close()
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert heard == 1
    acks = [s for s in statements if s.startswith("WITH ev AS (INSERT INTO inbound_events")]
    assert len(acks) == 5 and not any("pg_notify" in s for s in acks)
    assert 1 <= statements.count("SELECT pg_notify('storedesk_jobs', '')") <= 5
    assert await count_rows(db, "jobs") == 5
