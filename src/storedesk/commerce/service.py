"""Connected stores and order actions — the single write paths.

Order actions (cancel, refund, shipping address, note, tags, return, resend confirmation) are used by the
API, the agent UI and the assistant alike. Each one:

1. checks permission (an agent or admin; viewers and customers never; the assistant and the system may),
   loads the order in the caller's shop (another shop's order is a 404), validates, and — without
   ``confirm=True`` — stops with a 409 ``confirmation_required`` carrying a preview in plain words;
2. claims the order (one action at a time), commits, and calls the platform with no transaction open;
3. applies the platform's answer to the mirror in a new transaction and writes the audit event (who,
   what, before, after). A refusal by the platform is recorded too and reaches the caller in plain words.

Because an action spans two transactions, these functions take the :class:`Database`, not a session.
Release any session you hold before calling them (SQLite has a single connection).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.models import Agent, Role
from storedesk.commerce import sync
from storedesk.commerce.connectors import registry
from storedesk.commerce.connectors.common import address_line, from_minor
from storedesk.commerce.connectors.csv_import import CsvConnector, ImportData
from storedesk.commerce.connectors.protocol import (
    ADDRESS_FIELDS,
    ZIP_OPTIONAL_COUNTRIES,
    Action,
    ActionOutcome,
    Address,
    AuthRejected,
    CancelReason,
    CancelRequest,
    Connector,
    ConnectorError,
    ExtOrder,
    ExtReturnLine,
    MissingScope,
    NotSupported,
    RateLimited,
    RefundRequest,
    ReturnRequest,
    StoreInfo,
)
from storedesk.commerce.connectors.woocommerce import WooCommerceConnector
from storedesk.commerce.models import FinancialStatus, FulfillmentStatus, Order, Store
from storedesk.commerce.repository import OrderRepository, StoreRepository, store_by_id_any_shop
from storedesk.db.session import Database
from storedesk.events.service import record
from storedesk.jobs.registry import enqueue
from storedesk.kit.actor import Actor
from storedesk.kit.crypto import SecretBox
from storedesk.kit.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    StoredeskError,
    TooManyRequests,
    ValidationFailed,
)
from storedesk.kit.time import utcnow

ACTION_TIMEOUT = timedelta(minutes=2)
MAX_NOTE = 2000
MAX_TAGS = 20
MAX_TAG = 40
RETURN_REASONS = (
    "defective",
    "not_as_described",
    "wrong_item",
    "unwanted",
    "size_too_small",
    "size_too_large",
    "style",
    "color",
    "other",
)


# --- errors -------------------------------------------------------------------------------------------------


class ConfirmationRequired(StoredeskError):
    """The action was not confirmed: ``details.preview`` says what would happen."""

    status_code = 409
    code = "confirmation_required"


class StoreConnectionFailed(StoredeskError):
    status_code = 422
    code = "store_connection_failed"


class StoreActionFailed(StoredeskError):
    status_code = 422
    code = "store_refused"


class StoreUnavailable(StoredeskError):
    status_code = 502
    code = "store_unavailable"


def _store_error(exc: ConnectorError, *, connecting: bool = False) -> StoredeskError:
    details = {"platform_error": exc.code, **({"details": exc.details} if exc.details else {})}
    if isinstance(exc, RateLimited):
        return TooManyRequests(exc.message, details={"retry_after": max(1, int(exc.retry_after + 0.999))})
    if connecting:
        return StoreConnectionFailed(exc.message, details=details, code=exc.code)
    if exc.retryable:
        return StoreUnavailable(exc.message, details=details)
    if isinstance(exc, AuthRejected | MissingScope):
        error = StoreActionFailed(
            f"{exc.message}; an admin needs to reconnect the store", details=details, code=exc.code
        )
        error.status_code = 409
        return error
    return StoreActionFailed(exc.message, details=details, code=exc.code)


# --- permissions --------------------------------------------------------------------------------------------


def _clean_credentials(credentials: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in credentials.items() if v is not None}


async def _probe(platform: str, creds: dict[str, Any], base_url: str | None) -> StoreInfo:
    """Build a connector for the credentials a person just entered and test them: one retry and no long
    waits (somebody is looking at the form); every failure is a :class:`StoreConnectionFailed`."""
    try:
        connector = registry.build(
            platform,
            creds,
            base_url=base_url,
            http_overrides={"max_retries": 1, "max_wait": 10.0, "timeout": 15.0},
        )
    except NotSupported as exc:
        raise StoreConnectionFailed(exc.message, code=exc.code) from exc
    try:
        return await connector.test()
    except ConnectorError as exc:
        raise _store_error(exc, connecting=True) from exc
    finally:
        await connector.aclose()


async def _authorize(session: AsyncSession, shop_id: int, actor: Actor, role: Role) -> None:
    """Agents need ``role`` (admin includes agent); the assistant and the system act by their own policy."""
    if actor.type in ("assistant", "system"):
        return
    if actor.type != "agent" or actor.id is None:
        raise Forbidden("only agents can do this")
    agent = (
        await session.execute(select(Agent).where(Agent.shop_id == shop_id, Agent.id == actor.id))
    ).scalar_one_or_none()
    if agent is None or not agent.is_active:
        raise Forbidden("only active agents of this shop can do this")
    allowed = {Role.agent, Role.admin} if role == Role.agent else {Role.admin}
    if Role(agent.role) not in allowed:
        raise Forbidden(
            f"this action needs the {role.value} role; you are {Role(agent.role).value}",
            details={"required_role": role.value, "role": Role(agent.role).value},
        )


# --- stores -------------------------------------------------------------------------------------------------

REQUIRED_CREDENTIALS = {
    "shopify": ("store_domain", "access_token"),
    "woocommerce": ("site_url", "consumer_key", "consumer_secret"),
    "ecwid": ("store_id", "access_token"),
}
# without it the platform's webhooks cannot be verified, so every delivery is refused (401)
WEBHOOK_SECRET = {"shopify": "api_secret", "woocommerce": "webhook_secret", "ecwid": "client_secret"}


@dataclass
class Connected:
    store: Store
    webhook_path: str
    # secrets storedesk generated and shows once (e.g. the WooCommerce webhook secret to paste)
    generated: dict[str, str] = field(default_factory=dict)


def webhook_path(store: Store) -> str:
    return f"/webhooks/{store.platform}/{store.id}"


async def connect_store(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    platform: str,
    credentials: Mapping[str, Any],
    name: str | None = None,
    base_url: str | None = None,
    backfill: bool = True,
    public_base_url: str | None = None,
    box: SecretBox | None = None,
) -> Connected:
    """Test the connection (network, outside any transaction), then save the store with its credentials
    encrypted and queue the backfill and — given the address the platform reaches storedesk at — the
    webhook subscription. A failed test is a 422 saying what is wrong in plain words."""
    if platform not in registry.CONNECTABLE:
        raise ValidationFailed(
            f"platform must be one of {', '.join(registry.CONNECTABLE)}", details={"field": "platform"}
        )
    missing = [k for k in REQUIRED_CREDENTIALS[platform] if not str(credentials.get(k) or "").strip()]
    if missing:
        raise ValidationFailed(f"{platform} needs {', '.join(missing)}", details={"missing": missing})
    secret_box = registry.box(box)
    async with db.transaction() as session:
        await _authorize(session, shop_id, actor, Role.admin)
    creds = _clean_credentials(credentials)
    generated: dict[str, str] = {}
    if platform == "woocommerce" and not creds.get("webhook_secret"):
        creds["webhook_secret"] = generated["webhook_secret"] = secrets.token_urlsafe(32)
    info = await _probe(platform, creds, base_url)
    if info.currency:
        creds["currency"] = info.currency
    async with db.transaction() as session:
        earlier: Store | None = None
        for other in await StoreRepository(session, shop_id).all():
            if other.platform != platform or other.external_id != info.external_id:
                continue
            if other.status == "active":
                raise Conflict(
                    f"this {platform} store is already connected (store {other.id})",
                    details={"store_id": other.id},
                )
            if other.status in ("paused", "disconnected"):
                earlier = other
        if earlier is not None:
            # the same store again (new token after a revocation, or after a disconnect): keep its mirror
            store = await StoreRepository(session, shop_id).get_for_update(earlier.id)
            await _reactivate(session, store, actor, creds, base_url, info.scopes, secret_box)
            await _after_connect(session, store, backfill=backfill, public_base_url=public_base_url)
            return Connected(store, webhook_path(store), generated)
        store = Store(
            shop_id=shop_id,
            platform=platform,
            name=(name or info.name)[:200],
            base_url=base_url,
            external_id=info.external_id[:255],
            credentials_encrypted=secret_box.encrypt_json(creds),
            status="active",
            sync_state={
                "connected_at": utcnow().isoformat(),
                "scopes": list(info.scopes),
                "warnings": []
                if creds.get(WEBHOOK_SECRET[platform])
                else [
                    f"no {WEBHOOK_SECRET[platform]}: {platform} webhooks are refused until the store is "
                    "connected again with it (the reconciliation still catches changes every 15 minutes)"
                ],
            },
        )
        session.add(store)
        await session.flush()
        await record(
            session,
            shop_id=shop_id,
            type="store.connected",
            actor=actor,
            data={
                "store_id": store.id,
                "platform": platform,
                "name": store.name,
                "external_id": store.external_id,
            },
        )
        await _after_connect(session, store, backfill=backfill, public_base_url=public_base_url)
        return Connected(store, webhook_path(store), generated)


async def _after_connect(
    session: AsyncSession, store: Store, *, backfill: bool, public_base_url: str | None
) -> None:
    """Queue what a (re)connected store needs: the backfill (resuming a stopped one) and the webhook
    subscription at the address the platform reaches storedesk at."""
    if backfill:
        await sync.schedule_backfill(session, store)
    if public_base_url:
        await enqueue(
            session,
            REGISTER_WEBHOOKS_JOB,
            {"store_id": store.id, "public_base_url": public_base_url},
            shop_id=store.shop_id,
        )


async def reconnect_store(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    store_id: int,
    credentials: Mapping[str, Any],
    base_url: str | None = None,
    public_base_url: str | None = None,
    box: SecretBox | None = None,
) -> Store:
    """New credentials for a paused store (token revoked, scope removed): test them (network, outside any
    transaction), make sure they reach the same store, save them and resume the backfill where it stopped.
    The mirror stays as it is — nothing is copied twice."""
    async with db.transaction() as session:
        await _authorize(session, shop_id, actor, Role.admin)
        store = await StoreRepository(session, shop_id).get_or_404(store_id)
        if store.status != "paused":
            raise InvalidTransition(f"store {store_id} is not paused; only a paused store can be reconnected")
        platform, external_id, old_base = store.platform, store.external_id, store.base_url
    missing = [k for k in REQUIRED_CREDENTIALS[platform] if not str(credentials.get(k) or "").strip()]
    if missing:
        raise ValidationFailed(f"{platform} needs {', '.join(missing)}", details={"missing": missing})
    secret_box = registry.box(box)
    creds = _clean_credentials(credentials)
    url = base_url or old_base
    info = await _probe(platform, creds, url)
    if info.external_id != external_id:
        raise StoreConnectionFailed(
            f"these credentials open another store ({info.name}), not {external_id}; connect it as a new store",
            code="other_store",
        )
    async with db.transaction() as session:
        store = await StoreRepository(session, shop_id).get_for_update(store_id)
        if store.status != "paused":
            raise InvalidTransition(f"store {store_id} is not paused; only a paused store can be reconnected")
        if info.currency:
            creds["currency"] = info.currency
        await _reactivate(session, store, actor, creds, url, info.scopes, secret_box)
        done = ((store.sync_state or {}).get("backfill") or {}).get("status") == "done"
        await _after_connect(session, store, backfill=not done, public_base_url=public_base_url)
        return store


async def _reactivate(
    session: AsyncSession,
    store: Store,
    actor: Actor,
    creds: dict[str, Any],
    base_url: str | None,
    scopes: Sequence[str],
    secret_box: SecretBox,
) -> None:
    """The one write path that brings a paused or disconnected store back with tested credentials: the
    mirror stays, a webhook secret not given again is kept, ``store.reconnected`` is recorded."""
    secret = WEBHOOK_SECRET[store.platform]
    if not creds.get(secret) and store.credentials_encrypted:
        old = secret_box.decrypt_json(store.credentials_encrypted)
        if old.get(secret):
            creds[secret] = old[secret]
    store.credentials_encrypted = secret_box.encrypt_json(creds)
    store.base_url = base_url
    store.status = "active"
    store.last_error = None
    state = dict(store.sync_state or {})
    state["scopes"] = list(scopes)
    store.sync_state = state
    await record(
        session,
        shop_id=store.shop_id,
        type="store.reconnected",
        actor=actor,
        data={"store_id": store.id, "platform": store.platform, "name": store.name},
    )


async def disconnect_store(session: AsyncSession, *, shop_id: int, actor: Actor, store_id: int) -> Store:
    """Forget the credentials and stop syncing; the mirrored orders stay (conversations point at them)."""
    await _authorize(session, shop_id, actor, Role.admin)
    store = await StoreRepository(session, shop_id).get_for_update(store_id)
    if store.status not in ("active", "paused"):
        raise InvalidTransition(f"store {store_id} is not connected")
    store.status = "disconnected"
    store.credentials_encrypted = None
    await record(
        session,
        shop_id=shop_id,
        type="store.disconnected",
        actor=actor,
        data={"store_id": store.id, "platform": store.platform},
    )
    return store


REGISTER_WEBHOOKS_JOB = "commerce.register_webhooks"


def _loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def register_webhooks(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    store_id: int,
    public_base_url: str,
    box: SecretBox | None = None,
) -> dict[str, Any]:
    """Subscribe the platform's webhooks to this store's address under ``public_base_url`` (idempotent),
    and keep the outcome on the store (``sync_state["webhooks"]``) with an audit event. Platforms that only
    take the address in their own admin are recorded as ``manual`` with what to enter where."""
    async with db.transaction() as session:
        await _authorize(session, shop_id, actor, Role.admin)
        store = await StoreRepository(session, shop_id).get_for_update(store_id)
        if store.status != "active" or store.platform not in registry.CONNECTABLE:
            raise InvalidTransition(f"store {store_id} is not a connected platform store")
        callback = public_base_url.rstrip("/") + webhook_path(store)
        if _loopback(public_base_url):
            # no platform can deliver to this machine's loopback address: say what to do instead
            state: dict[str, Any] = {
                "callback_url": callback,
                "at": utcnow().isoformat(),
                "status": "skipped",
                "message": f"STOREDESK_BASE_URL ({public_base_url}) is this machine's own address, which "
                "the platform cannot reach; set the public https address and subscribe again",
            }
            sync_state = dict(store.sync_state or {})
            sync_state["webhooks"] = state
            store.sync_state = sync_state
            return state
        connector = registry.for_store(store, box)
    state = {"callback_url": callback, "at": utcnow().isoformat()}
    try:
        outcome = await connector.register_webhooks(callback)
    except NotSupported as exc:
        state.update(status="manual", message=exc.message)
    except ConnectorError as exc:
        state.update(status="failed", message=exc.message)
        if isinstance(exc, AuthRejected):
            async with db.transaction() as session:
                await sync.pause_store(
                    session, await StoreRepository(session, shop_id).get_for_update(store_id), exc.message
                )
    else:
        working = bool(outcome.created or outcome.existing)
        state.update(
            status=("partial" if working else "failed") if outcome.failed else "registered",
            created=list(outcome.created),
            existing=list(outcome.existing),
            failed=dict(outcome.failed),
        )
    finally:
        await connector.aclose()
    async with db.transaction() as session:
        store = await StoreRepository(session, shop_id).get_for_update(store_id)
        sync_state = dict(store.sync_state or {})
        sync_state["webhooks"] = state
        store.sync_state = sync_state
        await record(
            session,
            shop_id=shop_id,
            type={"failed": "store.webhooks_failed", "manual": "store.webhooks_manual"}.get(
                state["status"], "store.webhooks_registered"
            ),
            actor=actor,
            data={"store_id": store_id, "platform": store.platform, **state},
        )
    return state


async def request_backfill(
    session: AsyncSession, *, shop_id: int, actor: Actor, store_id: int, restart: bool = False
) -> str:
    """Queue a backfill (the job answers at once; progress shows on the store)."""
    await _authorize(session, shop_id, actor, Role.admin)
    store = await StoreRepository(session, shop_id).get_for_update(store_id)
    if store.status != "active":
        raise InvalidTransition(f"store {store_id} is not connected")
    backfill = (store.sync_state or {}).get("backfill") or {}
    lease = backfill.get("lease") or {}
    if backfill.get("status") == "running" and lease and not sync._lease_dead(lease, utcnow()):
        raise Conflict("a backfill of this store is running; wait for it or watch its progress")
    run = await sync.schedule_backfill(session, store, restart=restart)
    await record(
        session,
        shop_id=shop_id,
        type="store.backfill_requested",
        actor=actor,
        data={"store_id": store.id, "run": run, "restart": restart},
    )
    return run


class WebhookReceipt(StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"
    ping = "ping"
    malformed = "malformed"
    bad_signature = "bad_signature"
    unknown_store = "unknown_store"


KEPT_HEADERS = ("content-type", "x-shopify-", "x-wc-webhook-", "x-ecwid-")


async def accept_webhook(
    session: AsyncSession,
    *,
    platform: str,
    store_id: int,
    body: bytes,
    headers: Mapping[str, str],
    box: SecretBox | None = None,
) -> WebhookReceipt:
    """Verify a platform delivery with the store's own secret (raw bytes, constant time), store it once
    under its delivery id and queue its application. A wrong signature stores nothing."""
    import hashlib

    import orjson

    store = await store_by_id_any_shop(session, store_id)
    if store is None or store.platform != platform or store.status != "active":
        return WebhookReceipt.unknown_store
    lowered = {k.lower(): v for k, v in headers.items()}
    if platform == "woocommerce" and WooCommerceConnector.is_ping(body, lowered):
        return WebhookReceipt.ping
    connector = registry.for_store(store, box)
    try:
        if not connector.verify_webhook(body, lowered):
            return WebhookReceipt.bad_signature
        key = connector.webhook_key(body, lowered) or "sha256:" + hashlib.sha256(body).hexdigest()
    finally:
        await connector.aclose()
    kept = {k: v for k, v in lowered.items() if k.startswith(KEPT_HEADERS)}
    try:
        parsed = orjson.loads(body)
        error = None if isinstance(parsed, dict) else "the body is not a JSON object"
    except orjson.JSONDecodeError:
        error = "the body is not JSON"
    event_id = await sync.store_webhook(
        session,
        store=store,
        dedupe_key=key,
        headers=kept,
        body=body,
        status="failed" if error else "received",
        error=error,
    )
    if event_id is None:
        return WebhookReceipt.duplicate
    return WebhookReceipt.malformed if error else WebhookReceipt.accepted


# --- order actions ------------------------------------------------------------------------------------------


@dataclass
class ActionResult:
    action: Action
    order_id: int
    status: str  # "done" | "pending"
    message: str
    order: Order
    refund_id: int | None = None
    return_id: int | None = None
    event_id: int | None = None


@dataclass
class _Plan:
    """What phase 1 decided: the preview shown for confirmation and the call to make."""

    preview: dict[str, Any]
    call: Callable[[Connector, ExtOrder], Awaitable[ActionOutcome]]
    params: dict[str, Any]


Planner = Callable[[Order, ExtOrder, Store, dict[int, str]], _Plan]

EVENT_TYPES = {
    Action.cancel: "order.cancelled",
    Action.refund: "order.refunded",
    Action.shipping_address: "order.shipping_address_changed",
    Action.note: "order.note_added",
    Action.tags: "order.tagged",
    Action.create_return: "order.return_created",
    Action.resend_confirmation: "order.confirmation_resent",
}
REFUSED_EVENT = "order.action_refused"
# the order's audit trail: every action taken, and every refusal by the platform
AUDIT_EVENT_TYPES = (*EVENT_TYPES.values(), REFUSED_EVENT)


def _money(amount: int, currency: str) -> str:
    return f"{from_minor(amount, currency)} {currency}"


def _state(order: Order) -> dict[str, Any]:
    return {
        "financial_status": str(order.financial_status),
        "fulfillment_status": str(order.fulfillment_status),
        "cancelled_at": order.cancelled_at.isoformat() if order.cancelled_at else None,
        "refunded_minor": order.refunded_minor,
        "shipping_address": order.shipping_address,
        "note": order.note,
        "tags": list(order.tags or []),
    }


def _preview(action: Action, order: Order, store: Store, summary: str, **extra: Any) -> dict[str, Any]:
    return {
        "action": action.value,
        "order_id": order.id,
        "order_number": order.number,
        "store": {"id": store.id, "name": store.name, "platform": store.platform},
        "summary": summary,
        **extra,
    }


async def _run_action(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    action: Action,
    confirm: bool,
    planner: Planner,
    box: SecretBox | None,
) -> ActionResult:
    # phase 1: authorize, load, validate, preview, claim
    async with db.transaction() as session:
        await _authorize(session, shop_id, actor, Role.agent)
        order = await OrderRepository(session, shop_id).get_or_404(order_id)
        if order.store_id is None:
            raise InvalidTransition(f"order {order.number} is not linked to a connected store")
        store = await StoreRepository(session, shop_id).get_or_404(order.store_id)
        if store.status != "active":
            raise InvalidTransition(f"the store {store.name} is not connected any more; reconnect it first")
        connector = registry.for_store(store, box)
        if action not in connector.actions:
            await connector.aclose()
            raise StoreActionFailed(
                _unsupported_message(store, action),
                code="store_not_supported",
                details={"platform": store.platform},
            )
        snapshot, line_keys = await sync.order_snapshot(session, order)
        try:
            plan = planner(order, snapshot, store, line_keys)
        except BaseException:
            await connector.aclose()
            raise
        if not confirm:
            await connector.aclose()
            raise ConfirmationRequired(
                f"confirm to {plan.preview['summary'][0].lower()}{plan.preview['summary'][1:]}",
                details={"preview": plan.preview},
            )
        now = utcnow()
        claimed = await session.execute(
            update(Order)
            .where(
                Order.shop_id == shop_id,
                Order.id == order_id,
                or_(Order.action_pending.is_(None), Order.action_started_at < now - ACTION_TIMEOUT),
            )
            .values(action_pending=action.value, action_started_at=now)
        )
        if not getattr(claimed, "rowcount", 0):
            await connector.aclose()
            raise Conflict(
                f"another action on order {order.number} is in progress; try again in a moment",
                details={"action_pending": order.action_pending},
            )
        before = _state(order)
        store_id, customer_id = store.id, order.customer_id
    # phase 2: the platform (no transaction open)
    outcome: ActionOutcome | None = None
    failure: ConnectorError | None = None
    try:
        outcome = await plan.call(connector, snapshot)
    except ConnectorError as exc:
        failure = exc
    finally:
        await connector.aclose()
        if outcome is None and failure is None:
            await _release(db, shop_id, order_id)
    # phase 3: apply the answer, release the claim, audit
    async with db.transaction() as session:
        order = await OrderRepository(session, shop_id).get_for_update(order_id)
        store = await StoreRepository(session, shop_id).get_or_404(store_id)
        order.action_pending = None
        order.action_started_at = None
        if isinstance(failure, AuthRejected):  # a missing scope for one action does not stop the sync
            await sync.pause_store(session, store, failure.message)
        if failure is not None:
            await record(
                session,
                shop_id=shop_id,
                type=REFUSED_EVENT,
                actor=actor,
                order_id=order_id,
                customer_id=customer_id,
                data={
                    "action": action.value,
                    "store_id": store_id,
                    "platform": store.platform,
                    "params": plan.params,
                    "error": failure.code,
                    "message": failure.message,
                },
            )
        else:
            assert outcome is not None
            region = await sync.shop_region(session, shop_id)
            if outcome.order is not None:
                await sync.apply_orders(session, store, [outcome.order], region=region)
            if outcome.refund is not None and outcome.refund.order_external_id:
                await sync.apply_refund(session, store, outcome.refund.order_external_id, outcome.refund)
            await session.refresh(order)
            refund_id = await _child_id(
                session, "refunds", order.id, outcome.refund.external_id if outcome.refund else None
            )
            return_id = await _child_id(
                session, "returns", order.id, outcome.return_.external_id if outcome.return_ else None
            )
            event = await record(
                session,
                shop_id=shop_id,
                type=EVENT_TYPES[action],
                actor=actor,
                order_id=order_id,
                customer_id=customer_id,
                data={
                    "store_id": store_id,
                    "platform": store.platform,
                    "params": plan.params,
                    "before": before,
                    "after": _state(order),
                    "result": outcome.message,
                    "pending": outcome.pending,
                    "refund_id": refund_id,
                    "return_id": return_id,
                },
            )
            await session.flush()
            result = ActionResult(
                action=action,
                order_id=order_id,
                status="pending" if outcome.pending else "done",
                message=outcome.message,
                order=order,
                refund_id=refund_id,
                return_id=return_id,
                event_id=event.id,
            )
    if failure is not None:
        raise _store_error(failure) from failure
    return result


async def _release(db: Database, shop_id: int, order_id: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Order)
            .where(Order.shop_id == shop_id, Order.id == order_id)
            .values(action_pending=None, action_started_at=None)
        )


async def _child_id(session: AsyncSession, table: str, order_id: int, external_id: str | None) -> int | None:
    if external_id is None:
        return None
    from storedesk.commerce.models import Refund, Return

    model = Refund if table == "refunds" else Return
    found = (
        await session.execute(
            select(model.id).where(model.order_id == order_id, model.external_id == external_id)
        )
    ).scalar_one_or_none()
    return int(found) if found is not None else None


def _unsupported_message(store: Store, action: Action) -> str:
    what = {
        Action.cancel: "cancel orders",
        Action.refund: "refund orders",
        Action.shipping_address: "change a shipping address",
        Action.note: "add notes to orders",
        Action.tags: "tag orders",
        Action.create_return: "create returns",
        Action.resend_confirmation: "resend order confirmations",
    }[action]
    label = {"woocommerce": "WooCommerce", "shopify": "Shopify", "ecwid": "Ecwid"}.get(store.platform)
    if store.platform == "csv":
        return f"order was imported from a file, so storedesk cannot {what}; do it where the order came from"
    return f"{label or store.platform} cannot {what} through its API; do it in the store's admin"


def _paid(order: ExtOrder) -> bool:
    return order.financial_status in (FinancialStatus.paid, FinancialStatus.partially_refunded)


def _refundable(order: ExtOrder) -> int:
    return max(0, order.total_minor - order.refunded_minor) if _paid(order) else 0


# -- cancel


async def cancel_order(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    restock: bool = True,
    refund: bool = True,
    reason: CancelReason | str = CancelReason.customer,
    notify: bool = False,
    staff_note: str | None = None,
    confirm: bool = False,
    box: SecretBox | None = None,
) -> ActionResult:
    try:
        why = CancelReason(reason)
    except ValueError as exc:
        raise ValidationFailed(
            f"reason must be one of {', '.join(r.value for r in CancelReason)}", details={"field": "reason"}
        ) from exc

    def plan(order: Order, ext: ExtOrder, store: Store, line_keys: dict[int, str]) -> _Plan:
        if ext.cancelled_at is not None:
            raise InvalidTransition(f"order {ext.number} is already cancelled")
        if ext.fulfillment_status != FulfillmentStatus.unfulfilled:
            raise InvalidTransition(f"order {ext.number} has shipped; create a return instead of cancelling")
        amount = _refundable(ext) if refund else 0
        items = sum(line.quantity - line.refunded_quantity for line in ext.lines)
        effects = [f"cancel order {ext.number} in {store.name}"]
        effects.append(f"refund {_money(amount, ext.currency)}" if amount else "refund nothing")
        effects.append(f"put {items} item(s) back in stock" if restock else "leave the stock as it is")
        if notify:
            effects.append("email the customer")
        summary = "Cancel order {n}: {e}".format(n=ext.number, e=", ".join(effects[1:]))
        request = CancelRequest(
            restock=restock, refund=refund, reason=why, notify=notify, staff_note=staff_note
        )
        return _Plan(
            _preview(
                Action.cancel,
                order,
                store,
                summary,
                effects=effects,
                refund_minor=amount,
                currency=ext.currency,
                restock=restock,
            ),
            lambda c, o: c.cancel(o, request),
            {
                "restock": restock,
                "refund": refund,
                "reason": why.value,
                "notify": notify,
                "refund_minor": amount,
            },
        )

    return await _run_action(
        db,
        shop_id=shop_id,
        actor=actor,
        order_id=order_id,
        action=Action.cancel,
        confirm=confirm,
        planner=plan,
        box=box,
    )


# -- refund


async def refund_order(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    lines: Sequence[tuple[int, int]] = (),
    shipping_minor: int = 0,
    amount_minor: int | None = None,
    reason: str | None = None,
    restock: bool = True,
    notify: bool = False,
    confirm: bool = False,
    box: SecretBox | None = None,
) -> ActionResult:
    """Refund whole lines (``(order_line_id, quantity)``), shipping, and/or an amount. Without
    ``amount_minor`` the amount is the lines' price (before tax) plus the shipping. It can never exceed
    what was paid minus what was already refunded."""

    def plan(order: Order, ext: ExtOrder, store: Store, line_keys: dict[int, str]) -> _Plan:
        if ext.financial_status == FinancialStatus.refunded:
            raise InvalidTransition(f"order {ext.number} is already refunded in full")
        if not _paid(ext):
            raise InvalidTransition(
                f"order {ext.number} is {ext.financial_status.value}; only paid orders can be refunded"
            )
        refundable = _refundable(ext)
        if refundable <= 0:
            raise InvalidTransition(f"order {ext.number} is already refunded in full")
        by_key = {line.external_id: line for line in ext.lines}
        ids = line_keys
        wanted: dict[str, int] = {}
        computed = 0
        for line_id, qty in lines:
            key = ids.get(line_id)
            if key is None:
                raise ValidationFailed(
                    f"line {line_id} is not part of order {ext.number}", details={"field": "lines"}
                )
            line = by_key[key]
            left = line.quantity - line.refunded_quantity - wanted.get(key, 0)
            if qty < 1 or qty > left:
                raise ValidationFailed(
                    f"line {line_id} ({line.title}) has {left} left to refund; asked for {qty}",
                    details={"field": "lines", "line_id": line_id, "refundable_quantity": left},
                )
            wanted[key] = wanted.get(key, 0) + qty
            computed += line.total_minor * qty // line.quantity if line.quantity else 0
        shipping_refunded = sum(r.shipping_minor for r in ext.refunds)
        if shipping_minor < 0 or shipping_minor > ext.shipping_minor - shipping_refunded:
            raise ValidationFailed(
                f"shipping can be refunded up to {_money(max(0, ext.shipping_minor - shipping_refunded), ext.currency)}",
                details={"field": "shipping_minor"},
            )
        computed += shipping_minor
        amount = computed if amount_minor is None else amount_minor
        if amount <= 0:
            raise ValidationFailed(
                "say what to refund: lines, shipping or an amount", details={"field": "amount_minor"}
            )
        if amount > refundable:
            raise ValidationFailed(
                f"the refund ({_money(amount, ext.currency)}) would exceed what is left to refund "
                f"({_money(refundable, ext.currency)}: paid {_money(ext.total_minor, ext.currency)}, "
                f"refunded {_money(ext.refunded_minor, ext.currency)})",
                details={"field": "amount_minor", "refundable_minor": refundable},
            )
        request = RefundRequest(
            lines=tuple(wanted.items()),
            shipping_minor=shipping_minor,
            amount_minor=amount,
            currency=ext.currency,
            reason=reason,
            restock=restock,
            notify=notify,
        )
        effects = [f"send {_money(amount, ext.currency)} back to the customer"]
        for key, qty in wanted.items():
            effects.append(f"refund {qty} × {by_key[key].title}" + (" and restock" if restock else ""))
        if shipping_minor:
            effects.append(f"refund {_money(shipping_minor, ext.currency)} of shipping")
        effects.append(f"{_money(refundable - amount, ext.currency)} stays refundable")
        return _Plan(
            _preview(
                Action.refund,
                order,
                store,
                f"Refund {_money(amount, ext.currency)} on order {ext.number}",
                effects=effects,
                amount_minor=amount,
                refundable_minor=refundable,
                currency=ext.currency,
            ),
            lambda c, o: c.refund(o, request),
            {
                "lines": [[lid, q] for lid, q in lines],
                "shipping_minor": shipping_minor,
                "amount_minor": amount,
                "reason": reason,
                "restock": restock,
            },
        )

    return await _run_action(
        db,
        shop_id=shop_id,
        actor=actor,
        order_id=order_id,
        action=Action.refund,
        confirm=confirm,
        planner=plan,
        box=box,
    )


# -- shipping address


def _clean_address(address: Mapping[str, Any]) -> Address:
    unknown = sorted(set(address) - set(ADDRESS_FIELDS))
    if unknown:
        raise ValidationFailed(f"unknown address fields: {', '.join(unknown)}", details={"field": "address"})
    clean: Address = {
        k: (str(address.get(k)).strip() or None) if address.get(k) is not None else None
        for k in ADDRESS_FIELDS
    }
    required = ["name", "address1", "city", "zip", "country_code"]
    if str(clean.get("country_code") or "").upper() in ZIP_OPTIONAL_COUNTRIES:
        required.remove("zip")
    missing = [k for k in required if not clean.get(k)]
    if missing:
        raise ValidationFailed(
            f"the address needs {', '.join(missing)}", details={"field": "address", "missing": missing}
        )
    code = clean["country_code"] or ""
    if len(code) != 2 or not code.isalpha():
        raise ValidationFailed(
            "country_code is a two-letter ISO code, e.g. DE", details={"field": "country_code"}
        )
    clean["country_code"] = code.upper()
    return clean


async def update_shipping_address(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    address: Mapping[str, Any],
    confirm: bool = False,
    box: SecretBox | None = None,
) -> ActionResult:
    clean = _clean_address(address)

    def plan(order: Order, ext: ExtOrder, store: Store, line_keys: dict[int, str]) -> _Plan:
        if ext.cancelled_at is not None:
            raise InvalidTransition(f"order {ext.number} is cancelled")
        if ext.fulfillment_status != FulfillmentStatus.unfulfilled or ext.shipments:
            raise InvalidTransition(f"order {ext.number} has shipped; the address can no longer be changed")
        summary = f"Ship order {ext.number} to {address_line(clean)} instead of {address_line(ext.shipping_address)}"
        return _Plan(
            _preview(
                Action.shipping_address, order, store, summary, before=ext.shipping_address, after=clean
            ),
            lambda c, o: c.update_shipping_address(o, clean),
            {"address": clean},
        )

    return await _run_action(
        db,
        shop_id=shop_id,
        actor=actor,
        order_id=order_id,
        action=Action.shipping_address,
        confirm=confirm,
        planner=plan,
        box=box,
    )


# -- note and tags


async def add_note(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    note: str,
    confirm: bool = False,
    box: SecretBox | None = None,
) -> ActionResult:
    text = (note or "").strip()
    if not text or len(text) > MAX_NOTE:
        raise ValidationFailed(f"a note has 1–{MAX_NOTE} characters", details={"field": "note"})

    def plan(order: Order, ext: ExtOrder, store: Store, line_keys: dict[int, str]) -> _Plan:
        return _Plan(
            _preview(
                Action.note, order, store, f"Add a note to order {ext.number} in {store.name}", note=text
            ),
            lambda c, o: c.add_note(o, text),
            {"note": text},
        )

    return await _run_action(
        db,
        shop_id=shop_id,
        actor=actor,
        order_id=order_id,
        action=Action.note,
        confirm=confirm,
        planner=plan,
        box=box,
    )


async def add_tags(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    tags: Sequence[str],
    confirm: bool = False,
    box: SecretBox | None = None,
) -> ActionResult:
    clean = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
    if not clean or len(clean) > MAX_TAGS:
        raise ValidationFailed(f"give 1–{MAX_TAGS} tags", details={"field": "tags"})
    bad = [t for t in clean if len(t) > MAX_TAG or "," in t]
    if bad:
        raise ValidationFailed(
            f"tags have at most {MAX_TAG} characters and no commas: {', '.join(bad)}",
            details={"field": "tags"},
        )

    def plan(order: Order, ext: ExtOrder, store: Store, line_keys: dict[int, str]) -> _Plan:
        new = [t for t in clean if t not in ext.tags]
        if not new:
            raise InvalidTransition(f"order {ext.number} already has these tags")
        return _Plan(
            _preview(Action.tags, order, store, f"Tag order {ext.number} with {', '.join(new)}", tags=new),
            lambda c, o: c.add_tags(o, new),
            {"tags": new},
        )

    return await _run_action(
        db,
        shop_id=shop_id,
        actor=actor,
        order_id=order_id,
        action=Action.tags,
        confirm=confirm,
        planner=plan,
        box=box,
    )


# -- returns


async def create_return(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    lines: Sequence[tuple[int, int, str | None]],
    note: str | None = None,
    notify: bool = False,
    confirm: bool = False,
    box: SecretBox | None = None,
) -> ActionResult:
    """Open a return on the platform for ``(order_line_id, quantity, reason)`` lines of a shipped order."""
    if not lines:
        raise ValidationFailed("say which lines come back", details={"field": "lines"})
    for _, _, why in lines:
        if why is not None and why not in RETURN_REASONS:
            raise ValidationFailed(
                f"reason must be one of {', '.join(RETURN_REASONS)}", details={"field": "reason"}
            )

    def plan(order: Order, ext: ExtOrder, store: Store, line_keys: dict[int, str]) -> _Plan:
        if ext.cancelled_at is not None:
            raise InvalidTransition(f"order {ext.number} is cancelled")
        if ext.fulfillment_status == FulfillmentStatus.unfulfilled:
            raise InvalidTransition(f"order {ext.number} has not shipped yet; cancel it or change it instead")
        ids = line_keys
        by_key = {line.external_id: line for line in ext.lines}
        in_returns: dict[str, int] = {}
        for r in ext.returns:
            for rl in r.lines:
                in_returns[rl.line_external_id] = in_returns.get(rl.line_external_id, 0) + rl.quantity
        wanted: list[ExtReturnLine] = []
        for line_id, qty, why in lines:
            key = ids.get(line_id)
            if key is None:
                raise ValidationFailed(
                    f"line {line_id} is not part of order {ext.number}", details={"field": "lines"}
                )
            line = by_key[key]
            left = line.quantity - line.refunded_quantity - in_returns.get(key, 0)
            if qty < 1 or qty > left:
                raise ValidationFailed(
                    f"line {line_id} ({line.title}) has {left} that can still come back; asked for {qty}",
                    details={"field": "lines", "line_id": line_id, "returnable_quantity": left},
                )
            wanted.append(ExtReturnLine(key, qty, why))
        request = ReturnRequest(lines=tuple(wanted), note=note, notify=notify)
        effects = [f"{w.quantity} × {by_key[w.line_external_id].title}" for w in wanted]
        return _Plan(
            _preview(
                Action.create_return,
                order,
                store,
                f"Open a return for order {ext.number}: {', '.join(effects)}",
                effects=effects,
            ),
            lambda c, o: c.create_return(o, request),
            {"lines": [[lid, q, w] for lid, q, w in lines], "note": note, "notify": notify},
        )

    return await _run_action(
        db,
        shop_id=shop_id,
        actor=actor,
        order_id=order_id,
        action=Action.create_return,
        confirm=confirm,
        planner=plan,
        box=box,
    )


# -- resend confirmation


async def resend_confirmation(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    order_id: int,
    confirm: bool = False,
    box: SecretBox | None = None,
) -> ActionResult:
    def plan(order: Order, ext: ExtOrder, store: Store, line_keys: dict[int, str]) -> _Plan:
        if not ext.email:
            raise InvalidTransition(f"order {ext.number} has no email address to send to")
        return _Plan(
            _preview(
                Action.resend_confirmation,
                order,
                store,
                f"Send the confirmation of order {ext.number} to {ext.email} again",
                to=ext.email,
            ),
            lambda c, o: c.resend_confirmation(o),
            {"to": ext.email},
        )

    return await _run_action(
        db,
        shop_id=shop_id,
        actor=actor,
        order_id=order_id,
        action=Action.resend_confirmation,
        confirm=confirm,
        planner=plan,
        box=box,
    )


__all__ = [
    "ActionResult",
    "ConfirmationRequired",
    "Connected",
    "WebhookReceipt",
    "accept_webhook",
    "add_note",
    "add_tags",
    "availability",
    "available_actions",
    "cancel_order",
    "connect_store",
    "create_return",
    "disconnect_store",
    "import_records",
    "reconnect_store",
    "refund_order",
    "request_backfill",
    "resend_confirmation",
    "update_shipping_address",
]


# --- what can be done now (the agent UI's sidebar, the assistant) -------------------------------------------


@dataclass
class Availability:
    order_id: int
    store_id: int | None
    platform: str | None
    supported: list[str]
    available: dict[str, bool]
    reasons: dict[str, str]
    refundable_minor: int
    currency: str


async def available_actions(session: AsyncSession, *, shop_id: int, order_id: int) -> Availability:
    order = await OrderRepository(session, shop_id).get_or_404(order_id)
    store = (
        await StoreRepository(session, shop_id).get(order.store_id) if order.store_id is not None else None
    )
    ext, _ = await sync.order_snapshot(session, order)
    return availability(order, store, has_shipments=bool(ext.shipments))


def availability(order: Order, store: Store | None, *, has_shipments: bool) -> Availability:
    """What can be done with ``order`` now, from the mirror alone (no query: the agent UI's sidebar computes
    it for every order it shows). ``store`` is the order's store (None if it has none)."""
    supported = (
        registry.actions_for(store.platform)
        if store is not None and store.status == "active"
        else frozenset()
    )
    cancelled = order.cancelled_at is not None
    unshipped = order.fulfillment_status == FulfillmentStatus.unfulfilled
    paid = order.financial_status in (FinancialStatus.paid, FinancialStatus.partially_refunded)
    refundable = max(0, order.total_minor - order.refunded_minor) if paid else 0
    reasons: dict[str, str] = {}
    checks = {
        Action.cancel: (not cancelled and unshipped, "already cancelled" if cancelled else "already shipped"),
        Action.refund: (refundable > 0, "nothing left to refund"),
        Action.shipping_address: (
            not cancelled and unshipped and not has_shipments,
            "already shipped or cancelled",
        ),
        Action.note: (True, ""),
        Action.tags: (True, ""),
        Action.create_return: (
            not cancelled and not unshipped,
            "not shipped yet" if not cancelled else "cancelled",
        ),
        Action.resend_confirmation: (bool(order.email), "no email address"),
    }
    available: dict[str, bool] = {}
    for action, (ok, why) in checks.items():
        if action not in supported:
            available[action.value] = False
            reasons[action.value] = (
                "the order is not linked to a connected store"
                if store is None or store.status != "active"
                else _unsupported_message(store, action)
            )
            continue
        available[action.value] = ok
        if not ok:
            reasons[action.value] = why
    return Availability(
        order_id=order.id,
        store_id=order.store_id,
        platform=store.platform if store else None,
        supported=sorted(a.value for a in supported),
        available=available,
        reasons=reasons,
        refundable_minor=refundable,
        currency=order.currency,
    )


