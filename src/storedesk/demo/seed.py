"""The demo shop: a multilingual home & living shop with a year of orders, returns and support history.

``seed_demo`` is idempotent (an existing ``demo`` shop is left alone unless ``force``) and deterministic
for a given seed: every choice comes from ``random.Random(seed)`` and seeded Faker instances, and every
timestamp is the real current time minus an offset drawn from that generator. The same seed therefore
gives the same content (names, numbers, states, texts) whenever it runs; only the absolute times move
with the clock. The one thing aligned to the calendar (agents answer inside the shop's business hours)
is applied after all choices are made and only moves timestamps.

The top-level objects (shop, agents, channels) go through the services; the volume (catalogue,
customers, orders, conversations, events) is written with bulk core inserts in one transaction, parents
first, reading ids back with ``RETURNING`` so the same code works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import bisect
import html
import math
import random
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from faker import Faker
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

import storedesk.conversations.tasks  # noqa: F401  (registers conversation.wake for enqueue)
from storedesk.agents.models import Agent, Notification, Role, Team, TeamMember
from storedesk.agents.security import hash_password
from storedesk.agents.service import create_agent
from storedesk.assistant import demo as assistant_demo
from storedesk.channels.models import Channel, ChannelKind, InboundEvent
from storedesk.channels.service import create_channel
from storedesk.commerce.models import (
    Order,
    OrderLine,
    Product,
    Refund,
    Return,
    ReturnLine,
    Shipment,
    Store,
    TrackingEvent,
    Variant,
)
from storedesk.conversations.models import Conversation, ConversationTag, Message
from storedesk.customers.models import Customer, CustomerIdentity
from storedesk.db.session import Database
from storedesk.demo import content
from storedesk.events.models import Event
from storedesk.events.service import record
from storedesk.jobs.models import Job
from storedesk.jobs.registry import enqueue
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox
from storedesk.kit.time import utcnow
from storedesk.knowledge.models import Article, ArticleVersion, Macro
from storedesk.shops.models import Shop
from storedesk.shops.service import create_shop, update_shop

DEMO_SLUG = "demo"
DEMO_DOMAIN = "demo.storedesk.test"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
DEMO_VIEWER_EMAIL = f"viewer@{DEMO_DOMAIN}"
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - the documented demo login

N_PRODUCTS = 240
N_CUSTOMERS = 1200
N_ORDERS = 3400
N_CONVERSATIONS = 420
FIRST_ORDER_NUMBER = 1001
CHUNK = 1000
HOUR = 3600.0
DAY = 86400.0
SHOP_TZ = ZoneInfo("Europe/Berlin")

# Mon–Fri 08:00–18:00, Sat 10:00–14:00 (shop time)
BUSINESS_HOURS: dict[str, Any] = {
    "mon": [["08:00", "18:00"]],
    "tue": [["08:00", "18:00"]],
    "wed": [["08:00", "18:00"]],
    "thu": [["08:00", "18:00"]],
    "fri": [["08:00", "18:00"]],
    "sat": [["10:00", "14:00"]],
    "sun": [],
    "holidays": [],
}
_OPEN_HOURS: dict[int, tuple[int, int]] = {
    0: (8, 18),
    1: (8, 18),
    2: (8, 18),
    3: (8, 18),
    4: (8, 18),
    5: (10, 14),
}

POLICIES: dict[str, Any] = {
    "cancellation_window_hours": 24,
    "cancellation_requires_unfulfilled": True,
    "return_window_days": 30,
    "return_window_starts": "delivery",
    "refund_processing_days": 5,
    "free_return_countries": ["DE", "AT", "NL"],
    "return_label_fee_minor": 595,
    "restocking_fee_percent": 0,
    "final_sale_returnable": False,
    "damage_report_window_days": 14,
    "replace_without_return_below_minor": 8000,
    "store_credit_bonus_percent": 10,
    "unpaid_order_cancel_days": 7,
    "free_shipping_threshold_minor": {"DE": 5000, "EU": 10000},
    "assistant": assistant_demo.POLICY,  # the assistant answers in the demo (storedesk.assistant)
}


@dataclass(frozen=True)
class Market:
    locale: str
    language: str
    country: str
    weight: int
    vat: float
    zone: str  # DE, EU or INTL: shipping price and transit time
    keep_digits: int  # leading digits of the example mobile number to keep when generating numbers


MARKETS: tuple[Market, ...] = (
    Market("de_DE", "de", "DE", 26, 0.19, "DE", 3),
    Market("de_AT", "de", "AT", 4, 0.20, "EU", 3),
    Market("en_GB", "en", "GB", 8, 0.20, "INTL", 2),
    Market("en_US", "en", "US", 3, 0.0, "INTL", 3),
    Market("hu_HU", "hu", "HU", 9, 0.27, "EU", 2),
    Market("no_NO", "nb", "NO", 9, 0.25, "INTL", 1),
    Market("fr_FR", "fr", "FR", 11, 0.20, "EU", 1),
    Market("sv_SE", "sv", "SE", 10, 0.25, "EU", 2),
    Market("pl_PL", "pl", "PL", 10, 0.23, "EU", 1),
    Market("es_ES", "es", "ES", 10, 0.21, "EU", 1),
)

SHIPPING = {
    "DE": (495, 5000, (20.0, 40.0)),
    "EU": (995, 10000, (48.0, 110.0)),
    "INTL": (1495, None, (90.0, 170.0)),
}
EXPRESS_MINOR = 995

CARRIERS: dict[str, list[tuple[str, int]]] = {
    "DE": [("DHL", 55), ("DPD", 20), ("GLS", 15), ("UPS", 10)],
    "AT": [("DHL", 40), ("GLS", 30), ("DPD", 30)],
    "GB": [("UPS", 50), ("DHL", 50)],
    "US": [("UPS", 70), ("DHL", 30)],
    "HU": [("Magyar Posta", 50), ("GLS", 35), ("DPD", 15)],
    "NO": [("Posten", 65), ("PostNord", 35)],
    "FR": [("Colissimo", 65), ("UPS", 20), ("DPD", 15)],
    "SE": [("PostNord", 70), ("DHL", 30)],
    "PL": [("InPost", 60), ("DPD", 25), ("DHL", 15)],
    "ES": [("Correos", 60), ("GLS", 25), ("UPS", 15)],
}
IMPORT_HUBS = {
    "AT": "Wien",
    "GB": "Coventry",
    "US": "New York (JFK)",
    "HU": "Budapest",
    "NO": "Oslo (Alnabru)",
    "FR": "Paris (Roissy)",
    "SE": "Malmö",
    "PL": "Warszawa",
    "ES": "Madrid",
}
PAYMENT_METHODS: dict[str, list[tuple[str, int]]] = {
    "DE": [("paypal", 35), ("card", 25), ("klarna", 25), ("apple_pay", 10), ("bank_transfer", 5)],
    "AT": [("paypal", 35), ("card", 30), ("klarna", 25), ("apple_pay", 10)],
    "GB": [("card", 60), ("paypal", 25), ("apple_pay", 15)],
    "US": [("card", 60), ("paypal", 25), ("apple_pay", 15)],
    "HU": [("card", 70), ("paypal", 20), ("bank_transfer", 10)],
    "NO": [("card", 45), ("vipps", 40), ("klarna", 15)],
    "FR": [("card", 65), ("paypal", 25), ("apple_pay", 10)],
    "SE": [("card", 40), ("swish", 35), ("klarna", 25)],
    "PL": [("blik", 45), ("przelewy24", 25), ("card", 20), ("paypal", 10)],
    "ES": [("card", 55), ("bizum", 25), ("paypal", 20)],
}
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# (email local part, name, role, languages, teams)
AGENTS: tuple[tuple[str, str, Role, list[str], list[str]], ...] = (
    ("admin", "Maren Lindqvist", Role.admin, ["en", "de", "sv"], ["VIP"]),
    ("jonas.becker", "Jonas Becker", Role.agent, ["de", "en"], ["Tier 1"]),
    ("reka.nagy", "Réka Nagy", Role.agent, ["hu", "en", "de"], ["Tier 1"]),
    ("ingrid.solberg", "Ingrid Solberg", Role.agent, ["nb", "sv", "en"], ["Tier 1", "VIP"]),
    ("camille.moreau", "Camille Moreau", Role.agent, ["fr", "es", "en"], ["Returns"]),
    ("agnieszka.wozniak", "Agnieszka Woźniak", Role.agent, ["pl", "en", "de"], ["Returns"]),
    ("lucia.fernandez", "Lucía Fernández", Role.agent, ["es", "fr", "en"], ["Tier 1"]),
    ("tom.harris", "Tom Harris", Role.agent, ["en", "de"], ["VIP", "Returns"]),
    ("viewer", "Paul Schneider", Role.viewer, ["de", "en"], []),
)
TEAMS = (
    ("Tier 1", "First line: order status, changes, payment and product questions"),
    ("Returns", "Returns, refunds, damaged and wrong items"),
    ("VIP", "Customers with the VIP segment"),
)

# (kind, name, external id, credentials, settings)
CHANNELS: tuple[tuple[ChannelKind, str, str, dict[str, Any] | None, dict[str, Any]], ...] = (
    (
        ChannelKind.chat,
        "Website chat",
        "nordlys-web-widget",
        None,
        {"widget": {"color": "#1f4e5f", "position": "right"}},
    ),
    (
        ChannelKind.email,
        "Support email",
        f"support@{DEMO_DOMAIN}",
        None,
        {"from_name": "Nordlys Home & Living"},
    ),
    (
        ChannelKind.whatsapp,
        "WhatsApp",
        "109876543210",
        {"access_token": "demo-not-a-real-token", "app_secret": "demo-app-secret"},
        {"display_phone_number": "+49 1573 0000001"},
    ),
    (
        ChannelKind.messenger,
        "Facebook Messenger",
        "104455667788990",
        {"page_access_token": "demo-not-a-real-token", "app_secret": "demo-app-secret"},
        {},
    ),
    (
        ChannelKind.instagram,
        "Instagram",
        "17841400000000000",
        {"page_access_token": "demo-not-a-real-token", "app_secret": "demo-app-secret"},
        {},
    ),
    (
        ChannelKind.sms,
        "SMS",
        "+4915730000000",
        {"account_sid": "ACdemo00000000000000000000000000", "auth_token": "demo-auth-token"},
        {},
    ),
    (
        ChannelKind.voice,
        "Phone hotline",
        "+493023125000",
        {"account_sid": "ACdemo00000000000000000000000000", "auth_token": "demo-auth-token"},
        {"voicemail_transcription": True},
    ),
    (ChannelKind.webform, "Contact form", "nordlys-contact-form", None, {}),
    (ChannelKind.api, "Marketplace bridge", "nordlys-marketplace-bridge", None, {}),
)
CHANNEL_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("email", 40),
    ("chat", 20),
    ("whatsapp", 16),
    ("webform", 7),
    ("messenger", 5),
    ("instagram", 4),
    ("sms", 3),
    ("voice", 3),
    ("api", 2),
)
PHONE_CHANNELS = {"whatsapp", "sms", "voice"}

# ------------------------------------------------------------------------------------------------ catalogue

COLLECTIONS = (
    "Fjord",
    "Aurora",
    "Birk",
    "Hygge",
    "Saga",
    "Lykke",
    "Skog",
    "Havn",
    "Sol",
    "Vinter",
    "Mose",
    "Lyng",
    "Fjell",
    "Strand",
    "Elv",
    "Tåke",
)
# (category, type, base price in cents, option kind)
PRODUCT_TYPES: tuple[tuple[str, str, int, str], ...] = (
    ("vases", "Stoneware Vase", 4990, "vase"),
    ("vases", "Glass Vase", 3990, "vase"),
    ("vases", "Bud Vase", 1990, "colour"),
    ("vases", "Floor Vase", 12900, "colour"),
    ("vases", "Ribbed Vase", 5490, "vase"),
    ("vases", "Bottle Vase", 3490, "vase"),
    ("ceramics", "Serving Bowl", 3990, "colour"),
    ("ceramics", "Dinner Plate Set", 5990, "colour"),
    ("ceramics", "Mug", 1690, "colour"),
    ("ceramics", "Espresso Cup Set", 2990, "colour"),
    ("ceramics", "Salad Bowl", 4490, "colour"),
    ("ceramics", "Pitcher", 3490, "colour"),
    ("textiles", "Wool Throw", 11900, "colour"),
    ("textiles", "Linen Cushion Cover", 3490, "cushion"),
    ("textiles", "Linen Duvet Set", 14900, "duvet"),
    ("textiles", "Cotton Bath Towel", 2490, "towel"),
    ("textiles", "Table Runner", 3990, "colour"),
    ("textiles", "Linen Napkin Set", 2990, "colour"),
    ("lighting", "Table Lamp", 12900, "lamp"),
    ("lighting", "Pendant Lamp", 17900, "lamp"),
    ("lighting", "Floor Lamp", 24900, "lamp"),
    ("lighting", "Candle Holder", 2490, "lamp"),
    ("lighting", "Lantern", 4990, "lamp"),
    ("clothing", "Merino Sweater", 12900, "apparel"),
    ("clothing", "Linen Shirt", 8900, "apparel"),
    ("clothing", "Knit Cardigan", 13900, "apparel"),
    ("clothing", "Wool Scarf", 5990, "colour"),
    ("clothing", "Linen Dress", 11900, "apparel"),
    ("clothing", "Lounge Trousers", 7900, "apparel"),
    ("home-fragrance", "Scented Candle", 2490, "scent"),
    ("home-fragrance", "Reed Diffuser", 3290, "scent"),
)
FRAGILE = {"vases", "ceramics", "lighting"}
COLOURS = {
    "vases": ["Sand", "Moss", "Fjord Blue", "Chalk", "Charcoal", "Rust", "Sage"],
    "ceramics": ["Sand", "Moss", "Fjord Blue", "Chalk", "Charcoal", "Rust", "Sage"],
    "textiles": ["Oat", "Sage", "Dusty Rose", "Slate", "Ivory", "Forest"],
    "lighting": ["Brass", "Black", "White", "Smoked Glass", "Oak"],
    "clothing": ["Oat", "Navy", "Charcoal", "Forest", "Ecru", "Rust"],
    "home-fragrance": ["Birch & Moss", "Sea Salt", "Amber & Cedar", "Wild Fig"],
}
SIZES: dict[str, list[tuple[str, float]]] = {
    "vase": [("Small", 0.75), ("Medium", 1.0), ("Large", 1.45)],
    "cushion": [("40×40 cm", 0.9), ("50×50 cm", 1.0), ("40×60 cm", 1.05)],
    "duvet": [("140×200 cm", 1.0), ("155×220 cm", 1.15), ("200×200 cm", 1.35)],
    "towel": [("50×100 cm", 1.0), ("70×140 cm", 1.6)],
    "apparel": [("XS", 1.0), ("S", 1.0), ("M", 1.0), ("L", 1.0), ("XL", 1.0)],
}
VENDORS = {
    "vases": ["Fjell Ceramics", "Nordlys Studio"],
    "ceramics": ["Fjell Ceramics", "Nordlys Studio"],
    "textiles": ["Saga Textiles"],
    "lighting": ["Lind & Lys"],
    "clothing": ["Nordlys Studio"],
    "home-fragrance": ["Havblå Atelier"],
}
DESCRIPTIONS = {
    "vases": "Hand-thrown and glazed in small batches, so every piece is slightly different. Watertight; wipe clean with a damp cloth.",
    "ceramics": "Sturdy stoneware with a reactive glaze. Dishwasher and microwave safe; stack with care.",
    "textiles": "Woven from European flax and wool, OEKO-TEX certified. Gets softer with every wash.",
    "lighting": "Designed in Hamburg and made to last. E27 fitting; bulb not included. CE certified.",
    "clothing": "A relaxed Scandinavian fit in natural fibres. See the size guide for measurements.",
    "home-fragrance": "Poured by hand from rapeseed wax with cotton wicks. Burns for about 40 hours.",
}

ORDER_STATES = (
    "pending",
    "unfulfilled",
    "partial",
    "label_created",
    "in_transit",
    "out_for_delivery",
    "delayed",
    "exception",
    "delivered",
    "cancelled",
    "returned",
    "refunded",
    "partially_refunded",
)
# (max age in days, [(state, weight)]): what an order of that age is now
STATE_BY_AGE: tuple[tuple[float, tuple[tuple[str, int], ...]], ...] = (
    (1.0, (("pending", 15), ("unfulfilled", 50), ("label_created", 25), ("cancelled", 10))),
    (
        2.0,
        (
            ("pending", 10),
            ("unfulfilled", 12),
            ("label_created", 18),
            ("in_transit", 50),
            ("cancelled", 5),
            ("partial", 5),
        ),
    ),
    (
        5.0,
        (
            ("pending", 3),
            ("in_transit", 40),
            ("out_for_delivery", 12),
            ("delivered", 30),
            ("exception", 4),
            ("cancelled", 4),
            ("partial", 7),
        ),
    ),
    (
        12.0,
        (
            ("in_transit", 6),
            ("delivered", 74),
            ("exception", 3),
            ("cancelled", 5),
            ("partial", 4),
            ("returned", 8),
        ),
    ),
    (
        60.0,
        (
            ("delivered", 70),
            ("delayed", 5),
            ("returned", 11),
            ("cancelled", 4),
            ("refunded", 3),
            ("partially_refunded", 4),
            ("partial", 3),
        ),
    ),
    (
        10_000.0,
        (
            ("delivered", 78),
            ("returned", 10),
            ("cancelled", 5),
            ("refunded", 3),
            ("partially_refunded", 3),
            ("delayed", 1),
        ),
    ),
)
RETURN_REASONS = (
    "too small",
    "too large",
    "not as pictured",
    "changed my mind",
    "quality not as expected",
    "wrong colour",
)
INTENT_TAGS = {
    "track_order": "wismo",
    "delivery_problem": "delay",
    "cancel_order": "cancellation",
    "change_shipping_address": "address-change",
    "return_request": "return",
    "refund_status": "refund",
    "damaged_or_wrong_item": "damaged",
    "payment_problem": "payment",
    "product_question": "product",
    "feedback_praise": "praise",
}
INTENT_COUNTS: tuple[tuple[str, int], ...] = (
    ("track_order", 100),
    ("delivery_problem", 30),
    ("cancel_order", 30),
    ("change_shipping_address", 25),
    ("return_request", 60),
    ("refund_status", 35),
    ("damaged_or_wrong_item", 40),
    ("payment_problem", 20),
    ("feedback_praise", 25),
)  # the rest are product questions
ASSISTANT_INTENTS = {"track_order", "product_question"}


# ------------------------------------------------------------------------------------------------ plans


@dataclass
class VariantPlan:
    product: int
    sku: str
    title: str
    size: str | None
    color: str | None
    price: int
    stock: int
    policy: str
    restock_days: int | None
    external_id: str


@dataclass
class ProductPlan:
    handle: str
    title: str
    category: str
    vendor: str
    final_sale: bool
    external_id: str
    weight: float
    variants: list[int] = field(default_factory=list)


@dataclass
class CustomerPlan:
    market: Market
    first: str
    last: str
    email: str
    phone: str | None
    address: dict[str, Any]
    preferred_channel: str
    consents: dict[str, Any]
    note: str | None
    ago: float = 0.0
    orders: list[int] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    identities: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class LinePlan:
    variant: int
    quantity: int
    unit: int
    refunded_quantity: int = 0

    @property
    def total(self) -> int:
        return self.unit * self.quantity


@dataclass
class ShipmentPlan:
    carrier: str
    tracking: str
    url: str
    status: str
    shipped: float
    eta: float
    delivered: float | None
    events: list[tuple[float, str, str, str]]  # (ago, status, description, location)

    @property
    def last_event(self) -> float:
        return self.events[-1][0]


@dataclass
class ReturnPlan:
    number: str
    status: str
    resolution: str
    reason: str
    rejection: str | None
    requested: float
    updated: float
    lines: list[tuple[int, int, str]]  # (line index, quantity, reason)


@dataclass
class RefundPlan:
    amount: int
    reason: str
    status: str
    created: float
    processed: float | None
    for_return: bool
    lines: list[tuple[int, int]] = field(default_factory=list)  # (line index, quantity)
    shipping: int = 0


@dataclass
class OrderPlan:
    number: str
    customer: int
    placed: float
    state: str
    lines: list[LinePlan] = field(default_factory=list)
    subtotal: int = 0
    shipping: int = 0
    tax: int = 0
    total: int = 0
    financial: str = "paid"
    fulfillment: str = "unfulfilled"
    cancelled: float | None = None
    cancel_reason: str | None = None
    shipping_method: str = "Standard"
    payment_method: str = "card"
    tags: list[str] = field(default_factory=list)
    updated: float = 0.0
    shipment: ShipmentPlan | None = None
    ret: ReturnPlan | None = None
    refunds: list[RefundPlan] = field(default_factory=list)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds if r.status == "succeeded")


@dataclass
class ConversationPlan:
    intent: str
    customer: int
    order: int | None
    product: int | None
    t0: float  # seconds ago
    anchor: float | None = None  # seconds ago: the agent acted (cancelled, refunded, created the return) then
    open_only: bool = False  # the request has not been carried out (yet): no resolving answer


# ------------------------------------------------------------------------------------------------ helpers


def _ascii(text: str) -> str:
    text = text.replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("ß", "ss")
    text = text.replace("ł", "l").replace("Ł", "L").replace("đ", "d")
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if c.isascii() and c.isalpha()).lower()


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in _ascii_keep(text).lower())
    return "-".join(p for p in out.split("-") if p)


def _ascii_keep(text: str) -> str:
    text = text.replace("ø", "o").replace("å", "a").replace("æ", "ae")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii())


def _weighted(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _price(cents: float) -> int:
    euros = max(2, round(cents / 100))
    return euros * 100 - 10


def _s10(rng: random.Random, prefix: str, country: str) -> str:
    """A UPU S10 item id (two letters, eight digits, check digit, country) with a correct check digit."""
    digits = [rng.randrange(10) for _ in range(8)]
    total = sum(d * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    check = 0 if check == 10 else 5 if check == 11 else check
    return f"{prefix}{''.join(map(str, digits))}{check}{country}"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _tracking(rng: random.Random, carrier: str) -> tuple[str, str]:
    if carrier == "DHL":
        number = "00340434" + _digits(rng, 12)
        return (
            number,
            f"https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id={number}",
        )
    if carrier == "DPD":
        number = "0" + _digits(rng, 13)
        return number, f"https://tracking.dpd.de/status/en_US/parcel/{number}"
    if carrier == "GLS":
        number = _digits(rng, 11)
        return number, f"https://gls-group.com/EU/en/parcel-tracking?match={number}"
    if carrier == "UPS":
        alnum = "".join(rng.choice("0123456789ABCDEFGHJKLMNPRTVWXY") for _ in range(6))
        number = f"1Z{alnum}68{_digits(rng, 8)}"
        return number, f"https://www.ups.com/track?tracknum={number}"
    if carrier == "PostNord":
        number = "00373" + _digits(rng, 15)
        return number, f"https://tracking.postnord.com/en/?id={number}"
    if carrier == "Posten":
        number = "70" + _digits(rng, 15)
        return number, f"https://sporing.posten.no/sporing/{number}"
    if carrier == "InPost":
        number = _digits(rng, 24)
        return number, f"https://inpost.pl/sledzenie-przesylek?number={number}"
    if carrier == "Magyar Posta":
        number = _s10(rng, "CP", "HU")
        return number, f"https://posta.hu/nyomkovetes/nyitooldal?searchvalue={number}"
    if carrier == "Colissimo":
        number = "6A" + _digits(rng, 11)
        return number, f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}"
    number = _s10(rng, "CX", "ES")  # Correos
    return number, f"https://www.correos.es/es/en/tools/tracker/items/details?tracking-number={number}"


def _phone(rng: random.Random, market: Market, taken: set[str]) -> str:
    example = phonenumbers.example_number_for_type(market.country, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    national = str(example.national_number)
    head = national[: market.keep_digits]
    for _ in range(50):
        candidate = head + _digits(rng, len(national) - len(head))
        number = phonenumbers.parse("+" + str(example.country_code) + candidate)
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in taken:
                taken.add(e164)
                return e164
    raise RuntimeError(f"could not generate a phone number for {market.country}")


def _next_business_time(t: datetime) -> datetime:
    """``t`` if the shop is open then, else the next opening time (shop time zone)."""
    local = t.astimezone(SHOP_TZ)
    for _ in range(10):
        hours = _OPEN_HOURS.get(local.weekday())
        if hours is not None:
            start = local.replace(hour=hours[0], minute=0, second=0, microsecond=0)
            end = local.replace(hour=hours[1], minute=0, second=0, microsecond=0)
            if local < start:
                return start.astimezone(UTC)
            if local < end:
                return local.astimezone(UTC)
        local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return t


# how busy the shop's customers are per hour of the day (shop time); normalised to a mean of 1
_ACTIVITY = (0.35, 0.15, 0.1, 0.1, 0.1, 0.15, 0.35, 0.7, 1.0, 1.2, 1.3, 1.3,
             1.35, 1.3, 1.25, 1.25, 1.25, 1.3, 1.45, 1.6, 1.6, 1.4, 1.0, 0.6)  # fmt: skip
ACTIVITY = tuple(a * 24 / sum(_ACTIVITY) for a in _ACTIVITY)


class Clock:
    """Maps "activity seconds ago" to wall-clock times, so the history has days and nights.

    All offsets in the generator are drawn in activity time; this monotonic mapping stretches the quiet
    night hours and squeezes the busy evening hours (shop time zone). Order is preserved, so everything
    that happened before something else still does; only the wall-clock times depend on the calendar.
    Negative offsets (the future) and offsets beyond the table are mapped linearly.
    """

    def __init__(self, now: datetime, days: int = 470) -> None:
        self.now = now
        self.bounds: list[datetime] = [now]
        self.cumulative: list[float] = [0.0]
        t, total = now, 0.0
        for _ in range(days * 24):
            start = t.replace(minute=0, second=0, microsecond=0)
            if start == t:
                start -= timedelta(hours=1)
            total += (t - start).total_seconds() * ACTIVITY[start.astimezone(SHOP_TZ).hour]
            t = start
            self.bounds.append(t)
            self.cumulative.append(total)

    def at(self, ago: float) -> datetime:
        if ago <= 0:
            return self.now - timedelta(seconds=ago)
        i = bisect.bisect_left(self.cumulative, ago)
        if i >= len(self.cumulative):
            return self.bounds[-1] - timedelta(seconds=ago - self.cumulative[-1])
        later, earlier = self.bounds[i - 1], self.bounds[i]
        lo, hi = self.cumulative[i - 1], self.cumulative[i]
        return later - (later - earlier) * ((ago - lo) / (hi - lo))


def _html(text: str) -> str:
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))


def _weighted_sample(rng: random.Random, items: list[int], weights: list[float], k: int) -> list[int]:
    """k distinct items, each drawn with probability proportional to its weight (Efraimidis–Spirakis)."""
    keyed = sorted(
        ((rng.random() ** (1.0 / w), i) for i, w in zip(items, weights, strict=True)), reverse=True
    )
    return [i for _, i in keyed[:k]]


class _Phases:
    """A rich progress bar per phase, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self._progress: Progress | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description:<16}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )

    def __enter__(self) -> _Phases:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    @contextmanager
    def phase(self, name: str, total: int) -> Iterator[Callable[[int], None]]:
        progress = self._progress
        if progress is None:
            yield lambda n: None
            return
        task = progress.add_task(name, total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)

        yield advance
        progress.update(task, completed=total)


