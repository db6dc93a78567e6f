"""One search over a shop: conversations (subject, any message or note), customers (name, email,
phone) and orders (number). Exact handles (order number, conversation number, email, phone) are looked
up first through their unique indexes; words go through the full-text backend."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.commerce.models import Order
from storedesk.commerce.repository import OrderRepository
from storedesk.conversations.models import Conversation, Message
from storedesk.conversations.repository import InboxRepository, TimelineRepository
from storedesk.customers.identity import normalise
from storedesk.customers.models import Customer, IdentityKind
from storedesk.customers.repository import CustomerRepository
from storedesk.kit.errors import StoredeskError
from storedesk.search.repository import backend_for, tokens

MAX_QUERY = 200
NUMBER = re.compile(r"^#?\s*(\d{1,18})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[\d\s()./-]{6,20}$")


@dataclass
class SearchResults:
    query: str
    conversations: list[Conversation] = field(default_factory=list)
    snippets: dict[int, Message] = field(default_factory=dict)
    customers: list[Customer] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.conversations or self.customers or self.orders)


async def search(
    session: AsyncSession, *, shop_id: int, query: str, default_region: str | None = None, limit: int = 20
) -> SearchResults:
    q = " ".join(query.split())[:MAX_QUERY]
    results = SearchResults(query=q)
    if not q:
        return results
    conversations = InboxRepository(session, shop_id)
    customers = CustomerRepository(session, shop_id)
    orders = OrderRepository(session, shop_id)
    backend = backend_for(session, shop_id)

    conv_ids: list[int] = []
    customer_ids: list[int] = []
    number = NUMBER.match(q)
    if number:
        order = await orders.by_number(number.group(1))
        if order is not None:
            results.orders.append(order)
            if order.customer_id is not None:
                customer_ids.append(order.customer_id)
        found = await conversations.by_number(int(number.group(1)))
        if found is not None:
            conv_ids.append(found.id)
    if EMAIL.match(q) or (PHONE.match(q) and sum(c.isdigit() for c in q) >= 6):
        kind = IdentityKind.email if "@" in q else IdentityKind.phone
        try:
            handle = normalise(kind, q, default_region)
        except StoredeskError:
            handle = None
        if handle:
            customer = await customers.by_identity(kind, handle)
            if customer is not None:
                customer_ids.append(customer.id)

    message_hits = await backend.message_hits(q, limit) if tokens(q) else []
    conv_ids += [cid for cid, _ in message_hits]
    conv_ids += await backend.subject_hits(q, limit) if tokens(q) else []
    customer_ids += await backend.customer_hits(q, limit) if tokens(q) else []

    ordered = list(dict.fromkeys(conv_ids))[:limit]
    rows = {c.id: c for c in await conversations.by_ids(ordered)}
    results.conversations = [rows[i] for i in ordered if i in rows]
    snippet_ids = [mid for _, mid in message_hits]
    if snippet_ids:
        for message in await TimelineRepository(session, shop_id).by_ids(snippet_ids):
            results.snippets[message.conversation_id] = message
    wanted_customers = list(dict.fromkeys(customer_ids))[:limit]
    found_customers = {c.id: c for c in await customers.by_ids(wanted_customers)}
    results.customers = [found_customers[i] for i in wanted_customers if i in found_customers]
    return results


def excerpt(text: str, query: str, width: int = 140) -> str:
    """The part of ``text`` around the first query word."""
    words: Sequence[str] = tokens(query)
    lower = text.lower()
    at = min((i for i in (lower.find(w) for w in words) if i >= 0), default=0)
    start = max(0, at - width // 3)
    piece = text[start : start + width].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")
