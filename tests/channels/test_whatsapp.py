"""WhatsApp Cloud API: signed webhooks in, replies out to a real local HTTP server, statuses, the window."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from storedesk.channels.models import ChannelKind
from storedesk.conversations.models import Message
from storedesk.db.session import Database
from storedesk.jobs.runner import JobRunner
from storedesk.kit.time import utcnow
from tests.channels.conftest import FakeProvider, add_channel, fixture_bytes, meta_signature, sqlite_only
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio

SECRET_A = "meta-app-secret-a"
SECRET_B = "meta-app-secret-b"
TABLES = ("inbound_events", "jobs", "messages", "conversations", "customers", "customer_identities")


async def counts(db: Database) -> dict[str, int]:
    return {t: await count_rows(db, t) for t in TABLES}


async def wa_channel(
    db: Database,
    shop: ShopWorld,
    provider: FakeProvider | None = None,
    *,
    pid: str = "106540352242922",
    secret: str = SECRET_A,
) -> int:
    return await add_channel(
        db,
        shop,
        ChannelKind.whatsapp,
        external_id=pid,
        credentials={"app_secret": secret, "access_token": "EAAG-test-token"},
        settings={
            "verify_token": f"verify-{shop.slug}",
            **({"api_base_url": provider.base_url} if provider else {}),
        },
    )


def text_body(
    pid: str = "106540352242922",
    wamid: str = "wamid.IN0001",
    sender: str = "4915112345678",
    text: str = "Where is my order 1042?",
) -> bytes:
    return fixture_bytes("whatsapp_text.json", PHONE_NUMBER_ID=pid, WAMID=wamid, FROM=sender, TEXT=text)


async def deliver(client: httpx.AsyncClient, body: bytes, secret: str = SECRET_A) -> httpx.Response:
    return await client.post("/webhooks/whatsapp", content=body, headers=meta_signature(body, secret))


@sqlite_only
async def test_handshake(client: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    await wa_channel(db, shop_a)
    params = {"hub.mode": "subscribe", "hub.verify_token": "verify-shop-a", "hub.challenge": "1158201444"}
    r = await client.get("/webhooks/whatsapp", params=params)
    assert (r.status_code, r.text) == (200, "1158201444")
    r = await client.get("/webhooks/whatsapp", params={**params, "hub.verify_token": "wrong"})
    assert r.status_code == 403
    r = await client.get("/webhooks/whatsapp", params={**params, "hub.mode": "unsubscribe"})
    assert r.status_code == 400


async def test_inbound_text_redelivery_and_customer(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs
) -> None:
    await wa_channel(db, shop_a)
    before = await counts(db)
    r = await deliver(client, text_body())
    assert (r.status_code, r.text) == (200, "EVENT_RECEIVED")
    assert await run_jobs() == 1
    after = await counts(db)
    assert after == {
        **before,
        "inbound_events": before["inbound_events"] + 1,
        "jobs": before["jobs"] + 1,
        "messages": before["messages"] + 1,
        "conversations": before["conversations"] + 1,
        "customers": before["customers"] + 1,
        "customer_identities": before["customer_identities"] + 2,  # whatsapp + phone
    }
    r = await deliver(client, text_body())  # Meta retries the same delivery
    assert r.status_code == 200
    assert await run_jobs() == 0
    assert await counts(db) == after

    r = await client.get("/api/v1/customers", params={"q": "Sheena"}, headers=shop_a.h())
    customer = r.json()["items"][0]
    assert customer["name"] == "Sheena Nelson"
    assert customer["phone"] == "+4915112345678"
    assert sorted((i["kind"], i["value"]) for i in customer["identities"]) == [
        ("phone", "+4915112345678"),
        ("whatsapp", "+4915112345678"),
    ]
    convs = (
        await client.get(f"/api/v1/customers/{customer['id']}/conversations", headers=shop_a.h())
    ).json()["items"]
    assert len(convs) == 1
    msgs = (await client.get(f"/api/v1/conversations/{convs[0]['id']}/messages", headers=shop_a.h())).json()[
        "items"
    ]
    assert [(m["direction"], m["text"], m["provider_message_id"]) for m in msgs] == [
        ("inbound", "Where is my order 1042?", "wamid.IN0001")
    ]

    # a second message joins the same open conversation
    await deliver(client, text_body(wamid="wamid.IN0002", text="Hello?"))
    await run_jobs()
    convs = (
        await client.get(f"/api/v1/customers/{customer['id']}/conversations", headers=shop_a.h())
    ).json()["items"]
    assert [c["message_count"] for c in convs] == [2]


async def test_whatsapp_links_customer_known_by_phone(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs
) -> None:
    await wa_channel(db, shop_a)
    r = await client.post(
        "/api/v1/customers", json={"name": "Known Buyer", "phone": "+49 151 12345678"}, headers=shop_a.h()
    )
    assert r.status_code == 201
    known = r.json()["id"]
    await deliver(client, text_body())
    await run_jobs()
    convs = (await client.get(f"/api/v1/customers/{known}/conversations", headers=shop_a.h())).json()["items"]
    assert len(convs) == 1
    ident = (await client.get(f"/api/v1/customers/{known}", headers=shop_a.h())).json()["identities"]
    assert sorted(i["kind"] for i in ident) == ["phone", "whatsapp"]


async def test_wrong_or_missing_signature_stores_nothing(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    await wa_channel(db, shop_a)
    before = await counts(db)
    body = text_body()
    r = await client.post("/webhooks/whatsapp", content=body, headers=meta_signature(body, "not-the-secret"))
    assert r.status_code == 401
    r = await client.post("/webhooks/whatsapp", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    tampered = body.replace(b"Where is my order", b"Refund me now for")
    r = await client.post("/webhooks/whatsapp", content=tampered, headers=meta_signature(body, SECRET_A))
    assert r.status_code == 401
    assert await counts(db) == before


async def test_shop_a_secret_cannot_inject_into_shop_b(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    await wa_channel(db, shop_a, pid="1111", secret=SECRET_A)
    await wa_channel(db, shop_b, pid="2222", secret=SECRET_B)
    before = await counts(db)
    body = text_body(pid="2222")
    r = await deliver(client, body, secret=SECRET_A)
    assert r.status_code == 401
    # a batch naming both shops' numbers must verify for both
    both = body.replace(
        b'"entry": [',
        b'"entry": ['
        + b'{"id": "1", "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "1", "phone_number_id": "1111"}}}]},',
        1,
    )
    r = await deliver(client, both, secret=SECRET_A)
    assert r.status_code == 401
    r = await deliver(client, text_body(pid="9999"))
    assert r.status_code == 404
    assert await counts(db) == before


@sqlite_only
@pytest.mark.parametrize(
    ("fixture", "expected_text", "expected_attachments"),
    [
        (
            "whatsapp_image.json",
            "The box arrived like this",
            [
                {
                    "kind": "image",
                    "provider_media_id": "1003383421387256",
                    "media": "pending",
                    "content_type": "image/jpeg",
                    "sha256": "SfInY0gGxnPWnyWYBZd0S3jK6cQsf5ZLxJtqyXyD8A8=",
                }
            ],
        ),
        (
            "whatsapp_document.json",
            "My invoice",
            [
                {
                    "kind": "document",
                    "provider_media_id": "1244736427012789",
                    "media": "pending",
                    "content_type": "application/pdf",
                    "filename": "invoice-1042.pdf",
                    "sha256": "Ng3VNZ3cA1ZbOeYqqrMDEpvB0dVq3FjaiWv+4BuEfeE=",
                }
            ],
        ),
        (
            "whatsapp_location.json",
            "📍 Main Campus, 1 Hacker Way, Menlo Park, CA 94025 (37.483307, -122.148981)",
            [],
        ),
    ],
)
async def test_media_and_location(
    client: httpx.AsyncClient,
    db: Database,
    shop_a: ShopWorld,
    run_jobs,
    fixture: str,
    expected_text: str,
    expected_attachments: list,
) -> None:
    await wa_channel(db, shop_a)
    body = fixture_bytes(
        fixture, PHONE_NUMBER_ID="106540352242922", WAMID="wamid.MEDIA1", FROM="4915112345678"
    )
    assert (await deliver(client, body)).status_code == 200
    # one round: the ingest job only (the media download, enqueued by it, is tests/channels/test_meta_media.py)
    assert await JobRunner(db, concurrency=4).run_once() == 1
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    msg = (await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=shop_a.h())).json()[
        "items"
    ][0]
    assert (msg["text"], msg["attachments"]) == (expected_text, expected_attachments)


@sqlite_only
async def test_interactive_replies(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs
) -> None:
    await wa_channel(db, shop_a)
    body = fixture_bytes(
        "whatsapp_interactive.json",
        PHONE_NUMBER_ID="106540352242922",
        WAMID="wamid.INT1",
        FROM="4915112345678",
    )
    assert (await deliver(client, body)).status_code == 200
    await run_jobs()
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    msgs = (await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=shop_a.h())).json()[
        "items"
    ]
    assert [m["text"] for m in msgs] == ["Track my order", "Return an item — Start a return within 30 days"]


@sqlite_only
async def test_echo_from_our_own_number_is_not_a_customer_message(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs
) -> None:
    await wa_channel(db, shop_a)
    before = await counts(db)
    assert (await deliver(client, text_body(sender="15550783881"))).status_code == 200
    await run_jobs()
    after = await counts(db)
    assert (after["messages"], after["customers"]) == (before["messages"], before["customers"])


async def _reply(client: httpx.AsyncClient, shop: ShopWorld, text: str = "It ships today.") -> dict:
    conv = (await client.get("/api/v1/conversations", headers=shop.h())).json()["items"][0]
    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/messages", json={"text": text}, headers=shop.h()
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_reply_reaches_graph_and_statuses_never_go_backwards(
    client: httpx.AsyncClient,
    db: Database,
    shop_a: ShopWorld,
    run_jobs,
    provider: FakeProvider,
    meta_window: None,
) -> None:
    await wa_channel(db, shop_a, provider)
    await deliver(client, text_body())
    await run_jobs()
    reply = await _reply(client, shop_a)
    assert await run_jobs() == 1
    [sent] = provider.requests
    assert sent.path == "/v21.0/106540352242922/messages"
    assert sent.headers["authorization"] == "Bearer EAAG-test-token"
    assert sent.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "4915112345678",
        "type": "text",
        "text": {"preview_url": False, "body": "It ships today."},
    }
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert (msg["delivery_status"], msg["provider_message_id"]) == ("sent", "wamid.TEST0001")

    def status(s: str, ts: str) -> bytes:
        return fixture_bytes(
            "whatsapp_status.json",
            PHONE_NUMBER_ID="106540352242922",
            WAMID="wamid.TEST0001",
            STATUS=s,
            TIMESTAMP=ts,
            FROM="4915112345678",
        )

    # read arrives first, then the late delivered, then a duplicate read
    for s, ts in (
        ("read", "1750263800"),
        ("delivered", "1750263790"),
        ("read", "1750263800"),
        ("sent", "1750263780"),
    ):
        assert (await deliver(client, status(s, ts))).status_code == 200
        await run_jobs()
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert msg["delivery_status"] == "read"
    assert msg["read_at"] == "2025-06-18T16:23:20Z"
    assert msg["delivered_at"] == "2025-06-18T16:23:20Z"  # implied by read, which came first
    events = (
        await client.get(f"/api/v1/conversations/{reply['conversation_id']}/events", headers=shop_a.h())
    ).json()
    assert [e["data"]["to"] for e in events if e["type"] == "message.delivery_status"] == ["read"]
    assert await count_rows(db, "inbound_events") == 4  # the duplicate read was recognised at the door


async def test_failed_status_shows_the_reason(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs, provider: FakeProvider
) -> None:
    await wa_channel(db, shop_a, provider)
    await deliver(client, text_body())
    await run_jobs()
    reply = await _reply(client, shop_a)
    await run_jobs()
    body = fixture_bytes(
        "whatsapp_status_failed.json",
        PHONE_NUMBER_ID="106540352242922",
        WAMID="wamid.TEST0001",
        FROM="4915112345678",
    )
    await deliver(client, body)
    await run_jobs()
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert msg["delivery_status"] == "failed"
    assert msg["delivery_error"] == (
        "WhatsApp: outside WhatsApp's 24-hour customer-service window: only an approved template can be sent "
        "(code 131047): Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number."
    )


@sqlite_only
@pytest.mark.parametrize(
    ("status", "answer", "outcome"),
    [
        (500, {"error": {"message": "Internal error", "code": 1}}, ("queued", None)),
        (429, {"error": {"message": "(#130429) Rate limit hit", "code": 130429}}, ("queued", None)),
        (
            400,
            {
                "error": {
                    "message": "(#100) Invalid parameter",
                    "type": "OAuthException",
                    "code": 100,
                    "error_data": {
                        "messaging_product": "whatsapp",
                        "details": "Recipient phone number not in allowed list",
                    },
                }
            },
            (
                "failed",
                "WhatsApp rejected a parameter (check the recipient number and the template) — WhatsApp answered 400: Recipient phone number not in allowed list (code 100)",
            ),
        ),
    ],
)
async def test_provider_errors_map_to_retry_or_failure(
    client: httpx.AsyncClient,
    db: Database,
    shop_a: ShopWorld,
    run_jobs,
    provider: FakeProvider,
    status: int,
    answer: dict,
    outcome: tuple,
) -> None:
    await wa_channel(db, shop_a, provider)
    await deliver(client, text_body())
    await run_jobs()
    reply = await _reply(client, shop_a)
    provider.respond(status, answer)
    await run_jobs()
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert (msg["delivery_status"], msg["delivery_error"]) == outcome
    jobs = (await client.get("/api/v1/jobs", headers=shop_a.h("admin"))).json()
    job = next(j for j in jobs if j["name"] == "delivery.send")
    assert job["status"] == ("queued" if outcome[0] == "queued" else "dead")


@sqlite_only
async def test_window_closed_fails_free_text_but_allows_templates(
    client: httpx.AsyncClient,
    db: Database,
    shop_a: ShopWorld,
    run_jobs,
    provider: FakeProvider,
    meta_window: None,
) -> None:
    await wa_channel(db, shop_a, provider)
    await deliver(client, text_body())
    await run_jobs()
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    window = (
        await client.get(f"/api/v1/conversations/{conv['id']}/channel-window", headers=shop_a.h())
    ).json()
    assert window["free_text_allowed"] is True
    assert window["whatsapp_window_open_until"] is not None

    long_ago = utcnow() - timedelta(hours=30)
    async with db.transaction() as session:
        await session.execute(
            update(Message).where(Message.conversation_id == conv["id"]).values(created_at=long_ago)
        )
    window = (
        await client.get(f"/api/v1/conversations/{conv['id']}/channel-window", headers=shop_a.h())
    ).json()
    assert window["free_text_allowed"] is False

    reply = await _reply(client, shop_a)
    await run_jobs()
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert msg["delivery_status"] == "failed"
    assert msg["delivery_error"].startswith(
        "outside WhatsApp's 24-hour customer-service window (the customer last wrote: "
    )
    assert msg["delivery_error"].endswith("free text cannot be sent — send an approved template instead")
    assert provider.requests == []

    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/whatsapp-template",
        json={
            "name": "order_update",
            "language": "en_US",
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "1042"}]}],
        },
        headers=shop_a.h(),
    )
    assert r.status_code == 201, r.text
    await run_jobs()
    assert provider.requests[0].json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "4915112345678",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "1042"}]}],
        },
    }
    msg = (await client.get(f"/api/v1/messages/{r.json()['id']}", headers=shop_a.h())).json()
    assert msg["delivery_status"] == "sent"