OPTIONAL_COLUMNS = {"store_id", "platform_updated_at", "external_id", "lines", "shipping_minor"}


async def _reserve_ids(session: AsyncSession, model: Any, n: int) -> list[int]:
    """``n`` fresh primary keys for ``model``: from its sequence on PostgreSQL (which stays correct for
    everyone else), above the current maximum on SQLite (safe: the transaction holds the write lock)."""
    if n == 0:
        return []
    table = model.__table__.name
    if session.get_bind().dialect.name == "postgresql":
        stmt = text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)")
        return sorted(int(i) for i in (await session.execute(stmt, {"n": n})).scalars())
    top = int((await session.execute(select(func.coalesce(func.max(model.id), 0)))).scalar_one())
    return list(range(top + 1, top + n + 1))


async def _insert(
    session: AsyncSession,
    model: Any,
    rows: list[dict[str, Any]],
    advance: Callable[[int], None],
    *,
    returning: bool = False,
) -> list[int]:
    """Bulk insert in chunks; with ``returning`` the rows get ids first, which are returned in order."""
    columns = set(model.__table__.c.keys())
    dropped = {key for key in rows[0] if key not in columns} if rows else set()
    if dropped:  # columns other work adds to the commerce mirror; written once the schema has them
        assert dropped <= OPTIONAL_COLUMNS, (
            f"{model.__name__} has no columns {sorted(dropped - OPTIONAL_COLUMNS)}"
        )
        rows = [{k: v for k, v in row.items() if k not in dropped} for row in rows]
    ids: list[int] = []
    if returning:
        ids = await _reserve_ids(session, model, len(rows))
        rows = [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        await session.execute(insert(model).execution_options(render_nulls=True), chunk)
        advance(len(chunk))
    return ids


COUNTED: tuple[tuple[str, Any], ...] = (
    ("agents", Agent),
    ("teams", Team),
    ("channels", Channel),
    ("products", Product),
    ("variants", Variant),
    ("customers", Customer),
    ("identities", CustomerIdentity),
    ("orders", Order),
    ("order_lines", OrderLine),
    ("shipments", Shipment),
    ("tracking_events", TrackingEvent),
    ("returns", Return),
    ("refunds", Refund),
    ("conversations", Conversation),
    ("messages", Message),
    ("events", Event),
    ("articles", Article),
    ("macros", Macro),
)


async def demo_counts(session: AsyncSession, shop_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, model in COUNTED:
        stmt = select(func.count()).select_from(model).where(model.shop_id == shop_id)
        counts[name] = int((await session.execute(stmt)).scalar_one())
    return counts


async def delete_demo_shop(session: AsyncSession, shop_id: int) -> None:
    """Remove the demo shop and everything in it (tables without a foreign key to shops first)."""
    await session.execute(delete(Job).where(Job.shop_id == shop_id))
    await session.execute(delete(InboundEvent).where(InboundEvent.shop_id == shop_id))
    await session.execute(delete(Shop).where(Shop.id == shop_id))


# ------------------------------------------------------------------------------------------------ generator


class DemoGenerator:
    """Builds the whole demo shop in memory (no ids), then writes it parents first."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.seed = seed
        self.now = now
        self.clock = Clock(now)
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        for i, market in enumerate(MARKETS):
            fake = Faker(market.locale)
            fake.seed_instance(seed * 100 + i)
            self.fakers[market.locale] = fake
        self.products: list[ProductPlan] = []
        self.variants: list[VariantPlan] = []
        self.customers: list[CustomerPlan] = []
        self.orders: list[OrderPlan] = []
        self.conversations: list[ConversationPlan] = []

    def at(self, ago: float) -> datetime:
        return self.clock.at(ago)

    # ---------------------------------------------------------------- catalogue

    def plan_catalogue(self) -> None:
        rng = self.rng
        combos = [(c, t) for t in PRODUCT_TYPES for c in COLLECTIONS]
        chosen = sorted(rng.sample(range(len(combos)), N_PRODUCTS))
        for p_index, combo_index in enumerate(chosen):
            collection, (category, type_name, base, kind) = combos[combo_index]
            title = f"{collection} {type_name}"
            product = ProductPlan(
                handle=_slug(title),
                title=title,
                category=category,
                vendor=rng.choice(VENDORS[category]),
                final_sale=rng.random() < 0.05,
                external_id=str(7200000000000 + p_index * 17),
                weight=min(30.0, rng.paretovariate(1.3)),
            )
            colours = rng.sample(COLOURS[category], k=min(len(COLOURS[category]), self._n_colours(kind)))
            sizes: list[tuple[str | None, float]]
            if kind in SIZES:
                options = SIZES[kind]
                if kind == "apparel":
                    sizes = [(s, f) for s, f in options[(1 if rng.random() < 0.4 else 0) :]]
                else:
                    k = rng.randint(1 if kind == "vase" else 2, len(options))
                    sizes = [(s, f) for s, f in options[:k]]
            else:
                sizes = [(None, 1.0)]
            price_factor = rng.uniform(0.85, 1.2)
            for size, factor in sizes:
                for colour in colours:
                    v_index = len(self.variants)
                    product.variants.append(v_index)
                    self.variants.append(
                        VariantPlan(
                            product=p_index,
                            sku=f"NL-{p_index + 1:04d}-{len(product.variants):02d}",
                            title=" / ".join(x for x in (size, colour) if x),
                            size=size,
                            color=colour,
                            price=_price(base * factor * price_factor),
                            external_id=str(4400000000000 + v_index * 13),
                            **self._stock(),
                        )
                    )
            self.products.append(product)

    def _n_colours(self, kind: str) -> int:
        rng = self.rng
        if kind == "apparel":
            return rng.randint(1, 2)
        if kind in ("duvet", "vase"):
            return rng.randint(1, 2)
        if kind == "towel":
            return rng.randint(2, 3)
        return rng.randint(1, 4)

    def _stock(self) -> dict[str, Any]:
        r = self.rng.random()
        if r < 0.06:  # sold out, coming back
            return {"stock": 0, "policy": "deny", "restock_days": self.rng.randint(7, 45)}
        if r < 0.075:  # sold out for good
            return {"stock": 0, "policy": "deny", "restock_days": None}
        if r < 0.115:  # sold out but can be ordered
            return {
                "stock": -self.rng.randint(0, 6),
                "policy": "backorder",
                "restock_days": self.rng.randint(10, 60),
            }
        if r < 0.2:
            return {"stock": self.rng.randint(1, 4), "policy": "deny", "restock_days": None}
        return {"stock": self.rng.randint(5, 150), "policy": "deny", "restock_days": None}

    # ---------------------------------------------------------------- customers

    def plan_customers(self) -> None:
        rng = self.rng
        emails: set[str] = set()
        phones: set[str] = set()
        weights = [m.weight for m in MARKETS]
        for _ in range(N_CUSTOMERS):
            market = rng.choices(MARKETS, weights=weights)[0]
            fake = self.fakers[market.locale]
            first, last = fake.first_name(), fake.last_name()
            local = f"{_ascii(first)}{rng.choice(['.', '', '_'])}{_ascii(last)}"
            email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
            n = 2
            while email in emails:
                email = f"{local}{n}@{email.split('@')[1]}"
                n += 1
            emails.add(email)
            phone = _phone(rng, market, phones) if rng.random() < 0.92 else None
            postcode = fake.postcode().removeprefix("H-")
            address = {
                "name": f"{first} {last}",
                "address1": fake.street_address().strip(),
                "city": fake.city(),
                "zip": postcode,
                "country": market.country,
            }
            channel = _weighted(rng, CHANNEL_WEIGHTS)
            if channel in PHONE_CHANNELS and phone is None:
                channel = "email"
            consents = {
                "email_marketing": rng.random() < 0.45,
                "sms_marketing": phone is not None and rng.random() < 0.15,
                "whatsapp": phone is not None and rng.random() < 0.3,
            }
            note = None
            if rng.random() < 0.03:
                note = rng.choice(
                    [
                        "Prefers to be contacted by WhatsApp.",
                        "Interior designer – orders for clients, often several of the same item.",
                        "Had a lost parcel before; double-check tracking on new orders.",
                        "Asked for invoices with company VAT ID.",
                    ]
                )
            customer = CustomerPlan(market, first, last, email, phone, address, channel, consents, note)
            customer.identities["email"] = email
            if phone:
                customer.identities["phone"] = phone
                if channel == "whatsapp" or rng.random() < 0.2:
                    customer.identities["whatsapp"] = phone
            if channel == "chat" or rng.random() < 0.15:
                customer.identities["chat_visitor"] = f"v_{rng.getrandbits(64):016x}"
            if channel == "messenger":
                customer.identities["messenger"] = _digits(rng, 16)
            if channel == "instagram":
                customer.identities["instagram"] = "17" + _digits(rng, 15)
            self.customers.append(customer)

    # ---------------------------------------------------------------- orders

    def plan_orders(self) -> None:
        rng = self.rng
        ages = sorted(
            (
                rng.uniform(0.02, 365.0) if rng.random() < 0.45 else rng.triangular(0.02, 365.0, 0.02)
                for _ in range(N_ORDERS)
            ),
            reverse=True,
        )
        weights = [0.0 if rng.random() < 0.12 else rng.paretovariate(1.6) for _ in self.customers]
        buyers = rng.choices(range(len(self.customers)), weights=weights, k=N_ORDERS)
        v_weights = [self.products[v.product].weight for v in self.variants]
        v_cum: list[float] = []
        acc = 0.0
        for w in v_weights:
            acc += w
            v_cum.append(acc)
        backorder = [i for i, v in enumerate(self.variants) if v.policy == "backorder"]
        for i, age_days in enumerate(ages):
            state = self._state_for(age_days)
            order = OrderPlan(
                number=str(FIRST_ORDER_NUMBER + i), customer=buyers[i], placed=age_days * DAY, state=state
            )
            self.orders.append(order)
        self._guarantee_states()
        for index, order in enumerate(self.orders):
            customer = self.customers[order.customer]
            customer.orders.append(index)
            n_lines = rng.choices([1, 2, 3, 4], weights=[50, 30, 14, 6])[0]
            picked: list[int] = []
            while len(picked) < n_lines:
                v = rng.choices(range(len(self.variants)), cum_weights=v_cum)[0]
                if v not in picked:
                    picked.append(v)
            if order.state == "partial":
                extra = rng.choice(backorder)
                if extra not in picked:
                    picked.append(extra)
                if len(picked) == 1:
                    other = rng.choices(range(len(self.variants)), cum_weights=v_cum)[0]
                    if other != extra:
                        picked.insert(0, other)
                order.tags.append("backorder")
            for v in picked:
                qty = rng.choices([1, 2, 3], weights=[82, 14, 4])[0]
                order.lines.append(LinePlan(variant=v, quantity=qty, unit=self.variants[v].price))
            self._price_order(order, customer.market)
            self._fulfil(order, customer)

    def _state_for(self, age_days: float) -> str:
        r = self.rng
        for max_age, options in STATE_BY_AGE:
            if age_days < max_age:
                return _weighted(r, options)
        raise AssertionError("unreachable")

    def _guarantee_states(self) -> None:
        """Every order state occurs at least three times whatever the seed (ages permitting)."""
        counts = {s: 0 for s in ORDER_STATES}
        for order in self.orders:
            counts[order.state] += 1
        for state in ORDER_STATES:
            if counts[state] >= 3:
                continue
            allowed_ages = [
                (0.0 if i == 0 else STATE_BY_AGE[i - 1][0], max_age)
                for i, (max_age, options) in enumerate(STATE_BY_AGE)
                if any(s == state for s, _ in options)
            ]
            for order in self.orders:
                if counts[state] >= 3:
                    break
                age = order.placed / DAY
                if counts[order.state] > 10 and any(lo <= age < hi for lo, hi in allowed_ages):
                    if state == "delayed" and age < 12:
                        continue
                    counts[order.state] -= 1
                    order.state = state
                    counts[state] += 1

    def _price_order(self, order: OrderPlan, market: Market) -> None:
        rng = self.rng
        order.subtotal = sum(line.total for line in order.lines)
        rate, free_from, _ = SHIPPING[market.zone]
        express = market.country in ("DE", "AT") and rng.random() < 0.12
        order.shipping = 0 if free_from is not None and order.subtotal >= free_from else rate
        if express:
            order.shipping += EXPRESS_MINOR
        order.shipping_method = "Express" if express else "Standard"
        order.tax = round((order.subtotal + order.shipping) * market.vat)
        order.total = order.subtotal + order.shipping + order.tax
        if order.state == "pending":
            order.payment_method = "bank_transfer"
        else:
            order.payment_method = _weighted(rng, PAYMENT_METHODS[market.country])

    def _fulfil(self, order: OrderPlan, customer: CustomerPlan) -> None:
        """Shipment, tracking, cancellation, return and refunds for the order's state, in relative time."""
        rng = self.rng
        market = customer.market
        state = order.state
        placed = order.placed
        order.updated = placed
        if customer.market.country == "PL" and rng.random() < 0.5:
            order.shipping_method = "Parcel locker"
        if state == "pending":
            order.financial = "pending"
            return
        if state == "unfulfilled":
            return
        if state == "cancelled":
            reason = _weighted(
                rng, [("customer", 60), ("payment not received", 25), ("inventory", 10), ("fraud", 5)]
            )
            cancelled = placed - rng.uniform(0.3, 20.0) * HOUR
            if reason == "payment not received":
                cancelled = placed - 7 * DAY if placed > 7.2 * DAY else placed * 0.5
                order.payment_method = "bank_transfer"
            if cancelled < 300:
                cancelled = placed * 0.5
            order.cancelled, order.cancel_reason, order.updated = cancelled, reason, cancelled
            if reason in ("payment not received", "fraud"):
                order.financial = "voided"
            else:
                processed = max(60.0, cancelled - rng.uniform(0.5, 30.0) * HOUR)
                order.refunds.append(
                    RefundPlan(
                        order.total,
                        "order cancelled",
                        "succeeded",
                        cancelled,
                        processed,
                        False,
                        [(i, line.quantity) for i, line in enumerate(order.lines)],
                        order.shipping,
                    )
                )
                for line in order.lines:
                    line.refunded_quantity = line.quantity
                order.financial = "refunded"
                order.updated = processed
            return
        order.fulfillment = "partial" if state == "partial" else "fulfilled"
        order.shipment = self._shipment(order, customer, market)
        order.updated = order.shipment.last_event
        if state in ("returned",):
            self._return(order)
        elif state == "refunded":
            ship = order.shipment
            processed = max(60.0, ship.last_event - rng.uniform(1.0, 5.0) * DAY)
            order.refunds.append(
                RefundPlan(
                    order.total,
                    "returned to sender" if ship.status == "returned_to_sender" else "lost in transit",
                    "succeeded",
                    processed,
                    processed,
                    False,
                    [(i, line.quantity) for i, line in enumerate(order.lines)],
                    order.shipping,
                )
            )
            for line in order.lines:
                line.refunded_quantity = line.quantity
        elif state == "partially_refunded":
            ship = order.shipment
            line = max(order.lines, key=lambda item: item.unit)
            amount = round(line.unit * rng.choice([0.2, 0.3, 0.5]) * (1 + market.vat))
            processed = max(60.0, (ship.delivered or ship.last_event) - rng.uniform(1.0, 3.0) * DAY)
            order.refunds.append(
                RefundPlan(amount, "damaged item – goodwill", "succeeded", processed, processed, False)
            )
            order.tags.append("goodwill")
        if order.refunds:
            refunded = order.refunded
            order.financial = "refunded" if refunded >= order.total else "partially_refunded"
            order.updated = min(order.updated, *(r.created for r in order.refunds))

    def _shipment(self, order: OrderPlan, customer: CustomerPlan, market: Market) -> ShipmentPlan:
        rng = self.rng
        state = order.state
        placed = order.placed
        carrier = _weighted(rng, CARRIERS[market.country])
        tracking, url = _tracking(rng, carrier)
        lo, hi = SHIPPING[market.zone][2]
        transit = rng.uniform(lo, hi) * HOUR
        if order.shipping_method == "Express":
            transit *= 0.6
        shipped = placed - rng.uniform(3.0, 30.0) * HOUR
        if shipped < 1800:
            shipped = placed * 0.5
        city = customer.address["city"]
        country = market.country
        origin = "Hamburg, DE"
        pick = rng.uniform(3.0, 9.0) * HOUR
        depart = pick + rng.uniform(3.0, 8.0) * HOUR
        transit = max(transit, depart + 12 * HOUR)
        rest = transit - depart  # the steps after leaving Hamburg, in order
        depot = depart + rest * rng.uniform(0.7, 0.8)
        ofd = depart + rest * rng.uniform(0.85, 0.95)
        plan: list[tuple[float, str, str, str]] = [
            (0.0, "label_created", "Shipment information received", origin),
            (pick, "picked_up", f"Parcel picked up by {carrier}", origin),
            (depart, "in_transit", "Departed sorting centre", origin),
        ]
        if country != "DE":
            plan.append(
                (
                    depart + rest * 0.45,
                    "in_transit",
                    "Arrived in destination country",
                    f"{IMPORT_HUBS[country]}, {country}",
                )
            )
        plan.append((depot, "in_transit", "Arrived at delivery depot", f"{city}, {country}"))
        plan.append((ofd, "out_for_delivery", "Out for delivery", f"{city}, {country}"))
        where = (
            "Delivered to parcel locker"
            if carrier == "InPost"
            else rng.choice(["Delivered", "Delivered", "Delivered to neighbour", "Delivered to pickup point"])
        )
        plan.append((transit, "delivered", where, f"{city}, {country}"))
        eta_offset = transit + 24 * HOUR
        extra_eta = rng.uniform(6.0, 40.0) * HOUR
        status = "delivered"
        if state == "label_created":
            keep, status = 1, "label_created"
        elif state == "in_transit" or (state == "partial" and placed < 4 * DAY):
            keep, status = (4 if country != "DE" else 3), "in_transit"
        elif state == "out_for_delivery":
            keep, status = len(plan) - 1, "out_for_delivery"
        elif state == "delayed":
            keep, status = (4 if country != "DE" else 3), "in_transit"
        elif state == "exception":
            keep, status = len(plan) - 1, "exception"
        elif state == "refunded":
            keep = len(plan) - 1 if rng.random() < 0.5 else (4 if country != "DE" else 3)
            status = "returned_to_sender" if keep == len(plan) - 1 else "exception"
        else:
            keep = len(plan)
        events = plan[:keep]
        if status == "exception" and state == "exception":
            events.append(
                (
                    ofd + 3 * HOUR,
                    "exception",
                    rng.choice(
                        [
                            "Delivery attempt failed – recipient not available",
                            "Address incomplete – parcel held at depot",
                        ]
                    ),
                    f"{city}, {country}",
                )
            )
        elif status == "exception":
            events.append(
                (
                    events[-1][0] + 6 * DAY,
                    "exception",
                    "Parcel could not be located – investigation opened",
                    origin,
                )
            )
        elif status == "returned_to_sender":
            events.append(
                (
                    ofd + 3 * HOUR,
                    "exception",
                    "Delivery attempt failed – recipient not available",
                    f"{city}, {country}",
                )
            )
            events.append((ofd + 8 * DAY, "returned_to_sender", "Returned to sender", origin))
        # squeeze the planned events into the time that has passed since shipping (recent orders)
        last = events[-1][0]
        if shipped - last < 600:
            factor = (shipped - 600) / last if last > 0 else 0.0
            events = [(off * factor, s, d, loc) for off, s, d, loc in events]
        ago_events = [(shipped - off, s, d, loc) for off, s, d, loc in events]
        eta = shipped - eta_offset
        if (
            status in ("label_created", "in_transit", "out_for_delivery")
            and state != "delayed"
            and eta > -HOUR
        ):
            eta = -extra_eta
        delivered = ago_events[-1][0] if status == "delivered" else None
        return ShipmentPlan(carrier, tracking, url, status, shipped, eta, delivered, ago_events)

    def _return(self, order: OrderPlan) -> None:
        rng = self.rng
        ship = order.shipment
        assert ship is not None and ship.delivered is not None
        market = self.customers[order.customer].market
        delivered = ship.delivered
        requested = delivered - rng.uniform(1.0, 25.0) * DAY
        if requested < HOUR:
            requested = delivered * 0.5
        final = _weighted(rng, [("refunded", 68), ("exchanged", 12), ("store_credit", 10), ("rejected", 10)])
        n = rng.randint(1, min(2, len(order.lines)))
        line_idx = sorted(rng.sample(range(len(order.lines)), n))
        lines = [(i, rng.randint(1, order.lines[i].quantity), rng.choice(RETURN_REASONS)) for i in line_idx]
        self._set_return(
            order,
            ReturnPlan(
                number=f"R{order.number}",
                status="requested",
                resolution="refund",
                reason=lines[0][2],
                rejection=None,
                requested=requested,
                updated=requested,
                lines=lines,
            ),
            final,
            market,
        )

    def _set_return(self, order: OrderPlan, ret: ReturnPlan, final: str, market: Market) -> None:
        """Put the return at the lifecycle step its age implies, with the refund it has produced."""
        order.ret = ret
        order.refunds = [r for r in order.refunds if not r.for_return]
        for line in order.lines:
            line.refunded_quantity = 0
        days = ret.requested / DAY
        steps = (
            (1, "requested"),
            (2, "approved"),
            (4, "label_issued"),
            (8, "in_transit"),
            (10, "received"),
            (12, "inspected"),
        )
        ret.status = final
        for limit, status in steps:
            if days < limit:
                ret.status = status
                break
        ret.updated = max(60.0, ret.requested - min(days, 12.0) * DAY * 0.9)
        has_final_sale = any(
            self.products[self.variants[order.lines[i].variant].product].final_sale for i, _, _ in ret.lines
        )
        if ret.status == "rejected":
            ret.rejection = (
                "Final sale items cannot be returned." if has_final_sale else "The item shows signs of use."
            )
        ret.resolution = {"exchanged": "exchange", "store_credit": "store_credit"}.get(ret.status, "refund")
        if ret.status == "refunded":
            gross = sum(order.lines[i].unit * q for i, q, _ in ret.lines)
            amount = min(order.total - order.refunded, gross + round(gross * market.vat))
            order.refunds.append(
                RefundPlan(
                    amount,
                    "return",
                    "succeeded",
                    ret.updated,
                    ret.updated,
                    True,
                    [(i, q) for i, q, _ in ret.lines],
                )
            )
            for i, q, _ in ret.lines:
                order.lines[i].refunded_quantity = q
        elif ret.status == "inspected":
            gross = sum(order.lines[i].unit * q for i, q, _ in ret.lines)
            order.refunds.append(
                RefundPlan(
                    gross + round(gross * market.vat),
                    "return",
                    "pending",
                    ret.updated,
                    None,
                    True,
                    [(i, q) for i, q, _ in ret.lines],
                )
            )
        refunded = order.refunded
        order.financial = (
            "paid" if refunded == 0 else "refunded" if refunded >= order.total else "partially_refunded"
        )
        order.updated = min(order.shipment.last_event if order.shipment else order.placed, ret.updated)

    def guarantee_return_statuses(self) -> None:
        """Every RMA step is present: move the newest returns to a missing step (times follow the step)."""
        present = {o.ret.status for o in self.orders if o.ret is not None}
        required = (
            ("requested", 0.5),
            ("approved", 1.5),
            ("label_issued", 3.0),
            ("in_transit", 6.0),
            ("received", 9.0),
            ("inspected", 11.0),
            ("refunded", 20.0),
            ("exchanged", 20.0),
            ("store_credit", 20.0),
            ("rejected", 20.0),
        )
        with_returns = sorted((o for o in self.orders if o.ret is not None), key=lambda o: o.placed)
        used: set[str] = set()
        for status, days in required:
            if status in present:
                continue
            for order in with_returns:
                ship = order.shipment
                assert order.ret is not None and ship is not None and ship.delivered is not None
                if order.number in used or ship.delivered < (days + 1) * DAY:
                    continue
                order.ret.requested = days * DAY
                final = status if days >= 12 else "refunded"
                self._set_return(order, order.ret, final, self.customers[order.customer].market)
                used.add(order.number)
                break

    def plan_segments(self) -> None:
        for index, customer in enumerate(self.customers):
            orders = [self.orders[i] for i in customer.orders]
            if orders:
                first = max(o.placed for o in orders)
                customer.ago = first + self.rng.uniform(0.02, 40.0) * DAY
                customer.identities["store_customer"] = str(6100000000000 + index * 7)
            else:
                customer.ago = self.rng.uniform(1.0, 400.0) * DAY
            spent = sum(o.total - o.refunded for o in orders if o.state != "cancelled")
            if spent >= 60000 or len(orders) >= 6:
                customer.segments.append("vip")
            if len(orders) >= 2:
                customer.segments.append("repeat")
            if orders and customer.ago < 30 * DAY:
                customer.segments.append("new")
            if customer.consents["email_marketing"]:
                customer.segments.append("newsletter")
            if "vip" in customer.segments:
                for o in orders:
                    if "vip" not in o.tags:
                        o.tags.append("vip")

    # ---------------------------------------------------------------- conversations

    def plan_conversations(self) -> None:
        rng = self.rng
        used: set[int] = set()
        plans: list[ConversationPlan] = []

        def recency(i: int) -> float:
            return 1.0 + 12.0 * math.exp(-self.orders[i].placed / DAY / 10.0)

        for intent, count in INTENT_COUNTS:
            candidates = [i for i, o in enumerate(self.orders) if i not in used and self._fits(intent, o)]
            chosen = _weighted_sample(rng, candidates, [recency(i) for i in candidates], count)
            for i in sorted(chosen):
                used.add(i)
                plans.append(self._conversation_for_order(intent, i))
        out_of_stock = [v.product for v in self.variants if v.stock <= 0 and v.restock_days is not None]
        while len(plans) < N_CONVERSATIONS:
            customer = rng.randrange(len(self.customers))
            product = rng.choice(out_of_stock) if rng.random() < 0.5 else rng.randrange(len(self.products))
            age = (rng.uniform(0.01, 3.0) if rng.random() < 0.12 else rng.uniform(0.5, 360.0)) * DAY
            plans.append(ConversationPlan("product_question", customer, None, product, age))
        for plan in plans:
            plan.t0 = max(plan.t0, 900.0)
            if plan.anchor is not None and plan.anchor >= plan.t0:
                plan.anchor = plan.t0 - 300.0
        order = sorted(range(len(plans)), key=lambda i: (-plans[i].t0, i))
        self.conversations = [plans[i] for i in order]

    def _fits(self, intent: str, order: OrderPlan) -> bool:
        s = order.state
        ship = order.shipment
        if intent == "track_order":
            return ship is not None and s in (
                "in_transit",
                "out_for_delivery",
                "delivered",
                "partial",
                "returned",
            )
        if intent == "delivery_problem":
            return s in ("delayed", "exception", "refunded")
        if intent == "cancel_order":
            return (s == "cancelled" and order.cancel_reason == "customer") or s in ("unfulfilled", "pending")
        if intent == "change_shipping_address":
            return s in ("unfulfilled", "label_created", "in_transit", "delivered")
        if intent == "return_request":
            return order.ret is not None
        if intent == "refund_status":
            return order.ret is not None and order.ret.status in ("refunded", "received", "inspected")
        if intent == "damaged_or_wrong_item":
            return s == "partially_refunded" or (
                s == "delivered" and any(self._fragile(line.variant) for line in order.lines)
            )
        if intent == "payment_problem":
            return s == "pending" or (s == "cancelled" and order.cancel_reason == "payment not received")
        if intent == "feedback_praise":
            return s == "delivered"
        return False

    def _fragile(self, variant: int) -> bool:
        return self.products[self.variants[variant].product].category in FRAGILE

    def _conversation_for_order(self, intent: str, index: int) -> ConversationPlan:
        rng = self.rng
        order = self.orders[index]
        ship = order.shipment
        plan = ConversationPlan(intent, order.customer, index, None, order.placed * 0.5)
        f = rng.uniform(0.2, 0.8)
        if intent == "track_order":
            assert ship is not None
            end = ship.delivered if ship.delivered is not None else 600.0
            plan.t0 = ship.shipped - f * (ship.shipped - end)
        elif intent == "delivery_problem":
            assert ship is not None
            plan.t0 = ship.last_event * (1 - f)
        elif intent == "cancel_order":
            if order.cancelled is not None:
                plan.anchor = order.cancelled
                plan.t0 = order.cancelled + f * (order.placed - order.cancelled)
            else:
                plan.t0 = order.placed * (1 - f)
                plan.open_only = True
        elif intent == "change_shipping_address":
            end = ship.shipped if ship is not None else 600.0
            plan.t0 = order.placed - f * (order.placed - end)
        elif intent == "return_request":
            assert order.ret is not None
            plan.anchor = order.ret.requested
            plan.t0 = order.ret.requested + rng.uniform(1.0, 30.0) * HOUR
        elif intent == "refund_status":
            ret = order.ret
            assert ret is not None
            refund = next((r for r in order.refunds if r.for_return and r.processed is not None), None)
            if refund is not None and refund.processed is not None:
                plan.anchor = refund.processed
                plan.t0 = refund.processed + rng.uniform(2.0, 48.0) * HOUR
            else:
                plan.t0 = ret.requested * (1 - f)
                plan.open_only = True
        elif intent == "damaged_or_wrong_item":
            assert ship is not None
            delivered = ship.delivered if ship.delivered is not None else ship.last_event
            plan.t0 = delivered - rng.uniform(2.0, 30.0) * HOUR
            if plan.t0 < 900:
                plan.t0 = delivered * 0.5
        elif intent == "payment_problem":
            if order.cancelled is not None:
                plan.t0 = order.cancelled + f * (order.placed - order.cancelled)
            else:
                plan.t0 = order.placed * (1 - f)
        elif intent == "feedback_praise":
            assert ship is not None and ship.delivered is not None
            plan.t0 = ship.delivered - rng.uniform(3.0, 72.0) * HOUR
            if plan.t0 < 900:
                plan.t0 = ship.delivered * 0.5
        lines = order.lines
        if intent == "damaged_or_wrong_item":
            fragile = [line for line in lines if self._fragile(line.variant)]
            lines = fragile or lines
        plan.product = self.variants[rng.choice(lines).variant].product
        return plan


# ------------------------------------------------------------------------------------------------ conversations


@dataclass
class _AgentRef:
    id: int
    first: str
    languages: list[str]
    teams: list[str]


class ConversationBuilder:
    """Turns a conversation plan into rows: the conversation, its messages, events and tags.

    Structure (which messages, statuses, who) is decided from the seeded generator and relative ages only;
    the wall-clock business-hours alignment comes afterwards and only moves timestamps.
    """

    def __init__(
        self,
        gen: DemoGenerator,
        *,
        shop_id: int,
        channel_ids: dict[str, int],
        agents: list[_AgentRef],
        team_ids: dict[str, int],
        customer_ids: list[int],
        order_ids: list[int],
    ) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.now = gen.now
        self.shop_id = shop_id
        self.channel_ids = channel_ids
        self.agents = agents
        self.team_ids = team_ids
        self.customer_ids = customer_ids
        self.order_ids = order_ids
        self.seq = 0
        self.conversations: list[dict[str, Any]] = []
        self.messages: list[tuple[int, int, dict[str, Any]]] = []  # (conversation, seq, row)
        self.events: list[
            tuple[int, int, dict[str, Any], int | None]
        ] = []  # (conversation, seq, row, message)
        self.tags: list[tuple[int, str]] = []
        self.wakes: list[tuple[int, datetime]] = []
        self.notifications: list[tuple[int, dict[str, Any]]] = []  # (conversation, row)

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def _outcome(self, plan: ConversationPlan, channel: str) -> str:
        age_days = plan.t0 / DAY
        options: tuple[tuple[str, int], ...]
        if age_days < 0.25:
            options = (("unanswered", 50), ("pending", 20), ("resolved_assistant", 15), ("resolved", 15))
        elif age_days < 3:
            options = (
                ("unanswered", 22),
                ("replied_back", 15),
                ("pending", 22),
                ("snoozed", 12),
                ("resolved", 22),
                ("resolved_assistant", 7),
            )
        elif age_days < 10:
            options = (
                ("unanswered", 4),
                ("replied_back", 6),
                ("pending", 10),
                ("snoozed", 6),
                ("resolved", 56),
                ("reopened", 8),
                ("resolved_assistant", 10),
            )
        else:
            options = (("resolved", 55), ("closed", 27), ("reopened", 8), ("resolved_assistant", 10))
        outcome = _weighted(self.rng, options)
        if outcome == "resolved_assistant" and (plan.intent not in ASSISTANT_INTENTS or channel == "voice"):
            outcome = "resolved"
        if plan.open_only:
            outcome = "unanswered" if outcome in ("unanswered", "resolved_assistant") else "pending"
        elif plan.anchor is not None and outcome in ("unanswered", "pending", "snoozed", "replied_back"):
            outcome = "resolved"
        if outcome == "closed" and age_days < 6:
            outcome = "resolved"
        return outcome

    def _channel(self, customer: CustomerPlan) -> str:
        rng = self.rng
        channel = customer.preferred_channel if rng.random() < 0.7 else _weighted(rng, CHANNEL_WEIGHTS)
        if channel in PHONE_CHANNELS and customer.phone is None:
            channel = "email"
        return channel

    def build(self, index: int, plan: ConversationPlan) -> None:
        rng = self.rng
        gen = self.gen
        customer = gen.customers[plan.customer]
        lang = customer.market.language
        texts = content.CONVERSATIONS[lang]
        intent_texts = texts["intents"][plan.intent]
        channel = self._channel(customer)
        outcome = self._outcome(plan, channel)
        order = gen.orders[plan.order] if plan.order is not None else None
        ship = order.shipment if order is not None else None
        product = gen.products[plan.product] if plan.product is not None else None
        vip = "vip" in customer.segments

        # who works on it
        team = (
            "Returns"
            if plan.intent in ("return_request", "refund_status", "damaged_or_wrong_item")
            else "Tier 1"
        )
        if vip:
            team = "VIP"
        eligible = [a for a in self.agents if lang in a.languages]
        in_team = [a for a in eligible if team in a.teams] or eligible
        agent = rng.choice(in_team)
        assigned = outcome != "resolved_assistant" and (outcome != "unanswered" or rng.random() < 0.5)
        priority = "normal"
        if vip or (plan.intent in ("delivery_problem", "damaged_or_wrong_item") and rng.random() < 0.4):
            priority = "high"
        if plan.intent == "delivery_problem" and rng.random() < 0.08:
            priority = "urgent"
        if plan.intent in ("product_question", "feedback_praise") and rng.random() < 0.5:
            priority = "low"
        tags: list[str] = []
        if rng.random() < 0.85:
            tags.append(INTENT_TAGS[plan.intent])
            if vip:
                tags.append("vip")
            if plan.intent == "damaged_or_wrong_item" and product is not None and product.category in FRAGILE:
                tags.append("fragile")
            tags.sort()

        # what is said
        fields = {
            "first": customer.first,
            "order": order.number if order is not None else "",
            "carrier": ship.carrier if ship is not None else "",
            "tracking_url": ship.url if ship is not None else "",
            "product": product.title if product is not None else "",
            "address": f"{customer.address['address1']}, {customer.address['zip']} {customer.address['city']}",
            "agent": agent.first,
        }
        opener_templates: list[str] = intent_texts["customer"]
        if plan.intent == "product_question":
            stock_question = product is not None and any(gen.variants[v].stock <= 0 for v in product.variants)
            opener = opener_templates[1 if stock_question else 0]
        else:
            opener = rng.choice(opener_templates)
        opener_text = opener.format(**fields)
        if channel in ("email", "webform") and rng.random() < 0.5:
            opener_text = f"{opener_text}\n\n{customer.first}"
        subject = intent_texts["subject"].format(**fields) if channel in ("email", "webform") else None
        answer = intent_texts["agent"].format(**fields)
        holding = texts["holding"]
        thanks = rng.choice(texts["thanks"])
        closing = rng.choice(texts["closing"])
        nudge = rng.choice(texts["nudge"])
        note_text = rng.choice(content.NOTES[plan.intent]) if rng.random() < 0.25 else None
        with_thanks = rng.random() < 0.45
        with_closing = with_thanks and rng.random() < 0.5
        with_nudge = outcome == "unanswered" and plan.t0 > 8 * HOUR and rng.random() < 0.3

        # relative timing (seconds), all drawn now so the calendar cannot change what is drawn
        live = channel in ("chat", "whatsapp", "messenger", "instagram", "sms", "voice")
        route_after = rng.uniform(30.0, 600.0)
        reply_delay = (30.0 + 1800.0 * rng.random() ** 2) if live else (120.0 + 14400.0 * rng.random() ** 2.5)
        off_hours = rng.random() < 0.1
        assistant_after = rng.uniform(8.0, 45.0)
        thanks_after = rng.uniform(120.0, 4 * HOUR) if live else rng.uniform(600.0, 8 * HOUR)
        closing_after = rng.uniform(60.0, 2 * HOUR)
        resolve_after = rng.uniform(60.0, 1800.0)
        nudge_after = rng.uniform(4 * HOUR, min(30 * HOUR, plan.t0 * 0.8))
        reopen_after = rng.uniform(0.5, 4.0) * DAY
        second_delay = 120.0 + 7200.0 * rng.random() ** 2
        snooze_for = rng.uniform(20.0, 72.0) * HOUR
        read_after = rng.uniform(60.0, 4 * HOUR)
        read = rng.random() < 0.8
        provider_bits = [rng.getrandbits(64) for _ in range(8)]
        # recent stories run in activity time only; older replies wait for the shop's business hours
        recent = plan.t0 < 2 * DAY

        t0 = gen.at(plan.t0)
        sec = timedelta(seconds=1)
        Item = tuple[datetime, str, dict[str, Any]]
        items: list[Item] = [(t0, "in", {"text": opener_text})]
        if assigned:
            items.append((t0 + timedelta(seconds=route_after), "assign", {}))

        def reply_time(after: datetime, delay: float, anchored: float | None = None) -> datetime:
            if anchored is not None:
                return gen.at(anchored) + timedelta(seconds=60)
            wanted = after + timedelta(seconds=delay)
            return wanted if off_hours or recent else _next_business_time(wanted)

        if outcome == "resolved_assistant":
            reply_at = t0 + timedelta(seconds=assistant_after)
            items.append((reply_at, "assistant", {"text": answer}))
            items.append((reply_at + sec, "status", {"to": "resolved", "actor": "assistant"}))
        elif outcome == "unanswered":
            if with_nudge:
                items.append((t0 + timedelta(seconds=nudge_after), "in", {"text": nudge}))
        else:
            reply_at = reply_time(t0, reply_delay, plan.anchor)
            if note_text is not None:
                note_at = reply_at - min(timedelta(seconds=120), (reply_at - t0) / 2)
                items.append((note_at, "note", {"text": note_text}))
            waiting = outcome in ("pending", "snoozed")
            items.append((reply_at, "out", {"text": holding if waiting else answer}))
            if outcome == "pending":
                items.append((reply_at + 30 * sec, "status", {"to": "pending", "actor": "agent"}))
            elif outcome == "snoozed":
                items.append((reply_at + 30 * sec, "status", {"to": "snoozed", "actor": "agent"}))
            elif outcome == "replied_back":
                items.append((reply_at + timedelta(seconds=thanks_after), "in", {"text": thanks}))
            else:
                resolve_at = reply_at + timedelta(seconds=resolve_after)
                if with_thanks:
                    thanks_at = reply_at + timedelta(seconds=thanks_after)
                    items.append((thanks_at, "in", {"text": thanks}))
                    resolve_at = thanks_at + timedelta(seconds=resolve_after)
                    if with_closing:
                        closing_at = reply_time(thanks_at, closing_after)
                        items.append((closing_at, "out", {"text": closing}))
                        resolve_at = closing_at + 60 * sec
                items.append((resolve_at, "status", {"to": "resolved", "actor": "agent"}))
                if outcome == "reopened":
                    # the classic: a thank-you (or one more question) after the conversation was resolved
                    again_at = resolve_at + timedelta(seconds=reopen_after)
                    items.append((again_at, "in", {"text": texts["followup"] if with_thanks else thanks}))
                    second = reply_time(again_at, second_delay)
                    items.append((second, "out", {"text": texts["confirm"] if with_thanks else closing}))
                    items.append((second + 120 * sec, "status", {"to": "resolved", "actor": "agent"}))
                    resolve_at = second + 120 * sec
                if outcome == "closed":
                    items.append(
                        (resolve_at + timedelta(days=4), "status", {"to": "closed", "actor": "system"})
                    )

        # routing happens before the assignee first acts
        first_act = min((at for at, kind, _ in items if kind in ("out", "note")), default=None)
        if assigned and first_act is not None and items[1][0] >= first_act:
            items[1] = (t0 + (first_act - t0) / 2, "assign", {})
        # the calendar may have pushed replies past now: squeeze the story into the time that has passed
        limit = self.now - timedelta(seconds=60)
        latest = max(at for at, _, _ in items)
        if latest > limit:
            scale = (limit - t0) / (latest - t0)
            items = [(t0 + (at - t0) * scale, kind, data) for at, kind, data in items]
        items.sort(key=lambda item: item[0])

        # rows
        customer_id = self.customer_ids[plan.customer]
        order_id = self.order_ids[plan.order] if plan.order is not None else None
        channel_id = self.channel_ids[channel]
        team_id = self.team_ids[team] if assigned else None
        assignee_id = agent.id if assigned else None
        customer_actor = ("customer", customer_id)
        agent_actor = ("agent", agent.id)
        status = "open"
        message_count = 0
        first_response: datetime | None = None
        waiting_since: datetime | None = None
        last_message: datetime | None = None
        resolved_at: datetime | None = None
        closed_at: datetime | None = None
        snoozed_until: datetime | None = None
        reopened = 0
        by_assistant = False
        bits = iter(provider_bits)

        def event(
            at: datetime,
            type_: str,
            actor: tuple[str, int | None],
            data: dict[str, Any],
            *,
            message: int | None = None,
            customer: bool = True,
            order: int | None = None,
        ) -> None:
            row = {
                "shop_id": self.shop_id,
                "type": type_,
                "occurred_at": at,
                "actor_type": actor[0],
                "actor_id": actor[1],
                "customer_id": customer_id if customer else None,
                "order_id": order,
                "data": data,
            }
            self.events.append((index, self._next(), row, message))

        def message(
            at: datetime, direction: str, author: str, text: str, actor: tuple[str, int | None]
        ) -> None:
            nonlocal message_count, first_response, waiting_since, last_message
            outbound = direction == "outbound"
            in_channel = direction in ("inbound", "outbound")
            provider = self._provider_id(channel, direction, next(bits)) if in_channel else None
            row: dict[str, Any] = {
                "shop_id": self.shop_id,
                "channel_id": channel_id if in_channel else None,
                "direction": direction,
                "author_type": author,
                "author_agent_id": agent.id if author == "agent" else None,
                "text": text,
                "html": _html(text) if channel in ("email", "webform") and in_channel else None,
                "attachments": [],
                "meta": {},
                "provider_message_id": provider,
                "delivery_status": "received",
                "delivery_error": None,
                "created_at": at,
                "sent_at": None,
                "delivered_at": None,
                "read_at": None,
            }
            if author == "assistant":
                row["meta"] = {
                    "assistant": {
                        "intent": plan.intent,
                        "confidence": round(0.86 + 0.1 * ((next(bits) % 1000) / 1000), 3),
                        "facts": ["order.status", "shipment.tracking_url"]
                        if order is not None
                        else ["product.stock"],
                        "decision": "send",
                    }
                }
            if channel == "voice" and direction == "inbound":
                row["meta"] = {"call": {"voicemail": True, "transcribed": True}}
            m_index = len(self.messages)
            self.messages.append((index, self._next(), row))
            if outbound:
                row["sent_at"] = at + 2 * sec
                row["delivery_status"] = "sent"
                if channel in ("whatsapp", "messenger", "instagram", "sms"):
                    row["delivery_status"] = "delivered"
                    row["delivered_at"] = at + 5 * sec
                    if read and channel != "sms":
                        row["delivery_status"] = "read"
                        row["read_at"] = max(at + 5 * sec, min(at + timedelta(seconds=read_after), limit))
            event(
                at,
                "message.received" if direction == "inbound" else "message.created",
                actor,
                {"message_id": None, "direction": direction, "channel_id": row["channel_id"]},
                message=m_index,
            )
            if outbound:
                event(
                    at + 2 * sec,
                    "message.sent",
                    ("system", None),
                    {"message_id": None},
                    message=m_index,
                    customer=False,
                )
                # provider callbacks (apply_delivery_status): sent → delivered → read
                steps = [("sent", "delivered", row["delivered_at"]), ("delivered", "read", row["read_at"])]
                for before, after, when in steps:
                    if when is not None:
                        event(
                            when,
                            "message.delivery_status",
                            ("system", None),
                            {"message_id": None, "from": before, "to": after},
                            message=m_index,
                            customer=False,
                        )
            if in_channel:
                message_count += 1
                last_message = at
            if direction == "inbound" and waiting_since is None:
                waiting_since = at
            if outbound:
                first_response = first_response or at
                waiting_since = None

        def set_status(at: datetime, to: str, actor: tuple[str, int | None]) -> None:
            nonlocal status, resolved_at, closed_at, reopened, by_assistant, snoozed_until
            before = status
            status = to
            until = None
            if to == "snoozed":
                until = self.now + timedelta(seconds=snooze_for)
                snoozed_until = until
            if to == "resolved":
                resolved_at = at
                by_assistant = actor[0] == "assistant"
            if to == "closed":
                closed_at = at
            if before == "resolved" and to == "open":
                reopened += 1
                resolved_at = None
            event(
                at,
                "conversation.status_changed",
                actor,
                {"from": before, "to": to, "snoozed_until": until.isoformat() if until else None},
            )

        event(t0, "conversation.created", customer_actor, {"channel_id": channel_id, "number": None})
        created_event = self.events[-1][2]
        for at, kind, data in items:
            if kind == "in":
                message(at, "inbound", "customer", data["text"], customer_actor)
                if at == t0:
                    triage_before: dict[str, Any] = {"intent": None}
                    triage_after: dict[str, Any] = {"intent": plan.intent}
                    if order_id is not None:
                        triage_before["order_id"], triage_after["order_id"] = None, order_id
                    if priority != "normal":
                        triage_before["priority"], triage_after["priority"] = "normal", priority
                    event(
                        at + 2 * sec,
                        "conversation.updated",
                        ("assistant", None),
                        {"before": triage_before, "after": triage_after},
                    )
                    if tags:
                        event(
                            at + 3 * sec,
                            "conversation.tagged",
                            ("assistant", None),
                            {"added": tags, "removed": []},
                        )
                elif status in ("resolved", "pending", "snoozed"):
                    set_status(at, "open", customer_actor)
            elif kind == "out":
                message(
                    at,
                    "outbound",
                    "agent",
                    self._format(texts, channel, data["text"], fields, "agent"),
                    agent_actor,
                )
            elif kind == "assistant":
                text = self._format(texts, channel, data["text"], fields, "assistant")
                message(at, "outbound", "assistant", text, ("assistant", None))
            elif kind == "note":
                message(at, "note", "agent", data["text"], agent_actor)
            elif kind == "assign":
                event(
                    at,
                    "conversation.assigned",
                    ("system", None),
                    {
                        "before": {"assignee_id": None, "team_id": None},
                        "after": {"assignee_id": assignee_id, "team_id": team_id},
                    },
                )
                # the assignee's bell (conversations.service.assign → notify); read once they act on it
                acted = [t for t, k, _ in items if k in ("out", "note", "status") and t >= at]
                self.notifications.append(
                    (
                        index,
                        {
                            "shop_id": self.shop_id,
                            "agent_id": assignee_id,
                            "kind": "assignment",
                            "text": f"#{index + 1} {subject or ''}".strip(),
                            "created_at": at,
                            "read_at": acted[0] if acted else None,
                            "emailed_at": None,
                        },
                    )
                )
            elif kind == "status":
                actor = {"agent": agent_actor, "assistant": ("assistant", None)}.get(
                    data["actor"], ("system", None)
                )
                set_status(at, data["to"], actor)
        if snoozed_until is not None:
            self.wakes.append((index, snoozed_until))
        for name in tags:
            self.tags.append((index, name))
        last_activity = max(at for at, _, _ in items)
        self.conversations.append(
            {
                "shop_id": self.shop_id,
                "number": index + 1,
                "customer_id": customer_id,
                "channel_id": channel_id,
                "subject": subject,
                "status": status,
                "priority": priority,
                "assignee_id": assignee_id,
                "team_id": team_id,
                "language": lang,
                "intent": plan.intent,
                "order_id": order_id,
                "snoozed_until": snoozed_until,
                "first_response_due_at": None,
                "next_response_due_at": None,
                "resolution_due_at": None,
                "first_response_at": first_response,
                "resolved_at": resolved_at,
                "closed_at": closed_at,
                "waiting_since": waiting_since,
                "last_message_at": last_message,
                "last_activity_at": last_activity,
                "reopened_count": reopened,
                "message_count": message_count,
                "resolved_by_assistant": by_assistant,
                "created_at": t0,
                "updated_at": last_activity,
            }
        )
        created_event["data"]["number"] = index + 1

    @staticmethod
    def _format(texts: dict[str, Any], channel: str, body: str, fields: dict[str, str], author: str) -> str:
        hello = texts["hello"].format(**fields)
        if author == "assistant":
            sign = texts["assistant"]
            if channel == "chat":
                return body
            return (
                f"{hello}\n\n{body}\n\n{sign}"
                if channel in ("email", "webform")
                else f"{hello}\n{body}\n{sign}"
            )
        if channel in ("chat", "api"):
            return body
        if channel in ("email", "webform"):
            return f"{hello}\n\n{body}\n\n{texts['signoff'].format(**fields)}"
        return f"{hello}\n{body}"

    @staticmethod
    def _provider_id(channel: str, direction: str, bits: int) -> str | None:
        h = f"{bits:016x}"
        if channel == "email":
            return f"<sd.{h}@{DEMO_DOMAIN}>" if direction == "outbound" else f"<{h}@mail.example.com>"
        if channel == "whatsapp":
            return f"wamid.HBgN{h.upper()}"
        if channel == "sms":
            return f"SM{h}{h[::-1]}"
        if channel == "voice":
            return f"CA{h}{h[::-1]}"
        if channel == "messenger":
            return f"m_{h}"
        if channel == "instagram":
            return f"aWdfZAG{h}"
        return None


# ------------------------------------------------------------------------------------------------ entry point


async def seed_demo(
    db: Database, *, seed: int, box_secrets: list[str], progress: bool, force: bool
) -> dict[str, Any]:
    """Create the demo shop (see docs/demo.md).

    Returns ``{"status": "created" | "recreated" | "exists", "shop_id": …, **counts}``; an existing demo
    shop is left alone unless ``force``, which deletes and recreates it in the same transaction.
    """
    started = time.perf_counter()
    async with db.transaction() as session:
        existing = await _demo_shop_id(session)
        if existing is not None and not force:
            return {"status": "exists", "shop_id": existing, **await demo_counts(session, existing)}
    with _Phases(progress) as phases:
        # plan in memory first: the write transaction (SQLite's write lock) only writes
        now = utcnow()
        gen = DemoGenerator(seed, now)
        with phases.phase("planning", 6) as advance:
            for step in (
                gen.plan_catalogue,
                gen.plan_customers,
                gen.plan_orders,
                gen.guarantee_return_statuses,
                gen.plan_segments,
                gen.plan_conversations,
            ):
                step()
                advance(1)
        async with db.transaction() as session:
            existing = await _demo_shop_id(session)
            if existing is not None and not force:  # seeded by someone else meanwhile
                return {"status": "exists", "shop_id": existing, **await demo_counts(session, existing)}
            if existing is not None:
                await delete_demo_shop(session, existing)
            shop_id = await _write(session, phases, gen, seed=seed, box=SecretBox(box_secrets))
            counts = await demo_counts(session, shop_id)
    return {
        "status": "recreated" if existing is not None else "created",
        "shop_id": shop_id,
        **counts,
        "seconds": round(time.perf_counter() - started, 2),
    }


async def _demo_shop_id(session: AsyncSession) -> int | None:
    found = (await session.execute(select(Shop.id).where(Shop.slug == DEMO_SLUG))).scalar_one_or_none()
    return int(found) if found is not None else None


async def _write(
    session: AsyncSession, phases: _Phases, gen: DemoGenerator, *, seed: int, box: SecretBox
) -> int:
    today = gen.now.astimezone(SHOP_TZ).date()

    # -- shop, agents, teams, channels: through the services
    with phases.phase("shop & team", len(AGENTS) + len(CHANNELS) + len(TEAMS) + 2) as advance:
        shop = await create_shop(
            session,
            slug=DEMO_SLUG,
            name=content.SHOP_NAME,
            languages=list(content.LANGUAGES),
            default_language="en",
            currency="EUR",
            timezone="Europe/Berlin",
            country="DE",
            support_email=f"support@{DEMO_DOMAIN}",
        )
        await update_shop(session, shop.id, SYSTEM, {"policies": POLICIES, "business_hours": BUSINESS_HOURS})
        advance(2)
        password_hash = hash_password(DEMO_PASSWORD)
        agents: list[_AgentRef] = []
        agent_rows: list[tuple[Agent, list[str]]] = []
        for local, name, role, languages, teams in AGENTS:
            email = (
                DEMO_ADMIN_EMAIL
                if local == "admin"
                else DEMO_VIEWER_EMAIL
                if local == "viewer"
                else f"{local}@{DEMO_DOMAIN}"
            )
            agent = await create_agent(
                session,
                shop_id=shop.id,
                email=email,
                name=name,
                role=role,
                password=None,
                languages=languages,
                actor=SYSTEM,
            )
            agent.password_hash = password_hash  # one argon2 hash for every demo login
            agent_rows.append((agent, teams))
            if role != Role.viewer:
                agents.append(_AgentRef(agent.id, name.split()[0], languages, teams))
            advance(1)
        team_ids: dict[str, int] = {}
        for name, description in TEAMS:
            team = Team(shop_id=shop.id, name=name, description=description)
            session.add(team)
            await session.flush()
            team_ids[name] = team.id
            await record(
                session, shop_id=shop.id, type="team.created", actor=SYSTEM, data={"team_id": team.id}
            )
            members = sorted(a.id for a, teams in agent_rows if name in teams)
            for agent_id in members:
                session.add(TeamMember(team_id=team.id, agent_id=agent_id, shop_id=shop.id))
            await record(
                session,
                shop_id=shop.id,
                type="team.members_changed",
                actor=SYSTEM,
                data={"team_id": team.id, "added": members, "removed": []},
            )
            advance(1)
        channel_ids: dict[str, int] = {}
        for kind, name, external_id, credentials, settings in CHANNELS:
            channel = await create_channel(
                session,
                shop_id=shop.id,
                actor=SYSTEM,
                box=box,
                kind=kind,
                name=name,
                external_id=external_id,
                credentials=credentials,
                settings=settings,
            )
            channel_ids[kind.value] = channel.id
            advance(1)
        store = Store(
            shop_id=shop.id,
            platform="demo",
            name="Nordlys web shop",
            base_url="https://nordlys-home.example",
            status="active",
            sync_state={"mode": "demo", "seed": seed},
        )
        session.add(store)
        await session.flush()
        shop_id, store_id = shop.id, store.id

    # -- catalogue
    with phases.phase("catalogue", len(gen.products) + len(gen.variants)) as advance:
        product_rows = [
            {
                "shop_id": shop_id,
                "store_id": store_id,
                "external_id": p.external_id,
                "handle": p.handle,
                "title": p.title,
                "category": p.category,
                "description": DESCRIPTIONS[p.category],
                "vendor": p.vendor,
                "final_sale": p.final_sale,
                "platform_updated_at": gen.at(2 * DAY),
                "created_at": gen.at(400 * DAY),
                "updated_at": gen.at(2 * DAY),
            }
            for p in gen.products
        ]
        product_ids = await _insert(session, Product, product_rows, advance, returning=True)
        variant_rows = [
            {
                "shop_id": shop_id,
                "product_id": product_ids[v.product],
                "store_id": store_id,
                "external_id": v.external_id,
                "sku": v.sku,
                "title": v.title,
                "size": v.size,
                "color": v.color,
                "price_minor": v.price,
                "stock": v.stock,
                "inventory_policy": v.policy,
                "restock_date": today + timedelta(days=v.restock_days)
                if v.restock_days is not None
                else None,
                "created_at": gen.at(400 * DAY),
                "updated_at": gen.at(DAY),
            }
            for v in gen.variants
        ]
        variant_ids = await _insert(session, Variant, variant_rows, advance, returning=True)

    # -- customers (their segments need the orders, which are planned now; orders are written after)
    with phases.phase("customers", 2 * len(gen.customers)) as advance:
        customer_rows = [
            {
                "shop_id": shop_id,
                "name": c.name,
                "email": c.email,
                "phone": c.phone,
                "language": c.market.language,
                "country": c.market.country,
                "preferred_channel": c.preferred_channel,
                "consents": c.consents,
                "segments": c.segments,
                "address": c.address,
                "note": c.note,
                "merged_into_id": None,
                "merged_at": None,
                "created_at": gen.at(c.ago),
                "updated_at": gen.at(
                    min(c.ago, min((gen.orders[o].updated for o in c.orders), default=c.ago))
                ),
            }
            for c in gen.customers
        ]
        customer_ids = await _insert(session, Customer, customer_rows, advance, returning=True)
        await _insert(
            session,
            Event,
            [
                {
                    "shop_id": shop_id,
                    "type": "customer.created",
                    "occurred_at": gen.at(c.ago),
                    "actor_type": "system",
                    "actor_id": None,
                    "conversation_id": None,
                    "customer_id": customer_ids[i],
                    "order_id": None,
                    "data": {"name": c.name},
                }
                for i, c in sorted(enumerate(gen.customers), key=lambda x: (-x[1].ago, x[0]))
            ],
            advance,
        )

    # -- orders and everything hanging off them
    n_lines = sum(len(o.lines) for o in gen.orders)
    with phases.phase("orders", len(gen.orders) + n_lines) as advance:
        order_rows: list[dict[str, Any]] = []
        for o in gen.orders:
            c = gen.customers[o.customer]
            order_rows.append(
                {
                    "shop_id": shop_id,
                    "store_id": store_id,
                    "external_id": str(5300000000000 + int(o.number) * 11),
                    "number": o.number,
                    "customer_id": customer_ids[o.customer],
                    "email": c.email,
                    "phone": c.phone,
                    "currency": "EUR",
                    "financial_status": o.financial,
                    "fulfillment_status": o.fulfillment,
                    "cancelled_at": gen.at(o.cancelled) if o.cancelled is not None else None,
                    "cancel_reason": o.cancel_reason,
                    "subtotal_minor": o.subtotal,
                    "shipping_minor": o.shipping,
                    "tax_minor": o.tax,
                    "total_minor": o.total,
                    "refunded_minor": o.refunded,
                    "shipping_method": o.shipping_method,
                    "payment_method": o.payment_method,
                    "shipping_address": c.address,
                    "billing_address": c.address,
                    "note": None,
                    "tags": o.tags,
                    "placed_at": gen.at(o.placed),
                    "platform_updated_at": gen.at(o.updated),
                    "created_at": gen.at(o.placed),
                    "updated_at": gen.at(o.updated),
                }
            )
        order_ids = await _insert(session, Order, order_rows, advance, returning=True)
        line_rows: list[dict[str, Any]] = []
        line_owner: list[tuple[int, int]] = []
        for oi, o in enumerate(gen.orders):
            for li, line in enumerate(o.lines):
                v = gen.variants[line.variant]
                line_rows.append(
                    {
                        "shop_id": shop_id,
                        "order_id": order_ids[oi],
                        "variant_id": variant_ids[line.variant],
                        "external_id": str(1900000000000 + len(line_rows) * 3),
                        "sku": v.sku,
                        "title": gen.products[v.product].title,
                        "variant_title": v.title,
                        "quantity": line.quantity,
                        "unit_price_minor": line.unit,
                        "total_minor": line.total,
                        "refunded_quantity": line.refunded_quantity,
                    }
                )
                line_owner.append((oi, li))
        line_ids = await _insert(session, OrderLine, line_rows, advance, returning=True)
        line_id = {owner: line_ids[i] for i, owner in enumerate(line_owner)}

    shipped = [(i, o) for i, o in enumerate(gen.orders) if o.shipment is not None]
    returns = [(i, o) for i, o in enumerate(gen.orders) if o.ret is not None]
    n_events = sum(len(o.shipment.events) for _, o in shipped if o.shipment is not None)
    with phases.phase("shipments", len(shipped) + n_events + 2 * len(returns)) as advance:
        shipment_rows: list[dict[str, Any]] = []
        for i, o in shipped:
            s = o.shipment
            assert s is not None
            shipment_rows.append(
                {
                    "shop_id": shop_id,
                    "order_id": order_ids[i],
                    "external_id": str(8800000000000 + int(o.number) * 7),
                    "carrier": s.carrier,
                    "tracking_number": s.tracking,
                    "tracking_url": s.url,
                    "status": s.status,
                    "shipped_at": gen.at(s.shipped),
                    "estimated_delivery_at": gen.at(s.eta),
                    "delivered_at": gen.at(s.delivered) if s.delivered is not None else None,
                    "platform_updated_at": gen.at(s.last_event),
                    "created_at": gen.at(s.shipped),
                    "updated_at": gen.at(s.last_event),
                }
            )
        shipment_ids = await _insert(session, Shipment, shipment_rows, advance, returning=True)
        tracking_rows: list[dict[str, Any]] = []
        for (_, o), sid in zip(shipped, shipment_ids, strict=True):
            assert o.shipment is not None
            for ago, status, description, location in o.shipment.events:
                tracking_rows.append(
                    {
                        "shop_id": shop_id,
                        "shipment_id": sid,
                        "occurred_at": gen.at(ago),
                        "status": status,
                        "description": description,
                        "location": location,
                    }
                )
        await _insert(session, TrackingEvent, tracking_rows, advance)
        return_rows: list[dict[str, Any]] = []
        for i, o in returns:
            r = o.ret
            assert r is not None
            return_rows.append(
                {
                    "shop_id": shop_id,
                    "order_id": order_ids[i],
                    "customer_id": customer_ids[o.customer],
                    "number": r.number,
                    "status": r.status,
                    "resolution": r.resolution,
                    "reason": r.reason,
                    "rejection_reason": r.rejection,
                    "external_id": f"rma-{r.number.lower()}",
                    "created_at": gen.at(r.requested),
                    "updated_at": gen.at(r.updated),
                }
            )
        return_ids = await _insert(session, Return, return_rows, advance, returning=True)
        return_id_by_order = {i: rid for (i, _), rid in zip(returns, return_ids, strict=True)}
        return_line_rows = [
            {
                "shop_id": shop_id,
                "return_id": return_id_by_order[i],
                "order_line_id": line_id[(i, li)],
                "quantity": q,
                "reason": reason,
            }
            for i, o in returns
            if o.ret is not None
            for li, q, reason in o.ret.lines
        ]
        await _insert(session, ReturnLine, return_line_rows, advance)
        refund_rows = [
            {
                "shop_id": shop_id,
                "order_id": order_ids[i],
                "return_id": return_id_by_order[i] if r.for_return else None,
                "external_id": f"re_{int(o.number) * 7919:012d}{n}",
                "amount_minor": r.amount,
                "currency": "EUR",
                "reason": r.reason,
                "status": r.status,
                "processed_at": gen.at(r.processed) if r.processed is not None else None,
                "lines": [{"order_line_id": line_id[(i, li)], "quantity": q} for li, q in r.lines],
                "shipping_minor": r.shipping,
                "created_at": gen.at(r.created),
                "updated_at": gen.at(r.processed if r.processed is not None else r.created),
            }
            for i, o in enumerate(gen.orders)
            for n, r in enumerate(o.refunds)
        ]
        await _insert(session, Refund, refund_rows, lambda n: None)

    # -- conversations, messages, events, tags
    builder = ConversationBuilder(
        gen,
        shop_id=shop_id,
        channel_ids=channel_ids,
        agents=agents,
        team_ids=team_ids,
        customer_ids=customer_ids,
        order_ids=order_ids,
    )
    for index, plan in enumerate(gen.conversations):
        builder.build(index, plan)
    # identities the conversations' channels need (a WhatsApp chat needs the customer's WhatsApp id ...)
    needed = {
        "chat": "chat_visitor",
        "whatsapp": "whatsapp",
        "messenger": "messenger",
        "instagram": "instagram",
    }
    channel_kind = {v: k for k, v in channel_ids.items()}
    for row, plan in zip(builder.conversations, gen.conversations, strict=True):
        identity_kind = needed.get(channel_kind[row["channel_id"]])
        customer = gen.customers[plan.customer]
        if identity_kind is not None and identity_kind not in customer.identities:
            bits = int(row["number"]) * 1_000_003 + seed
            customer.identities[identity_kind] = {
                "chat_visitor": f"v_{bits:016x}",
                "whatsapp": customer.phone or "",
                "messenger": f"{(bits * 7) % 10**16:016d}",
                "instagram": f"17{(bits * 11) % 10**15:015d}",
            }[identity_kind]
    identity_rows = [
        {
            "shop_id": shop_id,
            "customer_id": customer_ids[ci],
            "kind": kind,
            "value": value,
            "created_at": gen.at(c.ago),
            "updated_at": gen.at(c.ago),
        }
        for ci, c in enumerate(gen.customers)
        for kind, value in c.identities.items()
        if value
    ]
    total = len(identity_rows) + len(builder.conversations) + len(builder.messages)
    total += len(builder.events) + len(builder.tags) + len(builder.notifications)
    with phases.phase("conversations", total) as advance:
        await _insert(session, CustomerIdentity, identity_rows, advance)
        conversation_ids = await _insert(
            session, Conversation, builder.conversations, advance, returning=True
        )
        message_order = sorted(
            range(len(builder.messages)),
            key=lambda i: (builder.messages[i][2]["created_at"], builder.messages[i][1]),
        )
        message_rows: list[dict[str, Any]] = []
        for i in message_order:
            conv, _, row = builder.messages[i]
            message_rows.append({**row, "conversation_id": conversation_ids[conv]})
        inserted = await _insert(session, Message, message_rows, advance, returning=True)
        message_ids = [0] * len(builder.messages)
        for position, i in enumerate(message_order):
            message_ids[i] = inserted[position]
        event_rows: list[dict[str, Any]] = []
        for conv, _, row, msg in sorted(builder.events, key=lambda e: (e[2]["occurred_at"], e[1])):
            data = dict(row["data"])
            if msg is not None:
                data["message_id"] = message_ids[msg]
            event_rows.append({**row, "data": data, "conversation_id": conversation_ids[conv]})
        await _insert(session, Event, event_rows, advance)
        await _insert(
            session,
            ConversationTag,
            [
                {"conversation_id": conversation_ids[c], "name": name, "shop_id": shop_id}
                for c, name in builder.tags
            ],
            advance,
        )
        await _insert(
            session,
            Notification,
            [{**row, "conversation_id": conversation_ids[c]} for c, row in builder.notifications],
            advance,
        )
        for conv, until in builder.wakes:
            await enqueue(
                session,
                "conversation.wake",
                {"conversation_id": conversation_ids[conv], "snoozed_until": until.isoformat()},
                shop_id=shop_id,
                run_at=until,
            )
        shop.conversation_seq = len(builder.conversations)

    # -- help center and macros
    with phases.phase("knowledge", len(content.ARTICLES) + len(content.MACROS)) as advance:
        article_ids = await _insert(
            session,
            Article,
            [
                {
                    "shop_id": shop_id,
                    "slug": a["slug"],
                    "category": a["category"],
                    "visibility": "public",
                    "created_at": gen.at(300 * DAY),
                    "updated_at": gen.at(20 * DAY),
                }
                for a in content.ARTICLES
            ],
            advance,
            returning=True,
        )
        await _insert(
            session,
            ArticleVersion,
            [
                {
                    "shop_id": shop_id,
                    "article_id": aid,
                    "language": lang,
                    "title": title,
                    "body": body,
                    "status": "published",
                    "created_at": gen.at(300 * DAY),
                    "updated_at": gen.at(20 * DAY),
                }
                for a, aid in zip(content.ARTICLES, article_ids, strict=True)
                for lang, (title, body) in a["versions"].items()
            ],
            lambda n: None,
        )
        await _insert(
            session,
            Macro,
            [
                {
                    "shop_id": shop_id,
                    "name": m["name"],
                    "bodies": content.macro_bodies(m),
                    "intent": m.get("intent"),
                    "actions": m["actions"],
                    "created_at": gen.at(200 * DAY),
                    "updated_at": gen.at(30 * DAY),
                }
                for m in content.MACROS
            ],
            advance,
        )
        # categories, more articles (en/de), related links and the help-center search index
        from storedesk.helpcenter.demo_content import install as install_help_center

        await install_help_center(session, shop_id=shop_id)
    # survey policy, SLA policies and clocks, twelve months of SLA outcomes and survey answers
    from storedesk.demo.feedback import install as install_feedback

    with phases.phase("feedback and SLAs", 1) as advance:
        await install_feedback(session, shop_id=shop_id, seed=seed, now=gen.now)
        advance(1)
    return shop_id
