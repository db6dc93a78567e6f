"""Keyset (cursor) paging of the inbox on SQLite and PostgreSQL: every sort and view, walked forwards with
"Next" and back with "Previous", returns every conversation exactly once in the sort's order — ties in
the sort values included (many rows share a timestamp, a priority, or have no waiting time); an altered
cursor is a 422 page that says so, never a 500; another shop's rows never appear."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest

from storedesk.conversations.models import PRIORITY_RANK, Conversation
from storedesk.db.session import Database
from storedesk.kit.pagination import encode_cursor
from storedesk.kit.time import utcnow
from storedesk.web.views import PAGE_SIZE
from tests.conftest import ShopWorld
from tests.web.helpers import login

pytestmark = pytest.mark.anyio

ROWS = 2 * PAGE_SIZE + 17  # three pages
ROW = re.compile(r'<li class="conv-row[^"]*" data-row data-id="(\d+)">')
LINK = re.compile(r'<a class="btn btn-ghost" href="([^"]+)" rel="(next|prev)"')


async def _seed(db: Database, shop: ShopWorld, agent_id: int, *, first_number: int = 1) -> list[Conversation]:
    """ROWS conversations whose sort values repeat: 5 distinct activity times, 4 waiting times and none
    for every third, 4 priorities; open except every ninth (pending)."""
    base = utcnow().replace(microsecond=0) - timedelta(days=1)
    out: list[Conversation] = []
    async with db.transaction() as session:
        for i in range(ROWS):
            conversation = Conversation(
                shop_id=shop.id,
                number=first_number + i,
                customer_id=shop.customer_id,
                channel_id=shop.channel_id,
                subject=f"paging {i}",
                status="pending" if i % 9 == 0 else "open",
                priority=("urgent", "high", "normal", "low")[i % 4],
                assignee_id=agent_id if i % 2 else None,
                last_activity_at=base + timedelta(minutes=i % 5),
                waiting_since=None if i % 3 == 0 else base - timedelta(hours=i % 4),
            )
            session.add(conversation)
            out.append(conversation)
        await session.flush()
    return out


def _expected(rows: list[Conversation], sort: str) -> list[int]:
    if sort == "activity":
        ordered = sorted(rows, key=lambda c: (c.last_activity_at, c.id), reverse=True)
    elif sort == "oldest":
        ordered = sorted(rows, key=lambda c: (c.last_activity_at, c.id))
    elif sort == "waiting":
        ordered = sorted(rows, key=lambda c: (c.waiting_since is None, c.waiting_since or 0, c.id))
    else:
        ordered = sorted(
            rows,
            key=lambda c: (PRIORITY_RANK[str(c.priority)], -c.last_activity_at.timestamp(), -c.id),
        )
    return [c.id for c in ordered]


def _page(text: str) -> tuple[list[int], dict[str, str]]:
    links = {rel: html.unescape(href) for href, rel in LINK.findall(text)}
    return [int(i) for i in ROW.findall(text)], links


async def _walk(client: httpx.AsyncClient, start: str) -> tuple[list[list[int]], str]:
    """Follow "Next" from ``start``; the pages and the last page's URL."""
    pages: list[list[int]] = []
    url = start
    while True:
        r = await client.get(url)
        assert r.status_code == 200, r.text[:300]
        ids, links = _page(r.text)
        pages.append(ids)
        assert len(pages) < 10
        if "next" not in links:
            return pages, url
        url = links["next"]


