"""Customers and their identities: the single write paths for create, update, identify and merge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.assistant.models import AssistantTurn
from storedesk.channels.models import ChatSession, InboundEvent
from storedesk.commerce.models import Order, Return
from storedesk.conversations.models import Attachment, AuthorType, Conversation, Message
from storedesk.customers.identity import normalise
from storedesk.customers.models import Customer, CustomerIdentity, IdentityKind
from storedesk.customers.repository import CustomerRepository
from storedesk.db.session import after_commit
from storedesk.events.models import Event
from storedesk.events.service import record
from storedesk.kit import files
from storedesk.kit.actor import Actor
from storedesk.kit.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from storedesk.kit.time import utcnow

MERGE_UNDO_WINDOW = timedelta(days=7)


async def _attach_identity(
    session: AsyncSession, customer: Customer, kind: IdentityKind, value: str
) -> CustomerIdentity:
    repo = CustomerRepository(session, customer.shop_id)
    owner = await repo.by_identity(kind, value)
    if owner is not None and owner.id != customer.id:
        raise Conflict(
            f"{kind.value} {value} already belongs to customer {owner.id}; merge the customers instead",
            details={"field": "value", "customer_id": owner.id},
        )
    if owner is not None:
        existing = next(i for i in await repo.identities(customer.id) if i.kind == kind and i.value == value)
        return existing
    ident = CustomerIdentity(shop_id=customer.shop_id, customer_id=customer.id, kind=kind, value=value)
    session.add(ident)
    if kind == IdentityKind.email and not customer.email:
        customer.email = value
    if kind == IdentityKind.phone and not customer.phone:
        customer.phone = value
    return ident


async def create_customer(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    language: str | None = None,
    country: str | None = None,
    default_region: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Customer:
    email_n = normalise(IdentityKind.email, email) if email else None
    phone_n = normalise(IdentityKind.phone, phone, country or default_region) if phone else None
    repo = CustomerRepository(session, shop_id)
    for kind, value in ((IdentityKind.email, email_n), (IdentityKind.phone, phone_n)):
        if value and (owner := await repo.by_identity(kind, value)) is not None:
            raise Conflict(
                f"a customer with {kind.value} {value} already exists",
                details={"field": kind.value, "customer_id": owner.id},
            )
    customer = Customer(
        shop_id=shop_id,
        name=name,
        language=language,
        country=country.upper() if country else None,
        **(extra or {}),
    )
    session.add(customer)
    await session.flush()
    if email_n:
        await _attach_identity(session, customer, IdentityKind.email, email_n)
    if phone_n:
        await _attach_identity(session, customer, IdentityKind.phone, phone_n)
    await record(
        session,
        shop_id=shop_id,
        type="customer.created",
        actor=actor,
        customer_id=customer.id,
        data={"name": name},
    )
    return customer


async def update_customer(
    session: AsyncSession, *, shop_id: int, actor: Actor, customer_id: int, changes: dict[str, Any]
) -> Customer:
    customer = await CustomerRepository(session, shop_id).get_or_404(customer_id)
    if changes.get("country"):
        changes["country"] = changes["country"].upper()
    before = {k: getattr(customer, k) for k in changes}
    for key, value in changes.items():
        setattr(customer, key, value)
    await record(
        session,
        shop_id=shop_id,
        type="customer.updated",
        actor=actor,
        customer_id=customer.id,
        data={"before": before, "after": changes},
    )
    return customer


async def add_identity(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    customer_id: int,
    kind: IdentityKind,
    value: str,
    default_region: str | None = None,
) -> CustomerIdentity:
    customer = await CustomerRepository(session, shop_id).get_or_404(customer_id)
    normalised = normalise(kind, value, customer.country or default_region)
    ident = await _attach_identity(session, customer, kind, normalised)
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="customer.identity_added",
        actor=actor,
        customer_id=customer.id,
        data={"kind": kind.value, "value": normalised},
    )
    return ident


async def resolve_or_create(
    session: AsyncSession,
    *,
    shop_id: int,
    kind: IdentityKind,
    value: str,
    name: str | None = None,
    language: str | None = None,
    default_region: str | None = None,
    actor: Actor = Actor("system"),
) -> tuple[Customer, bool]:
    """The customer behind a handle, created on first contact. Returns ``(customer, created)``.

    An email or phone handle also links a customer already known under the same address from the
    store (identity resolution across channels).
    """
    normalised = normalise(kind, value, default_region)
    repo = CustomerRepository(session, shop_id)
    found = await repo.by_identity(kind, normalised)
    if found is not None:
        return found, False
    if kind == IdentityKind.whatsapp:
        found = await repo.by_identity(IdentityKind.phone, normalised)
        if found is not None:
            await _attach_identity(session, found, kind, normalised)
            return found, False
    customer = Customer(shop_id=shop_id, name=name, language=language)
    session.add(customer)
    await session.flush()
    await _attach_identity(session, customer, kind, normalised)
    if kind == IdentityKind.whatsapp:
        await _attach_identity(session, customer, IdentityKind.phone, normalised)
    await record(
        session,
        shop_id=shop_id,
        type="customer.created",
        actor=actor,
        customer_id=customer.id,
        data={"name": name, "via": kind.value},
    )
    return customer, True


async def merge(
    session: AsyncSession, *, shop_id: int, actor: Actor, survivor_id: int, merged_id: int
) -> Customer:
    """Move every identity, conversation, order and return of ``merged_id`` onto ``survivor_id``."""
    if survivor_id == merged_id:
        raise ValidationFailed("a customer cannot be merged into itself", details={"field": "customer_id"})
    repo = CustomerRepository(session, shop_id)
    survivor = await repo.get_or_404(survivor_id)
    merged = await repo.get_or_404(merged_id)
    moved: dict[str, list[int]] = {}
    for model in (CustomerIdentity, Conversation, Order, Return):
        ids = list(
            (
                await session.execute(
                    select(model.id).where(model.shop_id == shop_id, model.customer_id == merged.id)
                )
            ).scalars()
        )
        if ids:
            await session.execute(update(model).where(model.id.in_(ids)).values(customer_id=survivor.id))
        moved[model.__tablename__] = ids
    for attr in ("email", "phone", "language", "country", "name", "preferred_channel"):
        if getattr(survivor, attr) is None and getattr(merged, attr) is not None:
            setattr(survivor, attr, getattr(merged, attr))
    survivor.segments = sorted(set(survivor.segments) | set(merged.segments))
    merged.merged_into_id = survivor.id
    merged.merged_at = utcnow()
    await record(
        session,
        shop_id=shop_id,
        type="customer.merged",
        actor=actor,
        customer_id=survivor.id,
        data={"survivor_id": survivor.id, "merged_id": merged.id, "moved": moved},
    )
    return survivor


async def undo_merge(session: AsyncSession, *, shop_id: int, actor: Actor, merged_id: int) -> Customer:
    """Give a merged-away customer back everything the merge moved, within the undo window."""
    merged = (
        await session.execute(select(Customer).where(Customer.shop_id == shop_id, Customer.id == merged_id))
    ).scalar_one_or_none()
    if merged is None:
        raise NotFound("customer", merged_id)
    if merged.merged_into_id is None or merged.merged_at is None:
        raise InvalidTransition(f"customer {merged_id} is not merged into another customer")
    if utcnow() - merged.merged_at > MERGE_UNDO_WINDOW:
        raise InvalidTransition("the merge is older than 7 days and can no longer be undone")
    event = (
        await session.execute(
            select(Event)
            .where(Event.shop_id == shop_id, Event.type == "customer.merged")
            .where(Event.customer_id == merged.merged_into_id)
            .order_by(Event.id.desc())
        )
    ).scalars()
    merge_event = next((e for e in event if e.data.get("merged_id") == merged.id), None)
    if merge_event is None:
        raise InvalidTransition("no merge record found for this customer")
    models = {m.__tablename__: m for m in (CustomerIdentity, Conversation, Order, Return)}
    for table, ids in merge_event.data["moved"].items():
        if ids:
            model = models[table]
            await session.execute(
                update(model).where(model.shop_id == shop_id, model.id.in_(ids)).values(customer_id=merged.id)
            )
    survivor_id = merged.merged_into_id
    merged.merged_into_id = None
    merged.merged_at = None
    await record(
        session,
        shop_id=shop_id,
        type="customer.unmerged",
        actor=actor,
        customer_id=merged.id,
        data={"survivor_id": survivor_id, "merged_id": merged.id},
    )
    return merged


async def resolve_by_identities(
    session: AsyncSession,
    *,
    shop_id: int,
    identities: list[tuple[IdentityKind, str]],
    name: str | None = None,
    language: str | None = None,
    default_region: str | None = None,
    actor: Actor = Actor("system"),
    lock: bool = False,
) -> tuple[Customer, bool]:
    """The customer behind several handles of one sender (channel id first, then e.g. a pre-chat email).

    ``lock``: the customer comes back locked as by :func:`lock_customer` — for a known handle the lookup
    itself locks the row (one statement instead of two: inbound ingest, per message).

    The first handle that is already known decides; the other handles are attached to that customer
    when nobody owns them yet (a handle owned by another customer is left alone — that is a duplicate
    for an agent to merge, see ``storedesk.channels.identity_merge``). Unknown handles create one
    customer. Safe against two deliveries creating the same customer at once: the loser of the race
    on the identity's unique key retries the lookup.
    """
    if not identities:
        raise ValidationFailed("a sender needs at least one identity", details={"field": "identities"})
    repo = CustomerRepository(session, shop_id)
    normalised: list[tuple[IdentityKind, str]] = []
    for kind, value in identities:
        pair = (kind, normalise(kind, value, default_region))
        if pair not in normalised:
            normalised.append(pair)
    customer: Customer | None = None
    known: set[tuple[IdentityKind, str]] = set()
    for kind, value in normalised:
        customer = await repo.by_identity(kind, value, for_update=lock)
        if customer is not None:
            known.add((kind, value))
        elif kind == IdentityKind.whatsapp:
            customer = await repo.by_identity(IdentityKind.phone, value, for_update=lock)
        if customer is not None:
            break
    locked = lock and customer is not None
    created = False
    if customer is None:
        kind, value = normalised[0]
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            try:
                async with session.begin_nested():
                    customer, created = await resolve_or_create(
                        session,
                        shop_id=shop_id,
                        kind=kind,
                        value=value,
                        name=name,
                        language=language,
                        actor=actor,
                    )
            except IntegrityError:
                customer, created = await resolve_or_create(
                    session,
                    shop_id=shop_id,
                    kind=kind,
                    value=value,
                    name=name,
                    language=language,
                    actor=actor,
                )
        else:
            customer, created = await resolve_or_create(
                session, shop_id=shop_id, kind=kind, value=value, name=name, language=language, actor=actor
            )
    for kind, value in normalised:
        if (kind, value) in known:
            continue  # the handle that found the customer (the common case: nothing more to ask)
        owner = await repo.by_identity(kind, value)
        if owner is None:
            await _attach_identity(session, customer, kind, value)
            if kind == IdentityKind.whatsapp and await repo.by_identity(IdentityKind.phone, value) is None:
                await _attach_identity(session, customer, IdentityKind.phone, value)
    if lock and not locked:  # created here, or found after losing the race to create it
        await repo.get_for_update(customer.id)
    if name and not customer.name:
        customer.name = name
    if language and not customer.language:
        customer.language = language
    await session.flush()
    return customer, created


async def lock_customer(session: AsyncSession, *, shop_id: int, customer_id: int) -> Customer:
    """Serialise work on one customer (threading two deliveries of a new customer into one conversation)."""
    return await CustomerRepository(session, shop_id).get_for_update(customer_id)


@dataclass(frozen=True)
class Redaction:
    customer_id: int
    messages: int
    attachments: int
    orders: int
    inbound_events: int


async def redact(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    customer_id: int,
    reason: str,
    extra: dict[str, Any] | None = None,
) -> Redaction:
    """Erase a customer's personal data (a GDPR erasure request, Shopify ``customers/redact``): their
    profile and identities, the text, HTML and files of every message they wrote (and the raw provider
    payloads those came in), the subjects of their conversations, the contact data and addresses of their
    orders, their chat sessions' details. What stays: that the conversations, messages and orders existed,
    with their times, statuses, amounts and the agents' own replies (for the KPIs and the books). The one
    write path for erasure; records ``customer.redacted`` with the counts."""
    customer = await CustomerRepository(session, shop_id).get_or_404(customer_id)
    conversation_ids = select(Conversation.id).where(
        Conversation.shop_id == shop_id, Conversation.customer_id == customer.id
    )
    rows = (
        await session.execute(
            select(Message.id, Message.channel_id, Message.provider_message_id).where(
                Message.shop_id == shop_id,
                Message.conversation_id.in_(conversation_ids),
                Message.author_type == AuthorType.customer,
            )
        )
    ).all()
    message_ids = [r.id for r in rows]
    keys: set[str] = set()
    attachments = 0
    events = 0
    if message_ids:
        keys = set(
            (
                await session.execute(
                    select(Attachment.storage_key).where(
                        Attachment.shop_id == shop_id, Attachment.message_id.in_(message_ids)
                    )
                )
            ).scalars()
        )
        deleted = await session.execute(
            delete(Attachment).where(Attachment.shop_id == shop_id, Attachment.message_id.in_(message_ids))
        )
        attachments = int(getattr(deleted, "rowcount", 0) or 0)
        await session.execute(
            update(Message)
            .where(Message.shop_id == shop_id, Message.id.in_(message_ids))
            .values(text="", html=None, attachments=[], meta={"redacted": True})
        )
        # what the assistant extracted from those messages (emails, phones, addresses) and planned with them
        await session.execute(
            update(AssistantTurn)
            .where(AssistantTurn.shop_id == shop_id, AssistantTurn.message_id.in_(message_ids))
            .values(entities={}, facts={}, pending=None, suggested_text=None, action_result={})
        )
        from storedesk.channels.ingest import event_key  # the ingest path imports this module

        raw = [event_key(r.channel_id, r.provider_message_id) for r in rows if r.provider_message_id]
        if raw:
            gone = await session.execute(
                delete(InboundEvent).where(InboundEvent.shop_id == shop_id, InboundEvent.dedupe_key.in_(raw))
            )
            events = int(getattr(gone, "rowcount", 0) or 0)
    await session.execute(
        update(Conversation)
        .where(Conversation.shop_id == shop_id, Conversation.customer_id == customer.id)
        .values(subject=None)
    )
    orders = await session.execute(
        update(Order)
        .where(Order.shop_id == shop_id, Order.customer_id == customer.id)
        .values(email=None, phone=None, shipping_address=null(), billing_address=null(), note=None)
    )
    await session.execute(
        update(ChatSession)
        .where(ChatSession.shop_id == shop_id, ChatSession.customer_id == customer.id)
        .values(name=None, email=None, order_number=None)
    )
    await session.execute(
        delete(CustomerIdentity).where(
            CustomerIdentity.shop_id == shop_id, CustomerIdentity.customer_id == customer.id
        )
    )
    customer.name = customer.email = customer.phone = customer.note = None
    customer.address = None
    customer.consents = {}
    customer.segments = []
    result = Redaction(
        customer.id, len(message_ids), attachments, int(getattr(orders, "rowcount", 0) or 0), events
    )
    await record(
        session,
        shop_id=shop_id,
        type="customer.redacted",
        actor=actor,
        customer_id=customer.id,
        data={
            "reason": reason,
            "messages": result.messages,
            "attachments": result.attachments,
            "orders": result.orders,
            "inbound_events": result.inbound_events,
            **(extra or {}),
        },
    )
    if keys:
        await session.flush()
        still_used = set(
            (
                await session.execute(
                    select(Attachment.storage_key).where(Attachment.storage_key.in_(sorted(keys)))
                )
            ).scalars()
        )
        orphans = sorted(keys - still_used)
        if orphans:

            def _remove_files() -> None:
                files.remove(orphans)

            after_commit(session, _remove_files)
    return result
