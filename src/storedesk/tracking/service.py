"""The tracking page's logic: find an order by number + email without revealing whether the number
exists, and describe its shipments in the customer's language and time zone."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.commerce.models import Order, OrderLine, Shipment, TrackingEvent
from storedesk.kit.time import utcnow
from storedesk.tracking.i18n import phrase_key
from storedesk.tracking.links import LinkSigner
from storedesk.tracking.repository import TrackingRepository

MAX_NUMBER = 64
_NUMBER = re.compile(r"[\s#]+")
_DUMMY_EMAIL = "nobody@invalid.storedesk"
LATE_GRACE_DAYS = 2  # "if nothing changes by" = ETA + this many days


def normalise_number(value: str) -> str:
    return _NUMBER.sub("", value or "")[:MAX_NUMBER]


def normalise_email(value: str) -> str:
    return (value or "").strip().lower()[:320]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


async def find_order(session: AsyncSession, *, shop_id: int, number: str, email: str) -> Order | None:
    """The order with this number whose email matches, else ``None``.

    The same work happens whether the number exists or not (one indexed query, constant-time
    comparisons of fixed-length digests), so a wrong email and an unknown number look alike. Order
    numbers are unique per connected store, so several orders may share one; the email decides.
    """
    wanted = normalise_number(number)
    orders: list[Order | None] = (
        list(await TrackingRepository(session, shop_id).by_number(wanted)) if wanted else []
    )
    given = _digest(normalise_email(email))
    found: Order | None = None
    for candidate in orders or [None]:
        expected = normalise_email(candidate.email or "") if candidate is not None else ""
        matches = hmac.compare_digest(given, _digest(expected or _DUMMY_EMAIL))
        if candidate is not None and expected and matches and found is None:
            found = candidate
    return found


def tracking_path(signer: LinkSigner, shop_slug: str, shop_id: int, order_id: int) -> str:
    return f"/track/{shop_slug}/o/{signer.sign('order', shop_id, order_id)}"


def tracking_link(base_url: str, signer: LinkSigner, shop_slug: str, shop_id: int, order_id: int) -> str:
    """The signed link to put in any message ("track your order")."""
    return base_url.rstrip("/") + tracking_path(signer, shop_slug, shop_id, order_id)


@dataclass
class EventView:
    occurred_at: datetime
    status: str
    key: str | None
    params: dict[str, str]
    description: str
    location: str | None


@dataclass
class ShipmentView:
    shipment: Shipment
    status: str
    events: list[EventView]
    late_days: int = 0
    check_by: date | None = None

    @property
    def late(self) -> bool:
        return self.late_days > 0

    @property
    def safe_url(self) -> str | None:
        url = self.shipment.tracking_url or ""
        return url if url.startswith(("https://", "http://")) else None


@dataclass
class TrackingView:
    order: Order
    status: str
    lines: Sequence[OrderLine]
    shipments: list[ShipmentView] = field(default_factory=list)
    has_delivery: bool = False

    @property
    def late(self) -> bool:
        return any(s.late for s in self.shipments)

    @property
    def exception(self) -> bool:
        return any(s.status == "exception" for s in self.shipments)


def order_status(order: Order, shipments: Sequence[Shipment]) -> str:
    if order.cancelled_at is not None:
        return "cancelled"
    if not shipments:
        return "pending_payment" if order.financial_status == "pending" else "processing"
    statuses = [str(s.status) for s in shipments]
    for status in ("exception", "returned_to_sender", "out_for_delivery"):
        if status in statuses:
            return status
    if all(s == "delivered" for s in statuses):
        return "partially_shipped" if order.fulfillment_status == "partial" else "delivered"
    if all(s == "label_created" for s in statuses):
        return "label_created"
    return "partially_shipped" if order.fulfillment_status == "partial" else "in_transit"


def _event_view(event: TrackingEvent) -> EventView:
    found = phrase_key(event.description)
    return EventView(
        occurred_at=event.occurred_at,
        status=event.status,
        key=found[0] if found else None,
        params=found[1] if found else {},
        description=event.description,
        location=event.location,
    )


def lateness(shipment: Shipment, zone: ZoneInfo, now: datetime) -> tuple[int, date | None]:
    """Whole local days past the ETA (0 when not late), and the day to contact us by."""
    eta = shipment.estimated_delivery_at
    if (
        eta is None
        or shipment.delivered_at is not None
        or shipment.status in ("delivered", "returned_to_sender")
    ):
        return 0, None
    eta_day = eta.astimezone(zone).date()
    today = now.astimezone(zone).date()
    days = (today - eta_day).days
    if days <= 0:
        return 0, None
    return days, eta_day + timedelta(days=LATE_GRACE_DAYS + days)


async def tracking_view(
    session: AsyncSession, *, shop_id: int, order_id: int, zone: ZoneInfo, now: datetime | None = None
) -> TrackingView | None:
    repo = TrackingRepository(session, shop_id)
    order = await repo.get(order_id)
    if order is None:
        return None
    now = now or utcnow()
    shipments = await repo.shipments(order.id)
    events = await repo.events([s.id for s in shipments])
    view = TrackingView(order=order, status=order_status(order, shipments), lines=await repo.lines(order.id))
    for shipment in shipments:
        late_days, check_by = lateness(shipment, zone, now)
        view.shipments.append(
            ShipmentView(
                shipment=shipment,
                status=str(shipment.status),
                events=[_event_view(e) for e in reversed(events.get(shipment.id, []))],
                late_days=late_days,
                check_by=check_by,
            )
        )
        if shipment.delivered_at is not None:
            view.has_delivery = True
    return view
