"""PATCH /api/v1/me (and the agent admin endpoints): a name with nothing visible once trimmed — spaces,
tabs, no-break spaces, zero-width characters — is 422 with the JSON error body naming the field, and the
stored name is unchanged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio


def _field(body: dict[str, Any]) -> str:
    """The field an error body names: ``details.field`` (service) or the body location (schema)."""
    details = body["error"]["details"]
    if isinstance(details, dict):
        return str(details["field"])
    [problem] = details
    return str(problem["loc"][-1])


@pytest.mark.parametrize("name", ["   ", "\t\n", "\u00a0\u3000", "\u200b", " \u200b\u200d ", "\ufeff"])
async def test_a_blank_name_is_422_naming_the_field(
    client: httpx.AsyncClient, shop_a: ShopWorld, name: str
) -> None:
    before = (await client.get("/api/v1/me", headers=shop_a.h())).json()["name"]
    r = await client.patch("/api/v1/me", json={"name": name}, headers=shop_a.h())
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_failed"
    assert _field(r.json()) == "name"
    assert (await client.get("/api/v1/me", headers=shop_a.h())).json()["name"] == before


async def test_a_name_is_trimmed_and_kept_with_inner_spaces(
    client: httpx.AsyncClient, shop_a: ShopWorld
) -> None:
    r = await client.patch("/api/v1/me", json={"name": "  Alex  Kim \u200b"}, headers=shop_a.h())
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Alex  Kim \u200b".strip()


async def test_admins_cannot_set_or_create_a_blank_name_either(
    client: httpx.AsyncClient, shop_a: ShopWorld
) -> None:
    agent_id = shop_a.agent_ids["agent"]
    r = await client.patch(f"/api/v1/agents/{agent_id}", json={"name": "\u200b"}, headers=shop_a.h("admin"))
    assert (r.status_code, _field(r.json())) == (422, "name")
    r = await client.post(
        "/api/v1/agents",
        json={"email": "blank@shop-a.test", "name": "\u2060", "role": "agent", "password": "long-enough-1"},
        headers=shop_a.h("admin"),
    )
    assert (r.status_code, _field(r.json())) == (422, "name")
