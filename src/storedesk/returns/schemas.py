"""API shapes of returns (RMA) and the return policy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from storedesk.kit.schemas import MAX_ID, In, Out

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class LineIn(In):
    order_line_id: Id
    quantity: Annotated[int, Field(ge=1, le=10_000)]
    reason: (
        Literal["too_small", "too_big", "not_as_described", "changed_mind", "damaged", "wrong_item", "other"]
        | None
    ) = None
    exchange_variant_id: Id | None = None


class ReturnCreate(In):
    order_id: Id
    method: Literal["refund", "store_credit", "exchange"]
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=100)]
    language: Annotated[str, Field(min_length=2, max_length=8)] | None = None


class TransitionIn(In):
    to: Literal[
        "approved",
        "rejected",
        "label_issued",
        "in_transit",
        "received",
        "inspected",
        "refunded",
        "exchanged",
        "store_credit",
    ]
    reason: Annotated[str, Field(max_length=300)] | None = None
    inspection: dict[str, Annotated[str, Field(max_length=1000)]] | None = None


class ReturnLineOut(Out):
    order_line_id: int
    quantity: int
    reason: str | None
    amount_minor: int | None = None
    exchange_variant_id: int | None = None


class ReturnSummaryOut(Out):
    id: int
    number: str
    order_id: int
    customer_id: int | None
    status: str
    method: str
    payout_minor: int | None
    currency: str | None
    created_at: datetime


class ReturnDetailOut(ReturnSummaryOut):
    rejection_reason: str | None
    items_minor: int | None
    restocking_fee_minor: int | None
    label_fee_minor: int | None
    bonus_minor: int | None
    label_number: str | None
    customs_note: str | None
    language: str | None
    lines: list[ReturnLineOut]
    decision: dict[str, Any]
    next_step: str | None


class LineEligibilityOut(Out):
    order_line_id: int
    title: str
    eligible: bool
    returnable_quantity: int
    reasons: list[str]
    codes: list[dict[str, Any]]
    last_day: str | None
    exchange_variant_ids: list[int]


class EligibilityOut(Out):
    order_id: int
    language: str
    any_eligible: bool
    methods: list[str]
    customer_pays_shipping: bool
    label_fee_minor: int
    international: bool
    shipping: str
    customs: str | None
    lines: list[LineEligibilityOut]


class PolicyIn(In):
    return_window_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    return_window_starts: Literal["delivery", "order", "fulfilment"] | None = None
    free_return_countries: (
        Annotated[list[Annotated[str, Field(min_length=2, max_length=2)]], Field(max_length=300)] | None
    ) = None
    restocking_fee_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    return_label_fee_minor: Annotated[int, Field(ge=0, le=10**7)] | None = None
    final_sale_returnable: bool | None = None
    store_credit_bonus_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    returns: dict[str, Any] | None = None
