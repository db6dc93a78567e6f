"""Product reviews: CSV import (a store connector can call :func:`upsert_review` later), linking to the
customer, order and product, a follow-up conversation for negative reviews, and the agent's reply."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.repository import AgentRepository
from storedesk.commerce.models import Product, Variant
from storedesk.commerce.repository import OrderRepository
from storedesk.conversations import service as conversations
from storedesk.conversations.models import ConversationStatus, Direction, Priority
from storedesk.conversations.repository import ConversationRepository
from storedesk.customers.identity import normalise
from storedesk.customers.models import IdentityKind
from storedesk.customers.repository import CustomerRepository
from storedesk.customers.service import create_customer
from storedesk.events.service import record
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.kit.errors import ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.shops.service import get_shop
from storedesk.surveys.models import Review
from storedesk.surveys.repository import ReviewRepository
from storedesk.surveys.service import reach_channel, settings_of

NEGATIVE_MAX = 2  # 1–2 stars open a follow-up conversation
MAX_ROWS = 5000
MAX_TEXT = 10_000
REPLY_MAX = 5000
HEADER_ALIASES = {
    "id": "external_id",
    "review_id": "external_id",
    "external_id": "external_id",
    "rating": "rating",
    "stars": "rating",
    "title": "title",
    "body": "body",
    "text": "body",
    "review": "body",
    "product_sku": "sku",
    "sku": "sku",
    "product_handle": "handle",
    "handle": "handle",
    "product": "product_title",
    "product_title": "product_title",
    "order_number": "order_number",
    "order": "order_number",
    "customer_email": "email",
    "email": "email",
    "author": "author_name",
    "author_name": "author_name",
    "name": "author_name",
    "language": "language",
    "published_at": "published_at",
    "date": "published_at",
    "created_at": "published_at",
}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    follow_ups: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    review_ids: list[int] = field(default_factory=list)


def _parse_time(value: str) -> datetime:
    text = value.strip()
    if not text:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"published_at {value!r} is not an ISO date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_csv(text: str) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` with our field names (headers are matched case-insensitively)."""
    try:
        return _parse_csv(text)
    except csv.Error as exc:
        raise ValidationFailed(f"the CSV cannot be read: {exc}", details={"field": "file"}) from None


def _parse_csv(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed("the CSV file is empty", details={"field": "file"}) from None
    names = [HEADER_ALIASES.get(h.strip().lower()) for h in header]
    if "external_id" not in names or "rating" not in names:
        raise ValidationFailed("the CSV needs the columns id and rating", details={"field": "file"})
    rows: list[tuple[int, dict[str, str]]] = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationFailed(f"at most {MAX_ROWS} reviews per import", details={"field": "file"})
        rows.append((number, {n: v for n, v in zip(names, values, strict=False) if n}))
    return rows


async def _product_for(session: AsyncSession, shop_id: int, sku: str, handle: str) -> Product | None:
    if sku:
        stmt = (
            select(Product)
            .join(Variant, Variant.product_id == Product.id)
            .where(Product.shop_id == shop_id, Variant.shop_id == shop_id, Variant.sku == sku)
        )
        if (found := (await session.execute(stmt)).scalars().first()) is not None:
            return found
    if handle:
        stmt = select(Product).where(Product.shop_id == shop_id, Product.handle == handle)
        return (await session.execute(stmt)).scalar_one_or_none()
    return None


async def upsert_review(
    session: AsyncSession, *, shop_id: int, actor: Actor, source: str, row: dict[str, str]
) -> tuple[Review, bool, bool]:
    """Create or update one review from our field names. Returns ``(review, created, follow_up_opened)``."""
    external_id = (row.get("external_id") or "").strip()
    if not external_id or len(external_id) > 128:
        raise ValueError("id is missing or longer than 128 characters")
    try:
        rating = int((row.get("rating") or "").strip())
    except ValueError:
        raise ValueError("rating must be a whole number from 1 to 5") from None
    if not 1 <= rating <= 5:
        raise ValueError("rating must be a whole number from 1 to 5")
    body = (row.get("body") or "").strip()
    if len(body) > MAX_TEXT:
        raise ValueError(f"the review is longer than {MAX_TEXT} characters")
    published_at = _parse_time(row.get("published_at") or "")
    customers = CustomerRepository(session, shop_id)
    order = None
    if number := (row.get("order_number") or "").strip():
        order = await OrderRepository(session, shop_id).by_number(number)
    email = (row.get("email") or "").strip() or None
    customer = None
    if email:
        try:
            email = normalise(IdentityKind.email, email)
        except ValidationFailed:
            raise ValueError(f"customer email {email!r} is not valid") from None
        customer = await customers.by_identity(IdentityKind.email, email)
    if customer is None and order is not None and order.customer_id is not None:
        customer = await customers.get(order.customer_id)
    if customer is None and email:
        customer = await create_customer(
            session,
            shop_id=shop_id,
            actor=actor,
            name=(row.get("author_name") or "").strip() or None,
            email=email,
            language=(row.get("language") or "").strip() or None,
        )
    product = await _product_for(
        session, shop_id, (row.get("sku") or "").strip(), (row.get("handle") or "").strip()
    )
    values: dict[str, Any] = {
        "rating": rating,
        "title": (row.get("title") or "").strip()[:300] or None,
        "body": body,
        "author_name": (row.get("author_name") or "").strip()[:200] or None,
        "author_email": email,
        "language": (row.get("language") or "").strip()[:8] or None,
        "published_at": published_at,
        "product_id": product.id if product else None,
        "product_title": (product.title if product else (row.get("product_title") or "").strip()[:300])
        or None,
        "customer_id": customer.id if customer else None,
        "order_id": order.id if order else None,
    }
    repo = ReviewRepository(session, shop_id)
    review = await repo.by_external_id(source, external_id)
    created = review is None
    if review is None:
        review = Review(shop_id=shop_id, source=source, external_id=external_id, **values)
        session.add(review)
    else:
        for key, value in values.items():
            setattr(review, key, value)
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="review.imported" if created else "review.updated",
        actor=actor,
        customer_id=review.customer_id,
        order_id=review.order_id,
        data={"review_id": review.id, "rating": rating, "source": source},
    )
    opened = False
    if review.rating <= NEGATIVE_MAX and review.follow_up_conversation_id is None and review.customer_id:
        opened = await _follow_up(session, review) is not None
    return review, created, opened


