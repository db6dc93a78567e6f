"""Agent workspace routes over HTTP on SQLite and PostgreSQL: sign-in, roles, CSRF, validation, tenant
isolation, live events, notifications, search, password reset by email."""

from __future__ import annotations

import asyncio
import email
import re

import httpx
import pytest
from sqlalchemy import select

from storedesk.agents.models import Notification
from storedesk.conversations.models import Conversation, Message
from storedesk.db.session import Database
from storedesk.realtime import broker
from storedesk.web.live import sse_names
from tests.conftest import ShopWorld, count_rows
from tests.web.helpers import CSRF_META, login, seed_conversation

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_pages_need_a_session(client: httpx.AsyncClient) -> None:
    r = await client.get("/app/inbox?view=mine")
    assert r.status_code == 303
    assert r.headers["location"] == "/app/login?next=%2Fapp%2Finbox%3Fview%3Dmine"
    r = await client.get("/app/inbox", headers={"HX-Request": "true"})
    assert r.status_code == 204
    assert r.headers["HX-Redirect"] == "/app/login?next=%2Fapp%2Finbox"
    r = await client.get("/app/events")
    assert r.status_code == 401


async def test_login_errors_are_explained_next_to_the_field(
    client: httpx.AsyncClient, shop_a: ShopWorld
) -> None:
    page = await client.get("/app/login")
    token = CSRF_META.search(page.text)
    assert token is not None
    r = await client.post("/app/login", data={"email": "nope", "password": "", "csrf_token": token.group(1)})
    assert r.status_code == 422
    assert '<p class="error" id="e-email">Enter the email address you sign in with.</p>' in r.text
    assert '<p class="error" id="e-password">Enter your password.</p>' in r.text
    r = await client.post(
        "/app/login",
        data={"email": "agent@shop-a.test", "password": "wrong-password", "csrf_token": token.group(1)},
    )
    assert r.status_code == 401
    assert '<div class="alert" role="alert">Email or password is wrong.</div>' in r.text
    # without the form's CSRF token nothing is checked at all
    r = await client.post(
        "/app/login", data={"email": "agent@shop-a.test", "password": "correct-horse-battery"}
    )
    assert r.status_code == 403


