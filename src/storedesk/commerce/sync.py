"""Keeping the mirror in step with a store platform — the one write path for mirrored data.

* :func:`apply_orders`, :func:`apply_products`, :func:`apply_customers`: bulk upserts keyed on the platform's
  ids (``INSERT … ON CONFLICT DO UPDATE``, one statement per table per page). An order is only overwritten by
  a state at least as new as the one stored (``platform_updated_at``), so webhooks may arrive in any order.
  Backfill pages, webhooks, reconciliation and the results of order actions all go through here.
* :func:`run_backfill`: resumable. Each page is applied and its cursor checkpointed in ``Store.sync_state``
  in ONE transaction, so a crash loses at most the page in flight and a restart creates no duplicate and
  leaves no gap. A lease keeps two runners off one store; a dead runner's lease is taken over.
* :func:`process_webhook`: parse a stored delivery, fetch what the platform only named (outside any
  transaction), apply, mark the delivery processed — or failed, with the error, when it is malformed.
* :func:`reconcile`: re-reads orders updated since the last run to catch missed webhooks.
* Privacy: customer data requests are recorded for the admin; redactions anonymise; shop redaction
  deletes the store's mirror.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import JSON, bindparam, delete, func, insert, null, or_, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.models import Agent, Role
from storedesk.agents.service import notify
from storedesk.channels.models import InboundEvent
from storedesk.commerce.connectors import registry
from storedesk.commerce.connectors.protocol import (
    AuthRejected,
    Connector,
    ConnectorError,
    CustomerChanged,
    Deleted,
    ExtCustomer,
    ExtOrder,
    ExtProduct,
    ExtRefund,
    ExtShipment,
    Ignored,
    InventoryRef,
    MalformedPayload,
    MissingScope,
    OrderChanged,
    OrderRef,
    Page,
    PrivacyCustomerRedact,
    PrivacyDataRequest,
    PrivacyShopRedact,
    ProductChanged,
    ProductRef,
    RateLimited,
    RefundCreated,
    Resource,
    ShipmentChanged,
    WebhookItem,
)
from storedesk.commerce.models import (
    FinancialStatus,
    InventoryPolicy,
    Order,
    OrderLine,
    Product,
    Refund,
    Return,
    ReturnLine,
    Shipment,
    Store,
    Variant,
)
from storedesk.commerce.repository import MirrorRepository, of_shop
from storedesk.customers import service as customers
from storedesk.customers.identity import normalise
from storedesk.customers.models import Customer, CustomerIdentity, IdentityKind
from storedesk.db.session import Database
from storedesk.events.service import record
from storedesk.jobs.registry import enqueue
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox
from storedesk.kit.errors import StoredeskError
from storedesk.kit.time import utcnow
from storedesk.shops.models import Shop

log = logging.getLogger("storedesk.commerce.sync")

BACKFILL_JOB = "commerce.backfill"
WEBHOOK_JOB = "commerce.webhook"
RECONCILE_JOB = "commerce.reconcile"

BACKFILL_ORDER = (
    Resource.customers,
    Resource.products,
    Resource.orders,
    Resource.fulfillments,
    Resource.refunds,
)
LEASE = timedelta(seconds=90)
STORE_HEADER = "storedesk-store-id"

ProgressFn = Callable[[Resource, int, int | None], None]


# --- helpers ------------------------------------------------------------------------------------------------


def _insert(session: AsyncSession, table: Any) -> Any:
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


# JSON columns written as SQL NULL (not JSON ``null``) when None
NULLABLE_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


async def _upsert(
    session: AsyncSession,
    table: Any,
    rows: list[dict[str, Any]],
    *,
    keys: Sequence[str],
    update_columns: Sequence[str],
    newer_only: bool = False,
    returning: Sequence[str] = (),
    coalesce: Sequence[str] = (),
    json_nullable: Sequence[str] = (),
) -> list[Any]:
    """``INSERT … ON CONFLICT (keys) DO UPDATE`` for many rows: one statement, compiled once and cached,
    executed with the rows as parameters (SQLAlchemy's insertmanyvalues batches them). ``newer_only``
    keeps a stored row whose ``platform_updated_at`` is newer; ``coalesce`` columns keep a stored value."""
    if not rows:
        return []
    stmt = _insert(session, table)
    if json_nullable:
        stmt = stmt.values({c: bindparam(c, type_=NULLABLE_JSON) for c in json_nullable})
    set_ = {k: stmt.excluded[k] for k in update_columns}
    for column in coalesce:
        set_[column] = func.coalesce(table.c[column], stmt.excluded[column])
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_=set_,
        where=_newer(table.c.platform_updated_at, stmt.excluded.platform_updated_at) if newer_only else None,
    )
    if returning:
        stmt = stmt.returning(*[table.c[c] for c in returning])
        return list((await session.execute(stmt, rows)).all())
    await session.execute(stmt, rows)
    return []


def _newer(column: Any, excluded: Any) -> Any:
    """An upsert only overwrites with a state at least as new as the stored one."""
    return or_(column.is_(None), excluded.is_(None), column <= excluded)


def _identity(kind: IdentityKind, value: str | None, region: str | None) -> tuple[IdentityKind, str] | None:
    if not value:
        return None
    try:
        return kind, normalise(kind, value, region)
    except StoredeskError:
        return None


def store_identity(store_id: int, external_id: str) -> str:
    return f"{store_id}:{external_id}"


def _customer_identities(
    store: Store, c: ExtCustomer | None, email: str | None, phone: str | None, region: str | None
) -> list[tuple[IdentityKind, str]]:
    out: list[tuple[IdentityKind, str]] = []
    if c is not None and c.external_id:
        found = _identity(IdentityKind.store_customer, store_identity(store.id, c.external_id), region)
        if found:
            out.append(found)
    for kind, value in (
        (IdentityKind.email, email or (c.email if c else None)),
        (IdentityKind.phone, phone or (c.phone if c else None)),
    ):
        found = _identity(kind, value, region)
        if found and found not in out:
            out.append(found)
    return out


async def shop_region(session: AsyncSession, shop_id: int) -> str | None:
    return (await session.execute(select(Shop.country).where(Shop.id == shop_id))).scalar_one_or_none()


# --- customers ----------------------------------------------------------------------------------------------


Target = tuple[str, int]  # ("old", customer id) or ("new", index into the customers to create)


async def resolve_customers(
    session: AsyncSession,
    shop_id: int,
    wanted: Sequence[tuple[str, list[tuple[IdentityKind, str]], str | None]],
) -> dict[str, int]:
    """Many senders at once — the batch twin of ``customers.service.resolve_by_identities``, with the same
    rules: per sender, the first handle already known decides; the sender's other unowned handles are
    attached to that customer; unknown senders become new customers (email and phone copied from their
    handles, one ``customer.created`` event each). Handles repeated across senders resolve to one customer.

    A page of a backfill costs a handful of statements instead of ~10 per customer. If a concurrent
    writer takes one of the handles first (PostgreSQL), the page falls back to the per-customer service.
    ``wanted`` holds ``(key, identities (normalised), name)``; returns key → customer id.
    """
    repo = MirrorRepository(session, shop_id)
    owner: dict[tuple[IdentityKind, str], int] = {}

    async def look_up(identities: Iterable[tuple[IdentityKind, str]]) -> None:
        by_kind: dict[IdentityKind, set[str]] = {}
        for kind, value in identities:
            if (kind, value) not in owner:
                by_kind.setdefault(kind, set()).add(value)
        for kind, values in by_kind.items():
            for value, customer_id in (await repo.customer_ids_by_identity(kind, values)).items():
                owner[(kind, value)] = customer_id

    # the first handle (a platform customer id) settles most senders: look up the rest only for the others
    await look_up(identities[0] for _, identities, _ in wanted if identities)
    settled = {key for key, identities, _ in wanted if identities and identities[0] in owner}
    await look_up(ident for key, identities, _ in wanted if key not in settled for ident in identities)
    new_rows: list[dict[str, Any]] = []
    new_via: list[IdentityKind] = []
    claimed: dict[tuple[IdentityKind, str], Target] = {}
    attach: list[tuple[Target, IdentityKind, str]] = []
    targets: dict[str, Target] = {}
    now = utcnow()
    for key, identities, name in wanted:
        if not identities:
            continue
        if key in settled:
            targets[key] = ("old", owner[identities[0]])
            continue
        target: Target | None = None
        for ident in identities:
            if ident in owner:
                target = ("old", owner[ident])
                break
            if ident in claimed:
                target = claimed[ident]
                break
        if target is None:
            target = ("new", len(new_rows))
            new_via.append(identities[0][0])
            new_rows.append(
                {
                    "shop_id": shop_id,
                    "name": (name or None) and name[:200],
                    "email": None,
                    "phone": None,
                    "language": None,
                    "country": None,
                    "preferred_channel": None,
                    "consents": {},
                    "segments": [],
                    "note": None,
                    "merged_into_id": None,
                    "merged_at": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for kind, value in identities:
            if (kind, value) in owner or (kind, value) in claimed:
                continue
            claimed[(kind, value)] = target
            attach.append((target, kind, value))
            if target[0] == "new":
                row = new_rows[target[1]]
                if kind == IdentityKind.email and row["email"] is None:
                    row["email"] = value
                if kind == IdentityKind.phone and row["phone"] is None:
                    row["phone"] = value
                if not row["name"] and name:
                    row["name"] = name[:200]
        targets[key] = target
    if not attach:
        return {k: t[1] for k, t in targets.items() if t[0] == "old"}
    postgres = session.get_bind().dialect.name == "postgresql"
    savepoint = await session.begin_nested() if postgres else None
    try:
        new_ids: list[int] = []
        if new_rows:
            table: Any = Customer.__table__
            result = await session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), new_rows
            )
            new_ids = [int(i) for (i,) in result.all()]
        identity_rows = [
            {
                "shop_id": shop_id,
                "customer_id": new_ids[t[1]] if t[0] == "new" else t[1],
                "kind": kind.value,
                "value": value,
                "created_at": now,
                "updated_at": now,
            }
            for t, kind, value in attach
        ]
        identities_table: Any = CustomerIdentity.__table__
        await session.execute(insert(identities_table), identity_rows)
        if savepoint is not None:
            await savepoint.commit()
    except IntegrityError:
        if savepoint is None:
            raise
        await savepoint.rollback()
        out: dict[str, int] = {}
        for key, identities, name in wanted:
            if identities:
                customer, _ = await customers.resolve_by_identities(
                    session, shop_id=shop_id, identities=identities, name=name
                )
                out[key] = customer.id
        return out
    for t, kind, value in attach:
        if t[0] == "old" and kind in (IdentityKind.email, IdentityKind.phone):
            column = Customer.email if kind == IdentityKind.email else Customer.phone
            await session.execute(
                update(Customer)
                .where(Customer.shop_id == shop_id, Customer.id == t[1], column.is_(None))
                .values({column.key: value})
            )
    for index, customer_id in enumerate(new_ids):
        await record(
            session,
            shop_id=shop_id,
            type="customer.created",
            actor=SYSTEM,
            customer_id=customer_id,
            data={"name": new_rows[index]["name"], "via": new_via[index].value},
        )
    return {k: (new_ids[t[1]] if t[0] == "new" else t[1]) for k, t in targets.items()}


async def apply_customers(
    session: AsyncSession, store: Store, items: Sequence[ExtCustomer], *, region: str | None
) -> int:
    """Link each platform customer to a storedesk customer (by its store id, email or phone), creating
    one when none matches. Customers already linked under their store id are left as they are."""
    wanted = [(c.external_id, _customer_identities(store, c, None, None, region), c.name) for c in items]
    resolved = await resolve_customers(session, store.shop_id, [w for w in wanted if w[1]])
    return len(resolved)


async def _link_customers(
    session: AsyncSession, store: Store, orders: Sequence[ExtOrder], region: str | None
) -> dict[str, int | None]:
    wanted = []
    for o in orders:
        name = (o.customer.name if o.customer else None) or (o.shipping_address or {}).get("name")
        wanted.append(
            (o.external_id, _customer_identities(store, o.customer, o.email, o.phone, region), name)
        )
    resolved = await resolve_customers(session, store.shop_id, [w for w in wanted if w[1]])
    return {o.external_id: resolved.get(o.external_id) for o in orders}


# --- products -----------------------------------------------------------------------------------------------


async def apply_products(session: AsyncSession, store: Store, items: Sequence[ExtProduct]) -> int:
    latest: dict[str, ExtProduct] = {}
    for p in items:
        latest[p.external_id] = p
    if not latest:
        return 0
    now = utcnow()
    rows = [
        {
            "shop_id": store.shop_id,
            "store_id": store.id,
            "external_id": p.external_id,
            "handle": p.handle[:200] or p.external_id,
            "title": p.title[:300],
            "category": (p.category or None) and p.category[:100],
            "description": p.description,
            "vendor": (p.vendor or None) and p.vendor[:200],
            "final_sale": False,
            "platform_updated_at": p.updated_at,
            "created_at": now,
            "updated_at": now,
        }
        for p in latest.values()
    ]
    table = Product.__table__
    ids: dict[str, int] = {}
    written = await _upsert(
        session,
        table,
        rows,
        keys=("store_id", "external_id"),
        update_columns=(
            "handle",
            "title",
            "category",
            "description",
            "vendor",
            "platform_updated_at",
            "updated_at",
        ),
        newer_only=True,
        returning=("id", "external_id"),
    )
    ids.update({str(e): int(i) for i, e in written})
    variant_rows = []
    for p in latest.values():
        if p.external_id not in ids:
            continue
        for v in p.variants:
            variant_rows.append(
                {
                    "shop_id": store.shop_id,
                    "store_id": store.id,
                    "product_id": ids[p.external_id],
                    "external_id": v.external_id,
                    "sku": v.sku[:100],
                    "title": v.title[:200] or "Default",
                    "size": v.size,
                    "color": v.color,
                    "price_minor": v.price_minor,
                    "stock": v.stock,
                    "inventory_policy": InventoryPolicy.backorder if v.backorder else InventoryPolicy.deny,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    await _upsert(
        session,
        Variant.__table__,
        variant_rows,
        keys=("store_id", "external_id"),
        update_columns=(
            "product_id",
            "sku",
            "title",
            "size",
            "color",
            "price_minor",
            "stock",
            "inventory_policy",
            "updated_at",
        ),
    )
    if ids:
        keep = {r["external_id"] for r in variant_rows}
        await session.execute(
            delete(Variant).where(
                of_shop(Variant.shop_id, store.shop_id),
                Variant.product_id.in_(list(ids.values())),
                Variant.external_id.is_not(None),
                Variant.external_id.not_in(keep) if keep else Variant.external_id.is_not(None),
            )
        )
    return len(ids)


# --- orders -------------------------------------------------------------------------------------------------

OrderChange = Literal["created", "updated", "unchanged"]

ORDER_UPDATABLE = (
    "number",
    "email",
    "phone",
    "currency",
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "cancel_reason",
    "subtotal_minor",
    "shipping_minor",
    "tax_minor",
    "total_minor",
    "refunded_minor",
    "shipping_method",
    "payment_method",
    "shipping_address",
    "billing_address",
    "note",
    "tags",
    "placed_at",
    "platform_updated_at",
    "updated_at",
)


@dataclass
class AppliedOrder:
    id: int
    ext: ExtOrder
    change: OrderChange
    customer_id: int | None


async def apply_orders(
    session: AsyncSession,
    store: Store,
    items: Sequence[ExtOrder],
    *,
    region: str | None,
    detect_changes: bool = False,
) -> list[AppliedOrder]:
    """Upsert orders with their lines, shipments, refunds and returns. Returns the orders written (an
    order whose stored state is newer than ``items`` is left alone and not returned). ``detect_changes``
    tells an update from a re-delivery of the same version (one more query: webhooks, reconciliation);
    without it a written order that existed is reported as ``updated``."""
    latest: dict[str, ExtOrder] = {}
    for o in items:
        seen = latest.get(o.external_id)
        if seen is None or (o.updated_at or o.placed_at) >= (seen.updated_at or seen.placed_at):
            latest[o.external_id] = o
    if not latest:
        return []
    orders = list(latest.values())
    repo = MirrorRepository(session, store.shop_id)
    before = await repo.order_versions(store.id, latest) if detect_changes else {}
    customer_ids = await _link_customers(session, store, orders, region)
    now = utcnow()
    rows = [
        {
            "shop_id": store.shop_id,
            "store_id": store.id,
            "external_id": o.external_id,
            "number": o.number[:64],
            "customer_id": customer_ids.get(o.external_id),
            "email": (o.email or None) and o.email[:320],
            "phone": (o.phone or None) and o.phone[:32],
            "currency": o.currency[:3].upper(),
            "financial_status": o.financial_status.value,
            "fulfillment_status": o.fulfillment_status.value,
            "cancelled_at": o.cancelled_at,
            "cancel_reason": (o.cancel_reason or None) and o.cancel_reason[:200],
            "subtotal_minor": o.subtotal_minor,
            "shipping_minor": o.shipping_minor,
            "tax_minor": o.tax_minor,
            "total_minor": o.total_minor,
            "refunded_minor": o.refunded_minor,
            "shipping_method": (o.shipping_method or None) and o.shipping_method[:100],
            "payment_method": (o.payment_method or None) and o.payment_method[:100],
            "shipping_address": o.shipping_address,
            "billing_address": o.billing_address,
            "note": o.note,
            "tags": list(o.tags),
            "placed_at": o.placed_at,
            "platform_updated_at": o.updated_at,
            "created_at": now,
            "updated_at": now,
        }
        for o in orders
    ]
    written: dict[str, tuple[int, int | None, bool]] = {}
    for oid, ext, cid, created_at in await _upsert(
        session,
        Order.__table__,
        rows,
        keys=("store_id", "external_id"),
        update_columns=ORDER_UPDATABLE,
        newer_only=True,
        # a customer merge in storedesk wins over the platform's link
        coalesce=("customer_id",),
        returning=("id", "external_id", "customer_id", "created_at"),
        json_nullable=("shipping_address", "billing_address"),
    ):
        # created_at is not updated on conflict: the row was inserted now exactly when it carries ours
        written[str(ext)] = (int(oid), int(cid) if cid is not None else None, created_at == now)
    if not written:
        return []
    applied: list[AppliedOrder] = []
    for ext_id, (oid, cid, inserted) in written.items():
        o = latest[ext_id]
        old = before.get(ext_id)
        if inserted:
            change: OrderChange = "created"
        elif not detect_changes:
            change = "updated"
        elif old is None or old[1] is None or o.updated_at is None or old[1] < o.updated_at:
            change = "updated"
        else:
            change = "unchanged"
        applied.append(AppliedOrder(oid, o, change, cid))
    await _apply_children(session, store, applied)
    return applied


async def _apply_children(session: AsyncSession, store: Store, applied: list[AppliedOrder]) -> None:
    shop_id = store.shop_id
    # rows of orders that existed before may have been written by storedesk itself (demo seed, earlier
    # versions) without a platform id: they get the stable key the snapshot used before matching
    existing = [a.id for a in applied if a.change != "created"]
    for model in (OrderLine, Shipment, Refund, Return) if existing else ():
        await session.execute(
            update(model)
            .where(of_shop(model.shop_id, shop_id), model.order_id.in_(existing), model.external_id.is_(None))
            .values(external_id="local-" + model.id.cast(type_=OrderLine.external_id.type))
        )
    repo = MirrorRepository(session, shop_id)
    variant_ids = await repo.variant_ids(
        store.id,
        [line.variant_external_id for a in applied for line in a.ext.lines if line.variant_external_id],
    )
    # lines
    line_rows = [
        {
            "shop_id": shop_id,
            "order_id": a.id,
            "variant_id": variant_ids.get(line.variant_external_id or ""),
            "external_id": line.external_id,
            "sku": (line.sku or None) and line.sku[:100],
            "title": line.title[:300] or "(untitled)",
            "variant_title": (line.variant_title or None) and line.variant_title[:200],
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price_minor,
            "total_minor": line.total_minor,
            "refunded_quantity": line.refunded_quantity,
        }
        for a in applied
        for line in a.ext.lines
    ]
    line_ids: dict[tuple[int, str], int] = {}
    for lid, oid, ext in await _upsert(
        session,
        OrderLine.__table__,
        line_rows,
        keys=("order_id", "external_id"),
        update_columns=(
            "variant_id",
            "sku",
            "title",
            "variant_title",
            "quantity",
            "unit_price_minor",
            "total_minor",
            "refunded_quantity",
        ),
        returning=("id", "order_id", "external_id"),
    ):
        line_ids[(int(oid), str(ext))] = int(lid)
    # lines the platform no longer has (an edited order)
    keep_by_order: dict[int, set[str]] = {}
    for a in applied:
        keep_by_order[a.id] = {line.external_id for line in a.ext.lines}
    stale = [
        lid
        for lid, oid, ext in (
            (
                await session.execute(
                    select(OrderLine.id, OrderLine.order_id, OrderLine.external_id).where(
                        of_shop(OrderLine.shop_id, shop_id), OrderLine.order_id.in_(existing)
                    )
                )
            ).all()
            if existing
            else []
        )
        if ext not in keep_by_order.get(int(oid), set()) and keep_by_order.get(int(oid))
    ]
    if stale:
        await session.execute(delete(OrderLine).where(OrderLine.id.in_(stale)))
    # shipments
    now = utcnow()
    ship_rows = [
        {
            "shop_id": shop_id,
            "order_id": a.id,
            "external_id": s.external_id,
            "carrier": (s.carrier or None) and s.carrier[:64],
            "tracking_number": (s.tracking_number or None) and s.tracking_number[:100],
            "tracking_url": (s.tracking_url or None) and s.tracking_url[:500],
            "status": s.status.value,
            "shipped_at": s.shipped_at,
            "estimated_delivery_at": s.estimated_delivery_at,
            "delivered_at": s.delivered_at,
            "platform_updated_at": s.updated_at,
            "created_at": now,
            "updated_at": now,
        }
        for a in applied
        for s in a.ext.shipments
    ]
    await _upsert_shipments(session, ship_rows)
    # refunds
    refund_rows = [_refund_row(shop_id, a.id, r, line_ids, now) for a in applied for r in a.ext.refunds]
    await _upsert(
        session,
        Refund.__table__,
        refund_rows,
        keys=("order_id", "external_id"),
        update_columns=(
            "amount_minor",
            "currency",
            "reason",
            "status",
            "processed_at",
            "shipping_minor",
            "lines",
            "updated_at",
        ),
    )
    # returns
    for a in applied:
        for ret in a.ext.returns:
            await _upsert_return(session, store, a, ret, line_ids)


def _refund_row(
    shop_id: int, order_id: int, r: ExtRefund, line_ids: dict[tuple[int, str], int], now: datetime
) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "order_id": order_id,
        "external_id": r.external_id,
        "amount_minor": r.amount_minor,
        "currency": r.currency[:3].upper(),
        "reason": (r.reason or None) and r.reason[:200],
        "status": "processed" if r.status in ("success", "processed") else r.status[:16],
        "processed_at": r.processed_at,
        "shipping_minor": r.shipping_minor,
        "lines": [
            {"order_line_id": line_ids[(order_id, ext)], "quantity": qty}
            for ext, qty in r.lines
            if (order_id, ext) in line_ids
        ],
        "created_at": r.created_at or now,
        "updated_at": now,
    }


async def _upsert_shipments(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await _upsert(
        session,
        Shipment.__table__,
        rows,
        keys=("order_id", "external_id"),
        update_columns=(
            "carrier",
            "tracking_number",
            "tracking_url",
            "status",
            "shipped_at",
            "estimated_delivery_at",
            "delivered_at",
            "platform_updated_at",
            "updated_at",
        ),
        newer_only=True,
    )


async def _upsert_return(
    session: AsyncSession, store: Store, a: AppliedOrder, ret: Any, line_ids: dict[tuple[int, str], int]
) -> None:
    existing = (
        await session.execute(
            select(Return).where(
                of_shop(Return.shop_id, store.shop_id),
                Return.order_id == a.id,
                Return.external_id == ret.external_id,
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        number = ret.number[:32]
        taken = (
            await session.execute(
                select(Return.id).where(Return.shop_id == store.shop_id, Return.number == number)
            )
        ).scalar_one_or_none()
        if taken is not None:
            number = f"{number}/{store.id}"[:32]
        existing = Return(
            shop_id=store.shop_id,
            order_id=a.id,
            customer_id=a.customer_id,
            number=number,
            status=ret.status,
            reason=(ret.reason or None) and ret.reason[:200],
            external_id=ret.external_id,
        )
        session.add(existing)
        await session.flush()
    else:
        existing.status = ret.status
    have = {
        rl.order_line_id
        for rl in (await MirrorRepository(session, store.shop_id).return_lines([existing.id]))[existing.id]
    }
    for line in ret.lines:
        lid = line_ids.get((a.id, line.line_external_id))
        if lid is not None and lid not in have:
            session.add(
                ReturnLine(
                    shop_id=store.shop_id,
                    return_id=existing.id,
                    order_line_id=lid,
                    quantity=line.quantity,
                    reason=(line.reason or None) and line.reason[:200],
                )
            )
            have.add(lid)


async def _order_id(session: AsyncSession, store: Store, external_id: str) -> int | None:
    found = await MirrorRepository(session, store.shop_id).order_versions(store.id, [external_id])
    return found[external_id][0] if external_id in found else None


async def apply_shipment(session: AsyncSession, store: Store, order_external_id: str, s: ExtShipment) -> bool:
    order_id = await _order_id(session, store, order_external_id)
    if order_id is None:
        return False  # the order arrives by its own webhook or the reconciliation
    now = utcnow()
    await _upsert_shipments(
        session,
        [
            {
                "shop_id": store.shop_id,
                "order_id": order_id,
                "external_id": s.external_id,
                "carrier": (s.carrier or None) and s.carrier[:64],
                "tracking_number": (s.tracking_number or None) and s.tracking_number[:100],
                "tracking_url": (s.tracking_url or None) and s.tracking_url[:500],
                "status": s.status.value,
                "shipped_at": s.shipped_at,
                "estimated_delivery_at": s.estimated_delivery_at,
                "delivered_at": s.delivered_at,
                "platform_updated_at": s.updated_at,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    return True


async def apply_refund(session: AsyncSession, store: Store, order_external_id: str, r: ExtRefund) -> bool:
    order = await MirrorRepository(session, store.shop_id).order_for_update(store.id, order_external_id)
    if order is None:
        return False
    lines = (
        (
            await session.execute(
                select(OrderLine).where(
                    of_shop(OrderLine.shop_id, store.shop_id), OrderLine.order_id == order.id
                )
            )
        )
        .scalars()
        .all()
    )
    line_ids = {(order.id, line.external_id or f"local-{line.id}"): line.id for line in lines}
    now = utcnow()
    rtable = Refund.__table__
    stmt = _insert(session, rtable).values([_refund_row(store.shop_id, order.id, r, line_ids, now)])
    stmt = stmt.on_conflict_do_update(
        index_elements=["order_id", "external_id"],
        set_={k: stmt.excluded[k] for k in ("amount_minor", "status", "processed_at", "lines", "updated_at")},
    )
    await session.execute(stmt)
    # the order's refunded totals follow the refunds (never going down: a later order webhook is authoritative)
    refunds = (
        (
            await session.execute(
                select(Refund).where(of_shop(Refund.shop_id, store.shop_id), Refund.order_id == order.id)
            )
        )
        .scalars()
        .all()
    )
    total = sum(x.amount_minor for x in refunds if x.status in ("processed", "success", "pending"))
    order.refunded_minor = max(order.refunded_minor, total)
    per_line: dict[int, int] = {}
    for x in refunds:
        for entry in x.lines or []:
            per_line[int(entry["order_line_id"])] = per_line.get(int(entry["order_line_id"]), 0) + int(
                entry["quantity"]
            )
    for line in lines:
        line.refunded_quantity = max(line.refunded_quantity, per_line.get(line.id, 0))
    if (
        order.financial_status in (FinancialStatus.paid, FinancialStatus.partially_refunded)
        and order.refunded_minor > 0
    ):
        order.financial_status = (
            FinancialStatus.refunded
            if order.refunded_minor >= order.total_minor
            else FinancialStatus.partially_refunded
        )
    return True


async def apply_deleted(session: AsyncSession, store: Store, item: Deleted) -> None:
    if item.resource == Resource.products:
        await session.execute(
            delete(Product).where(
                Product.shop_id == store.shop_id,
                Product.store_id == store.id,
                Product.external_id == item.external_id,
            )
        )
        return
    order = await MirrorRepository(session, store.shop_id).order_for_update(store.id, item.external_id)
    if order is not None:
        # kept (refunds, returns and conversations point at it), but marked
        order.cancelled_at = order.cancelled_at or utcnow()
        order.cancel_reason = order.cancel_reason or "deleted on the platform"
        order.tags = sorted(set(order.tags) | {"deleted-on-platform"})


# --- privacy ------------------------------------------------------------------------------------------------


async def _find_customer(
    session: AsyncSession, store: Store, c: ExtCustomer, region: str | None
) -> int | None:
    repo = MirrorRepository(session, store.shop_id)
    if c.external_id:
        found = await repo.customer_ids_by_identity(
            IdentityKind.store_customer, [store_identity(store.id, c.external_id)]
        )
        if found:
            return next(iter(found.values()))
    for kind, value in ((IdentityKind.email, c.email), (IdentityKind.phone, c.phone)):
        ident = _identity(kind, value, region)
        if ident:
            found = await repo.customer_ids_by_identity(kind, [ident[1]])
            if found:
                return next(iter(found.values()))
    return None


async def record_data_request(
    session: AsyncSession, store: Store, item: PrivacyDataRequest, *, region: str | None
) -> None:
    customer_id = await _find_customer(session, store, item.customer, region)
    await record(
        session,
        shop_id=store.shop_id,
        type="commerce.privacy.data_requested",
        actor=SYSTEM,
        customer_id=customer_id,
        data={
            "store_id": store.id,
            "platform": store.platform,
            "platform_customer_id": item.customer.external_id,
            "orders_requested": list(item.order_external_ids),
            "data_request_id": item.request_id,
            "action_needed": "send the customer the data storedesk holds about them",
        },
    )


async def redact_customer(
    session: AsyncSession, store: Store, item: PrivacyCustomerRedact, *, region: str | None
) -> int:
    """Shopify ``customers/redact``: erase the customer through ``customers.service.redact`` (profile,
    identities, their messages and orders) and anonymise the listed orders of this store even when no
    storedesk customer matches. Returns how many of this store's orders were anonymised."""
    customer_id = await _find_customer(session, store, item.customer, region)
    redacted = 0
    if item.order_external_ids:
        result = await session.execute(
            update(Order)
            .where(
                Order.shop_id == store.shop_id,
                Order.store_id == store.id,
                Order.external_id.in_(list(item.order_external_ids)),
            )
            .values(email=None, phone=None, shipping_address=null(), billing_address=null(), note=None)
        )
        redacted = int(getattr(result, "rowcount", 0) or 0)
    where = {"store_id": store.id, "platform": store.platform, "orders_redacted": redacted}
    if customer_id is None:
        await record(session, shop_id=store.shop_id, type="customer.redacted", actor=SYSTEM, data=where)
        return redacted
    erased = await customers.redact(
        session,
        shop_id=store.shop_id,
        actor=SYSTEM,
        customer_id=customer_id,
        reason=f"{store.platform} customers/redact",
        extra=where,
    )
    return max(redacted, erased.orders)


async def redact_shop(session: AsyncSession, store: Store) -> None:
    """The platform asks us to delete everything about the store (Shopify ``shop/redact``)."""
    counts: dict[str, int] = {}
    for model in (Order, Product):
        result = await session.execute(
            delete(model).where(model.shop_id == store.shop_id, model.store_id == store.id)
        )
        counts[model.__tablename__] = int(getattr(result, "rowcount", 0) or 0)
    await session.execute(
        delete(CustomerIdentity).where(
            CustomerIdentity.shop_id == store.shop_id,
            CustomerIdentity.kind == IdentityKind.store_customer,
            CustomerIdentity.value.like(f"{store.id}:%"),
        )
    )
    store.credentials_encrypted = None
    store.status = "redacted"
    store.sync_state = {"redacted_at": utcnow().isoformat()}
    await record(
        session,
        shop_id=store.shop_id,
        type="store.redacted",
        actor=SYSTEM,
        data={"store_id": store.id, "deleted": counts},
    )


# --- webhooks -----------------------------------------------------------------------------------------------


async def resolve_refs(connector: Connector, items: list[WebhookItem]) -> list[WebhookItem]:
    """Fetch what a delivery only named (network I/O: call outside any transaction)."""
    out: list[WebhookItem] = []
    for item in items:
        if isinstance(item, OrderRef):
            order = await connector.get_order(item.external_id)
            out.append(OrderChanged(order) if order else Ignored(f"order {item.external_id} is gone"))
        elif isinstance(item, ProductRef):
            product = await connector.get_product(item.external_id)
            out.append(ProductChanged(product) if product else Ignored(f"product {item.external_id} is gone"))
        elif isinstance(item, InventoryRef):
            product = await connector.get_product_by_inventory_item(item.inventory_item_id)
            out.append(
                ProductChanged(product)
                if product
                else Ignored(f"inventory item {item.inventory_item_id} unknown")
            )
        else:
            out.append(item)
    return out


async def apply_items(
    session: AsyncSession, store: Store, items: Sequence[WebhookItem], *, region: str | None, source: str
) -> dict[str, int]:
    summary: dict[str, int] = {}

    def count(key: str) -> None:
        summary[key] = summary.get(key, 0) + 1

    for item in items:
        if isinstance(item, OrderChanged):
            for a in await apply_orders(session, store, [item.order], region=region, detect_changes=True):
                count("orders")
                if a.change != "unchanged":
                    await _order_synced(session, store, a, source)
        elif isinstance(item, ProductChanged):
            count("products") if await apply_products(session, store, [item.product]) else None
        elif isinstance(item, CustomerChanged):
            await apply_customers(session, store, [item.customer], region=region)
            count("customers")
        elif isinstance(item, ShipmentChanged):
            count("shipments") if await apply_shipment(
                session, store, item.order_external_id, item.shipment
            ) else count("skipped")
        elif isinstance(item, RefundCreated):
            count("refunds") if await apply_refund(
                session, store, item.order_external_id, item.refund
            ) else count("skipped")
        elif isinstance(item, Deleted):
            await apply_deleted(session, store, item)
            count("deleted")
        elif isinstance(item, PrivacyDataRequest):
            await record_data_request(session, store, item, region=region)
            count("privacy")
        elif isinstance(item, PrivacyCustomerRedact):
            await redact_customer(session, store, item, region=region)
            count("privacy")
        elif isinstance(item, PrivacyShopRedact):
            await redact_shop(session, store)
            count("privacy")
        else:
            count("ignored")
    return summary


async def _order_synced(session: AsyncSession, store: Store, a: AppliedOrder, source: str) -> None:
    """The timeline event automation rules react to (delay, delivered, cancelled …)."""
    o = a.ext
    await record(
        session,
        shop_id=store.shop_id,
        type="order.synced",
        actor=SYSTEM,
        order_id=a.id,
        customer_id=a.customer_id,
        data={
            "store_id": store.id,
            "source": source,
            "change": a.change,
            "financial_status": o.financial_status.value,
            "fulfillment_status": o.fulfillment_status.value,
            "cancelled": o.cancelled_at is not None,
            "shipments": [
                {"status": s.status.value, "tracking_number": s.tracking_number} for s in o.shipments
            ],
        },
    )


async def process_webhook(db: Database, event_id: int, *, box: SecretBox | None = None) -> str:
    """Apply one stored platform delivery. Returns its final status."""
    async with db.transaction() as session:
        event = await session.get(InboundEvent, event_id)
        if event is None or event.status != "received":
            return event.status if event is not None else "missing"
        store_id = int(event.headers.get(STORE_HEADER) or 0)
        store = await session.get(Store, store_id)
        if store is None or store.status != "active":
            event.status, event.error, event.processed_at = (
                "ignored",
                "the store is no longer connected",
                utcnow(),
            )
            return event.status
        connector = registry.for_store(store, box)
        body, headers = bytes(event.body), dict(event.headers)
    try:
        try:
            items = await resolve_refs(connector, connector.parse_webhook(body, headers))
        except MalformedPayload as exc:
            async with db.transaction() as session:
                event = await session.get(InboundEvent, event_id)
                assert event is not None
                event.status, event.error, event.processed_at = "failed", exc.message, utcnow()
            log.warning("platform webhook %s is malformed: %s", event_id, exc.message)
            return "failed"
    finally:
        await connector.aclose()
    async with db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("SET LOCAL jit = off"))  # see _bulk_settings
        event = (
            await session.execute(select(InboundEvent).where(InboundEvent.id == event_id).with_for_update())
        ).scalar_one()
        if event.status != "received":
            return event.status
        store = (
            await session.execute(select(Store).where(Store.id == store_id).with_for_update())
        ).scalar_one()
        region = await shop_region(session, store.shop_id)
        summary = await apply_items(session, store, items, region=region, source="webhook")
        event.status, event.processed_at = "processed", utcnow()
        event.error = None
        store.last_synced_at = utcnow()
        log.info("platform webhook %s applied: %s", event_id, summary)
    return "processed"