async def import_csv(
    session: AsyncSession, *, shop_id: int, actor: Actor, text: str, source: str = "csv"
) -> ImportResult:
    """Import reviews from CSV; each row in its own savepoint (a bad row is reported, the others go in)."""
    result = ImportResult()
    for number, row in parse_csv(text):
        try:
            async with session.begin_nested():
                review, created, opened = await upsert_review(
                    session, shop_id=shop_id, actor=actor, source=source, row=row
                )
        except (ValueError, ValidationFailed) as exc:
            result.errors.append({"line": number, "error": getattr(exc, "message", None) or str(exc)})
            continue
        result.review_ids.append(review.id)
        result.created += created
        result.updated += not created
        result.follow_ups += opened
    return result


async def _follow_up(session: AsyncSession, review: Review) -> int | None:
    """A negative review: a conversation with priority high, assigned like survey follow-ups."""
    assert review.customer_id is not None
    shop = await get_shop(session, review.shop_id)
    channel = await reach_channel(session, shop.id, review.customer_id)
    if channel is None:
        return None
    stars = "★" * review.rating + "☆" * (5 - review.rating)
    about = review.product_title or review.title or f"review {review.external_id}"
    conversation = await conversations.open_conversation(
        session,
        shop_id=shop.id,
        actor=SYSTEM,
        customer_id=review.customer_id,
        channel_id=channel.id,
        subject=f"{stars} review: {about}"[:500],
        language=review.language,
        priority=Priority.high,
        order_id=review.order_id,
    )
    assignee = settings_of(shop).follow_up_assignee_id
    if assignee is not None:
        agent = await AgentRepository(session, shop.id).get(assignee)
        if agent is not None and agent.is_active:
            await conversations.assign(
                session,
                shop_id=shop.id,
                actor=SYSTEM,
                conversation_id=conversation.id,
                assignee_id=agent.id,
                team_id=None,
                set_team=False,
            )
    note = f"Negative review ({review.rating}/5) of {about}"
    if review.title:
        note += f"\n“{review.title}”"
    if review.body:
        note += f"\n{review.body[:2000]}"
    note += f"\nReview: /app/reviews/{review.id}"
    await conversations.add_note(
        session, shop_id=shop.id, actor=SYSTEM, conversation_id=conversation.id, text=note
    )
    review.follow_up_conversation_id = conversation.id
    await record(
        session,
        shop_id=shop.id,
        type="review.follow_up_opened",
        actor=SYSTEM,
        conversation_id=conversation.id,
        customer_id=review.customer_id,
        data={"review_id": review.id, "rating": review.rating},
    )
    return conversation.id


async def reply(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    review_id: int,
    text: str,
    message_customer: bool = True,
) -> Review:
    """The agent's reply to a review: kept with the review (to publish through a store connector) and,
    when the customer is known, sent to them in the review's conversation (opened if needed)."""
    text = text.strip()
    if not text or len(text) > REPLY_MAX:
        raise ValidationFailed(
            f"a reply is 1–{REPLY_MAX} characters",
            details={"field": "text"},
            reason="review_reply_length",
            params={"max": REPLY_MAX},
        )
    review = await ReviewRepository(session, shop_id).get_for_update(review_id)
    review.reply_text = text
    review.replied_at = utcnow()
    review.replied_by_agent_id = actor.id if actor.type == "agent" else None
    conversation_id = review.follow_up_conversation_id
    if message_customer and review.customer_id is not None:
        conversation = (
            await ConversationRepository(session, shop_id).get(conversation_id) if conversation_id else None
        )
        if conversation is None or conversation.status == ConversationStatus.closed:
            conversation_id = await _follow_up(session, review) if review.rating <= NEGATIVE_MAX else None
            if conversation_id is None:
                channel = await reach_channel(session, shop_id, review.customer_id)
                if channel is None:
                    raise ValidationFailed(
                        "there is no channel to reach this customer on",
                        details={"field": "text"},
                        reason="customer_unreachable",
                    )
                opened = await conversations.open_conversation(
                    session,
                    shop_id=shop_id,
                    actor=actor,
                    customer_id=review.customer_id,
                    channel_id=channel.id,
                    subject=f"Your review: {review.product_title or review.title or review.external_id}"[
                        :500
                    ],
                    language=review.language,
                    order_id=review.order_id,
                )
                conversation_id = opened.id
                review.follow_up_conversation_id = conversation_id
        assert conversation_id is not None
        await conversations.add_message(
            session,
            shop_id=shop_id,
            actor=actor,
            conversation_id=conversation_id,
            direction=Direction.outbound,
            text=text,
            meta={"review_id": review.id},
        )
    await record(
        session,
        shop_id=shop_id,
        type="review.replied",
        actor=actor,
        conversation_id=conversation_id,
        customer_id=review.customer_id,
        data={"review_id": review.id, "messaged_customer": bool(message_customer and review.customer_id)},
    )
    return review