# --- imports (CSV / JSON from any other platform) -----------------------------------------------------------


async def import_records(
    db: Database,
    *,
    shop_id: int,
    actor: Actor,
    data: ImportData,
    name: str | None = None,
    store_id: int | None = None,
    progress: sync.ProgressFn | None = None,
) -> int:
    """Write imported records through the same resumable backfill as a platform. With ``store_id`` an
    unfinished import of the same data resumes; a finished one is replaced by this one. Returns the store."""
    import uuid

    async with db.transaction() as session:
        await _authorize(session, shop_id, actor, Role.admin)
        if store_id is not None:
            store = await StoreRepository(session, shop_id).get_for_update(store_id)
            if store.platform != "csv":
                raise ValidationFailed(
                    f"store {store_id} is a {store.platform} store; imports go to an import store",
                    details={"field": "store_id"},
                )
            backfill = (store.sync_state or {}).get("backfill") or {}
            if backfill.get("status") in (None, "done"):
                store.sync_state = {
                    **(store.sync_state or {}),
                    "backfill": sync.new_backfill_state(uuid.uuid4().hex[:12]),
                }
        else:
            store = Store(
                shop_id=shop_id,
                platform="csv",
                name=(name or "Imported store")[:200],
                status="active",
                external_id=f"import:{uuid.uuid4().hex[:8]}",
                sync_state={"backfill": sync.new_backfill_state(uuid.uuid4().hex[:12])},
            )
            session.add(store)
            await session.flush()
        await record(
            session,
            shop_id=shop_id,
            type="store.import_started",
            actor=actor,
            data={
                "store_id": store.id,
                "orders": len(data.orders),
                "products": len(data.products),
                "customers": len(data.customers),
            },
        )
        target = store.id
    result = await sync.run_backfill(
        db, store_id=target, connector=CsvConnector(name=name or "import", data=data), progress=progress
    )
    if result.status != "done":
        raise Conflict(result.error or f"the import stopped ({result.status})", details={"store_id": target})
    return target
