"""CSV and JSON import for any other platform (Magento, PrestaShop, Etsy exports, a spreadsheet …).

Orders: one CSV row per order line (rows of one order share ``order_number``), amounts in major units::

    order_number,placed_at,currency,email,total,line_title,line_quantity,line_unit_price, …

Products: one row per variant. Customers: one row per customer. JSON: ``{"orders": [...], "products":
[...], "customers": [...]}`` with the same field names, an order's lines under ``lines`` and addresses
under ``shipping_address`` / ``billing_address``. The full column list is in docs/connectors/csv.md.

The import is read through the same resumable backfill as a platform (the cursor is a row offset), so a
big file that is interrupted resumes where it stopped. Orders imported from a file cannot be changed from
storedesk: every action answers that it has to be done where the order came from.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from storedesk.commerce.connectors.common import BaseConnector, parse_time, to_minor
from storedesk.commerce.connectors.protocol import (
    ExtCustomer,
    ExtLine,
    ExtOrder,
    ExtProduct,
    ExtShipment,
    ExtVariant,
    MalformedPayload,
    Page,
    Resource,
    StoreInfo,
    WebhookItem,
)
from storedesk.commerce.models import FinancialStatus, FulfillmentStatus, ShipmentStatus

PAGE = 500
MAX_ERRORS = 20

ORDER_REQUIRED = ("order_number", "placed_at", "currency", "total")
LINE_REQUIRED = ("line_title", "line_quantity", "line_unit_price")

FINANCIAL = {s.value: s for s in FinancialStatus} | {
    "authorized": FinancialStatus.pending,
    "partially_paid": FinancialStatus.pending,
    "unpaid": FinancialStatus.pending,
    "cancelled": FinancialStatus.voided,
}
FULFILMENT = {s.value: s for s in FulfillmentStatus} | {
    "shipped": FulfillmentStatus.fulfilled,
    "partially_fulfilled": FulfillmentStatus.partial,
    "": FulfillmentStatus.unfulfilled,
}
SHIPMENT = {s.value: s for s in ShipmentStatus}


class ImportFailed(MalformedPayload):
    """The file has errors; nothing was imported. ``details["errors"]`` lists them with row numbers."""


@dataclass
class ImportData:
    orders: list[ExtOrder] = field(default_factory=list)
    products: list[ExtProduct] = field(default_factory=list)
    customers: list[ExtCustomer] = field(default_factory=list)


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(row: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = _text(row, key)
    if value is None:
        return default
    try:
        return int(float(value))
    except ValueError as exc:
        raise ValueError(f"{key} {value!r} is not a number") from exc


def _when(row: Mapping[str, Any], key: str) -> datetime | None:
    value = _text(row, key)
    if value is None:
        return None
    try:
        return parse_time(value)
    except MalformedPayload as exc:
        raise ValueError(f"{key} {value!r} is not a date (use ISO 8601, e.g. 2026-03-01T14:05:00Z)") from exc


def _amount(row: Mapping[str, Any], key: str, currency: str) -> int:
    try:
        return to_minor(_text(row, key), currency)
    except MalformedPayload as exc:
        raise ValueError(f"{key} {row.get(key)!r} is not an amount") from exc


def _address(row: Mapping[str, Any], prefix: str) -> dict[str, str | None] | None:
    nested = row.get(f"{prefix}_address")
    if isinstance(nested, dict):
        return {
            k: _text(nested, k)
            for k in (
                "name",
                "company",
                "address1",
                "address2",
                "city",
                "province",
                "zip",
                "country_code",
                "phone",
            )
        }
    short = "ship" if prefix == "shipping" else "bill"
    keys = {
        "name": f"{short}_name",
        "company": f"{short}_company",
        "address1": f"{short}_address1",
        "address2": f"{short}_address2",
        "city": f"{short}_city",
        "province": f"{short}_province",
        "zip": f"{short}_zip",
        "country_code": f"{short}_country",
        "phone": f"{short}_phone",
    }
    address = {k: _text(row, v) for k, v in keys.items()}
    return address if any(address.values()) else None


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    text = str(value or "")
    sep = ";" if ";" in text else ","
    return [t.strip() for t in text.split(sep) if t.strip()]


def _line(row: Mapping[str, Any], order_key: str, index: int, currency: str, *, nested: bool) -> ExtLine:
    """One line: a CSV row (``line_*`` columns) or an entry of a JSON order's ``lines`` (the ``line_``
    prefix may be left out there)."""

    def get(key: str) -> Any:
        value = row.get(key)
        if value in (None, "") and nested:
            value = row.get(key.removeprefix("line_"))
        return value

    missing = [k for k in LINE_REQUIRED if get(k) in (None, "")]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")

    data = {
        k: get(k)
        for k in (
            "line_id",
            "line_sku",
            "line_title",
            "line_variant",
            "line_quantity",
            "line_unit_price",
            "line_total",
            "line_variant_id",
        )
    }
    quantity = _int(data, "line_quantity")
    if quantity <= 0:
        raise ValueError("line_quantity must be at least 1")
    unit = _amount(data, "line_unit_price", currency)
    total = _amount(data, "line_total", currency) if _text(data, "line_total") else unit * quantity
    return ExtLine(
        external_id=_text(data, "line_id") or f"{order_key}-{index}",
        title=(_text(data, "line_title") or "")[:300],
        quantity=quantity,
        unit_price_minor=unit,
        total_minor=total,
        sku=_text(data, "line_sku"),
        variant_title=_text(data, "line_variant"),
        variant_external_id=_text(data, "line_variant_id"),
        refunded_quantity=_int(row, "line_refunded_quantity"),
    )


def _order(
    rows: Sequence[Mapping[str, Any]],
    lines_rows: Iterable[Mapping[str, Any]],
    default_currency: str | None,
    *,
    nested: bool = False,
) -> ExtOrder:
    head = rows[0]
    missing = [
        k for k in ORDER_REQUIRED if _text(head, k) is None and not (k == "currency" and default_currency)
    ]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    currency = (_text(head, "currency") or default_currency or "").upper()
    if len(currency) != 3:
        raise ValueError(f"currency {currency!r} is not a 3-letter ISO code")
    number = (_text(head, "order_number") or "").lstrip("#")
    key = _text(head, "order_id") or number
    lines = [_line(r, key, i + 1, currency, nested=nested) for i, r in enumerate(lines_rows)]
    financial_raw = (_text(head, "financial_status") or "paid").lower()
    fulfilment_raw = (_text(head, "fulfillment_status") or "").lower()
    if financial_raw not in FINANCIAL:
        raise ValueError(f"financial_status {financial_raw!r} is not one of {', '.join(sorted(FINANCIAL))}")
    if fulfilment_raw not in FULFILMENT:
        raise ValueError(
            f"fulfillment_status {fulfilment_raw!r} is not one of {', '.join(sorted(k for k in FULFILMENT if k))}"
        )
    shipments = []
    tracking = _text(head, "tracking_number")
    if tracking:
        status_raw = (_text(head, "shipment_status") or "in_transit").lower()
        shipments.append(
            ExtShipment(
                external_id=tracking,
                status=SHIPMENT.get(status_raw, ShipmentStatus.in_transit),
                carrier=_text(head, "carrier"),
                tracking_number=tracking,
                tracking_url=_text(head, "tracking_url"),
                shipped_at=_when(head, "shipped_at"),
                delivered_at=_when(head, "delivered_at"),
                order_external_id=key,
            )
        )
    subtotal = (
        _amount(head, "subtotal", currency)
        if _text(head, "subtotal")
        else sum(line.total_minor for line in lines)
    )
    placed = _when(head, "placed_at")
    assert placed is not None
    email = _text(head, "email")
    customer_id = _text(head, "customer_id")
    return ExtOrder(
        external_id=key,
        number=number[:64],
        currency=currency,
        financial_status=FINANCIAL[financial_raw],
        fulfillment_status=FULFILMENT[fulfilment_raw],
        placed_at=placed,
        updated_at=_when(head, "updated_at") or placed,
        subtotal_minor=subtotal,
        total_minor=_amount(head, "total", currency),
        shipping_minor=_amount(head, "shipping", currency),
        tax_minor=_amount(head, "tax", currency),
        refunded_minor=_amount(head, "refunded", currency),
        customer=ExtCustomer(
            customer_id, email=email, phone=_text(head, "phone"), name=_text(head, "customer_name")
        )
        if customer_id
        else None,
        email=email,
        phone=_text(head, "phone"),
        cancelled_at=_when(head, "cancelled_at"),
        cancel_reason=_text(head, "cancel_reason"),
        shipping_method=_text(head, "shipping_method"),
        payment_method=_text(head, "payment_method"),
        shipping_address=_address(head, "shipping"),
        billing_address=_address(head, "billing"),
        note=_text(head, "note"),
        tags=_tags(head.get("tags")),
        lines=lines,
        shipments=shipments,
    )


def _product(rows: Sequence[Mapping[str, Any]], currency: str) -> ExtProduct:
    head = rows[0]
    title = _text(head, "title")
    if not title:
        raise ValueError("missing title")
    key = _text(head, "product_id") or _text(head, "handle") or title
    variants = []
    for i, r in enumerate(rows):
        sku = _text(r, "sku") or ""
        variants.append(
            ExtVariant(
                external_id=_text(r, "variant_id") or sku or f"{key}-{i + 1}",
                sku=sku[:100],
                title=(_text(r, "variant_title") or "Default")[:200],
                price_minor=_amount(r, "price", currency),
                stock=_int(r, "stock"),
                size=_text(r, "size"),
                color=_text(r, "color"),
            )
        )
    return ExtProduct(
        external_id=key,
        handle=(_text(head, "handle") or key)[:200],
        title=title[:300],
        vendor=_text(head, "vendor"),
        category=_text(head, "category"),
        description=_text(head, "description"),
        updated_at=_when(head, "updated_at"),
        variants=variants,
    )


def _customer(row: Mapping[str, Any]) -> ExtCustomer:
    key = _text(row, "customer_id") or _text(row, "email") or _text(row, "phone")
    if not key:
        raise ValueError("a customer needs customer_id, email or phone")
    return ExtCustomer(
        external_id=key,
        email=_text(row, "email"),
        phone=_text(row, "phone"),
        name=_text(row, "name"),
        country=(_text(row, "country") or "").upper() or None,
    )


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None:
        return []
    reader.fieldnames = [f.strip().lower() for f in reader.fieldnames]
    return [dict(r) for r in reader]


def parse(
    *,
    orders: str | list[dict[str, Any]] | None = None,
    products: str | list[dict[str, Any]] | None = None,
    customers: str | list[dict[str, Any]] | None = None,
    currency: str | None = None,
) -> ImportData:
    """Parse CSV text (a ``str``) or JSON records (a ``list``). Every error is collected with its row
    number; if there is any, :class:`ImportFailed` is raised and nothing is returned."""
    errors: list[str] = []
    data = ImportData()

    def fail(where: str, exc: Exception) -> None:
        if len(errors) < MAX_ERRORS:
            errors.append(f"{where}: {exc}")

    if orders is not None:
        records = _csv_rows(orders) if isinstance(orders, str) else orders
        grouped: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for i, row in enumerate(records, start=2 if isinstance(orders, str) else 1):
            key = _text(row, "order_id") or (_text(row, "order_number") or "").lstrip("#")
            if not key:
                fail(f"orders row {i}", ValueError("missing order_number"))
                continue
            grouped.setdefault(key, []).append((i, row))
        for key, items in grouped.items():
            rows = [r for _, r in items]
            try:
                nested = rows[0].get("lines")
                line_rows = nested if isinstance(nested, list) else rows
                data.orders.append(_order(rows, line_rows, currency, nested=isinstance(nested, list)))
            except (ValueError, MalformedPayload) as exc:
                fail(f"orders row {items[0][0]} (order {key})", exc)
    if products is not None:
        records = _csv_rows(products) if isinstance(products, str) else products
        by_product: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for i, row in enumerate(records, start=2 if isinstance(products, str) else 1):
            key = _text(row, "product_id") or _text(row, "handle") or _text(row, "title") or f"row-{i}"
            by_product.setdefault(key, []).append((i, row))
        for key, items in by_product.items():
            rows = [r for _, r in items]
            nested = rows[0].get("variants")
            try:
                data.products.append(
                    _product(
                        [{**rows[0], **v} for v in nested] if isinstance(nested, list) else rows,
                        currency or "USD",
                    )
                )
            except (ValueError, MalformedPayload) as exc:
                fail(f"products row {items[0][0]} (product {key})", exc)
    if customers is not None:
        records = _csv_rows(customers) if isinstance(customers, str) else customers
        for i, row in enumerate(records, start=2 if isinstance(customers, str) else 1):
            try:
                data.customers.append(_customer(row))
            except ValueError as exc:
                fail(f"customers row {i}", exc)
    if errors:
        raise ImportFailed(
            f"the import has {len(errors)} error(s); nothing was imported", details={"errors": errors}
        )
    return data


def load_files(
    *,
    orders: Path | None = None,
    products: Path | None = None,
    customers: Path | None = None,
    currency: str | None = None,
) -> ImportData:
    """Read ``.csv`` or ``.json`` files (a JSON file holds a list, or ``{"orders": [...]}`` …)."""

    def read(path: Path | None, key: str) -> str | list[dict[str, Any]] | None:
        if path is None:
            return None
        raw = path.read_bytes()
        if path.suffix.lower() == ".json":
            value = orjson.loads(raw)
            if isinstance(value, dict):
                value = value.get(key, [])
            if not isinstance(value, list):
                raise ImportFailed(f"{path.name}: expected a list of {key}")
            return value
        return raw.decode("utf-8-sig")

    return parse(
        orders=read(orders, "orders"),
        products=read(products, "products"),
        customers=read(customers, "customers"),
        currency=currency,
    )


class CsvConnector(BaseConnector):
    """A store fed by files. With data it lists it (resumable by row offset); without, it is read-only."""

    platform = "csv"
    label = "an imported store"

    def __init__(self, *, name: str = "Imported store", data: ImportData | None = None) -> None:
        self.name = name
        self.data = data or ImportData()

    async def test(self) -> StoreInfo:
        return StoreInfo(name=self.name, external_id=f"import:{self.name}")

    async def count(self, resource: Resource) -> int | None:
        return len(getattr(self.data, resource.value, []))

    @staticmethod
    def _page(items: list[Any], cursor: str | None) -> Page[Any]:
        start = int(cursor or 0)
        end = start + PAGE
        return Page(items[start:end], str(end) if end < len(items) else None, len(items))

    async def list_customers(self, cursor: str | None) -> Page[ExtCustomer]:
        return self._page(self.data.customers, cursor)

    async def list_products(self, cursor: str | None) -> Page[ExtProduct]:
        return self._page(self.data.products, cursor)

    async def list_orders(
        self, cursor: str | None, *, updated_since: datetime | None = None
    ) -> Page[ExtOrder]:
        return self._page(self.data.orders, cursor)

    async def get_order(self, external_id: str) -> ExtOrder | None:
        return next((o for o in self.data.orders if o.external_id == external_id), None)

    def webhook_key(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        return None

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return False

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookItem]:
        return []

    def _unsupported(self, what: str) -> Any:
        from storedesk.commerce.connectors.protocol import NotSupported

        return NotSupported(
            f"this order was imported from a file, so storedesk cannot {what}; do it where the order came from"
        )
