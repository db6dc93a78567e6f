"""Service errors shown outside the conversation workspace — the KPI report and the review reply — in the
agent's language through their ``reason`` (``storedesk.web.errors``), not as the English message."""

from __future__ import annotations

import httpx
import pytest

from storedesk.kit.errors import ValidationFailed
from storedesk.web import i18n
from storedesk.web.errors import error_text
from tests.conftest import ShopWorld
from tests.web.helpers import login

pytestmark = pytest.mark.anyio


async def test_a_reversed_kpi_period_is_explained_in_german(
    client: httpx.AsyncClient, shop_a: ShopWorld
) -> None:
    client.headers["Accept-Language"] = "de-DE,de;q=0.9"
    await login(client, "admin@shop-a.test")
    r = await client.get("/app/kpis?from=2026-11-10&to=2026-11-01")
    assert r.status_code == 200
    assert "Das Enddatum liegt vor dem Startdatum." in r.text
    assert "is before" not in r.text
    r = await client.get("/app/kpis?from=2020-01-01&to=2026-11-01")
    assert "Ein Bericht umfasst höchstens 1098 Tage." in r.text


def test_review_reply_and_report_reasons_have_german_texts() -> None:
    i18n.activate("de")
    try:
        assert (
            error_text(ValidationFailed("x", reason="review_reply_length", params={"max": 5000}))
            == "Eine Antwort hat 1–5000 Zeichen."
        )
        assert (
            error_text(ValidationFailed("x", reason="customer_unreachable"))
            == "Es gibt keinen Kanal, über den dieser Kunde erreichbar ist."
        )
        assert (
            error_text(ValidationFailed("x", reason="report_group_by", params={"options": "day, week"}))
            == "Gruppieren Sie nach einem von: day, week."
        )
    finally:
        i18n.activate("en")
