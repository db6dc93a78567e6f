"""Survey buttons in the channels: a WhatsApp interactive list sent to a real local HTTP server standing in
for the Cloud API, the customer's signed list reply recorded as the answer; the chat widget's buttons."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from storedesk.channels.models import ChannelKind
from storedesk.conversations.models import Message
from storedesk.db.session import Database
from storedesk.surveys.models import Survey, SurveyResponse
from tests.channels.conftest import FakeProvider, add_channel, fixture_bytes, meta_signature
from tests.conftest import ShopWorld

pytestmark = pytest.mark.anyio

SECRET = "meta-app-secret-a"
PID = "106540352242922"
CUSTOMER = "4915112345678"


def list_reply(button_id: str, title: str, wamid: str) -> bytes:
    """A customer's answer to an interactive list, as the Cloud API delivers it."""
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": "15550783881", "phone_number_id": PID},
                                "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": CUSTOMER}],
                                "messages": [
                                    {
                                        "context": {"from": "15550783881", "id": "wamid.TEST0002"},
                                        "from": CUSTOMER,
                                        "id": wamid,
                                        "timestamp": "1749416999",
                                        "type": "interactive",
                                        "interactive": {
                                            "type": "list_reply",
                                            "list_reply": {"id": button_id, "title": title},
                                        },
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


async def deliver(client: httpx.AsyncClient, body: bytes) -> None:
    r = await client.post("/webhooks/whatsapp", content=body, headers=meta_signature(body, SECRET))
    assert (r.status_code, r.text) == (200, "EVENT_RECEIVED")


async def messages(db: Database, conversation_id: int) -> list[Message]:
    async with db.transaction() as s:
        rows = await s.execute(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
        return list(rows.scalars())


async def test_whatsapp_survey_as_a_list_and_the_reply_records_the_answer(
    db: Database, shop_a: ShopWorld, client: httpx.AsyncClient, run_jobs: Any, provider: FakeProvider
) -> None:
    await add_channel(
        db,
        shop_a,
        ChannelKind.whatsapp,
        external_id=PID,
        credentials={"app_secret": SECRET, "access_token": "EAAG-test-token"},
        settings={"verify_token": "verify", "api_base_url": provider.base_url},
    )
    await deliver(
        client,
        fixture_bytes(
            "whatsapp_text.json", PHONE_NUMBER_ID=PID, WAMID="wamid.IN1", FROM=CUSTOMER, TEXT="Hallo?"
        ),
    )
    await run_jobs()
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/messages", json={"text": "Ist unterwegs."}, headers=shop_a.h()
    )
    assert r.status_code == 201
    r = await client.post(
        f"/api/v1/conversations/{conv['id']}/status", json={"status": "resolved"}, headers=shop_a.h()
    )
    assert r.status_code == 200
    await run_jobs()  # delivery of the reply; survey.after_resolve → survey.send → delivery of the survey

    async with db.transaction() as s:
        survey = (await s.execute(select(Survey).where(Survey.conversation_id == conv["id"]))).scalar_one()
    assert (survey.status, survey.kinds, survey.language) == ("sent", ["csat"], "en")
    sent = [req.json() for req in provider.requests]
    assert [p["type"] for p in sent] == ["text", "interactive"]
    question = sent[1]
    token = question["interactive"]["action"]["sections"][0]["rows"][0]["id"].split(":")[1]
    assert question == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {
                "text": "How satisfied are you with the help you received from Shop shop-a?\n"
                "1 = Very dissatisfied · 5 = Very satisfied\n\n"
                f"Tap a score below, or answer here: http://127.0.0.1:8000/s/{token}"
            },
            "action": {
                "button": "Your feedback",
                "sections": [
                    {
                        "title": "Your feedback",
                        "rows": [
                            {"id": f"survey:{token}:1", "title": "1", "description": "Very dissatisfied"},
                            {"id": f"survey:{token}:2", "title": "2"},
                            {"id": f"survey:{token}:3", "title": "3"},
                            {"id": f"survey:{token}:4", "title": "4"},
                            {"id": f"survey:{token}:5", "title": "5", "description": "Very satisfied"},
                        ],
                    }
                ],
            },
        },
    }
    survey_message = (await messages(db, conv["id"]))[-1]
    assert (survey_message.provider_message_id, survey_message.delivery_status) == ("wamid.TEST0002", "sent")

    # the customer picks 4 in the list: the signed webhook records the answer, without reopening
    before = len(provider.requests)
    await deliver(client, list_reply(f"survey:{token}:4", "4", "wamid.ANSWER1"))
    await run_jobs()
    async with db.transaction() as s:
        [response] = (await s.execute(select(SurveyResponse))).scalars().all()
    assert (response.survey_id, response.kind, response.score, response.conversation_id) == (
        survey.id,
        "csat",
        4,
        conv["id"],
    )
    after = (await client.get(f"/api/v1/conversations/{conv['id']}", headers=shop_a.h())).json()
    assert (after["status"], after["reopened_count"]) == ("resolved", 0)
    tail = [(m.direction, m.author_type, m.text) for m in (await messages(db, conv["id"]))[-2:]]
    assert tail == [
        ("system", "system", "4"),  # the tap, kept in the timeline (meta.interactive has its id)
        ("outbound", "system", "Thank you for your feedback!"),
    ]
    assert [(p["type"], p["text"]["body"]) for p in (req.json() for req in provider.requests[before:])] == [
        ("text", "Thank you for your feedback!")
    ]
    # Meta redelivers the same webhook: nothing new; tapping again: "already answered", no second row
    await deliver(client, list_reply(f"survey:{token}:4", "4", "wamid.ANSWER1"))
    assert await run_jobs() == 0  # recognised at the door: not even an ingest job
    await deliver(client, list_reply(f"survey:{token}:2", "2", "wamid.ANSWER2"))
    await run_jobs()
    async with db.transaction() as s:
        assert len((await s.execute(select(SurveyResponse))).scalars().all()) == 1
    assert (await messages(db, conv["id"]))[-1].text == "You have already answered this survey. Thank you!"
