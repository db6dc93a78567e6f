"""Twilio SMS and voice: signatures (Twilio's documented vector), inbound SMS, status callbacks, calls,
voicemail, and outbound SMS against a real local HTTP server."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from storedesk.channels.models import ChannelKind
from storedesk.channels.twilio.signature import signature_for, signature_ok
from storedesk.db.session import Database
from tests.channels.conftest import FakeProvider, add_channel, sqlite_only
from tests.conftest import ShopWorld, count_rows

pytestmark = pytest.mark.anyio

TOKEN = "twilio-auth-token"
SID = "AC0123456789abcdef0123456789abcdef"
BASE = "https://desk.example.com"  # what Twilio calls; the test client talks to the app directly


def test_twilio_documented_example_vector() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    assert signature_for(url, params, "12345") == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert signature_ok(url, list(reversed(params)), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345")
    assert not signature_ok(
        url, [*params[:-1], ("To", "+18005551213")], "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", "12345"
    )
    assert not signature_ok(url, params, None, "12345")


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    settings.base_url = BASE
    return settings


async def sms_channel(
    db: Database,
    shop: ShopWorld,
    provider: FakeProvider | None = None,
    *,
    kind: ChannelKind = ChannelKind.sms,
) -> int:
    return await add_channel(
        db,
        shop,
        kind,
        external_id="+4930123456789",
        credentials={"account_sid": SID, "auth_token": TOKEN},
        settings={"api_base_url": provider.base_url, "public_base_url": BASE} if provider else {},
    )


async def post_signed(
    client: httpx.AsyncClient, path: str, params: dict[str, str], token: str = TOKEN
) -> httpx.Response:
    signature = signature_for(BASE + path, list(params.items()), token)
    return await client.post(
        path,
        content=urlencode(params),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )


def sms(
    sid: str = "SM1f0e8ae6ade43cb3c0ce4525424e404f", body: str = "Hi, my parcel is late"
) -> dict[str, str]:
    return {
        "ToCountry": "DE",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "DE",
        "To": "+4930123456789",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": SID,
        "From": "+4915112345678",
        "ApiVersion": "2010-04-01",
    }


async def test_inbound_sms_dedupe_and_signature(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs
) -> None:
    channel_id = await sms_channel(db, shop_a)
    path = f"/webhooks/twilio/{channel_id}/sms"
    r = await post_signed(client, path, sms())
    assert (r.status_code, r.headers["content-type"], r.text) == (
        200,
        "text/xml; charset=utf-8",
        '<?xml version="1.0" encoding="UTF-8"?><Response/>',
    )
    assert await run_jobs() == 1
    r = await post_signed(client, path, sms())  # Twilio retries
    assert r.status_code == 200
    assert await run_jobs() == 0
    assert (await count_rows(db, "inbound_events"), await count_rows(db, "messages")) == (1, 1)

    before = (await count_rows(db, "inbound_events"), await count_rows(db, "jobs"))
    r = await post_signed(client, path, sms(sid="SMother"), token="wrong-token")
    assert r.status_code == 401
    r = await client.post(
        path,
        content=urlencode(sms(sid="SMother")),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 401
    assert (await count_rows(db, "inbound_events"), await count_rows(db, "jobs")) == before

    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    customer = (await client.get(f"/api/v1/customers/{conv['customer_id']}", headers=shop_a.h())).json()
    assert customer["phone"] == "+4915112345678"
    msgs = (await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=shop_a.h())).json()[
        "items"
    ]
    assert [(m["text"], m["provider_message_id"]) for m in msgs] == [
        ("Hi, my parcel is late", "SM1f0e8ae6ade43cb3c0ce4525424e404f")
    ]


@sqlite_only
async def test_signature_uses_the_public_base_url(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    channel_id = await sms_channel(db, shop_a)
    path = f"/webhooks/twilio/{channel_id}/sms"
    # signed for the URL the app sees behind the proxy, not the one Twilio called: refused
    signature = signature_for("http://testserver" + path, list(sms().items()), TOKEN)
    r = await client.post(
        path,
        content=urlencode(sms()),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 401


async def test_other_shops_token_cannot_post_to_our_channel(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    channel_a = await sms_channel(db, shop_a)
    await add_channel(
        db,
        shop_b,
        ChannelKind.sms,
        external_id="+4930999",
        credentials={"account_sid": "ACb", "auth_token": "token-of-b"},
    )
    r = await post_signed(client, f"/webhooks/twilio/{channel_a}/sms", sms(), token="token-of-b")
    assert r.status_code == 401
    assert await count_rows(db, "inbound_events") == 0


async def test_outbound_sms_and_status_callbacks(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs, provider: FakeProvider
) -> None:
    channel_id = await sms_channel(db, shop_a, provider)
    await post_signed(client, f"/webhooks/twilio/{channel_id}/sms", sms())
    await run_jobs()
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    reply = (
        await client.post(
            f"/api/v1/conversations/{conv['id']}/messages",
            json={"text": "It arrives tomorrow."},
            headers=shop_a.h(),
        )
    ).json()
    await run_jobs()
    [sent] = provider.requests
    assert sent.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert sent.form() == {
        "To": "+4915112345678",
        "Body": "It arrives tomorrow.",
        "From": "+4930123456789",
        "StatusCallback": f"{BASE}/webhooks/twilio/{channel_id}/status",
    }
    sid = "SM" + "1".rjust(32, "0")
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert (msg["delivery_status"], msg["provider_message_id"]) == ("sent", sid)
    status_path = f"/webhooks/twilio/{channel_id}/status"
    for status in ("delivered", "sent"):  # out of order
        r = await post_signed(
            client,
            status_path,
            {
                "MessageSid": sid,
                "MessageStatus": status,
                "AccountSid": SID,
                "To": "+4915112345678",
                "From": "+4930123456789",
            },
        )
        assert r.status_code == 204
        await run_jobs()
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert msg["delivery_status"] == "delivered"
    r = await post_signed(
        client,
        status_path,
        {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003", "AccountSid": SID},
    )
    await run_jobs()
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert (msg["delivery_status"], msg["delivery_error"]) == (
        "failed",
        "Twilio: undelivered (error 30003: unreachable handset)",
    )


@sqlite_only
@pytest.mark.parametrize(
    ("status", "answer", "outcome"),
    [
        (503, {"code": 20500, "message": "Internal Server Error"}, ("queued", None)),
        (429, {"code": 20429, "message": "Too Many Requests"}, ("queued", None)),
        (
            400,
            {
                "code": 21211,
                "message": "The 'To' number +4915112345678 is not a valid phone number.",
                "status": 400,
            },
            (
                "failed",
                "the customer's phone number is not valid — Twilio answered 400: The 'To' number +4915112345678 is not a valid phone number. (error 21211)",
            ),
        ),
    ],
)
async def test_outbound_sms_errors(
    client: httpx.AsyncClient,
    db: Database,
    shop_a: ShopWorld,
    run_jobs,
    provider: FakeProvider,
    status: int,
    answer: dict,
    outcome: tuple,
) -> None:
    channel_id = await sms_channel(db, shop_a, provider)
    await post_signed(client, f"/webhooks/twilio/{channel_id}/sms", sms())
    await run_jobs()
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    reply = (
        await client.post(
            f"/api/v1/conversations/{conv['id']}/messages", json={"text": "Hi"}, headers=shop_a.h()
        )
    ).json()
    provider.respond(status, answer)
    await run_jobs()
    msg = (await client.get(f"/api/v1/messages/{reply['id']}", headers=shop_a.h())).json()
    assert (msg["delivery_status"], msg["delivery_error"]) == outcome


@sqlite_only
async def test_call_events_and_voicemail_on_the_timeline(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, run_jobs
) -> None:
    channel_id = await sms_channel(db, shop_a, kind=ChannelKind.voice)
    call = {
        "CallSid": "CA5ef8732a3c49700934481addd5ce1659",
        "AccountSid": SID,
        "From": "+4915112345678",
        "To": "+4930123456789",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        "Caller": "+4915112345678",
    }
    r = await post_signed(client, f"/webhooks/twilio/{channel_id}/voice", call)
    assert r.status_code == 200
    assert r.text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">Thank you for calling. Please leave a '
        'message after the tone and we will get back to you.</Say><Record maxLength="120" playBeep="true" '
        f'recordingStatusCallback="{BASE}/webhooks/twilio/{channel_id}/voice/recording?from=%2B4915112345678" '
        'recordingStatusCallbackEvent="completed"/></Response>'
    )
    recording = {
        "AccountSid": SID,
        "CallSid": call["CallSid"],
        "RecordingSid": "RE557ce644e5ab84fa21cc21112e22c485",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE557ce644e5ab84fa21cc21112e22c485",
        "RecordingStatus": "completed",
        "RecordingDuration": "37",
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
    }
    r = await post_signed(
        client, f"/webhooks/twilio/{channel_id}/voice/recording?from=%2B4915112345678", recording
    )
    assert r.status_code == 204
    done = {**call, "CallStatus": "completed", "CallDuration": "52"}
    r = await post_signed(client, f"/webhooks/twilio/{channel_id}/voice/status", done)
    assert r.status_code == 204
    for _ in range(3):
        await run_jobs()
    conv = (await client.get("/api/v1/conversations", headers=shop_a.h())).json()["items"][0]
    msgs = (await client.get(f"/api/v1/conversations/{conv['id']}/messages", headers=shop_a.h())).json()[
        "items"
    ]
    rec_url = recording["RecordingUrl"] + ".mp3"
    assert sorted((m["direction"], m["text"]) for m in msgs) == sorted(
        [
            ("system", "📞 Incoming call from +4915112345678"),
            ("inbound", f"🎙 Voicemail (37 s): {rec_url}"),
            ("system", "📞 Call from +4915112345678 ended: completed, 52 s"),
        ]
    )
    assert conv["waiting_since"] is not None
