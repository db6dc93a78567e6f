from __future__ import annotations

import httpx
import pytest

from storedesk.customers.models import IdentityKind
from storedesk.customers.service import resolve_or_create
from storedesk.db.session import Database
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio


async def test_identity_resolution_across_channels(db: Database, shop_a: ShopWorld) -> None:
    async with db.transaction() as s:
        c1, created1 = await resolve_or_create(
            s,
            shop_id=shop_a.id,
            kind=IdentityKind.phone,
            value="0151 2345 6789",
            default_region="DE",
            name="Jo",
        )
        c2, created2 = await resolve_or_create(
            s, shop_id=shop_a.id, kind=IdentityKind.whatsapp, value="4915123456789"
        )
        c3, created3 = await resolve_or_create(
            s, shop_id=shop_a.id, kind=IdentityKind.email, value="Buyer@SHOP-A.example"
        )
    assert (created1, created2, created3) == (True, False, False)
    assert c1.id == c2.id
    assert c1.phone == "+4915123456789"
    assert c3.id == shop_a.customer_id


async def test_identity_conflicts_and_merge_undo(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    h = shop_a.h()
    r = await client.post("/api/v1/customers", json={"name": "Ann B", "phone": "+47 912 34 567"}, headers=h)
    assert r.status_code == 201
    other = r.json()["id"]
    assert r.json()["identities"] == [
        {"id": r.json()["identities"][0]["id"], "kind": "phone", "value": "+4791234567"}
    ]
    # the same email can't belong to two customers: the answer names the owner
    r = await client.post(
        f"/api/v1/customers/{other}/identities",
        json={"kind": "email", "value": "buyer@shop-a.example"},
        headers=h,
    )
    assert r.status_code == 409
    assert r.json()["error"]["details"] == {"field": "value", "customer_id": shop_a.customer_id}

    r = await client.post(
        "/api/v1/conversations",
        json={"customer_id": other, "channel_id": shop_a.channel_id, "message": "hei"},
        headers=h,
    )
    conv = r.json()["id"]
    r = await client.post(
        f"/api/v1/customers/{shop_a.customer_id}/merge", json={"merge_customer_id": other}, headers=h
    )
    assert r.status_code == 200
    assert sorted(i["value"] for i in r.json()["identities"]) == ["+4791234567", "buyer@shop-a.example"]
    assert r.json()["phone"] == "+4791234567"
    r = await client.get(f"/api/v1/conversations/{conv}", headers=h)
    assert r.json()["customer_id"] == shop_a.customer_id
    r = await client.get(f"/api/v1/customers/{other}", headers=h)
    assert r.status_code == 404
    r = await client.get("/api/v1/customers", headers=h)
    assert [c["id"] for c in r.json()["items"]] == [shop_a.customer_id]

    r = await client.post(f"/api/v1/customers/{other}/unmerge", headers=h)
    assert r.status_code == 200
    assert [i["value"] for i in r.json()["identities"]] == ["+4791234567"]
    r = await client.get(f"/api/v1/conversations/{conv}", headers=h)
    assert r.json()["customer_id"] == other
    r = await client.post(f"/api/v1/customers/{other}/unmerge", headers=h)
    assert r.status_code == 409


async def test_bad_customer_input(client: httpx.AsyncClient, shop_a: ShopWorld, db: Database) -> None:
    before = await count_rows(db, "customers")
    for body, status in [
        ({"name": "X", "phone": "not a phone"}, 422),
        ({"name": "X", "email": "no-at-sign"}, 422),
        ({"name": "X", "country": "Germany"}, 422),
        ({"name": "X", "unknown_field": 1}, 422),
        ({"name": 12}, 422),
        ({"name": "X", "email": "buyer@shop-a.example"}, 409),
    ]:
        r = await client.post("/api/v1/customers", json=body, headers=shop_a.h())
        assert r.status_code == status, body
        assert set(r.json()["error"]) == {"code", "message", "details"}
    assert await count_rows(db, "customers") == before