# --- backfill -----------------------------------------------------------------------------------------------

BackfillStatus = Literal["done", "continue", "busy", "rate_limited", "failed", "gone"]


@dataclass
class BackfillResult:
    status: BackfillStatus
    pages: int = 0
    items: int = 0
    retry_after: float | None = None
    error: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lease_dead(lease: dict[str, Any], now: datetime) -> bool:
    until = datetime.fromisoformat(str(lease.get("until")))
    if until <= now:
        return True
    host, _, rest = str(lease.get("owner", "")).partition(":")
    pid = rest.split(":", 1)[0]
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True  # its process is gone: a crash
        except PermissionError:
            return False
    return False


def new_backfill_state(run: str, resources: Sequence[Resource] = BACKFILL_ORDER) -> dict[str, Any]:
    return {
        "run": run,
        "status": "queued",
        "queued_at": utcnow().isoformat(),
        "started_at": None,
        "finished_at": None,
        "error": None,
        "lease": None,
        "resources": {
            r.value: {"cursor": None, "done": 0, "total": None, "complete": False} for r in resources
        },
    }


async def schedule_backfill(session: AsyncSession, store: Store, *, restart: bool = False) -> str:
    """Queue a backfill job for the store. ``restart`` starts from the first page; otherwise a stopped
    backfill resumes from its checkpoints. Returns the run id."""
    state = dict(store.sync_state or {})
    current = state.get("backfill")
    run = uuid.uuid4().hex[:12]
    if current and not restart:
        bf = dict(current)
        bf.update({"run": run, "status": "queued", "error": None, "finished_at": None})
    else:
        bf = new_backfill_state(run)
    state["backfill"] = bf
    store.sync_state = state
    await enqueue(
        session,
        BACKFILL_JOB,
        {"store_id": store.id, "run": run},
        shop_id=store.shop_id,
        dedupe_key=f"{BACKFILL_JOB}:{store.id}:{run}:0",
    )
    return run


