"""Inbound Meta media: the signed webhook stores the message, the channels.fetch_media job downloads the
bytes from a local server speaking the Graph API media endpoints (outside any transaction), stores them
content-addressed and attaches them; failures show "unavailable" and are retried."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from storedesk.channels.models import ChannelKind
from storedesk.db.session import Database
from storedesk.events.models import Event
from storedesk.jobs.models import Job
from storedesk.kit.time import utcnow
from tests.channels.conftest import FakeProvider, add_channel, fixture_bytes, meta_signature
from tests.conftest import ShopWorld, count_rows
from tests.web.helpers import login

pytestmark = pytest.mark.anyio

SECRET = "meta-app-secret-a"
PID = "106540352242922"
IMAGE_ID = "1003383421387256"
DOC_ID = "1244736427012789"
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(200)) + b"\xff\xd9"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def wa_channel(db: Database, shop: ShopWorld, provider: FakeProvider) -> int:
    return await add_channel(
        db,
        shop,
        ChannelKind.whatsapp,
        external_id=PID,
        credentials={"app_secret": SECRET, "access_token": "EAAG-test-token"},
        settings={"api_base_url": provider.base_url},
    )


async def deliver(client: httpx.AsyncClient, fixture: str, wamid: str = "wamid.MEDIA1") -> None:
    body = fixture_bytes(fixture, PHONE_NUMBER_ID=PID, WAMID=wamid, FROM="4915112345678")
    r = await client.post("/webhooks/whatsapp", content=body, headers=meta_signature(body, SECRET))
    assert r.status_code == 200, r.text


async def only_message(client: httpx.AsyncClient, shop: ShopWorld) -> dict[str, Any]:
    conv = (await client.get("/api/v1/conversations", headers=shop.h())).json()["items"][0]
    [msg] = (await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=shop.h())).json()[
        "items"
    ]
    return dict(msg)


async def media_jobs(db: Database) -> list[tuple[str, int]]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            select(Job.status, Job.attempts).where(Job.name == "channels.fetch_media").order_by(Job.id)
        )
        return [(str(s), int(a)) for s, a in rows.all()]


async def media_events(db: Database) -> list[dict[str, Any]]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            select(Event.data).where(Event.type == "message.media_fetched").order_by(Event.id)
        )
        return [dict(d) for d in rows.scalars()]


async def test_whatsapp_image_is_downloaded_and_attached(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, provider: FakeProvider, run_jobs
) -> None:
    await wa_channel(db, shop_a, provider)
    provider.media[IMAGE_ID] = (JPEG, "image/jpeg")
    await deliver(client, "whatsapp_image.json")
    await deliver(client, "whatsapp_image.json")  # Meta's redelivery: nothing twice
    assert await run_jobs() == 2  # ingest, then the media
    msg = await only_message(client, shop_a)
    digest = hashlib.sha256(JPEG).hexdigest()
    [entry] = msg["attachments"]
    assert entry == {
        "kind": "image",
        "provider_media_id": IMAGE_ID,
        "media": "stored",
        "attachment_id": entry["attachment_id"],
        "filename": f"image-{msg['id']}-1.jpg",
        "content_type": "image/jpeg",
        "size": len(JPEG),
        "sha256": digest,
        "storage_key": f"{shop_a.id}/{digest[:2]}/{digest}",
    }
    content = await client.get(f"/api/v1/attachments/{entry['attachment_id']}/content", headers=shop_a.h())
    assert (content.status_code, content.content) == (200, JPEG)
    # what was asked of "Meta": the media id, then its URL, both with the bearer token
    asked = [(q.method, q.path, q.headers.get("authorization")) for q in provider.requests]
    assert asked == [
        ("GET", f"/v21.0/{IMAGE_ID}", "Bearer EAAG-test-token"),
        ("GET", "/whatsapp_business/attachments/", "Bearer EAAG-test-token"),
    ]
    assert await count_rows(db, "attachments") == 1
    assert await media_jobs(db) == [("done", 1)]
    assert await media_events(db) == [
        {"message_id": msg["id"], "stored": [0], "unavailable": [], "retrying": False}
    ]
    # another shop's agent cannot read it
    other = await client.get(f"/api/v1/attachments/{entry['attachment_id']}/content")
    assert other.status_code == 401


async def test_a_failed_download_shows_unavailable_and_is_retried(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, provider: FakeProvider, run_jobs
) -> None:
    await wa_channel(db, shop_a, provider)
    provider.media[DOC_ID] = (PDF, "application/pdf")
    provider.media_failures = 1
    await deliver(client, "whatsapp_document.json")
    assert await run_jobs() == 2
    msg = await only_message(client, shop_a)
    assert msg["text"] == "My invoice"
    assert msg["attachments"] == [
        {
            "kind": "document",
            "provider_media_id": DOC_ID,
            "media": "unavailable",
            "content_type": "application/pdf",
            "filename": "invoice-1042.pdf",
            "sha256": "Ng3VNZ3cA1ZbOeYqqrMDEpvB0dVq3FjaiWv+4BuEfeE=",
            "error": "WhatsApp answered 500: Service temporarily unavailable (code 2)",
            "retry": True,
        }
    ]
    assert await count_rows(db, "attachments") == 0
    [(status, attempts)] = await media_jobs(db)
    assert (status, attempts) == ("queued", 1)  # waiting for its retry
    # the retry is due: this time the file comes
    async with db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.name == "channels.fetch_media")
            .values(run_at=utcnow() - timedelta(seconds=1))
        )
    assert await run_jobs() == 1
    [entry] = (await only_message(client, shop_a))["attachments"]
    assert (entry["media"], entry["filename"], entry["size"], "error" in entry) == (
        "stored",
        "invoice-1042.pdf",
        len(PDF),
        False,
    )
    assert await media_jobs(db) == [("done", 2)]
    assert await media_events(db) == [
        {"message_id": msg["id"], "stored": [], "unavailable": [0], "retrying": True},
        {"message_id": msg["id"], "stored": [0], "unavailable": [], "retrying": False},
    ]


async def test_unknown_media_is_final(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, provider: FakeProvider, run_jobs
) -> None:
    await wa_channel(db, shop_a, provider)
    await deliver(client, "whatsapp_image.json")  # the local "Meta" does not know this id
    assert await run_jobs() == 2
    [entry] = (await only_message(client, shop_a))["attachments"]
    assert (entry["media"], entry["retry"]) == ("unavailable", False)
    assert entry["error"] == (
        f"WhatsApp answered 400: Unsupported get request. Object with ID '{IMAGE_ID}' does not exist (code 100)"
    )
    assert await media_jobs(db) == [("done", 1)]


@pytest.mark.parametrize(
    ("data", "mime", "error"),
    [
        (
            b"MZ\x90\x00" + bytes(100),
            "application/x-msdownload",
            "files of type 'application/x-msdownload' are not accepted",
        ),
        (b"<html>not a picture</html>", "image/jpeg", "the bytes are not a image/jpeg file"),
    ],
)
async def test_refused_types_are_final(
    client: httpx.AsyncClient,
    db: Database,
    shop_a: ShopWorld,
    provider: FakeProvider,
    run_jobs,
    data: bytes,
    mime: str,
    error: str,
) -> None:
    await wa_channel(db, shop_a, provider)
    provider.media[IMAGE_ID] = (data, mime)
    await deliver(client, "whatsapp_image.json")
    await run_jobs()
    [entry] = (await only_message(client, shop_a))["attachments"]
    assert (entry["media"], entry["error"], entry["retry"]) == ("unavailable", error, False)
    assert await count_rows(db, "attachments") == 0


async def test_instagram_cdn_link_is_downloaded(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, provider: FakeProvider, run_jobs
) -> None:
    await add_channel(
        db, shop_a, ChannelKind.instagram, external_id="17841400000000000", credentials={"app_secret": SECRET}
    )
    provider.media["17951132329735087"] = (JPEG, "image/jpeg")
    body = fixture_bytes(
        "instagram_text.json", IG_ID="17841400000000000", IGSID="5512345678", MID="aWdfZAG1", TEXT="Look"
    ).replace(b"https://lookaside.fbsbx.com", provider.base_url.encode())
    r = await client.post("/webhooks/instagram", content=body, headers=meta_signature(body, SECRET))
    assert r.status_code == 200
    assert await run_jobs() == 2
    [entry] = (await only_message(client, shop_a))["attachments"]
    assert (entry["media"], entry["content_type"], entry["size"]) == ("stored", "image/jpeg", len(JPEG))
    assert entry["url"] == f"{provider.base_url}/ig_messaging_cdn/?asset_id=17951132329735087"
    assert [(q.path, q.headers.get("authorization")) for q in provider.requests] == [
        ("/ig_messaging_cdn/", None)
    ]


async def test_the_agent_sees_unavailable_media_in_the_timeline(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, provider: FakeProvider, run_jobs
) -> None:
    await wa_channel(db, shop_a, provider)
    provider.media[IMAGE_ID] = (JPEG, "image/jpeg")
    provider.media_failures = 1
    await deliver(client, "whatsapp_image.json")
    await run_jobs()
    msg = await only_message(client, shop_a)
    await login(client, "agent@shop-a.test")
    page = await client.get(f"/app/c/{msg['conversation_id']}")
    assert '<span class="muted" data-media="unavailable">image · media unavailable</span>' in page.text
    async with db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.name == "channels.fetch_media")
            .values(run_at=utcnow() - timedelta(seconds=1))
        )
    await run_jobs()
    page = await client.get(f"/app/c/{msg['conversation_id']}")
    assert 'data-media="unavailable"' not in page.text
    assert f'/attachments/{msg["id"]}/0" dir="auto">image-{msg["id"]}-1.jpg</a>' in page.text
    download = await client.get(f"/app/c/{msg['conversation_id']}/attachments/{msg['id']}/0")
    assert (download.status_code, download.content) == (200, JPEG)