@pytest.mark.parametrize("sort", ["activity", "oldest", "waiting", "priority"])
async def test_every_sort_and_view_pages_through_every_conversation_once(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld, sort: str
) -> None:
    me = shop_a.agent_ids["agent"]
    mine = await _seed(db, shop_a, me)
    await _seed(db, shop_b, shop_b.agent_ids["agent"])  # same sort values in another shop
    await login(client, "agent@shop-a.test")

    views: dict[str, tuple[str, list[Conversation]]] = {
        "all, open": ("", [c for c in mine if c.status == "open"]),
        "mine, any status": ("view=mine&status=any", [c for c in mine if c.assignee_id == me]),
        "unassigned, pending": (
            "view=unassigned&status=pending",
            [c for c in mine if c.assignee_id is None and c.status == "pending"],
        ),
        "any status, urgent": ("status=any&priority=urgent", [c for c in mine if c.priority == "urgent"]),
    }
    for label, (query, rows) in views.items():
        start = f"/app/inbox?sort={sort}" + (f"&{query}" if query else "")
        pages, last = await _walk(client, start)
        expected = _expected(rows, sort)
        assert [i for p in pages for i in p] == expected, label
        assert all(len(p) == PAGE_SIZE for p in pages[:-1]), label
        assert len(pages) == -(-len(expected) // PAGE_SIZE), label

        # and back: "Previous" from the last page gives the same pages in reverse
        back: list[list[int]] = []
        url = last
        while True:
            r = await client.get(url)
            ids, links = _page(r.text)
            back.append(ids)
            if "prev" not in links:
                break
            url = links["prev"]
        assert back == pages[::-1], label

    # the page counts per view stay
    r = await client.get(f"/app/inbox?sort={sort}")
    assert f'data-count="all">{sum(c.status == "open" for c in mine)}<' in r.text


async def test_a_position_past_the_end_shows_an_empty_page_with_a_way_back(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    rows = await _seed(db, shop_a, shop_a.agent_ids["agent"])
    await login(client, "agent@shop-a.test")
    oldest = min((c for c in rows if c.status == "open"), key=lambda c: (c.last_activity_at, c.id))
    cursor = encode_cursor(["activity", "n", oldest.last_activity_at.isoformat(), oldest.id])
    r = await client.get(f"/app/inbox?cursor={cursor}")
    assert r.status_code == 200
    assert ROW.findall(r.text) == []
    assert "No more conversations in this view." in r.text
    assert 'href="/app/inbox" data-first-page>« First page</a>' in r.text
    assert 'href="/app/inbox?view=mine"' in r.text  # another view starts at its top


async def test_another_shops_position_only_positions_the_own_rows(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    own = await _seed(db, shop_a, shop_a.agent_ids["agent"])
    foreign = await _seed(db, shop_b, shop_b.agent_ids["agent"])
    await login(client, "agent@shop-a.test")
    anchor = foreign[len(foreign) // 2]
    cursor = encode_cursor(["oldest", "n", anchor.last_activity_at.isoformat(), anchor.id])
    r = await client.get(f"/app/inbox?sort=oldest&status=any&cursor={cursor}")
    assert r.status_code == 200
    ids = [int(i) for i in ROW.findall(r.text)]
    expected = [
        i
        for i in _expected(own, "oldest")
        if (next(c for c in own if c.id == i).last_activity_at, i) > (anchor.last_activity_at, anchor.id)
    ][:PAGE_SIZE]
    assert ids == expected and ids
    assert not {c.id for c in foreign} & set(ids)


def _b64(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        _b64(b"{}"),
        _b64(b"[1, 2, 3, 4]"),
        encode_cursor(["waiting", "n", None, 5]),  # made for another sort
        encode_cursor(["activity", "x", "2026-01-01T00:00:00+00:00", 5]),
        encode_cursor(["activity", "n", "yesterday", 5]),
        encode_cursor(["activity", "n", 17, 5]),
        encode_cursor(["activity", "n", "2026-01-01T00:00:00+00:00", "5"]),
        encode_cursor(["activity", "n", "2026-01-01T00:00:00+00:00", 2**70]),
        encode_cursor(["activity", "n", "2026-01-01T00:00:00+00:00", True]),
        "A" * 2000,
    ],
)
async def test_an_altered_cursor_is_a_clear_422_not_a_500(
    client: httpx.AsyncClient, shop_a: ShopWorld, cursor: str
) -> None:
    await login(client, "agent@shop-a.test")
    r = await client.get("/app/inbox", params={"cursor": cursor})
    assert r.status_code == 422
    assert "This page link is not valid: it was changed or is out of date." in r.text
    r = await client.get("/app/inbox/list", params={"cursor": cursor}, headers={"HX-Request": "true"})
    assert r.status_code == 422
    assert r.text == "This page link is not valid: it was changed or is out of date."
    client.cookies.set("storedesk_lang", "de")
    r = await client.get("/app/inbox", params={"cursor": cursor})
    assert r.status_code == 422
    assert "Dieser Seitenlink ist ungültig: Er wurde verändert oder ist veraltet." in r.text
