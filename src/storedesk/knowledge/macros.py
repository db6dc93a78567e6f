"""Macros (canned replies): per-language bodies with ``{{customer.first_name}}``-style variables.

The write paths for macros and the variable renderer. Variables are a fixed allow-list filled from our
own data; a macro body is never evaluated as a template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.events.service import record
from storedesk.kit.actor import Actor
from storedesk.kit.errors import Conflict, ValidationFailed
from storedesk.kit.repository import ShopRepository
from storedesk.knowledge.models import Macro

VARIABLE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")
VARIABLES = (
    "customer.first_name",
    "customer.name",
    "customer.email",
    "order.number",
    "order.status",
    "order.total",
    "shipment.carrier",
    "shipment.tracking_number",
    "shipment.tracking_url",
    "shipment.eta",
    "agent.first_name",
    "agent.name",
    "shop.name",
    "conversation.number",
)
MAX_BODY = 20_000


class MacroRepository(ShopRepository[Macro]):
    model = Macro
    label = "macro"

    async def list(self) -> Sequence[Macro]:
        return (await self.session.execute(self.select().order_by(Macro.name))).scalars().all()


def pick_language(bodies: dict[str, Any], wanted: Sequence[str | None]) -> str | None:
    """The first language of ``wanted`` the macro has a body for; else its first body's language."""
    for lang in wanted:
        if lang and str(bodies.get(lang) or "").strip():
            return lang
    for lang, body in bodies.items():
        if str(body or "").strip():
            return str(lang)
    return None


def render_macro(body: str, values: dict[str, str | None]) -> tuple[str, list[str]]:
    """Fill the variables; returns the text and the variables that had no value (left visible)."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is None or value == "":
            missing.append(name)
            return match.group(0)
        return value

    return VARIABLE.sub(fill, body), missing


def _clean(name: str, bodies: dict[str, str], languages: Sequence[str]) -> tuple[str, dict[str, str]]:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed(
            "a macro needs a name of 1–200 characters",
            details={"field": "name"},
            reason="macro_name_invalid",
            params={"max": 200},
        )
    cleaned = {lang: body.strip() for lang, body in bodies.items() if body and body.strip()}
    if not cleaned:
        raise ValidationFailed(
            "write the macro in at least one language", details={"field": "bodies"}, reason="macro_empty"
        )
    for lang, body in cleaned.items():
        if lang not in languages:
            raise ValidationFailed(
                f"{lang} is not one of the shop's languages",
                details={"field": f"body_{lang}"},
                reason="macro_language",
                params={"language": lang},
            )
        if len(body) > MAX_BODY:
            raise ValidationFailed(
                f"the text is longer than {MAX_BODY} characters",
                details={"field": f"body_{lang}"},
                reason="text_too_long",
                params={"max": MAX_BODY},
            )
        unknown = sorted({v for v in VARIABLE.findall(body) if v not in VARIABLES})
        if unknown:
            raise ValidationFailed(
                "unknown variable: " + ", ".join("{{" + u + "}}" for u in unknown),
                details={"field": f"body_{lang}", "unknown": unknown},
                reason="macro_variable_unknown",
                params={"variables": ", ".join("{{" + u + "}}" for u in unknown)},
            )
    return name, cleaned


def _clean_intent(intent: str | None) -> str | None:
    from storedesk.assistant.nlu.intents import INTENTS

    intent = (intent or "").strip() or None
    if intent is not None and intent not in INTENTS:
        raise ValidationFailed(
            f"{intent} is not an intent",
            details={"field": "intent"},
            reason="macro_intent_unknown",
            params={"intent": intent},
        )
    return intent


async def save_macro(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    languages: Sequence[str],
    name: str,
    bodies: dict[str, str],
    macro_id: int | None = None,
    intent: str | None = None,
) -> Macro:
    """Create a macro, or change one when ``macro_id`` is given. ``intent``: the customer intent it answers
    (macro suggestions rank it first for that intent); empty or None: matched by its text only."""
    name, cleaned = _clean(name, bodies, languages)
    intent = _clean_intent(intent)
    repo = MacroRepository(session, shop_id)
    if macro_id is None:
        macro = Macro(shop_id=shop_id, name=name, bodies=cleaned, intent=intent, actions={})
        session.add(macro)
    else:
        macro = await repo.get_or_404(macro_id)
        macro.name = name
        macro.bodies = cleaned
        macro.intent = intent
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"a macro named {name!r} already exists",
            details={"field": "name"},
            reason="macro_name_taken",
            params={"name": name},
        ) from exc
    await record(
        session,
        shop_id=shop_id,
        type="macro.created" if macro_id is None else "macro.updated",
        actor=actor,
        data={"macro_id": macro.id, "languages": sorted(cleaned), "intent": intent},
    )
    return macro


async def delete_macro(session: AsyncSession, *, shop_id: int, actor: Actor, macro_id: int) -> None:
    macro = await MacroRepository(session, shop_id).get_or_404(macro_id)
    await session.delete(macro)
    await record(session, shop_id=shop_id, type="macro.deleted", actor=actor, data={"macro_id": macro_id})
