"""Messenger and Instagram DMs: signed webhooks, echoes skipped, replies to /me/messages, delivery receipts."""

from __future__ import annotations

import httpx
import pytest

from storedesk.channels.models import ChannelKind
from storedesk.db.session import Database
from storedesk.jobs.runner import JobRunner
from tests.channels.conftest import FakeProvider, add_channel, fixture_bytes, meta_signature, sqlite_only
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio

SECRET = "page-app-secret"


async def test_messenger_message_reply_and_delivery(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs, provider: FakeProvider
) -> None:
    await add_channel(
        db,
        shop_a,
        ChannelKind.messenger,
        external_id="1234567890",
        credentials={"app_secret": SECRET, "access_token": "EAAPage"},
        settings={"api_base_url": provider.base_url},
    )
    body = fixture_bytes(
        "messenger_text.json",
        PAGE_ID="1234567890",
        PSID="6783240081786455",
        MID="m_IN1",
        TEXT="Is the tent waterproof?",
    )
    r = await client.post("/webhooks/messenger", content=body, headers=meta_signature(body, SECRET))
    assert r.status_code == 200
    await run_jobs()
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    customer = (await client.get(f"/api/v1/customers/{conv['customer_id']}", headers=shop_a.h())).json()
    assert [(i["kind"], i["value"]) for i in customer["identities"]] == [("messenger", "6783240081786455")]

    # our reply, then Messenger echoes it back: the echo is never a customer message
    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/messages", json={"text": "Yes, 3000 mm."}, headers=shop_a.h()
    )
    reply = r.json()
    await run_jobs()
    [sent] = provider.requests
    assert sent.path == "/v21.0/me/messages"
    assert sent.headers["authorization"] == "Bearer EAAPage"
    assert sent.json() == {
        "recipient": {"id": "6783240081786455"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Yes, 3000 mm."},
    }
    echo = fixture_bytes(
        "messenger_echo.json", PAGE_ID="1234567890", PSID="6783240081786455", MID="m_TEST0001"
    )
    assert (
        await client.post("/webhooks/messenger", content=echo, headers=meta_signature(echo, SECRET))
    ).status_code == 200
    delivery = fixture_bytes(
        "messenger_delivery.json", PAGE_ID="1234567890", PSID="6783240081786455", MID="m_TEST0001"
    )
    assert (
        await client.post("/webhooks/messenger", content=delivery, headers=meta_signature(delivery, SECRET))
    ).status_code == 200
    await run_jobs()
    msgs = (await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=shop_a.h())).json()[
        "items"
    ]
    assert [(m["direction"], m["text"], m["delivery_status"]) for m in msgs] == [
        ("inbound", "Is the tent waterproof?", "received"),
        ("outbound", "Yes, 3000 mm.", "delivered"),
    ]
    assert msgs[1]["id"] == reply["id"]


@sqlite_only
async def test_messenger_window_error_is_permanent(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs, provider: FakeProvider
) -> None:
    await add_channel(
        db,
        shop_a,
        ChannelKind.messenger,
        external_id="1234567890",
        credentials={"app_secret": SECRET, "access_token": "EAAPage"},
        settings={"api_base_url": provider.base_url},
    )
    body = fixture_bytes("messenger_text.json", PAGE_ID="1234567890", PSID="678", MID="m_IN1", TEXT="Hi")
    await client.post("/webhooks/messenger", content=body, headers=meta_signature(body, SECRET))
    await run_jobs()
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    reply = (
        await client.post(
            f"/api/v1/conversations/{conv['id']}/messages", json={"text": "Hello"}, headers=shop_a.h()
        )
    ).json()
    provider.respond(
        400,
        {
            "error": {
                "message": "(#10) This message is sent outside of allowed window.",
                "type": "OAuthException",
                "code": 10,
                "error_subcode": 2018278,
            }
        },
    )
    await run_jobs()
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert msg["delivery_status"] == "failed"
    assert msg["delivery_error"] == (
        "the page is not allowed to message this person now (messaging window or permissions) — "
        "Messenger answered 400: (#10) This message is sent outside of allowed window. (code 10)"
    )


@sqlite_only
async def test_instagram_dm_with_attachment(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs
) -> None:
    await add_channel(
        db, shop_a, ChannelKind.instagram, external_id="17841400000000000", credentials={"app_secret": SECRET}
    )
    body = fixture_bytes(
        "instagram_text.json",
        IG_ID="17841400000000000",
        IGSID="5512345678",
        MID="aWdfZAG1faXRlbToxOklH",
        TEXT="Do you ship to Norway?",
    )
    r = await client.post("/webhooks/instagram", content=body, headers=meta_signature(body, SECRET))
    assert r.status_code == 200
    # one round: the ingest job only (the media download it enqueues is tests/channels/test_meta_media.py)
    assert await JobRunner(db, concurrency=4).run_once() == 1
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    msgs = (await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=shop_a.h())).json()[
        "items"
    ]
    assert [(m["text"], m["attachments"]) for m in msgs] == [
        (
            "Do you ship to Norway?",
            [
                {
                    "kind": "image",
                    "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17951132329735087",
                    "media": "pending",
                }
            ],
        )
    ]
    customer = (await client.get(f"/api/v1/customers/{conv['customer_id']}", headers=shop_a.h())).json()
    assert [(i["kind"], i["value"]) for i in customer["identities"]] == [("instagram", "5512345678")]


async def test_page_delivery_with_wrong_secret_is_refused(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    await add_channel(
        db, shop_a, ChannelKind.messenger, external_id="1234567890", credentials={"app_secret": SECRET}
    )
    body = fixture_bytes("messenger_text.json", PAGE_ID="1234567890", PSID="678", MID="m_IN1", TEXT="Hi")
    r = await client.post("/webhooks/messenger", content=body, headers=meta_signature(body, "other"))
    assert r.status_code == 401
    assert (await count_rows(db, "inbound_events"), await count_rows(db, "jobs")) == (0, 0)
