"""Read models of the agent workspace: what each page shows, assembled from tenant-scoped
repositories (no query here filters by tenant itself)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.agents.models import Agent, Notification, Role
from storedesk.agents.repository import AgentRepository, NotificationRepository, TeamRepository
from storedesk.channels.models import Channel
from storedesk.channels.outbound import RECIPIENT_KIND
from storedesk.channels.repository import ChannelRepository
from storedesk.commerce.models import Order, OrderLine, Refund, Return, Shipment, Store, TrackingEvent
from storedesk.commerce.repository import OrderRepository, ShipmentRepository, StoreRepository
from storedesk.commerce.service import AUDIT_EVENT_TYPES, Availability, availability
from storedesk.conversations.models import Conversation, ConversationStatus, Message
from storedesk.conversations.repository import (
    INBOX_SORT_KEYS,
    INBOX_SORTS,
    InboxFilter,
    InboxRepository,
    TimelineRepository,
    inbox_position,
    parse_inbox_position,
)
from storedesk.customers.models import Customer, CustomerIdentity
from storedesk.customers.repository import CustomerRepository
from storedesk.events.models import Event
from storedesk.events.repository import EventRepository
from storedesk.kit.errors import ValidationFailed
from storedesk.kit.pagination import decode_cursor, encode_cursor
from storedesk.kit.time import utcnow
from storedesk.knowledge.macros import MacroRepository, pick_language, render_macro
from storedesk.knowledge.models import Macro
from storedesk.shops.models import Shop

PAGE_SIZE = 50
COUNT_CAP = 1000
TIMELINE_LIMIT = 500  # "show earlier messages"
TIMELINE_PAGE = 100  # messages rendered when a conversation opens (the latest)
SLA_WINDOW = timedelta(hours=1)
VIEWS = ("mine", "unassigned", "all", "sla")
STATUSES = ("open", "pending", "snoozed", "resolved", "closed", "any")
PRIORITIES = ("urgent", "high", "normal", "low")


@dataclass(frozen=True)
class InboxParams:
    """The inbox's query string, parsed and bounded."""

    view: str = "all"
    status: str = "open"
    channel_id: int | None = None
    team_id: int | None = None
    tag: str | None = None
    language: str | None = None
    priority: str | None = None
    sort: str = "activity"
    cursor: str | None = None  # opaque: where the page starts (see inbox_cursor)

    @classmethod
    def parse(cls, q: dict[str, str]) -> InboxParams:
        def as_int(name: str) -> int | None:
            value = q.get(name, "")
            return int(value) if value.isdigit() and len(value) < 19 else None

        view = q.get("view", "all")
        status = q.get("status", "open")
        sort = q.get("sort", "activity")
        priority = q.get("priority") or None
        language = (q.get("lang") or "").lower() or None
        tag = (q.get("tag") or "").strip().lower()[:64] or None
        cursor = q.get("cursor") or None
        return cls(
            view=view if view in VIEWS else "all",
            status=status if status in STATUSES else "open",
            channel_id=as_int("channel"),
            team_id=as_int("team"),
            tag=tag,
            language=language if language and language.isalpha() and len(language) <= 3 else None,
            priority=priority if priority in PRIORITIES else None,
            sort=sort if sort in INBOX_SORTS else "activity",
            cursor=cursor[:400] if cursor else None,  # a longer one is cut, so refused as not valid
        )

    def query(self, **overrides: Any) -> str:
        """This view's query string with some parameters changed (``None`` drops one)."""
        from urllib.parse import urlencode

        values: dict[str, Any] = {
            "view": self.view,
            "status": self.status,
            "channel": self.channel_id,
            "team": self.team_id,
            "tag": self.tag,
            "lang": self.language,
            "priority": self.priority,
            "sort": self.sort,
            "cursor": self.cursor,
        }
        values.update(overrides)
        defaults = {"view": "all", "status": "open", "sort": "activity"}
        return urlencode({k: v for k, v in values.items() if v is not None and defaults.get(k) != v})

    def href(self, **overrides: Any) -> str:
        """The inbox URL of this view with some parameters changed."""
        query = self.query(**overrides)
        return f"/app/inbox?{query}" if query else "/app/inbox"

    def filter(self, agent_id: int, *, view: str | None = None) -> InboxFilter:
        view = view or self.view
        statuses: list[str] | None = None if self.status == "any" else [self.status]
        if view == "sla":
            statuses = ["open", "pending"] if self.status in ("open", "any") else statuses
        return InboxFilter(
            status=statuses,
            channel_id=self.channel_id,
            assignee_id=agent_id if view == "mine" else None,
            unassigned=view == "unassigned",
            team_id=self.team_id,
            tag=self.tag,
            language=self.language,
            priority=self.priority,
            sla_due_before=utcnow() + SLA_WINDOW if view == "sla" else None,
        )


