"""Embeddable contact form: ``POST /forms/{shop}/contact`` creates a conversation on the shop's webform
channel. A honeypot field catches simple bots (they get a normal-looking answer and nothing is stored);
submissions are rate limited per address."""

from __future__ import annotations

import hashlib
from html import escape
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from storedesk.api.deps import Session
from storedesk.channels import ingest
from storedesk.channels.ingest import InboundMessage, SenderIdentity, ThreadHints
from storedesk.channels.models import Channel, ChannelKind
from storedesk.channels.webhooks.kit import RateLimit, client_ip
from storedesk.customers.identity import normalise_email
from storedesk.customers.models import IdentityKind
from storedesk.kit.errors import NotFound, ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.shops.service import get_shop_by_slug

router = APIRouter(tags=["contact form"])

HONEYPOT = "website"
MAX_TEXT = 10_000
form_limit = RateLimit("5/minute", "webform.submit")

THANKS = """<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Thank you</title><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">
<h1>Thank you!</h1><p>We received your message and will answer by email.</p></body></html>"""


def _fields(raw: dict[str, Any]) -> dict[str, str]:
    return {k: str(v).strip() for k, v in raw.items() if isinstance(v, str | int | float)}


async def _read(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise ValidationFailed("the body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise ValidationFailed("send a JSON object")
        return _fields(data)
    form = await request.form()
    return _fields({k: v for k, v in form.items() if isinstance(v, str)})


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.headers.get(
        "content-type", ""
    ).startswith("application/json")


def _done(request: Request, fields: dict[str, str], payload: dict[str, Any]) -> Response:
    if _wants_html(request):
        target = fields.get("redirect", "")
        if target and urlsplit(target).scheme in ("http", "https"):
            return RedirectResponse(target, status_code=303)
        return HTMLResponse(THANKS, status_code=200)
    return JSONResponse(payload, status_code=201, headers={"Access-Control-Allow-Origin": "*"})


@router.post("/forms/{slug}/contact", summary="Contact form submission (form-encoded or JSON)")
async def contact(slug: str, request: Request, session: Session) -> Response:
    form_limit.check(slug, client_ip(request))
    fields = await _read(request)
    if fields.get(HONEYPOT):
        return _done(request, fields, {"status": "received"})
    shop = await get_shop_by_slug(session, slug)
    channel = (
        await session.execute(
            select(Channel)
            .where(
                Channel.shop_id == shop.id, Channel.kind == ChannelKind.webform, Channel.is_active.is_(True)
            )
            .order_by(Channel.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if channel is None:
        raise NotFound("contact form channel", slug)
    email = normalise_email(fields.get("email", ""))
    text = fields.get("message", "")
    if not text or len(text) > MAX_TEXT:
        raise ValidationFailed(f"the message needs 1–{MAX_TEXT} characters", details={"field": "message"})
    name = fields.get("name", "")[:200] or None
    order_number = fields.get("order_number", "")[:64]
    subject = fields.get("subject", "")[:500] or "Contact form"
    meta: dict[str, Any] = {"contact_form": True}
    if order_number:
        meta["order_number"] = order_number
    message = InboundMessage(
        channel_id=channel.id,
        sender=SenderIdentity(IdentityKind.email, email),
        name=name,
        text=text,
        subject=subject,
        language=(fields.get("language", "")[:2].lower() or None),
        thread=ThreadHints(new_conversation=True),
        meta=meta,
    )
    raw = orjson.dumps({k: v for k, v in fields.items() if k != HONEYPOT})
    # the same submission twice within the hour (a double click, a resent form) counts once
    hour = utcnow().strftime("%Y%m%d%H")
    content = "\n".join([hour, email, name or "", subject, order_number, text])
    key = ingest.event_key(channel.id, "form:" + hashlib.sha256(content.encode()).hexdigest())
    results = await ingest.ingest_now(
        session,
        source="webform",
        dedupe_key=key,
        shop_id=shop.id,
        channel_id=channel.id,
        headers={"content-type": request.headers.get("content-type", "")},
        body=raw,
        items=[message],
    )
    return _done(request, fields, {"status": "received" if results is not None else "duplicate"})


@router.get(
    "/forms/{slug}/contact",
    response_class=HTMLResponse,
    include_in_schema=False,
    summary="A ready-made contact form to embed",
)
async def form_page(slug: str, session: Session) -> HTMLResponse:
    shop = await get_shop_by_slug(session, slug)
    action = f"/forms/{escape(slug)}/contact"
    html = f"""<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Contact {escape(shop.name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input,textarea{{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}}
button{{margin-top:1rem;padding:.6rem 1.2rem;font:inherit}}.hp{{position:absolute;left:-9999px}}</style>
<h1>Contact {escape(shop.name)}</h1>
<form method="post" action="{action}">
<label for="name">Name</label><input id="name" name="name" autocomplete="name">
<label for="email">Email</label><input id="email" name="email" type="email" required autocomplete="email">
<label for="order_number">Order number (optional)</label><input id="order_number" name="order_number">
<label for="subject">Subject</label><input id="subject" name="subject">
<label for="message">Message</label><textarea id="message" name="message" rows="6" required></textarea>
<div class="hp" aria-hidden="true"><label for="website">Website</label><input id="website" name="website" tabindex="-1" autocomplete="off"></div>
<button type="submit">Send</button></form></html>"""
    return HTMLResponse(html)
