"""The built-in demo store: no remote platform. Actions are computed on the mirror's own view of the order
and the result is applied to the mirror like any platform's answer, so the demo shop's orders can be
cancelled, refunded, re-addressed, tagged and returned."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import datetime

from storedesk.commerce.connectors.common import BaseConnector, from_minor
from storedesk.commerce.connectors.protocol import (
    Action,
    ActionOutcome,
    Address,
    CancelRequest,
    ExtCustomer,
    ExtOrder,
    ExtProduct,
    ExtRefund,
    ExtReturn,
    Page,
    RefundRequest,
    Resource,
    ReturnRequest,
    StoreInfo,
    WebhookItem,
)
from storedesk.commerce.models import FinancialStatus, ReturnStatus
from storedesk.kit.time import utcnow


def _money_state(order: ExtOrder) -> FinancialStatus:
    if order.refunded_minor <= 0:
        return order.financial_status
    return (
        FinancialStatus.refunded
        if order.refunded_minor >= order.total_minor
        else FinancialStatus.partially_refunded
    )


class DemoConnector(BaseConnector):
    platform = "demo"
    label = "the demo store"
    actions = frozenset(Action)

    def __init__(self, *, name: str = "Demo store") -> None:
        self.name = name

    async def test(self) -> StoreInfo:
        return StoreInfo(name=self.name, external_id="demo", currency=None)

    async def count(self, resource: Resource) -> int | None:
        return 0

    async def list_customers(self, cursor: str | None) -> Page[ExtCustomer]:
        return Page([], None, 0)

    async def list_products(self, cursor: str | None) -> Page[ExtProduct]:
        return Page([], None, 0)

    async def list_orders(
        self, cursor: str | None, *, updated_since: datetime | None = None
    ) -> Page[ExtOrder]:
        return Page([], None, 0)

    async def get_order(self, external_id: str) -> ExtOrder | None:
        return None

    def webhook_key(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        return None

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return False

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookItem]:
        return []

    # -- actions: a new state computed from the mirror's view

    @staticmethod
    def _next(order: ExtOrder) -> ExtOrder:
        new = copy.deepcopy(order)
        new.updated_at = utcnow()
        return new

    def _add_refund(self, new: ExtOrder, request: RefundRequest) -> ExtRefund:
        now = utcnow()
        refund = ExtRefund(
            external_id=f"demo-refund-{uuid.uuid4().hex[:12]}",
            amount_minor=request.amount_minor,
            currency=request.currency,
            reason=request.reason,
            status="success",
            created_at=now,
            processed_at=now,
            shipping_minor=request.shipping_minor,
            lines=list(request.lines),
            order_external_id=new.external_id,
        )
        new.refunds.append(refund)
        wanted = dict(request.lines)
        for line in new.lines:
            line.refunded_quantity += wanted.get(line.external_id, 0)
        new.refunded_minor += request.amount_minor
        new.financial_status = _money_state(new)
        return refund

    async def cancel(self, order: ExtOrder, request: CancelRequest) -> ActionOutcome:
        new = self._next(order)
        new.cancelled_at = utcnow()
        new.cancel_reason = request.reason.value
        refund = None
        paid = new.financial_status in (FinancialStatus.paid, FinancialStatus.partially_refunded)
        if request.refund and paid and new.total_minor > new.refunded_minor:
            refund = self._add_refund(
                new,
                RefundRequest(
                    lines=tuple(
                        (line.external_id, line.quantity - line.refunded_quantity) for line in new.lines
                    ),
                    shipping_minor=new.shipping_minor,
                    amount_minor=new.total_minor - new.refunded_minor,
                    currency=new.currency,
                    reason=f"order cancelled ({request.reason.value})",
                ),
            )
        elif new.financial_status == FinancialStatus.pending:
            new.financial_status = FinancialStatus.voided
        return ActionOutcome(f"The demo store cancelled order {order.number}", order=new, refund=refund)

    async def refund(self, order: ExtOrder, request: RefundRequest) -> ActionOutcome:
        new = self._next(order)
        refund = self._add_refund(new, request)
        return ActionOutcome(
            f"The demo store refunded {from_minor(request.amount_minor, request.currency)} {request.currency} "
            f"on order {order.number}",
            order=new,
            refund=refund,
        )

    async def update_shipping_address(self, order: ExtOrder, address: Address) -> ActionOutcome:
        new = self._next(order)
        new.shipping_address = dict(address)
        return ActionOutcome(
            f"The demo store changed the shipping address of order {order.number}", order=new
        )

    async def add_note(self, order: ExtOrder, note: str) -> ActionOutcome:
        new = self._next(order)
        new.note = f"{new.note}\n\n{note}" if new.note else note
        return ActionOutcome(f"The demo store added the note to order {order.number}", order=new)

    async def add_tags(self, order: ExtOrder, tags: list[str]) -> ActionOutcome:
        new = self._next(order)
        new.tags = list(dict.fromkeys([*new.tags, *tags]))
        return ActionOutcome(f"The demo store tagged order {order.number}", order=new)

    async def create_return(self, order: ExtOrder, request: ReturnRequest) -> ActionOutcome:
        new = self._next(order)
        ret = ExtReturn(
            external_id=f"demo-return-{uuid.uuid4().hex[:12]}",
            number=f"{order.number}-R{len(order.returns) + 1}",
            status=ReturnStatus.approved,
            reason=request.note,
            created_at=utcnow(),
            lines=list(request.lines),
            order_external_id=order.external_id,
        )
        new.returns.append(ret)
        return ActionOutcome(
            f"The demo store opened return {ret.number} for order {order.number}", order=new, return_=ret
        )

    async def resend_confirmation(self, order: ExtOrder) -> ActionOutcome:
        return ActionOutcome(
            f"The demo store would send the confirmation of order {order.number} to {order.email or 'the customer'} "
            "again (demo: no email leaves storedesk)"
        )
