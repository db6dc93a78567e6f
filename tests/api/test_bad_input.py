"""Bad input always gets a 4xx with {"error": {"code", "message", "details"}} and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from storedesk.db.models import Base
from storedesk.db.session import Database
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio


async def all_counts(db: Database) -> dict[str, int]:
    return {
        t.name: await count_rows(db, t.name) for t in Base.metadata.sorted_tables if t.name != "auth_tokens"
    }


async def test_health(client: httpx.AsyncClient, db_url: str) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    assert body["revision"] is not None
    assert "0001" not in body["revision"].split(",")  # the latest revisions, not the first


async def test_malformed_oversized_and_mistyped_bodies(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    h = {**shop_a.h(), "content-type": "application/json"}
    before = await all_counts(db)
    cases = [
        (b"{not json", 400, "malformed_json"),
        (b'{"customer_id": "abc", "channel_id": 1}', 422, "validation_failed"),
        (b'{"customer_id": 1}', 422, "validation_failed"),
        (b'{"customer_id": 1, "channel_id": 1, "priority": "whenever"}', 422, "validation_failed"),
        (b'{"customer_id": 1, "channel_id": 1, "surprise": true}', 422, "validation_failed"),
        (b'{"customer_id": 99999999999999999999999, "channel_id": 1}', 422, "validation_failed"),
        (b'{"customer_id": 424242, "channel_id": 1}', 404, "not_found"),
        (b"[]", 422, "validation_failed"),
        (
            b'{"customer_id": 1, "channel_id": 1, "subject": "' + b"x" * 2_000_000 + b'"}',
            413,
            "body_too_large",
        ),
    ]
    for body, status, code in cases:
        r = await client.post("/api/v1/conversations", content=body, headers=h)
        assert r.status_code == status, (body[:60], r.text[:200])
        assert r.json()["error"]["code"] == code
        assert set(r.json()["error"]) == {"code", "message", "details"}
    assert await all_counts(db) == before


async def test_a_body_sent_without_its_length_is_counted_as_it_arrives(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    """Chunked bodies (no Content-Length) cannot be refused up front: the limit counts what is read."""
    h = {**shop_a.h(), "content-type": "application/json"}
    before = await all_counts(db)

    async def chunks() -> Any:
        yield b'{"customer_id": 1, "channel_id": 1, "subject": "'
        for _ in range(11):
            yield b"x" * 100_000
        yield b'"}'

    r = await client.post("/api/v1/conversations", content=chunks(), headers=h)
    assert r.status_code == 413, r.text
    assert r.json() == {
        "error": {
            "code": "body_too_large",
            "message": "the request body is larger than 1048576 bytes",
            "details": {"max_bytes": 1_048_576},
        }
    }
    assert await all_counts(db) == before

    async def small() -> Any:
        yield b'{"customer_id": %d, ' % shop_a.customer_id
        yield b'"channel_id": %d, "subject": "chunked"}' % shop_a.channel_id

    r = await client.post("/api/v1/conversations", content=small(), headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["subject"] == "chunked"


async def test_validation_message_names_the_field(client: httpx.AsyncClient, shop_a: ShopWorld) -> None:
    r = await client.post(
        "/api/v1/conversations",
        json={"customer_id": shop_a.customer_id, "channel_id": "x"},
        headers=shop_a.h(),
    )
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("channel_id: ")
    assert r.json()["error"]["details"][0]["loc"] == ["body", "channel_id"]


async def test_unknown_route_and_method(client: httpx.AsyncClient, shop_a: ShopWorld) -> None:
    r = await client.get("/api/v1/nothing-here", headers=shop_a.h())
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await client.delete("/api/v1/conversations", headers=shop_a.h())
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


async def test_bad_cursor_and_filters(client: httpx.AsyncClient, shop_a: ShopWorld) -> None:
    for query in (
        "cursor=%%%",
        "cursor=bm90LWEtbGlzdA",
        "status=weird",
        "assignee=someone",
        "limit=0",
        "limit=1000",
    ):
        r = await client.get(f"/api/v1/conversations?{query}", headers=shop_a.h())
        assert r.status_code == 422, query
    r = await client.post("/api/v1/conversations/1/status", json={"status": "snoozed"}, headers=shop_a.h())
    assert r.status_code in (404, 422)


async def test_cursor_pagination_walks_every_conversation_once(
    client: httpx.AsyncClient, shop_a: ShopWorld
) -> None:
    ids = []
    for _ in range(7):
        r = await client.post(
            "/api/v1/conversations",
            json={"customer_id": shop_a.customer_id, "channel_id": shop_a.channel_id},
            headers=shop_a.h(),
        )
        ids.append(r.json()["id"])
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        url = "/api/v1/conversations?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=shop_a.h())).json()
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == list(reversed(ids))


async def test_filters(client: httpx.AsyncClient, shop_a: ShopWorld) -> None:
    h = shop_a.h()
    made = []
    for lang in ("de", "en", "de"):
        r = await client.post(
            "/api/v1/conversations",
            json={"customer_id": shop_a.customer_id, "channel_id": shop_a.channel_id, "language": lang},
            headers=h,
        )
        made.append(r.json()["id"])
    await client.post(
        f"/api/v1/conversations/{made[0]}/assign", json={"assignee_id": shop_a.agent_ids["agent"]}, headers=h
    )
    await client.post(f"/api/v1/conversations/{made[1]}/tags", json={"add": ["VIP", " refund "]}, headers=h)
    await client.post(f"/api/v1/conversations/{made[2]}/status", json={"status": "pending"}, headers=h)
    await client.patch(f"/api/v1/conversations/{made[2]}", json={"priority": "urgent"}, headers=h)

    async def ids(q: str) -> list[int]:
        r = await client.get(f"/api/v1/conversations?{q}", headers=h)
        assert r.status_code == 200, r.text
        return sorted(c["id"] for c in r.json()["items"])

    assert await ids("language=de") == sorted([made[0], made[2]])
    assert await ids("assignee=me") == [made[0]]
    assert await ids("assignee=none") == sorted([made[1], made[2]])
    assert await ids(f"assignee={shop_a.agent_ids['agent']}") == [made[0]]
    assert await ids("tag=vip") == [made[1]]
    assert await ids("status=pending") == [made[2]]
    assert await ids("status=open&status=pending") == sorted(made)
    assert await ids("priority=urgent") == [made[2]]
    assert await ids(f"channel_id={shop_a.channel_id}&language=en") == [made[1]]
    r = await client.get(f"/api/v1/conversations/{made[1]}", headers=h)
    assert r.json()["tags"] == ["refund", "vip"]