def inbox_cursor(sort: str, direction: str, conversation: Conversation) -> str:
    """An opaque inbox position: the sort, "n" (the page after this row) or "p" (the page before it),
    and the row's sort values (the REST API's cursor encoding, ``storedesk.kit.pagination``)."""
    return encode_cursor([sort, direction, *inbox_position(sort, conversation)])


def parse_inbox_cursor(sort: str, cursor: str) -> tuple[str, list[Any]]:
    """``(direction, position)`` of a cursor made by :func:`inbox_cursor` for this sort; a cursor that was
    altered, or made for another sort, is ``ValidationFailed`` (a 422 page, never a 500)."""
    arity = 2 + len(INBOX_SORT_KEYS[sort])
    raw = decode_cursor(cursor, arity)
    if raw[0] != sort or raw[1] not in ("n", "p"):
        raise ValidationFailed("cursor is not valid", details={"field": "cursor"}, reason="cursor_invalid")
    return str(raw[1]), parse_inbox_position(sort, raw[2:])


@dataclass
class InboxRow:
    conversation: Conversation
    customer: Customer | None
    channel: Channel | None
    assignee: Agent | None
    tags: list[str]
    preview: Message | None


@dataclass
class Directory:
    """Names the pages need to show ids: agents, teams, channels."""

    agents: dict[int, Agent]
    teams: dict[int, Any]
    channels: dict[int, Channel]

    @property
    def active_agents(self) -> list[Agent]:
        return [a for a in self.agents.values() if a.is_active]


async def directory(session: AsyncSession, shop_id: int) -> Directory:
    agents = {a.id: a for a in await AgentRepository(session, shop_id).list()}
    teams = {t.id: t for t in await TeamRepository(session, shop_id).list()}
    channels = {c.id: c for c in await ChannelRepository(session, shop_id).list()}
    return Directory(agents, teams, channels)


@dataclass
class InboxSlice:
    """One page of a view and the cursors of its neighbours (``None``: there is none)."""

    rows: list[InboxRow]
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @property
    def paged(self) -> bool:
        return self.next_cursor is not None or self.prev_cursor is not None


@dataclass
class InboxPage:
    params: InboxParams
    rows: list[InboxRow]
    slice: InboxSlice
    counts: dict[str, int]
    directory: Directory
    tags: list[tuple[str, int]]


async def inbox_rows(
    session: AsyncSession, shop_id: int, agent_id: int, params: InboxParams, dirs: Directory
) -> InboxSlice:
    """The page of the view the params ask for (keyset: the cursor names the row it starts after or
    ends before)."""
    repo = InboxRepository(session, shop_id)
    direction, position = parse_inbox_cursor(params.sort, params.cursor) if params.cursor else ("n", None)
    flt = params.filter(agent_id)
    if direction == "p":
        conversations, more_before = await repo.inbox(flt, sort=params.sort, limit=PAGE_SIZE, before=position)
        if not more_before:  # back at the start: the first page, full
            conversations, more_after = await repo.inbox(flt, sort=params.sort, limit=PAGE_SIZE)
        else:
            more_after = True
    else:
        conversations, more_after = await repo.inbox(flt, sort=params.sort, limit=PAGE_SIZE, after=position)
        more_before = position is not None
    out = InboxSlice(rows=[])
    if conversations and more_after:
        out.next_cursor = inbox_cursor(params.sort, "n", conversations[-1])
    if conversations and more_before:
        out.prev_cursor = inbox_cursor(params.sort, "p", conversations[0])
    elif not conversations and position is not None:
        out.prev_cursor = ""  # past the end: offer the first page
    ids = [c.id for c in conversations]
    tags = await repo.tags_for(ids)
    previews = await TimelineRepository(session, shop_id).latest_previews(ids)
    customers = {
        c.id: c
        for c in await CustomerRepository(session, shop_id).by_ids(
            sorted({c.customer_id for c in conversations})
        )
    }
    out.rows = [
        InboxRow(
            conversation=c,
            customer=customers.get(c.customer_id),
            channel=dirs.channels.get(c.channel_id),
            assignee=dirs.agents.get(c.assignee_id) if c.assignee_id else None,
            tags=tags.get(c.id, []),
            preview=previews.get(c.id),
        )
        for c in conversations
    ]
    return out


