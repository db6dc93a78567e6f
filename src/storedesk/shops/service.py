from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.conversations.models import Conversation
from storedesk.conversations.repository import forget_facts
from storedesk.events.service import record
from storedesk.kit.actor import Actor
from storedesk.kit.errors import Conflict, NotFound, ValidationFailed
from storedesk.shops.models import DEFAULT_BUSINESS_HOURS, DEFAULT_POLICIES, Shop, new_settings_token

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def _validate(languages: list[str] | None, default_language: str | None, timezone: str | None) -> None:
    if languages is not None and not languages:
        raise ValidationFailed("a shop needs at least one language", details={"field": "languages"})
    if languages is not None and default_language is not None and default_language not in languages:
        raise ValidationFailed(
            "default_language must be one of the shop's languages", details={"field": "default_language"}
        )
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationFailed(f"unknown time zone {timezone!r}", details={"field": "timezone"}) from exc


async def create_shop(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    languages: list[str],
    default_language: str,
    currency: str = "EUR",
    timezone: str = "UTC",
    country: str | None = None,
    support_email: str | None = None,
) -> Shop:
    if not SLUG.match(slug):
        raise ValidationFailed("slug must be lowercase letters, digits and dashes", details={"field": "slug"})
    _validate(languages, default_language, timezone)
    if (await session.execute(select(Shop.id).where(Shop.slug == slug))).first():
        raise Conflict(f"a shop with slug {slug!r} already exists", details={"field": "slug"})
    shop = Shop(
        slug=slug,
        name=name,
        languages=languages,
        default_language=default_language,
        currency=currency,
        timezone=timezone,
        country=country,
        support_email=support_email,
        business_hours=dict(DEFAULT_BUSINESS_HOURS),
        policies=dict(DEFAULT_POLICIES),
    )
    session.add(shop)
    await session.flush()
    await record(session, shop_id=shop.id, type="shop.created", actor=Actor("system"), data={"slug": slug})
    return shop


async def get_shop(session: AsyncSession, shop_id: int) -> Shop:
    shop = await session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("shop", shop_id)
    return shop


async def get_shop_by_slug(session: AsyncSession, slug: str) -> Shop:
    shop = (await session.execute(select(Shop).where(Shop.slug == slug))).scalar_one_or_none()
    if shop is None:
        raise NotFound("shop", slug)
    return shop


async def update_shop(session: AsyncSession, shop_id: int, actor: Actor, changes: dict[str, Any]) -> Shop:
    shop = await get_shop(session, shop_id)
    _validate(
        changes.get("languages"),
        changes.get("default_language", shop.default_language if "languages" in changes else None),
        changes.get("timezone"),
    )
    if "default_language" in changes and "languages" not in changes:
        _validate(shop.languages, changes["default_language"], None)
    before = {k: getattr(shop, k) for k in changes}
    for key, value in changes.items():
        if key == "policies":
            value = {**shop.policies, **value}
        setattr(shop, key, value)
    shop.settings_token = new_settings_token()  # cached copies (SLA calendar) are reloaded
    forget_facts(session)  # … also by later writes of this transaction
    await record(
        session,
        shop_id=shop.id,
        type="shop.updated",
        actor=actor,
        data={"before": before, "after": {k: getattr(shop, k) for k in changes}},
    )
    return shop


async def next_conversation_number(session: AsyncSession, shop_id: int) -> int:
    """The shop's next conversation number (1, 2, 3 …; a rolled-back creation may leave a gap).

    PostgreSQL: a sequence per shop — ``nextval`` takes no row lock, so conversations of one shop are
    created concurrently. SQLite has one writer at a time anyway: a counter on the shop row.
    """
    if session.get_bind().dialect.name == "postgresql":
        name = f"shop_{int(shop_id)}_conversation_number"
        try:
            async with session.begin_nested():
                return int((await session.execute(text(f"SELECT nextval('{name}')"))).scalar_one())
        except ProgrammingError:
            # first conversation of this shop on this database: start after the highest number in use
            start = (
                await session.execute(
                    select(func.coalesce(func.max(Conversation.number), 0)).where(
                        Conversation.shop_id == shop_id
                    )
                )
            ).scalar_one()
            await session.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {int(start) + 1}"))
            return int((await session.execute(text(f"SELECT nextval('{name}')"))).scalar_one())
    result = await session.execute(
        update(Shop)
        .where(Shop.id == shop_id)
        .values(conversation_seq=Shop.conversation_seq + 1)
        .returning(Shop.conversation_seq)
    )
    return int(result.scalar_one())
