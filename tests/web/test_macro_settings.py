"""Settings → Macros: the intent a macro answers ("Suggest for") is saved, shown again, changed and
cleared; an unknown intent is refused on the form in the agent's language."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from storedesk.db.session import Database
from storedesk.knowledge.models import Macro
from tests.conftest import ShopWorld
from tests.web.helpers import login

pytestmark = pytest.mark.anyio


async def _intents(db: Database, shop_id: int) -> dict[str, str | None]:
    async with db.transaction() as session:
        rows = await session.execute(select(Macro.name, Macro.intent).where(Macro.shop_id == shop_id))
        return {name: intent for name, intent in rows.all()}


async def test_the_macro_intent_is_saved_changed_and_cleared(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    csrf = await login(client, "admin@shop-a.test")
    form = {
        "csrf_token": csrf,
        "name": "On its way",
        "body_en": "Your order is on its way.",
        "intent": "track_order",
    }
    r = await client.post("/app/settings/macros", data=form)
    assert r.status_code == 303, r.text
    assert await _intents(db, shop_a.id) == {"On its way": "track_order"}
    page = (await client.get("/app/settings/macros")).text
    assert '<option value="track_order" selected>Where is my order</option>' in page
    async with db.transaction() as session:
        macro_id = (await session.execute(select(Macro.id).where(Macro.shop_id == shop_a.id))).scalar_one()
    r = await client.post("/app/settings/macros", data={**form, "macro_id": str(macro_id), "intent": ""})
    assert r.status_code == 303
    assert await _intents(db, shop_a.id) == {"On its way": None}

    client.headers["Accept-Language"] = "de"
    r = await client.post("/app/settings/macros", data={**form, "name": "Odd", "intent": "where_is_it"})
    assert r.status_code == 422
    assert "where_is_it ist kein bekanntes Kundenanliegen." in r.text
    assert await _intents(db, shop_a.id) == {"On its way": None}