async def view_counts(
    session: AsyncSession, shop_id: int, agent_id: int, params: InboxParams
) -> dict[str, int]:
    """Open conversations per view, with the current filters (channel, team, tag, ...) applied."""
    repo = InboxRepository(session, shop_id)
    return {view: await repo.count_capped(params.filter(agent_id, view=view), COUNT_CAP) for view in VIEWS}


# The inbox's tag filter lists every tag of the shop with its count: a scan of all the shop's tags
# (700k rows at 1M conversations). Kept per process for TAG_COUNTS_SECONDS; tag changes made through
# the agent workspace in this process drop it at once (forget_tag_counts).
TAG_COUNTS_SECONDS = 30.0
_tag_counts: dict[tuple[int, Any], tuple[float, list[tuple[str, int]]]] = {}


async def tag_counts(session: AsyncSession, shop: Shop) -> list[tuple[str, int]]:
    key = (shop.id, shop.created_at)  # created_at: a shop id reused by another database is another shop
    hit = _tag_counts.get(key)
    if hit is not None and time.monotonic() - hit[0] < TAG_COUNTS_SECONDS:
        return hit[1]
    counts = await InboxRepository(session, shop.id).tag_counts()
    if len(_tag_counts) > 1000:
        _tag_counts.clear()
    _tag_counts[key] = (time.monotonic(), counts)
    return counts


def forget_tag_counts(shop_id: int) -> None:
    for key in [k for k in _tag_counts if k[0] == shop_id]:
        _tag_counts.pop(key, None)


async def inbox_page(session: AsyncSession, shop: Shop, agent_id: int, params: InboxParams) -> InboxPage:
    dirs = await directory(session, shop.id)
    found = await inbox_rows(session, shop.id, agent_id, params, dirs)
    counts = await view_counts(session, shop.id, agent_id, params)
    tags = await tag_counts(session, shop)
    return InboxPage(params, found.rows, found, counts, dirs, tags)


# --- the conversation view -------------------------------------------------------------------------------


@dataclass
class TimelineItem:
    kind: str  # "message" or "event"
    at: Any
    message: Message | None = None
    event: Event | None = None
    conversation: Conversation | None = None


@dataclass
class OrderView:
    order: Order
    lines: list[OrderLine]
    shipments: list[tuple[Shipment, list[TrackingEvent]]]
    returns: Sequence[Return]
    refunds: Sequence[Refund]
    store: Store | None = None
    actions: Availability | None = None
    # the order's action history (audit events ``order.*``), newest first
    history: list[Event] = field(default_factory=list)

    @property
    def can_act(self) -> bool:
        return self.actions is not None and any(self.actions.available.values())


@dataclass
class Customer360:
    customer: Customer
    identities: Sequence[CustomerIdentity]
    orders: list[OrderView]
    order_count: int
    lifetime_value_minor: int
    currency: str
    conversations: Sequence[Conversation]


@dataclass
class ConversationPage:
    conversation: Conversation
    tags: list[str]
    channel: Channel | None
    timeline: list[TimelineItem]
    truncated: bool
    shown_limit: int
    reply_channels: list[Channel]
    macros: list[tuple[Macro, str]]
    directory: Directory
    customer: Customer360 | None
    language: str
    scope: str = "conversation"
    extra: dict[str, Any] = field(default_factory=dict)


