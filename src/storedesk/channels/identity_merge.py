"""Duplicate-customer suggestions: the same person reached us under handles that do not match exactly.

Signals: the same email once normalised (``+tags``, Gmail dots, googlemail.com), the same phone number
written differently (the last 9 digits: national vs international format, WhatsApp vs SMS), and the same
name (accents, case and word order ignored). A suggestion needs an email variant, or a phone variant
together with the same name. Agents decide; :func:`storedesk.customers.service.merge` does the merge.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.customers.models import Customer, CustomerIdentity, IdentityKind
from storedesk.customers.repository import CustomerRepository

PHONE_TAIL = 9
GMAIL = {"gmail.com", "googlemail.com"}
PHONE_KINDS = (IdentityKind.phone.value, IdentityKind.whatsapp.value)


def name_key(name: str | None) -> str | None:
    if not name:
        return None
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    words = sorted(w for w in "".join(ch if ch.isalnum() else " " for ch in plain).split() if w)
    return " ".join(words) or None


def email_key(address: str) -> str:
    local, _, domain = address.lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL:
        return f"{local.replace('.', '')}@gmail.com"
    return f"{local}@{domain}"


def phone_key(value: str) -> str | None:
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[-PHONE_TAIL:] if len(digits) >= 7 else None


@dataclass
class Suggestion:
    customer: Customer
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0


async def find_duplicates(
    session: AsyncSession, *, shop_id: int, customer_id: int, limit: int = 20
) -> list[Suggestion]:
    repo = CustomerRepository(session, shop_id)
    target = await repo.get_or_404(customer_id)
    identities = await repo.identities(target.id)
    emails = {email_key(i.value) for i in identities if i.kind == IdentityKind.email}
    if target.email:
        emails.add(email_key(target.email))
    phones = {k for i in identities if i.kind in PHONE_KINDS and (k := phone_key(i.value))}
    if target.phone and (k := phone_key(target.phone)):
        phones.add(k)
    own_name = name_key(target.name)

    conditions = []
    for key in emails:
        local, _, domain = key.rpartition("@")
        domains = GMAIL if domain in GMAIL else {domain}
        for d in domains:
            conditions.append(
                (CustomerIdentity.kind == IdentityKind.email.value)
                & CustomerIdentity.value.like(f"{local[:1]}%@{d}")
            )
    for tail in phones:
        conditions.append(CustomerIdentity.kind.in_(PHONE_KINDS) & CustomerIdentity.value.like(f"%{tail}"))
    candidate_ids: set[int] = set()
    if conditions:
        stmt = (
            select(CustomerIdentity.customer_id)
            .where(
                CustomerIdentity.shop_id == shop_id,
                CustomerIdentity.customer_id != target.id,
                or_(*conditions),
            )
            .limit(500)
        )
        candidate_ids |= set((await session.execute(stmt)).scalars())
    if target.name:
        stmt2 = (
            repo.select()
            .where(Customer.id != target.id, func.lower(Customer.name) == target.name.lower())
            .limit(200)
        )
        candidate_ids |= {c.id for c in (await session.execute(stmt2)).scalars()}
    if not candidate_ids:
        return []
    candidates = list((await session.execute(repo.select().where(Customer.id.in_(candidate_ids)))).scalars())
    idents = await repo.identities_for([c.id for c in candidates])
    out: list[Suggestion] = []
    for other in candidates:
        suggestion = Suggestion(other)
        other_emails = {email_key(i.value) for i in idents[other.id] if i.kind == IdentityKind.email}
        other_phones = {k for i in idents[other.id] if i.kind in PHONE_KINDS and (k := phone_key(i.value))}
        same_name = own_name is not None and name_key(other.name) == own_name
        if emails & other_emails:
            suggestion.reasons.append("email variant")
            suggestion.score += 0.6
        if phones & other_phones:
            suggestion.reasons.append("phone variant")
            suggestion.score += 0.5
        if same_name:
            suggestion.reasons.append("same name")
            suggestion.score += 0.4
        if "email variant" in suggestion.reasons or ("phone variant" in suggestion.reasons and same_name):
            suggestion.score = round(min(suggestion.score, 1.0), 2)
            out.append(suggestion)
    out.sort(key=lambda s: (-s.score, s.customer.id))
    return out[:limit]