async def test_login_logout_and_expired_session(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    csrf = await login(client, "agent@shop-a.test")
    r = await client.post("/app/logout", data={"csrf_token": csrf})
    assert r.status_code == 303
    r = await client.get("/app/inbox")
    assert r.status_code == 303
    # the old cookie is revoked: using it again is an expired session
    assert r.headers["location"] == "/app/login?next=%2Fapp%2Finbox"
    await login(client, "agent@shop-a.test")
    from sqlalchemy import update

    from storedesk.agents.models import AuthToken
    from storedesk.agents.service import clear_auth_cache
    from storedesk.kit.time import utcnow

    async with db.transaction() as session:
        await session.execute(update(AuthToken).values(expires_at=utcnow()))
    clear_auth_cache()
    r = await client.get("/app/inbox")
    assert r.status_code == 303, r.text[:300]
    assert r.headers["location"] == "/app/login?next=%2Fapp%2Finbox&expired=1"
    r = await client.get(r.headers["location"])
    assert "Your session has ended. Sign in again." in r.text


async def test_german_from_accept_language_and_cookie(client: httpx.AsyncClient, shop_a: ShopWorld) -> None:
    r = await client.get("/app/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert "<h1>Anmelden</h1>" in r.text
    csrf = await login(client, "agent@shop-a.test")
    r = await client.post("/app/language", data={"language": "de", "next": "/app/inbox", "csrf_token": csrf})
    assert r.status_code == 303
    r = await client.get("/app/inbox")
    assert '<h1 id="list-title">Alle</h1>' in r.text


async def test_csrf_is_required_for_every_write(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    csrf = await login(client, "agent@shop-a.test")
    messages = await count_rows(db, "messages")
    events = await count_rows(db, "events")
    url = f"/app/c/{seeded.conversation_id}/messages"
    r = await client.post(url, data={"text": "hi", "kind": "reply"})
    assert r.status_code == 403
    r = await client.post(url, data={"text": "hi", "kind": "reply", "csrf_token": "forged"})
    assert r.status_code == 403
    r = await client.post(
        url, data={"text": "hi"}, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    r = await client.post(
        f"/app/c/{seeded.conversation_id}/status", data={"status": "resolved"}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 403
    assert (
        r.headers["X-Storedesk-Error"]
        == "The%20form%20has%20expired.%20Reload%20the%20page%20and%20try%20again."
    )
    assert await count_rows(db, "messages") == messages
    assert await count_rows(db, "events") == events
    r = await client.post(
        url, data={"text": "It ships today.", "kind": "reply"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 303
    assert await count_rows(db, "messages") == messages + 1


async def test_roles(client: httpx.AsyncClient, shop_a: ShopWorld, db: Database) -> None:
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    csrf = await login(client, "viewer@shop-a.test")
    page = await client.get(f"/app/c/{seeded.conversation_id}")
    assert page.status_code == 200
    assert 'id="c-text"' not in page.text
    assert "You have read-only access: viewers cannot reply or write notes." in page.text
    events = await count_rows(db, "events")
    for path, data in (
        ("messages", {"text": "hi", "kind": "reply"}),
        ("messages", {"text": "note", "kind": "note"}),
        ("status", {"status": "resolved"}),
        ("assign", {"assignee": str(shop_a.agent_ids["viewer"])}),
        ("tags", {"add": "vip"}),
        ("priority", {"value": "urgent"}),
    ):
        r = await client.post(f"/app/c/{seeded.conversation_id}/{path}", data={**data, "csrf_token": csrf})
        assert r.status_code == 403, path
        assert "Your role does not allow this." in r.text
    r = await client.post(
        "/app/inbox/bulk", data={"ids": [seeded.conversation_id], "action": "resolve", "csrf_token": csrf}
    )
    assert r.status_code == 403
    r = await client.get("/app/settings/channels")
    assert r.status_code == 403
    assert await count_rows(db, "events") == events

    client.cookies.clear()
    csrf = await login(client, "agent@shop-a.test")
    r = await client.get("/app/settings/agents")
    assert r.status_code == 403
    r = await client.post("/app/settings/channels", data={"kind": "sms", "name": "SMS", "csrf_token": csrf})
    assert r.status_code == 403
    assert await count_rows(db, "channels") == 1


async def test_tenant_isolation(
    client: httpx.AsyncClient, shop_a: ShopWorld, shop_b: ShopWorld, db: Database
) -> None:
    theirs = await seed_conversation(db, shop_b.id, shop_b.customer_id, shop_b.channel_id)
    csrf = await login(client, "agent@shop-a.test")
    for path in ("", "/timeline", "/header", "/sidebar", "/presence", f"/macros/{theirs.macro_id}"):
        r = await client.get(f"/app/c/{theirs.conversation_id}{path}")
        assert r.status_code == 404, path
    r = await client.get(f"/app/customers/{shop_b.customer_id}")
    assert r.status_code == 404
    events = await count_rows(db, "events")
    messages = await count_rows(db, "messages")
    for path, data in (
        ("messages", {"text": "hi", "kind": "reply"}),
        ("status", {"status": "resolved"}),
        ("assign", {"assignee": str(shop_a.agent_ids["agent"])}),
        ("tags", {"add": "vip"}),
        ("priority", {"value": "urgent"}),
        ("presence", {"state": "typing"}),
    ):
        r = await client.post(f"/app/c/{theirs.conversation_id}/{path}", data={**data, "csrf_token": csrf})
        assert r.status_code == 404, path
    r = await client.post(
        "/app/inbox/bulk", data={"ids": [theirs.conversation_id], "action": "resolve", "csrf_token": csrf}
    )
    assert r.status_code == 303
    r = await client.get("/app/inbox")
    assert "0 conversation(s) changed. 1 skipped:" in r.text
    r = await client.get("/app/search?q=100234")
    assert "#100234" not in r.text
    assert await count_rows(db, "events") == events
    assert await count_rows(db, "messages") == messages
    async with db.transaction() as session:
        conversation = await session.get(Conversation, theirs.conversation_id)
        assert conversation is not None
        assert (conversation.status, conversation.assignee_id, conversation.priority) == (
            "open",
            None,
            "normal",
        )


async def test_reply_note_mention_assignment_notifications(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    cid = seeded.conversation_id
    csrf = await login(client, "agent@shop-a.test")
    h = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    r = await client.post(f"/app/c/{cid}/messages", data={"text": "", "kind": "reply"}, headers=h)
    assert r.status_code == 422
    assert '<p class="error" id="c-error" role="alert">Write a message or attach a file.</p>' in r.text
    r = await client.post(
        f"/app/c/{cid}/messages", data={"text": "Ask @admin about the refund", "kind": "note"}, headers=h
    )
    assert r.status_code == 200
    assert r.headers["HX-Trigger"] == "storedesk:refresh"
    r = await client.post(
        f"/app/c/{cid}/assign", data={"assignee": str(shop_a.agent_ids["admin"])}, headers=h
    )
    assert r.status_code == 200
    r = await client.post(f"/app/c/{cid}/snooze", data={"until": "2001-01-01T10:00"}, headers=h)
    assert r.status_code == 422
    assert '<p class="error" id="e-snooze">Pick a time in the future.</p>' in r.text
    r = await client.post(f"/app/c/{cid}/tags", data={"add": "x" * 65}, headers=h)
    assert r.status_code == 422
    assert '<p class="error" id="e-tags">A tag has 1–64 characters and no commas.</p>' in r.text
    async with db.transaction() as session:
        notes = (
            await session.execute(select(Notification.agent_id, Notification.kind).order_by(Notification.id))
        ).all()
        assert [tuple(n) for n in notes] == [
            (shop_a.agent_ids["admin"], "mention"),
            (shop_a.agent_ids["admin"], "assignment"),
        ]
        note = (await session.execute(select(Message).where(Message.direction == "note"))).scalar_one()
        assert note.meta == {"mentions": [shop_a.agent_ids["admin"]]}
    client.cookies.clear()
    await login(client, "admin@shop-a.test")
    r = await client.get("/app/notifications")
    assert '<span class="badge" data-unread="2">2</span>' in r.text
    r = await client.get("/app/notifications?open=1")
    assert "You were mentioned" in r.text
    assert "Assigned to you" in r.text


async def test_attachments_refused_with_a_message(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    csrf = await login(client, "agent@shop-a.test")
    h = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    url = f"/app/c/{seeded.conversation_id}/messages"
    r = await client.post(
        url,
        data={"text": "see file"},
        files={"files": ("run.exe", b"MZ...", "application/x-msdownload")},
        headers=h,
    )
    assert r.status_code == 422
    assert "run.exe: this kind of file (application/x-msdownload) cannot be attached." in r.text
    big = b"x" * (1_048_576 - 65_536 + 1)
    r = await client.post(
        url, data={"text": "big"}, files={"files": ("big.txt", big, "text/plain")}, headers=h
    )
    assert r.status_code in (413, 422)
    r = await client.post(
        url,
        data={"text": "ok"},
        files={"files": ("order.pdf", b"%PDF-1.4 test", "application/pdf")},
        headers=h,
    )
    assert r.status_code == 200
    async with db.transaction() as session:
        message = (await session.execute(select(Message).where(Message.text == "ok"))).scalar_one()
        assert [(a["filename"], a["size"]) for a in message.attachments] == [("order.pdf", 13)]
        mid = message.id
    r = await client.get(f"/app/c/{seeded.conversation_id}/attachments/{mid}/0")
    assert r.status_code == 200
    assert r.content == b"%PDF-1.4 test"
    assert r.headers["content-disposition"] == 'attachment; filename="order.pdf"'


async def test_inbox_views_bulk_and_search(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    first = await seed_conversation(
        db, shop_a.id, shop_a.customer_id, shop_a.channel_id, text="parcel lost in Köln"
    )
    csrf = await login(client, "agent@shop-a.test")
    r = await client.get("/app/inbox/counts")
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', r.text))
    assert counts == {"mine": "0", "unassigned": "1", "all": "1", "sla": "0"}
    r = await client.post(
        "/app/inbox/bulk",
        data={
            "ids": [first.conversation_id],
            "action": "assign",
            "assignee": str(shop_a.agent_ids["agent"]),
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 303
    r = await client.post(
        "/app/inbox/bulk",
        data={"ids": [first.conversation_id], "action": "tag", "tag": "Lost", "csrf_token": csrf},
    )
    r = await client.post(
        "/app/inbox/bulk", data={"ids": [first.conversation_id], "action": "resolve", "csrf_token": csrf}
    )
    r = await client.get("/app/inbox/counts")
    assert dict(re.findall(r'data-count="(\w+)">(\d+)<', r.text)) == {
        "mine": "0",
        "unassigned": "0",
        "all": "0",
        "sla": "0",
    }
    r = await client.get("/app/inbox/list?view=mine&status=resolved&tag=lost")
    assert f'data-id="{first.conversation_id}"' in r.text
    for q, expected in (
        ("100234", "#100234"),
        ("köln", "parcel lost in"),
        ("buyer@shop-a.example", "Customer of shop-a"),
    ):
        r = await client.get("/app/search", params={"q": q})
        assert r.status_code == 200
        assert expected in r.text, q


async def test_password_reset_by_email(
    client: httpx.AsyncClient, shop_a: ShopWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content)
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("STOREDESK_SMTP_RELAY_URL", f"smtp://127.0.0.1:{port}")
        page = await client.get("/app/password/forgot")
        token = CSRF_META.search(page.text)
        assert token is not None
        r = await client.post(
            "/app/password/forgot", data={"email": "nobody@shop-a.test", "csrf_token": token.group(1)}
        )
        assert r.status_code == 200
        r = await client.post(
            "/app/password/forgot", data={"email": "Agent@shop-a.test", "csrf_token": token.group(1)}
        )
        assert "a link to choose a new password is on its way" in r.text
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.05)
        assert len(received) == 1
        mail = email.message_from_bytes(received[0])
        assert mail["To"] == "agent@shop-a.test"
        assert mail["Subject"] == "Reset your storedesk password"
        link = re.search(
            r"http://127\.0\.0\.1:8000(/app/password/reset\?token=\S+)",
            mail.get_payload(decode=True).decode(),
        )
        assert link is not None
        page = await client.get(link.group(1))
        reset_token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert reset_token is not None
        form = {"token": reset_token.group(1), "csrf_token": token.group(1)}
        r = await client.post("/app/password/reset", data={**form, "password": "short", "password2": "short"})
        assert '<p class="error" id="e-password">Use at least 10 characters.</p>' in r.text
        r = await client.post(
            "/app/password/reset",
            data={**form, "password": "brand-new-password", "password2": "brand-new-password"},
        )
        assert r.status_code == 303
        # the link works once
        r = await client.post(
            "/app/password/reset",
            data={**form, "password": "another-password1", "password2": "another-password1"},
        )
        assert "The reset link is invalid or has expired." in r.text
        await login(client, "agent@shop-a.test", "brand-new-password")
    finally:
        controller.stop()


async def test_live_events_reach_the_shop_only(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    assert sse_names({"type": "message.received", "conversation_id": 7, "customer_id": 1}, 3) == [
        "inbox",
        "conv-7",
        "conv-7-msg",
    ]
    assert sse_names({"type": "conversation.assigned", "conversation_id": 7, "customer_id": 1}, 3) == [
        "inbox",
        "conv-7",
        "conv-7-meta",
    ]
    assert sse_names({"type": "presence.changed", "conversation_id": 7}, 3) == ["presence-7"]
    assert sse_names({"type": "notification.created", "agent_id": 3, "conversation_id": 7}, 3) == ["bell"]
    assert sse_names({"type": "notification.created", "agent_id": 4, "conversation_id": 7}, 3) == []
    queue = broker.subscribe(shop_a.id)
    try:
        seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
        seen = []
        wanted = {
            "type": "message.received",
            "conversation_id": seeded.conversation_id,
            "customer_id": shop_a.customer_id,
        }
        # on PostgreSQL events come back through LISTEN/NOTIFY, a moment after the commit
        while wanted not in seen:
            seen.append(await asyncio.wait_for(queue.get(), 5))
        assert {
            "type": "message.received",
            "conversation_id": seeded.conversation_id,
            "customer_id": shop_a.customer_id,
        } in seen
    finally:
        broker.unsubscribe(shop_a.id, queue)