TIMELINE_EVENTS = {
    "conversation.assigned",
    "conversation.status_changed",
    "conversation.tagged",
    "conversation.updated",
    "conversation.created",
    "message.failed",
}


async def timeline(
    session: AsyncSession,
    shop_id: int,
    conversation: Conversation,
    *,
    scope: str,
    limit: int = TIMELINE_LIMIT,
) -> tuple[list[TimelineItem], bool]:
    """Messages (and system events from the event log) oldest first; ``scope="customer"`` shows every
    conversation of the customer on any channel."""
    messages_repo = TimelineRepository(session, shop_id)
    events_repo = EventRepository(session, shop_id)
    items: list[TimelineItem] = []
    if scope == "customer":
        messages = await messages_repo.for_customer(conversation.customer_id, limit=limit + 1)
        conversations = {
            c.id: c
            for c in await InboxRepository(session, shop_id).by_ids(
                sorted({m.conversation_id for m in messages})
            )
        }
        events: Sequence[Event] = []
    else:
        messages = await messages_repo.latest_for_conversation(conversation.id, limit=limit + 1)
        conversations = {conversation.id: conversation}
        events = await events_repo.for_conversation(conversation.id, limit=2000)
    truncated = len(messages) > limit
    if truncated:
        messages = list(messages)[1:]
    first_at = messages[0].created_at if (messages and truncated) else None
    for m in messages:
        items.append(
            TimelineItem(
                "message", m.created_at, message=m, conversation=conversations.get(m.conversation_id)
            )
        )
    for e in events:
        if e.type in TIMELINE_EVENTS and (first_at is None or e.occurred_at >= first_at):
            items.append(TimelineItem("event", e.occurred_at, event=e))
    items.sort(key=lambda i: (i.at, 0 if i.kind == "event" else 1))
    return items, truncated


# --- the timeline's live tail ------------------------------------------------------------------------------

TAIL_LIMIT = TIMELINE_LIMIT  # new messages appended at most per refresh (more: the page is reloaded by hand)
TAIL_WATCH = 50  # shown messages whose state (delivery, assistant turn) a refresh checks


@dataclass
class TimelineTail:
    """What changed in a conversation since the page showed it: new messages and system events (to
    append) and shown messages whose delivery status or assistant turn changed (to replace in place)."""

    conversation: Conversation
    directory: Directory
    customer: Customer360 | None
    items: list[TimelineItem]
    changed: list[Message]
    scope: str = "conversation"


async def timeline_tail(
    session: AsyncSession,
    shop: Shop,
    conversation_id: int,
    *,
    after: int,
    after_event: int,
    watched: dict[int, str],
    turn_status: Any,
) -> tuple[TimelineTail, dict[int, Any]]:
    """``watched``: message id → the state the page shows (an outbound message's delivery status, an
    inbound message's assistant turn status or "-"); ``turn_status(session, shop_id, message_ids)`` loads
    the assistant turns of messages. Returns the tail and the turns to render with it."""
    conversation = await InboxRepository(session, shop.id).get_or_404(conversation_id)
    messages = TimelineRepository(session, shop.id)
    new = await messages.for_conversation(conversation.id, after_id=after, limit=TAIL_LIMIT)
    shown = [
        m for m in await messages.by_ids(sorted(watched)[:TAIL_WATCH]) if m.conversation_id == conversation.id
    ]
    events = [
        e
        for e in await EventRepository(session, shop.id).for_conversation_after(conversation.id, after_event)
        if e.type in TIMELINE_EVENTS
    ]
    turns: dict[int, Any] = await turn_status(
        session, shop.id, [m.id for m in [*new, *shown] if m.direction == "inbound"]
    )
    changed = []
    for m in shown:
        now = (
            str(m.delivery_status)
            if m.direction != "inbound"
            else (turns[m.id].status if m.id in turns else "-")
        )
        if now != watched[m.id]:
            changed.append(m)
    items = [TimelineItem("message", m.created_at, message=m, conversation=conversation) for m in new]
    items += [TimelineItem("event", e.occurred_at, event=e) for e in events]
    items.sort(key=lambda i: (i.at, 0 if i.kind == "event" else 1))
    customer = await CustomerRepository(session, shop.id).get(conversation.customer_id)
    c360 = (
        Customer360(customer, [], [], 0, 0, shop.currency, []) if customer is not None else None
    )  # the timeline shows only the customer's name
    tail = TimelineTail(conversation, await directory(session, shop.id), c360, items, changed)
    return tail, turns