async def _fetch(connector: Connector, resource: Resource, cursor: str | None) -> Page[Any]:
    if resource == Resource.customers:
        return await connector.list_customers(cursor)
    if resource == Resource.products:
        return await connector.list_products(cursor)
    if resource == Resource.orders:
        return await connector.list_orders(cursor)
    if resource == Resource.fulfillments:
        return await connector.list_fulfillments(cursor)
    return await connector.list_refunds(cursor)


async def _apply_page(
    session: AsyncSession, store: Store, resource: Resource, page: Page[Any], region: str | None
) -> None:
    if resource == Resource.customers:
        await apply_customers(session, store, page.items, region=region)
    elif resource == Resource.products:
        await apply_products(session, store, page.items)
    elif resource == Resource.orders:
        await apply_orders(session, store, page.items, region=region)
    elif resource == Resource.fulfillments:
        for s in page.items:
            if s.order_external_id:
                await apply_shipment(session, store, s.order_external_id, s)
    else:
        for r in page.items:
            if r.order_external_id:
                await apply_refund(session, store, r.order_external_id, r)


async def _bulk_settings(session: AsyncSession) -> None:
    """PostgreSQL settings for one sync transaction. JIT compilation costs more than it saves on these
    short statements (it doubled a backfill page's time); and the checkpoint commits with its page, so
    if the server loses the last commits in a crash it loses both and the next run reads the pages again."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL synchronous_commit = off"))


STATS_EVERY = 100  # pages
STATS_AT = (3, 10, 30)  # early too: the first plans are made on empty tables


async def _refresh_statistics(db: Database) -> None:
    """Freshly loaded tables have no statistics yet: PostgreSQL then plans (and psycopg caches) seq scans.
    A backfill refreshes them as it goes."""
    if db.kind != "postgresql":
        return
    async with db.engine.connect() as conn:
        await conn.execute(
            text("ANALYZE customer_identities, customers, products, variants, orders, order_lines")
        )
        await conn.commit()


async def _lock_store(session: AsyncSession, store_id: int) -> Store | None:
    return (
        await session.execute(select(Store).where(Store.id == store_id).with_for_update())
    ).scalar_one_or_none()


def _write_state(store: Store, bf: dict[str, Any]) -> None:
    """A deep copy: JSON columns track assignment, not mutation, and the value SQLAlchemy last flushed must
    never be mutated afterwards (it would compare equal and the change would be lost)."""
    state = copy.deepcopy(dict(store.sync_state or {}))
    state["backfill"] = copy.deepcopy(bf)
    store.sync_state = state


async def run_backfill(
    db: Database,
    *,
    store_id: int,
    run: str | None = None,
    box: SecretBox | None = None,
    connector: Connector | None = None,
    budget_seconds: float | None = None,
    progress: ProgressFn | None = None,
    on_page: Callable[[Resource, int], Awaitable[None]] | None = None,
) -> BackfillResult:
    """Copy the store's customers, products and orders into the mirror, resuming from the checkpoints.

    ``budget_seconds`` bounds one run (a job then queues a continuation); ``run`` ties a job to the
    backfill it was queued for (a newer request supersedes it).
    """
    owner = _owner()
    started = time.monotonic()
    async with db.transaction() as session:
        store = await _lock_store(session, store_id)
        if store is None or store.status != "active":
            return BackfillResult("gone", error="the store is not connected")
        bf = dict(
            (store.sync_state or {}).get("backfill") or new_backfill_state(run or uuid.uuid4().hex[:12])
        )
        if run is not None and bf.get("run") != run:
            return BackfillResult("gone", error="a newer backfill replaced this one")
        lease = bf.get("lease")
        now = utcnow()
        if lease and lease.get("owner") != owner and not _lease_dead(lease, now):
            return BackfillResult("busy", error="another backfill of this store is running")
        if bf.get("status") == "done":
            return BackfillResult("done", progress=bf.get("resources", {}))
        bf["lease"] = {"owner": owner, "until": (now + LEASE).isoformat()}
        bf["status"] = "running"
        bf["started_at"] = bf.get("started_at") or now.isoformat()
        _write_state(store, bf)
        own_connector = connector is None
        conn = connector or registry.for_store(store, box)
        region = await shop_region(session, store.shop_id)
        # resources this platform embeds in orders have nothing to list: complete from the start
        listed = set(getattr(conn, "resources", BACKFILL_ORDER))
        resources = dict(bf.get("resources") or {})
        for resource in BACKFILL_ORDER:
            if resource not in listed:
                resources[resource.value] = {"cursor": None, "done": 0, "total": 0, "complete": True}
        bf["resources"] = resources
        _write_state(store, bf)
    pages = items = 0

    async def finish(
        status: str,
        error: str | None = None,
        *,
        keep_lease: bool = False,
        cause: ConnectorError | None = None,
    ) -> None:
        async with db.transaction() as session:
            store = await _lock_store(session, store_id)
            if store is None:
                return
            if cause is not None:
                await pause_if_revoked(session, store, cause)
            current = dict((store.sync_state or {}).get("backfill") or {})
            if (current.get("lease") or {}).get("owner") != owner:
                return
            current["status"] = status
            current["error"] = error
            if not keep_lease:
                current["lease"] = None
            if status == "done":
                current["finished_at"] = utcnow().isoformat()
            _write_state(store, current)
            store.last_error = error
            if status == "done":
                await _schedule_reconcile(session, store)

    try:
        for resource in BACKFILL_ORDER:
            rs = dict(
                resources.get(resource.value) or {"cursor": None, "done": 0, "total": None, "complete": False}
            )
            if rs.get("complete"):
                continue
            if rs.get("total") is None:
                try:
                    rs["total"] = await conn.count(resource)
                except ConnectorError:
                    rs["total"] = None
            ahead: asyncio.Future[Page[Any]] | None = None
            while not rs.get("complete"):
                if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                    _drop(ahead)
                    await finish("queued")
                    return BackfillResult("continue", pages, items, progress=resources)
                page = await (ahead if ahead is not None else _fetch(conn, resource, rs.get("cursor")))
                # read one page ahead while this one is written (never more: no burst on a restart)
                ahead = (
                    asyncio.ensure_future(_fetch(conn, resource, page.next_cursor))
                    if page.next_cursor is not None
                    else None
                )
                async with db.transaction() as session:
                    await _bulk_settings(session)
                    store = await _lock_store(session, store_id)
                    if store is None or store.status != "active":
                        _drop(ahead)
                        return BackfillResult("gone", pages, items)
                    bf = dict((store.sync_state or {}).get("backfill") or {})
                    if (bf.get("lease") or {}).get("owner") != owner:
                        _drop(ahead)
                        return BackfillResult("busy", pages, items, error="the lease was taken over")
                    await _apply_page(session, store, resource, page, region)
                    rs["cursor"] = page.next_cursor
                    rs["done"] = int(rs.get("done") or 0) + len(page.items)
                    rs["complete"] = page.next_cursor is None
                    if page.total is not None:
                        rs["total"] = page.total
                    bf_resources = dict(bf.get("resources") or {})
                    bf_resources[resource.value] = rs
                    bf["resources"] = bf_resources
                    bf["lease"] = {"owner": owner, "until": (utcnow() + LEASE).isoformat()}
                    _write_state(store, bf)
                    store.last_synced_at = utcnow()
                    resources = bf_resources
                pages += 1
                items += len(page.items)
                if pages in STATS_AT or pages % STATS_EVERY == 0 or rs.get("complete"):
                    await _refresh_statistics(db)
                if progress is not None:
                    progress(resource, int(rs["done"]), rs.get("total"))
                if on_page is not None:
                    await on_page(resource, pages)
        await finish("done")
        return BackfillResult("done", pages, items, progress=resources)
    except RateLimited as exc:
        await finish("waiting", exc.message)
        return BackfillResult("rate_limited", pages, items, retry_after=exc.retry_after, error=exc.message)
    except ConnectorError as exc:
        if exc.retryable:
            await finish("retrying", exc.message)
            raise
        await finish("failed", exc.message, cause=exc)
        return BackfillResult("failed", pages, items, error=exc.message)
    except BaseException:
        await finish("interrupted", "the backfill stopped unexpectedly; it resumes from its last page")
        raise
    finally:
        _drop(locals().get("ahead"))
        if own_connector:
            await conn.aclose()


async def pause_if_revoked(session: AsyncSession, store: Store, exc: ConnectorError) -> bool:
    """A revoked token or a removed scope stops the store's sync (``pause_store``) until an admin
    reconnects it with working credentials (``service.reconnect_store``); the stores page says why."""
    if not isinstance(exc, AuthRejected | MissingScope):
        return False
    return await pause_store(session, store, exc.message)


def _drop(ahead: asyncio.Future[Any] | None) -> None:
    """Abandon a page read ahead (it was not applied: a later run reads it again)."""
    if ahead is not None and not ahead.done():
        ahead.cancel()
    elif ahead is not None and not ahead.cancelled():
        ahead.exception()  # retrieved: no "exception was never retrieved" warning


# --- credentials the platform no longer accepts ----------------------------------------------------------------


async def pause_store(session: AsyncSession, store: Store, reason: str) -> bool:
    """The platform refuses the store's credentials (token revoked, app uninstalled): stop syncing and
    acting on it and tell the shop's admins. The one write path for pausing; connecting the same store
    again with working credentials resumes it. False when the store was not active."""
    if store.status != "active":
        return False
    store.status = "paused"
    store.last_error = reason
    await record(
        session,
        shop_id=store.shop_id,
        type="store.paused",
        actor=SYSTEM,
        data={"store_id": store.id, "platform": store.platform, "reason": reason},
    )
    admins = await session.execute(
        select(Agent.id).where(Agent.shop_id == store.shop_id, Agent.role == Role.admin, Agent.is_active)
    )
    for (agent_id,) in admins.all():
        await notify(
            session,
            shop_id=store.shop_id,
            agent_id=int(agent_id),
            kind="store_paused",
            text=f"{store.name} is paused: {reason}. Connect it again with new credentials to resume syncing.",
        )
    return True


# --- reconciliation -----------------------------------------------------------------------------------------

RECONCILE_EVERY = timedelta(minutes=15)
RECONCILE_OVERLAP = timedelta(minutes=10)


async def _schedule_reconcile(
    session: AsyncSession, store: Store, *, after: timedelta = RECONCILE_EVERY
) -> None:
    if store.platform not in registry.CONNECTABLE:
        return
    run_at = utcnow() + after
    slot = int(run_at.timestamp() // max(1, int(after.total_seconds())))
    existing = (
        await session.execute(
            select(_job_table().c.id).where(_job_table().c.dedupe_key == f"{RECONCILE_JOB}:{store.id}:{slot}")
        )
    ).scalar_one_or_none()
    if existing is None:
        await enqueue(
            session,
            RECONCILE_JOB,
            {"store_id": store.id},
            shop_id=store.shop_id,
            run_at=run_at,
            dedupe_key=f"{RECONCILE_JOB}:{store.id}:{slot}",
        )


def _job_table() -> Any:
    from storedesk.jobs.models import Job

    return Job.__table__


@dataclass
class ReconcileResult:
    status: Literal["done", "skipped", "failed", "rate_limited"]
    orders: int = 0
    changed: int = 0
    since: datetime | None = None
    error: str | None = None
    retry_after: float | None = None


async def reconcile(
    db: Database, *, store_id: int, box: SecretBox | None = None, connector: Connector | None = None
) -> ReconcileResult:
    """Re-read the orders the platform changed since the last run (with an overlap) and apply them; an order
    a webhook already brought is left alone (same version), one a webhook missed is caught up."""
    started = utcnow()
    async with db.transaction() as session:
        store = await session.get(Store, store_id)
        if store is None or store.status != "active" or store.platform not in registry.CONNECTABLE:
            return ReconcileResult("skipped")
        state = dict(store.sync_state or {})
        orders_state = ((state.get("backfill") or {}).get("resources") or {}).get("orders") or {}
        if not orders_state.get("complete"):
            return ReconcileResult("skipped", error="the backfill has not finished")
        last = (state.get("reconcile") or {}).get("last_run_at")
        since = (datetime.fromisoformat(last) - RECONCILE_OVERLAP) if last else started - timedelta(days=1)
        own = connector is None
        conn = connector or registry.for_store(store, box)
        region = await shop_region(session, store.shop_id)
    total = changed = 0
    cursor: str | None = None
    try:
        while True:
            page = await conn.list_orders(cursor, updated_since=since)
            async with db.transaction() as session:
                store = await session.get(Store, store_id)
                if store is None:
                    return ReconcileResult("skipped")
                for a in await apply_orders(session, store, page.items, region=region, detect_changes=True):
                    if a.change != "unchanged":
                        changed += 1
                        await _order_synced(session, store, a, "reconciliation")
            total += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
    except RateLimited as exc:
        return ReconcileResult("rate_limited", total, changed, since, exc.message, exc.retry_after)
    except ConnectorError as exc:
        async with db.transaction() as session:
            store = await session.get(Store, store_id)
            if store is not None:
                store.last_error = exc.message
                await pause_if_revoked(session, store, exc)
        if exc.retryable:
            raise
        return ReconcileResult("failed", total, changed, since, exc.message)
    finally:
        if own:
            await conn.aclose()
    async with db.transaction() as session:
        store = await session.get(Store, store_id)
        if store is not None:
            state = dict(store.sync_state or {})
            state["reconcile"] = {"last_run_at": started.isoformat(), "orders": total, "changed": changed}
            store.sync_state = state
            store.last_synced_at = utcnow()
    return ReconcileResult("done", total, changed, since)


async def schedule_next_reconcile(db: Database, store_id: int) -> None:
    async with db.transaction() as session:
        store = await session.get(Store, store_id)
        if store is not None and store.status == "active":
            await _schedule_reconcile(session, store)


# --- the mirror's own view of an order (what order actions hand to a connector) -----------------------------


async def order_snapshot(session: AsyncSession, order: Order) -> tuple[ExtOrder, dict[int, str]]:
    """The order as a connector sees it, and our line ids → the line keys it uses."""
    from storedesk.commerce.connectors.protocol import ExtLine, ExtReturn, ExtReturnLine
    from storedesk.commerce.models import FulfillmentStatus, ReturnStatus, ShipmentStatus
    from storedesk.commerce.repository import OrderRepository

    repo = OrderRepository(session, order.shop_id)
    lines = (await repo.lines([order.id]))[order.id]
    shipments = (await repo.shipments([order.id]))[order.id]
    refunds = list(await repo.refunds(order.id))
    returns = list(await repo.returns(order.id))
    return_lines = await MirrorRepository(session, order.shop_id).return_lines([r.id for r in returns])
    key = {line.id: line.external_id or f"local-{line.id}" for line in lines}
    snapshot = ExtOrder(
        external_id=order.external_id or f"local-{order.id}",
        number=order.number,
        currency=order.currency,
        financial_status=FinancialStatus(order.financial_status),
        fulfillment_status=FulfillmentStatus(order.fulfillment_status),
        placed_at=order.placed_at,
        updated_at=order.platform_updated_at,
        subtotal_minor=order.subtotal_minor,
        total_minor=order.total_minor,
        shipping_minor=order.shipping_minor,
        tax_minor=order.tax_minor,
        refunded_minor=order.refunded_minor,
        email=order.email,
        phone=order.phone,
        cancelled_at=order.cancelled_at,
        cancel_reason=order.cancel_reason,
        shipping_method=order.shipping_method,
        payment_method=order.payment_method,
        shipping_address=dict(order.shipping_address) if order.shipping_address else None,
        billing_address=dict(order.billing_address) if order.billing_address else None,
        note=order.note,
        tags=list(order.tags or []),
        lines=[
            ExtLine(
                external_id=key[line.id],
                title=line.title,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                total_minor=line.total_minor,
                sku=line.sku,
                variant_title=line.variant_title,
                refunded_quantity=line.refunded_quantity,
            )
            for line in lines
        ],
        shipments=[
            ExtShipment(
                external_id=s.external_id or f"local-{s.id}",
                status=ShipmentStatus(s.status),
                carrier=s.carrier,
                tracking_number=s.tracking_number,
                tracking_url=s.tracking_url,
                shipped_at=s.shipped_at,
                estimated_delivery_at=s.estimated_delivery_at,
                delivered_at=s.delivered_at,
                updated_at=s.platform_updated_at,
            )
            for s in shipments
        ],
        refunds=[
            ExtRefund(
                external_id=r.external_id or f"local-{r.id}",
                amount_minor=r.amount_minor,
                currency=r.currency,
                reason=r.reason,
                status=r.status,
                created_at=r.created_at,
                processed_at=r.processed_at,
                shipping_minor=r.shipping_minor,
                lines=[
                    (key[int(e["order_line_id"])], int(e["quantity"]))
                    for e in (r.lines or [])
                    if int(e["order_line_id"]) in key
                ],
            )
            for r in refunds
        ],
        returns=[
            ExtReturn(
                external_id=r.external_id or f"local-{r.id}",
                number=r.number,
                status=ReturnStatus(r.status),
                reason=r.reason,
                created_at=r.created_at,
                lines=[
                    ExtReturnLine(key[rl.order_line_id], rl.quantity, rl.reason)
                    for rl in return_lines[r.id]
                    if rl.order_line_id in key
                ],
            )
            for r in returns
        ],
    )
    return snapshot, key


async def store_webhook(
    session: AsyncSession,
    *,
    store: Store,
    dedupe_key: str,
    headers: dict[str, str],
    body: bytes,
    status: str = "received",
    error: str | None = None,
) -> int | None:
    """Record a verified delivery under ``(platform, store:key)``; None when it was seen before."""
    now = utcnow()
    stmt = (
        _insert(session, InboundEvent.__table__)
        .values(
            source=store.platform,
            dedupe_key=f"{store.id}:{dedupe_key}"[:255],
            shop_id=store.shop_id,
            channel_id=None,
            headers={**headers, STORE_HEADER: str(store.id)},
            body=body,
            status=status,
            error=error,
            received_at=now,
            processed_at=now if status != "received" else None,
        )
        .on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
        .returning(InboundEvent.__table__.c.id)
    )
    event_id = (await session.execute(stmt)).scalar_one_or_none()
    if event_id is not None and status == "received":
        await enqueue(
            session,
            WEBHOOK_JOB,
            {"event_id": int(event_id)},
            shop_id=store.shop_id,
            dedupe_key=f"{WEBHOOK_JOB}:{event_id}",
        )
    return int(event_id) if event_id is not None else None
