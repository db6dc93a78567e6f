"""The live tail of a conversation over HTTP (SQLite and PostgreSQL): only new messages and system events
come back (appended to #timeline out of band), messages whose delivery status changed are replaced in
place, nothing else of the timeline is sent; another shop's conversation is a 404."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select, update

from storedesk.conversations import service as conversations
from storedesk.conversations.models import Direction, Message
from storedesk.db.session import Database
from storedesk.events.models import Event
from storedesk.kit.actor import Actor
from tests.conftest import ShopWorld
from tests.web.helpers import login, seed_conversation

pytestmark = pytest.mark.anyio

ARTICLE = re.compile(r'<article class="msg [^"]*" id="m(\d+)"')


async def _last_ids(db: Database, conversation_id: int) -> tuple[int, int]:
    async with db.transaction() as session:
        message = (
            await session.execute(select(Message.id).where(Message.conversation_id == conversation_id))
        ).scalars()
        event = (
            await session.execute(select(Event.id).where(Event.conversation_id == conversation_id))
        ).scalars()
        return max(message), max(event, default=0)


async def test_the_tail_sends_only_what_is_new_or_changed(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    cid = seeded.conversation_id
    token = await login(client, "agent@shop-a.test")
    page = await client.get(f"/app/c/{cid}")
    assert f'hx-get="/app/c/{cid}/timeline/tail"' in page.text
    assert (
        'hx-trigger="sse:conv-' + str(cid) + ', storedesk:refresh from:body, resync" hx-swap="none"'
        in page.text
    )
    shown = [int(i) for i in ARTICLE.findall(page.text)]
    after, after_event = await _last_ids(db, cid)
    assert shown[-1] == after

    # nothing new: an empty answer
    r = await client.get(f"/app/c/{cid}/timeline/tail", params={"after": after, "after_event": after_event})
    assert r.status_code == 200
    assert r.text.strip() == ""

    # the customer writes and the agent answers: exactly those two messages, appended
    async with db.transaction() as session:  # as a channel's ingest does
        await conversations.add_message(
            session,
            shop_id=shop_a.id,
            actor=Actor("customer", shop_a.customer_id),
            conversation_id=cid,
            direction=Direction.inbound,
            text="Any news?",
        )
    reply = await client.post(f"/app/c/{cid}/messages", data={"csrf_token": token, "text": "Tomorrow."})
    assert reply.status_code == 303
    r = await client.get(f"/app/c/{cid}/timeline/tail", params={"after": after, "after_event": after_event})
    new = [int(i) for i in ARTICLE.findall(r.text)]
    assert len(new) == 2 and min(new) > after
    assert r.text.lstrip().startswith('<div hx-swap-oob="beforeend:#timeline">')
    assert '<p class="pre">Any news?</p>' in r.text and '<p class="pre">Tomorrow.</p>' in r.text
    assert f'id="m{after}"' not in r.text  # what the page shows is not sent again
    reply_id = max(new)
    assert 'data-delivery="queued"' in r.text

    # the reply is delivered: with the page showing it as queued, it is replaced in place, alone
    async with db.transaction() as session:
        await session.execute(
            update(Message).where(Message.id == reply_id).values(delivery_status="delivered")
        )
    latest, latest_event = await _last_ids(db, cid)
    r = await client.get(
        f"/app/c/{cid}/timeline/tail",
        params={"after": latest, "after_event": latest_event, "watch": f"{reply_id}:queued,{after}:-"},
    )
    assert [int(i) for i in ARTICLE.findall(r.text)] == [reply_id]
    assert (
        f'id="m{reply_id}" data-message="{reply_id}" data-message-id="{reply_id}" data-direction="outbound" data-delivery="delivered" hx-swap-oob="true"'
        in r.text
    )
    assert "beforeend:#timeline" not in r.text
    r = await client.get(
        f"/app/c/{cid}/timeline/tail",
        params={"after": latest, "after_event": latest_event, "watch": f"{reply_id}:delivered"},
    )
    assert r.text.strip() == ""

    # a change of the conversation comes as its system line
    r = await client.post(
        f"/app/c/{cid}/assign", data={"csrf_token": token, "assignee": str(shop_a.agent_ids["admin"])}
    )
    assert r.status_code == 303
    r = await client.get(f"/app/c/{cid}/timeline/tail", params={"after": latest, "after_event": latest_event})
    assert 'data-event="conversation.assigned"' in r.text
    assert "assigned the conversation to Admin shop-a" in r.text
    assert ARTICLE.findall(r.text) == []

    # bad numbers are a 400-ish page, another shop's conversation or message is not there
    r = await client.get(f"/app/c/{cid}/timeline/tail", params={"after": "-1"})
    assert r.status_code == 400
    other = await seed_conversation(db, shop_b.id, shop_b.customer_id, shop_b.channel_id)
    r = await client.get(f"/app/c/{other.conversation_id}/timeline/tail")
    assert r.status_code == 404
    foreign, _ = await _last_ids(db, other.conversation_id)
    r = await client.get(
        f"/app/c/{cid}/timeline/tail",
        params={"after": 2**62, "after_event": 2**62, "watch": f"{foreign}:queued"},
    )
    assert r.status_code == 200 and r.text.strip() == ""


async def test_the_header_and_sidebar_list_refresh_alone(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    cid = seeded.conversation_id
    await login(client, "agent@shop-a.test")
    page = await client.get(f"/app/c/{cid}")
    assert f'hx-get="/app/c/{cid}/header" hx-trigger="sse:conv-{cid}-meta, resync"' in page.text
    assert (
        f'hx-trigger="sse:conv-{cid}-meta throttle:2s, sse:customer-{shop_a.customer_id} throttle:2s'
        in page.text
    )
    assert (
        f'hx-get="/app/c/{cid}/sidebar/conversations" hx-trigger="sse:conv-{cid}-msg throttle:2s"'
        in page.text
    )
    header = await client.get(f"/app/c/{cid}/header")
    assert header.text.startswith('<header id="conv-header"') or '<header id="conv-header"' in header.text
    assert ARTICLE.findall(header.text) == []
    listing = await client.get(f"/app/c/{cid}/sidebar/conversations")
    assert listing.status_code == 200
    assert f'<li class="current">\n        <a href="/app/c/{cid}">' in listing.text
    assert "Lifetime value" not in listing.text  # the orders part of the sidebar is not sent