def _reply_channels(
    all_channels: dict[int, Channel], identities: Sequence[CustomerIdentity], origin: int
) -> list[Channel]:
    """The conversation's channel first, then every other channel the customer can be reached on."""
    kinds = {i.kind for i in identities}
    out: list[Channel] = []
    for channel in all_channels.values():
        if not channel.is_active and channel.id != origin:
            continue
        need = RECIPIENT_KIND.get(str(channel.kind))
        if channel.id == origin or need is None or need in kinds:
            out.append(channel)
    out.sort(key=lambda c: (c.id != origin, c.id))
    return out


async def customer_360(session: AsyncSession, shop: Shop, customer_id: int) -> Customer360 | None:
    customers = CustomerRepository(session, shop.id)
    customer = await customers.get(customer_id)
    if customer is None:
        return None
    orders_repo = OrderRepository(session, shop.id)
    orders = sorted(
        await orders_repo.page(customer_id=customer.id, limit=200),
        key=lambda o: (o.placed_at, o.id),
        reverse=True,
    )
    views = await order_views(session, shop.id, customer.id, orders[:20])
    ltv = sum(o.total_minor - o.refunded_minor for o in orders if o.cancelled_at is None)
    conversations, _ = await InboxRepository(session, shop.id).inbox(
        InboxFilter(customer_id=customer.id), sort="activity", limit=20
    )
    return Customer360(
        customer=customer,
        identities=await customers.identities(customer.id),
        orders=views,
        order_count=len(orders),
        lifetime_value_minor=ltv,
        currency=orders[0].currency if orders else shop.currency,
        conversations=conversations,
    )


HISTORY_LIMIT = 200
MERGE_DEPTH = 5


async def _with_merged(session: AsyncSession, shop_id: int, customer_id: int) -> list[int]:
    """The customer and every customer merged into it (directly or through others)."""
    ids, frontier = [customer_id], [customer_id]
    for _ in range(MERGE_DEPTH):
        frontier = await CustomerRepository(session, shop_id).merged_into(frontier)
        if not frontier:
            break
        ids.extend(frontier)
    return ids


async def order_views(
    session: AsyncSession, shop_id: int, customer_id: int, orders: Sequence[Order]
) -> list[OrderView]:
    """What the sidebar shows per order — lines, shipments with tracking, returns, refunds, the store, the
    actions possible now and the action history — in a fixed number of queries, however many orders."""
    ids = [o.id for o in orders]
    if not ids:
        return []
    repo = OrderRepository(session, shop_id)
    lines = await repo.lines(ids)
    shipments = await repo.shipments(ids)
    tracking = await ShipmentRepository(session, shop_id).events(
        [s.id for ss in shipments.values() for s in ss]
    )
    returns = await repo.returns_of(ids)
    refunds = await repo.refunds_of(ids)
    stores = {s.id: s for s in await StoreRepository(session, shop_id).all()}
    history = await order_history(session, shop_id, customer_id, ids)
    out = []
    for o in orders:
        store = stores.get(o.store_id) if o.store_id is not None else None
        out.append(
            OrderView(
                order=o,
                lines=lines.get(o.id, []),
                shipments=[(s, tracking.get(s.id, [])) for s in shipments.get(o.id, [])],
                returns=returns.get(o.id, []),
                refunds=refunds.get(o.id, []),
                store=store,
                actions=availability(o, store, has_shipments=bool(shipments.get(o.id)))
                if store is not None
                else None,
                history=history.get(o.id, []),
            )
        )
    return out


async def order_history(
    session: AsyncSession, shop_id: int, customer_id: int, order_ids: Sequence[int]
) -> dict[int, list[Event]]:
    """The audit trail of these orders (actions taken from storedesk and refusals), newest first. Events
    keep the customer they were written for, so customers merged into this one are searched too."""
    if not order_ids:
        return {}
    customer_ids = await _with_merged(session, shop_id, customer_id)
    stmt = (
        EventRepository(session, shop_id)
        .select()
        .where(
            Event.customer_id.in_(customer_ids),
            Event.order_id.in_(list(order_ids)),
            Event.type.in_(AUDIT_EVENT_TYPES),
        )
        .order_by(Event.id.desc())
        .limit(HISTORY_LIMIT)
    )
    out: dict[int, list[Event]] = {}
    for event in (await session.execute(stmt)).scalars():
        if event.order_id is not None:
            out.setdefault(event.order_id, []).append(event)
    return out


def macro_values(
    *,
    customer: Customer | None,
    order: Order | None,
    shipment: Shipment | None,
    agent: Agent,
    shop: Shop,
    conversation: Conversation,
    eta: str | None,
) -> dict[str, str | None]:
    first_name = (customer.name or "").split()[0] if customer and customer.name else None
    from storedesk.web.templating import fmt_money

    return {
        "customer.first_name": first_name,
        "customer.name": customer.name if customer else None,
        "customer.email": customer.email if customer else None,
        "order.number": order.number if order else None,
        "order.status": str(order.fulfillment_status) if order else None,
        "order.total": fmt_money(order.total_minor, order.currency) if order else None,
        "shipment.carrier": shipment.carrier if shipment else None,
        "shipment.tracking_number": shipment.tracking_number if shipment else None,
        "shipment.tracking_url": shipment.tracking_url if shipment else None,
        "shipment.eta": eta,
        "agent.first_name": agent.name.split()[0] if agent.name else None,
        "agent.name": agent.name,
        "shop.name": shop.name,
        "conversation.number": str(conversation.number),
    }


def customer_language(shop: Shop, conversation: Conversation, customer: Customer | None) -> str:
    return conversation.language or (customer.language if customer else None) or shop.default_language


async def conversation_page(
    session: AsyncSession,
    shop: Shop,
    conversation_id: int,
    *,
    scope: str = "conversation",
    earlier: bool = False,
) -> ConversationPage:
    """``earlier``: the latest TIMELINE_LIMIT messages instead of the latest TIMELINE_PAGE."""
    repo = InboxRepository(session, shop.id)
    conversation = await repo.get_or_404(conversation_id)
    dirs = await directory(session, shop.id)
    limit = TIMELINE_LIMIT if earlier else TIMELINE_PAGE
    items, truncated = await timeline(session, shop.id, conversation, scope=scope, limit=limit)
    c360 = await customer_360(session, shop, conversation.customer_id)
    identities = c360.identities if c360 else []
    language = customer_language(shop, conversation, c360.customer if c360 else None)
    macros = [
        (m, pick_language(m.bodies, [language, shop.default_language]) or "")
        for m in await MacroRepository(session, shop.id).list()
    ]
    return ConversationPage(
        conversation=conversation,
        tags=(await repo.tags_for([conversation.id]))[conversation.id],
        channel=dirs.channels.get(conversation.channel_id),
        timeline=items,
        truncated=truncated,
        shown_limit=limit,
        reply_channels=_reply_channels(dirs.channels, identities, conversation.channel_id),
        macros=macros,
        directory=dirs,
        customer=c360,
        language=language,
        scope=scope,
    )


async def sidebar_page(
    session: AsyncSession, shop: Shop, conversation_id: int, *, scope: str = "conversation"
) -> ConversationPage:
    """Only what the customer sidebar shows (no timeline, no macros): its live refresh and the order actions
    re-render it often."""
    conversation = await InboxRepository(session, shop.id).get_or_404(conversation_id)
    dirs = await directory(session, shop.id)
    return ConversationPage(
        conversation=conversation,
        tags=[],
        channel=dirs.channels.get(conversation.channel_id),
        timeline=[],
        truncated=False,
        shown_limit=0,
        reply_channels=[],
        macros=[],
        directory=dirs,
        customer=await customer_360(session, shop, conversation.customer_id),
        language=shop.default_language,
        scope=scope,
    )


async def conversation_head(session: AsyncSession, shop: Shop, conversation_id: int) -> ConversationPage:
    """What the conversation header shows (status, assignee, team, priority, tags) and nothing else: its live
    refresh and the property changes re-render it."""
    repo = InboxRepository(session, shop.id)
    conversation = await repo.get_or_404(conversation_id)
    dirs = await directory(session, shop.id)
    return ConversationPage(
        conversation=conversation,
        tags=(await repo.tags_for([conversation.id]))[conversation.id],
        channel=dirs.channels.get(conversation.channel_id),
        timeline=[],
        truncated=False,
        shown_limit=0,
        reply_channels=[],
        macros=[],
        directory=dirs,
        customer=None,
        language=shop.default_language,
    )


async def sidebar_conversations(
    session: AsyncSession, shop: Shop, conversation_id: int, *, scope: str = "conversation"
) -> ConversationPage:
    """The customer's latest conversations (the sidebar's list), without orders."""
    repo = InboxRepository(session, shop.id)
    conversation = await repo.get_or_404(conversation_id)
    customer = await CustomerRepository(session, shop.id).get(conversation.customer_id)
    c360 = None
    if customer is not None:
        listed, _more = await repo.inbox(InboxFilter(customer_id=customer.id), sort="activity", limit=20)
        c360 = Customer360(customer, [], [], 0, 0, shop.currency, listed)
    return ConversationPage(
        conversation=conversation,
        tags=[],
        channel=None,
        timeline=[],
        truncated=False,
        shown_limit=0,
        reply_channels=[],
        macros=[],
        directory=await directory(session, shop.id),
        customer=c360,
        language=shop.default_language,
        scope=scope,
    )


async def render_macro_for(
    session: AsyncSession, shop: Shop, agent: Agent, conversation_id: int, macro_id: int
) -> tuple[str, str, list[str]]:
    """The macro's text in the customer's language with the variables filled from this conversation."""
    conversation = await InboxRepository(session, shop.id).get_or_404(conversation_id)
    macro = await MacroRepository(session, shop.id).get_or_404(macro_id)
    customer = await CustomerRepository(session, shop.id).get(conversation.customer_id)
    language = customer_language(shop, conversation, customer)
    chosen = pick_language(macro.bodies, [language, shop.default_language]) or language
    orders = OrderRepository(session, shop.id)
    order = await orders.get(conversation.order_id) if conversation.order_id else None
    if order is None and customer is not None:
        latest = await orders.page(customer_id=customer.id, limit=1)
        order = latest[0] if latest else None
    shipment = None
    if order is not None:
        shipment_list = (await orders.shipments([order.id])).get(order.id, [])
        shipment = shipment_list[-1] if shipment_list else None
    from babel.dates import format_date

    eta = (
        format_date(shipment.estimated_delivery_at, "long", locale=chosen)
        if shipment and shipment.estimated_delivery_at
        else None
    )
    values = macro_values(
        customer=customer,
        order=order,
        shipment=shipment,
        agent=agent,
        shop=shop,
        conversation=conversation,
        eta=eta,
    )
    text, missing = render_macro(str(macro.bodies.get(chosen, "")), values)
    return text, chosen, missing


# --- notifications, settings ------------------------------------------------------------------------------


@dataclass
class Bell:
    unread: int
    items: Sequence[Notification]


async def bell(session: AsyncSession, shop_id: int, agent_id: int, *, with_items: bool) -> Bell:
    repo = NotificationRepository(session, shop_id)
    return Bell(
        unread=await repo.unread_count(agent_id),
        items=await repo.for_agent(agent_id) if with_items else [],
    )


@dataclass
class SettingsPage:
    directory: Directory
    team_members: dict[int, list[int]]
    macros: Sequence[Macro]
    tags: list[tuple[str, int]]
    roles: tuple[Role, ...] = (Role.admin, Role.agent, Role.viewer)


async def settings_page(session: AsyncSession, shop_id: int) -> SettingsPage:
    dirs = await directory(session, shop_id)
    teams = TeamRepository(session, shop_id)
    members = {team_id: await teams.member_ids(team_id) for team_id in dirs.teams}
    return SettingsPage(
        directory=dirs,
        team_members=members,
        macros=await MacroRepository(session, shop_id).list(),
        tags=await InboxRepository(session, shop_id).tag_counts(),
    )


OPEN_STATUSES = (ConversationStatus.open, ConversationStatus.pending)
