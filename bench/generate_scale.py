"""Generate one very large shop for the scale benchmarks, straight into an already-migrated database.

    .venv/bin/python bench/generate_scale.py --database-url postgresql://postgres@127.0.0.1:5432/storedesk_scale \\
        --conversations 1000000 --messages 5000000 --customers 200000 --orders 1000000 --shop-slug scale
    .venv/bin/python bench/generate_scale.py --database-url sqlite:////tmp/storedesk-scale.db ...

The shop, its agents, teams and channels go through the services; the volume (customers and identities,
catalogue, orders with lines, shipments, tracking, returns and refunds, conversations, messages, tags,
events) is generated column-wise with numpy and written with PostgreSQL ``COPY`` or SQLite
``executemany``, in ONE transaction: either the whole shop is there or none of its data is. Texts come from
the demo shop's templates in eight languages and carry the conversation's real order number, so search
benchmarks see realistic words.

Ids are reserved up front (``nextval``/``setval`` on PostgreSQL, above ``max(id)`` on SQLite), so run it
while nothing else writes to the database. An existing, complete shop with the same slug is refused; a shop
whose earlier load did not finish (it has no data) is reused. On PostgreSQL the secondary indexes of the
bulk tables are dropped and rebuilt inside the same transaction (``--keep-indexes`` to maintain them row by
row instead); on SQLite the full-text triggers are replaced by one FTS rebuild at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg
from faker import Faker
from numpy.typing import NDArray
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import select

from storedesk.agents.models import Agent, Role, Team, TeamMember
from storedesk.agents.security import hash_password
from storedesk.agents.service import create_agent
from storedesk.channels.models import Channel, ChannelKind
from storedesk.channels.service import create_channel
from storedesk.commerce.models import Store
from storedesk.config import normalise_database_url
from storedesk.db.session import Database
from storedesk.demo import content
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox
from storedesk.shops.models import Shop
from storedesk.shops.service import create_shop

console = Console(stderr=True)
I64 = NDArray[np.int64]
US = 1_000_000  # microseconds per second
DAY_US = 86_400 * US
CHUNK = 100_000
PASSWORD = "scale-password-1"

MARKETS = (  # locale, language, country, weight, mobile prefix (E.164 without the subscriber digits), digits
    ("de_DE", "de", "DE", 30, "+49151", 8),
    ("en_GB", "en", "GB", 10, "+447700", 6),
    ("en_US", "en", "US", 4, "+1212", 7),
    ("hu_HU", "hu", "HU", 9, "+3620", 7),
    ("no_NO", "nb", "NO", 9, "+474", 7),
    ("fr_FR", "fr", "FR", 11, "+336", 8),
    ("sv_SE", "sv", "SE", 9, "+4670", 7),
    ("pl_PL", "pl", "PL", 9, "+4851", 7),
    ("es_ES", "es", "ES", 9, "+346", 8),
)
CHANNEL_KINDS = ("email", "chat", "whatsapp", "webform", "messenger", "instagram", "sms", "voice", "api")
CHANNEL_WEIGHTS = (40, 20, 16, 7, 5, 4, 3, 3, 2)
CARRIERS = (
    ("DHL", "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id="),
    ("DPD", "https://tracking.dpd.de/status/en_US/parcel/"),
    ("GLS", "https://gls-group.com/EU/en/parcel-tracking?match="),
    ("UPS", "https://www.ups.com/track?tracknum="),
    ("PostNord", "https://tracking.postnord.com/en/?id="),
    ("Posten", "https://sporing.posten.no/sporing/"),
    ("InPost", "https://inpost.pl/sledzenie-przesylek?number="),
    ("Magyar Posta", "https://posta.hu/nyomkovetes/nyitooldal?searchvalue="),
    ("Colissimo", "https://www.laposte.fr/outils/suivre-vos-envois?code="),
    ("Correos", "https://www.correos.es/es/en/tools/tracker/items/details?tracking-number="),
)
INTENTS = content.INTENTS
TAGS = (
    "wismo",
    "delay",
    "cancellation",
    "address-change",
    "return",
    "refund",
    "damaged",
    "payment",
    "product",
    "praise",
)
CONV_STATUSES = ("open", "pending", "snoozed", "resolved", "closed")


def priority_for(conversation_id: int) -> str:
    """5 % urgent, 10 % high, 15 % low, the rest normal — a fixed function of the id, so that an
    existing database can be brought in line with one UPDATE (see docs/benchmarks-scale-data.md)."""
    bucket = (conversation_id * 2654435761) % 100
    return "urgent" if bucket < 5 else "high" if bucket < 15 else "low" if bucket < 30 else "normal"


BULK_TABLES = (
    "customers",
    "customer_identities",
    "products",
    "variants",
    "orders",
    "order_lines",
    "shipments",
    "tracking_events",
    "returns",
    "return_lines",
    "refunds",
    "conversations",
    "messages",
    "conversation_tags",
    "events",
)


# --------------------------------------------------------------------------------------------- columns


@dataclass
class Col:
    """One column of a chunk: a numpy array or a list, and how to render it."""

    name: str
    values: Any
    kind: str = "int"  # int, str, ts (int64 µs since epoch; ts_null: 0 is NULL), bool, null, json (constant)


def _escape_copy(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _timestamps(us: I64, dialect: str) -> list[str]:
    text = np.datetime_as_string(us.astype("datetime64[us]"), unit="us")
    if dialect == "postgresql":
        return [t + "Z" for t in text.tolist()]
    return [t.replace("T", " ") for t in text.tolist()]


def _nullable_timestamps(us: I64, dialect: str, null: str | None) -> list[str | None]:
    """Timestamps where 0 means NULL."""
    text: list[str | None] = list(_timestamps(us, dialect))
    for i in np.flatnonzero(us == 0).tolist():
        text[i] = null
    return text


class Loader:
    """Writes column chunks: PostgreSQL COPY or SQLite executemany, inside one transaction."""

    dialect = ""

    def reserve(self, table: str, n: int) -> int:
        raise NotImplementedError

    def write(self, table: str, cols: Sequence[Col]) -> None:
        raise NotImplementedError

    def before(self, keep_indexes: bool) -> None:
        raise NotImplementedError

    def after(self) -> None:
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError


class PostgresLoader(Loader):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=False)
        self.conn.execute("SET synchronous_commit = off")
        self.conn.execute("SET maintenance_work_mem = '1GB'")
        self.indexes: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(sql.replace("?", "%s"), params)
        return list(cur.fetchall()) if cur.description else []

    def reserve(self, table: str, n: int) -> int:
        seq = f"pg_get_serial_sequence('{table}', 'id')"
        start = int(self.conn.execute(f"SELECT nextval({seq})").fetchone()[0])  # type: ignore[index]
        self.conn.execute(f"SELECT setval({seq}, %s)", (start + n - 1,))
        return start

    def before(self, keep_indexes: bool) -> None:
        if keep_indexes:
            return
        # plain secondary indexes only (not primary keys or unique constraints): dropped and rebuilt in
        # this transaction, so a failed load rolls back to the original indexes
        rows = self.conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)",
            (list(BULK_TABLES),),
        ).fetchall()
        for name, definition in rows:
            self.indexes.append(definition)
            self.conn.execute(f'DROP INDEX "{name}"')

    def after(self) -> None:
        for definition in self.indexes:
            self.conn.execute(definition)
        self.conn.execute("ANALYZE")

    def write(self, table: str, cols: Sequence[Col]) -> None:
        n = len(cols[0].values)
        rendered: list[list[Any]] = []
        for col in cols:
            if col.kind == "int":
                rendered.append([str(v) for v in np.asarray(col.values).tolist()])
            elif col.kind == "ts":
                rendered.append(_timestamps(np.asarray(col.values), "postgresql"))
            elif col.kind == "ts_null":
                rendered.append(_nullable_timestamps(np.asarray(col.values), "postgresql", "\\N"))
            elif col.kind == "int_null":
                rendered.append(["\\N" if v is None else str(v) for v in col.values])
            elif col.kind == "bool":
                rendered.append(["t" if v else "f" for v in np.asarray(col.values).tolist()])
            elif col.kind == "null":
                rendered.append(["\\N"] * n)
            elif col.kind == "json":
                rendered.append([_escape_copy(col.values)] * n)
            else:  # str, possibly None
                rendered.append(["\\N" if v is None else _escape_copy(v) for v in col.values])
        names = ", ".join(c.name for c in cols)
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            block: list[str] = []
            for row in zip(*rendered, strict=True):
                block.append("\t".join(row))
                if len(block) >= 20_000:
                    copy.write("\n".join(block) + "\n")
                    block.clear()
            if block:
                copy.write("\n".join(block) + "\n")

    def commit(self) -> None:
        self.conn.commit()
        self.conn.close()

    def rollback(self) -> None:
        self.conn.rollback()
        self.conn.close()


class SqliteLoader(Loader):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=60)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=OFF",
            "cache_size=-1048576",
            "temp_store=MEMORY",
            "foreign_keys=OFF",
            "busy_timeout=60000",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("BEGIN IMMEDIATE")
        self.triggers: list[str] = []
        self.fts: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql, params).fetchall())

    def reserve(self, table: str, n: int) -> int:
        return int(self.conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])

    def before(self, keep_indexes: bool) -> None:
        # full-text triggers would index row by row; one FTS rebuild at the end is much faster
        rows = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_fts_a%'"
        ).fetchall()
        for name, sql in rows:
            self.triggers.append(sql)
            self.conn.execute(f'DROP TRIGGER "{name}"')
            fts = name.rsplit("_", 1)[0]
            if fts not in self.fts:
                self.fts.append(fts)

    def after(self) -> None:
        for fts in self.fts:
            self.conn.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        for sql in self.triggers:
            self.conn.execute(sql)
        self.conn.execute("ANALYZE")

    def write(self, table: str, cols: Sequence[Col]) -> None:
        n = len(cols[0].values)
        rendered: list[Any] = []
        for col in cols:
            if col.kind == "int":
                rendered.append(np.asarray(col.values).tolist())
            elif col.kind == "ts":
                rendered.append(_timestamps(np.asarray(col.values), "sqlite"))
            elif col.kind == "ts_null":
                rendered.append(_nullable_timestamps(np.asarray(col.values), "sqlite", None))
            elif col.kind == "int_null":
                rendered.append(col.values)
            elif col.kind == "bool":
                rendered.append([1 if v else 0 for v in np.asarray(col.values).tolist()])
            elif col.kind == "null":
                rendered.append([None] * n)
            elif col.kind == "json":
                rendered.append([col.values] * n)
            else:
                rendered.append(col.values)
        marks = ", ".join("?" for _ in cols)
        names = ", ".join(c.name for c in cols)
        self.conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", zip(*rendered, strict=True))

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.close()

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


# --------------------------------------------------------------------------------------------- plan


@dataclass
class Setup:
    shop_id: int
    store_id: int
    agent_ids: list[int]
    team_ids: list[int]
    channel_ids: dict[str, int]
    resumed: bool


@dataclass
class Sizes:
    customers: int
    orders: int
    conversations: int
    messages: int
    products: int
    events: bool


@dataclass
class Timings:
    phases: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def _ascii(text: str) -> str:
    text = text.replace("ø", "o").replace("æ", "ae").replace("ß", "ss").replace("ł", "l")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalpha()).lower()


def _split(template: str) -> list[str]:
    """A template as parts around ``{order}``, other placeholders filled with plausible values."""
    filled = template.format(
        first="{first}",
        order="{order}",
        carrier="DHL",
        tracking_url="https://www.dhl.com/global-en/home/tracking/tracking-parcel.html",
        product="Fjord Stoneware Vase",
        address="Hauptstraße 12, 20095 Hamburg",
        agent="Jonas",
    )
    return filled.replace("{first}", "").split("{order}")


async def _setup(url: str, slug: str, secret: str, seed: int) -> Setup:
    """Shop, agents, teams, channels and store through the services; refuse an existing complete shop."""
    db = Database(url, pool_size=2)
    try:
        async with db.transaction() as session:
            shop = (await session.execute(select(Shop).where(Shop.slug == slug))).scalar_one_or_none()
            if shop is not None:
                state = dict(shop.policies.get("scale_generator") or {})
                if state.get("complete", True):
                    raise SystemExit(
                        f"error: shop {slug!r} already exists (id {shop.id}) in this database; "
                        "pick another --shop-slug or use a fresh database"
                    )
                agents = await session.execute(
                    select(Agent.id).where(Agent.shop_id == shop.id).order_by(Agent.id)
                )
                teams = await session.execute(
                    select(Team.id).where(Team.shop_id == shop.id).order_by(Team.id)
                )
                channels = await session.execute(
                    select(Channel.kind, Channel.id).where(Channel.shop_id == shop.id)
                )
                stores = await session.execute(select(Store.id).where(Store.shop_id == shop.id))
                return Setup(
                    shop.id,
                    int(stores.scalar_one()),
                    [int(a) for a in agents.scalars()],
                    [int(t) for t in teams.scalars()],
                    {str(k): int(i) for k, i in channels.all()},
                    True,
                )
            shop = await create_shop(
                session,
                slug=slug,
                name=f"Scale shop {slug}",
                languages=list(content.LANGUAGES),
                default_language="en",
                currency="EUR",
                timezone="Europe/Berlin",
                country="DE",
                support_email=f"support@{slug}.scale.test",
            )
            shop.policies = {**shop.policies, "scale_generator": {"complete": False, "seed": seed}}
            password_hash = hash_password(PASSWORD)
            agent_ids: list[int] = []
            languages = [["de", "en"], ["en"], ["hu", "en"], ["nb", "sv", "en"], ["fr", "es"], ["pl", "en"]]
            for i in range(40):
                agent = await create_agent(
                    session,
                    shop_id=shop.id,
                    email=f"admin@{slug}.scale.test" if i == 0 else f"agent{i}@{slug}.scale.test",
                    name="Scale Admin" if i == 0 else f"Agent {i}",
                    role=Role.admin if i == 0 else Role.agent,
                    password=None,
                    languages=languages[i % len(languages)],
                    actor=SYSTEM,
                )
                agent.password_hash = password_hash
                agent_ids.append(agent.id)
            team_ids: list[int] = []
            for t, name in enumerate(("Tier 1", "Returns", "VIP")):
                team = Team(shop_id=shop.id, name=name)
                session.add(team)
                await session.flush()
                team_ids.append(team.id)
                for agent_id in agent_ids[t::3]:
                    session.add(TeamMember(team_id=team.id, agent_id=agent_id, shop_id=shop.id))
            box = SecretBox([secret])
            channel_ids: dict[str, int] = {}
            for kind in CHANNEL_KINDS:
                channel = await create_channel(
                    session,
                    shop_id=shop.id,
                    actor=SYSTEM,
                    box=box,
                    kind=ChannelKind(kind),
                    name=kind.title(),
                    external_id=f"{slug}-{kind}@scale.test" if kind == "email" else f"{slug}-{kind}",
                )
                channel_ids[kind] = channel.id
            store = Store(
                shop_id=shop.id, platform="demo", name=f"{slug} store", status="active", sync_state={}
            )
            session.add(store)
            await session.flush()
            return Setup(shop.id, store.id, agent_ids, team_ids, channel_ids, False)
    finally:
        await db.dispose()


async def _finish(url: str, shop_id: int, conversations: int, seconds: float) -> None:
    db = Database(url, pool_size=2)
    try:
        async with db.transaction() as session:
            shop = (await session.execute(select(Shop).where(Shop.id == shop_id))).scalar_one()
            state = dict(shop.policies.get("scale_generator") or {})
            state.update(complete=True, load_seconds=round(seconds, 1))
            shop.policies = {**shop.policies, "scale_generator": state}
            shop.conversation_seq = conversations
    finally:
        await db.dispose()


class Generator:
    def __init__(self, loader: Loader, setup: Setup, sizes: Sizes, seed: int, progress: Progress) -> None:
        self.loader = loader
        self.setup = setup
        self.sizes = sizes
        self.rng = np.random.default_rng(seed)
        self.progress = progress
        self.timings = Timings()
        self.now_us = int(datetime.now(UTC).timestamp() * US)
        self.shop = setup.shop_id
        self.pools = self._pools(seed)

    # -- helpers

    def _pools(self, seed: int) -> list[dict[str, list[str]]]:
        pools = []
        for i, (locale, *_rest) in enumerate(MARKETS):
            fake = Faker(locale)
            fake.seed_instance(seed + i)
            pools.append(
                {
                    "first": list(dict.fromkeys(fake.first_name() for _ in range(600)))[:300],
                    "last": list(dict.fromkeys(fake.last_name() for _ in range(600)))[:300],
                    "street": [fake.street_address().replace("\n", " ") for _ in range(200)],
                    "city": [fake.city() for _ in range(200)],
                    "zip": [fake.postcode().removeprefix("H-") for _ in range(200)],
                }
            )
        return pools

    def _phase(self, name: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(name, total=total)
        return lambda n: self.progress.advance(task, n)

    def _write(self, table: str, cols: Sequence[Col], advance: Callable[[int], None]) -> None:
        self.loader.write(table, cols)
        n = len(cols[0].values)
        self.timings.rows[table] = self.timings.rows.get(table, 0) + n
        advance(n)

    def _timed(self, name: str, fn: Callable[[], None]) -> None:
        started = time.perf_counter()
        fn()
        self.timings.phases[name] = time.perf_counter() - started

    def _sorted_times(self, n: int, span_days: float, min_age_s: int = 0) -> I64:
        """``n`` ascending times within the last ``span_days``, none younger than ``min_age_s``."""
        offsets = np.sort(self.rng.integers(min_age_s * US, int(span_days * DAY_US), size=n))[::-1]
        return (self.now_us - offsets).astype(np.int64)

    def _chunks(self, n: int) -> Iterator[slice]:
        for start in range(0, n, CHUNK):
            yield slice(start, min(n, start + CHUNK))

    def _const(self, value: Any, n: int) -> NDArray[Any]:
        return np.full(n, value)

    # -- phases

    def run(self) -> Timings:
        self._timed("customers", self.customers)
        self._timed("catalogue", self.catalogue)
        self._timed("orders", self.orders)
        self._timed("conversations", self.conversations)
        return self.timings

    def customers(self) -> None:
        n = self.sizes.customers
        rng = self.rng
        self.cust_created = self._sorted_times(n, 420)
        weights = np.array([m[3] for m in MARKETS], dtype=float)
        self.cust_market = rng.choice(len(MARKETS), size=n, p=weights / weights.sum())
        first_i = rng.integers(0, 300, size=n)
        last_i = rng.integers(0, 300, size=n)
        addr_i = rng.integers(0, 200, size=n)
        names: list[str] = []
        emails: list[str] = []
        phones: list[str] = []
        addresses: list[str] = []
        langs: list[str] = []
        countries: list[str] = []
        per_market = [0] * len(MARKETS)
        for i, (m, f, last, a) in enumerate(
            zip(self.cust_market.tolist(), first_i.tolist(), last_i.tolist(), addr_i.tolist(), strict=True)
        ):
            pool = self.pools[m]
            fp, lp = pool["first"], pool["last"]
            first, family = fp[f % len(fp)], lp[last % len(lp)]
            name = f"{first} {family}"
            _loc, lang, country, _w, prefix, digits = MARKETS[m]
            names.append(name)
            emails.append(f"{_ascii(first)}.{_ascii(family)}.{i}@example.com")
            serial = per_market[m]  # unique within the market's numbering range
            per_market[m] += 1
            phones.append(f"{prefix}{serial % 10**digits:0{digits}d}")
            addresses.append(
                json.dumps(
                    {
                        "name": name,
                        "address1": pool["street"][a],
                        "city": pool["city"][a],
                        "zip": pool["zip"][a],
                        "country": country,
                    },
                    ensure_ascii=False,
                )
            )
            langs.append(lang)
            countries.append(country)
        self.cust_lang = langs
        self.cust_email = emails
        self.cust_phone = phones
        channel_p = np.array(CHANNEL_WEIGHTS, dtype=float)
        preferred = rng.choice(len(CHANNEL_KINDS), size=n, p=channel_p / channel_p.sum())
        start = self.loader.reserve("customers", n)
        self.cust_ids = np.arange(start, start + n, dtype=np.int64)
        advance = self._phase("customers", 3 * n)
        for s in self._chunks(n):
            k = s.stop - s.start
            self._write(
                "customers",
                [
                    Col("id", self.cust_ids[s]),
                    Col("shop_id", self._const(self.shop, k)),
                    Col("name", names[s], "str"),
                    Col("email", emails[s], "str"),
                    Col("phone", phones[s], "str"),
                    Col("language", langs[s], "str"),
                    Col("country", countries[s], "str"),
                    Col("preferred_channel", [CHANNEL_KINDS[c] for c in preferred[s].tolist()], "str"),
                    Col("consents", "{}", "json"),
                    Col("segments", "[]", "json"),
                    Col("address", addresses[s], "str"),
                    Col("created_at", self.cust_created[s], "ts"),
                    Col("updated_at", self.cust_created[s], "ts"),
                ],
                advance,
            )
        # identities: email and phone for everyone
        start = self.loader.reserve("customer_identities", 2 * n)
        for s in self._chunks(n):
            k = s.stop - s.start
            for offset, kind, values in ((0, "email", emails[s]), (n, "phone", phones[s])):
                self._write(
                    "customer_identities",
                    [
                        Col(
                            "id", np.arange(start + offset + s.start, start + offset + s.stop, dtype=np.int64)
                        ),
                        Col("shop_id", self._const(self.shop, k)),
                        Col("customer_id", self.cust_ids[s]),
                        Col("kind", [kind] * k, "str"),
                        Col("value", values, "str"),
                        Col("created_at", self.cust_created[s], "ts"),
                        Col("updated_at", self.cust_created[s], "ts"),
                    ],
                    advance,
                )

    def catalogue(self) -> None:
        rng = self.rng
        p = self.sizes.products
        per = 4
        v = p * per
        start_p = self.loader.reserve("products", p)
        start_v = self.loader.reserve("variants", v)
        self.product_title = [f"{content_collection(i)} {content_type(i)} No. {i + 1}" for i in range(p)]
        self.variant_price = (rng.integers(15, 250, size=v) * 100 - 10).astype(np.int64)
        self.variant_ids = np.arange(start_v, start_v + v, dtype=np.int64)
        self.variant_product = np.repeat(np.arange(p), per)
        created = self._const(self.now_us - 400 * DAY_US, p)
        advance = self._phase("catalogue", p + v)
        self._write(
            "products",
            [
                Col("id", np.arange(start_p, start_p + p, dtype=np.int64)),
                Col("shop_id", self._const(self.shop, p)),
                Col("store_id", self._const(self.setup.store_id, p)),
                Col("external_id", [f"sp{i}" for i in range(p)], "str"),
                Col("handle", [f"scale-product-{i + 1}" for i in range(p)], "str"),
                Col("title", self.product_title, "str"),
                Col("category", [content_category(i) for i in range(p)], "str"),
                Col("final_sale", self._const(False, p), "bool"),
                Col("created_at", created, "ts"),
                Col("updated_at", created, "ts"),
            ],
            advance,
        )
        sizes = ["S", "M", "L", "XL"]
        self._write(
            "variants",
            [
                Col("id", self.variant_ids),
                Col("shop_id", self._const(self.shop, v)),
                Col("product_id", start_p + self.variant_product),
                Col("store_id", self._const(self.setup.store_id, v)),
                Col("external_id", [f"sv{i}" for i in range(v)], "str"),
                Col("sku", [f"SC-{i // per + 1:05d}-{sizes[i % per]}" for i in range(v)], "str"),
                Col("title", [sizes[i % per] for i in range(v)], "str"),
                Col("size", [sizes[i % per] for i in range(v)], "str"),
                Col("price_minor", self.variant_price),
                Col("stock", rng.integers(-3, 200, size=v)),
                Col("inventory_policy", ["deny"] * v, "str"),
                Col("created_at", self._const(self.now_us - 400 * DAY_US, v), "ts"),
                Col("updated_at", self._const(self.now_us - DAY_US, v), "ts"),
            ],
            advance,
        )

    def orders(self) -> None:
        rng = self.rng
        n = self.sizes.orders
        placed = self._sorted_times(n, 365)
        eligible = np.maximum(np.searchsorted(self.cust_created, placed, side="right"), 1)
        cust = (rng.random(n) * eligible).astype(np.int64)
        self.order_placed = placed
        self.order_cust = cust
        n_lines = rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1])
        line_starts = np.concatenate(([0], np.cumsum(n_lines)[:-1]))
        total_lines = int(n_lines.sum())
        line_order = np.repeat(np.arange(n), n_lines)
        line_variant = rng.integers(0, len(self.variant_ids), size=total_lines)
        qty = rng.choice([1, 2], size=total_lines, p=[0.85, 0.15])
        unit = self.variant_price[line_variant]
        line_total = unit * qty
        subtotal = np.add.reduceat(line_total, line_starts)
        shipping = np.where(subtotal >= 5000, 0, 495)
        tax = ((subtotal + shipping) * 19 + 50) // 100
        total = subtotal + shipping + tax
        age = (self.now_us - placed) / DAY_US
        r = rng.random(n)
        # states: 0 pending, 1 unfulfilled, 2 in transit, 3 delivered, 4 cancelled, 5 refunded, 6 partially refunded
        state = np.where(age < 1, np.where(r < 0.15, 0, 1), np.where(age < 4, 2, 3))
        state = np.where((r > 0.96) & (age >= 1), 4, state)
        state = np.where((r > 0.93) & (r <= 0.96) & (age >= 4), 5, state)
        state = np.where((r > 0.90) & (r <= 0.93) & (age >= 4), 6, state)
        financial = np.array(["pending", "paid", "paid", "paid", "voided", "refunded", "partially_refunded"])[
            state
        ]
        fulfillment = np.array(
            ["unfulfilled", "unfulfilled", "fulfilled", "fulfilled", "unfulfilled", "fulfilled", "fulfilled"]
        )[state]
        refunded = np.where(state == 5, total, np.where(state == 6, total // 4, 0))
        start = self.loader.reserve("orders", n)
        self.order_ids = np.arange(start, start + n, dtype=np.int64)
        self.order_numbers = [str(100001 + i) for i in range(n)]
        updated = np.minimum(placed + 3 * DAY_US, self.now_us)
        shipped_mask = np.isin(state, (2, 3, 5, 6))
        n_ship = int(shipped_mask.sum())
        has_return = shipped_mask & (state != 2) & (rng.random(n) < 0.03)
        n_ret = int(has_return.sum())
        n_refund = int(np.isin(state, (5, 6)).sum())
        n_delivered = int(np.isin(state, (3, 5, 6)).sum())
        advance = self._phase("orders", n + total_lines + n_ship * 4 + n_delivered + n_ret * 2 + n_refund)
        cancelled = np.where(state == 4, placed + 3600 * US, 0)
        for s in self._chunks(n):
            k = s.stop - s.start
            idx = cust[s]
            self._write(
                "orders",
                [
                    Col("id", self.order_ids[s]),
                    Col("shop_id", self._const(self.shop, k)),
                    Col("store_id", self._const(self.setup.store_id, k)),
                    Col("external_id", [f"so{i}" for i in range(s.start, s.stop)], "str"),
                    Col("number", self.order_numbers[s], "str"),
                    Col("customer_id", self.cust_ids[idx]),
                    Col("email", [self.cust_email[i] for i in idx.tolist()], "str"),
                    Col("phone", [self.cust_phone[i] for i in idx.tolist()], "str"),
                    Col("currency", ["EUR"] * k, "str"),
                    Col("financial_status", financial[s].tolist(), "str"),
                    Col("fulfillment_status", fulfillment[s].tolist(), "str"),
                    Col("cancelled_at", cancelled[s], "ts_null"),
                    Col("cancel_reason", [("customer" if c else None) for c in cancelled[s].tolist()], "str"),
                    Col("subtotal_minor", subtotal[s]),
                    Col("shipping_minor", shipping[s]),
                    Col("tax_minor", tax[s]),
                    Col("total_minor", total[s]),
                    Col("refunded_minor", refunded[s]),
                    Col("shipping_method", ["Standard"] * k, "str"),
                    Col("payment_method", ["card"] * k, "str"),
                    Col("tags", "[]", "json"),
                    Col("placed_at", placed[s], "ts"),
                    Col("platform_updated_at", updated[s], "ts"),
                    Col("created_at", placed[s], "ts"),
                    Col("updated_at", updated[s], "ts"),
                ],
                advance,
            )
        # lines
        start = self.loader.reserve("order_lines", total_lines)
        line_ids = np.arange(start, start + total_lines, dtype=np.int64)
        sizes = ["S", "M", "L", "XL"]
        for s in self._chunks(total_lines):
            k = s.stop - s.start
            variants = line_variant[s]
            self._write(
                "order_lines",
                [
                    Col("id", line_ids[s]),
                    Col("shop_id", self._const(self.shop, k)),
                    Col("order_id", self.order_ids[line_order[s]]),
                    Col("variant_id", self.variant_ids[variants]),
                    Col("external_id", [f"sl{i}" for i in range(s.start, s.stop)], "str"),
                    Col("sku", [f"SC-{v // 4 + 1:05d}-{sizes[v % 4]}" for v in variants.tolist()], "str"),
                    Col("title", [self.product_title[v // 4] for v in variants.tolist()], "str"),
                    Col("variant_title", [sizes[v % 4] for v in variants.tolist()], "str"),
                    Col("quantity", qty[s]),
                    Col("unit_price_minor", unit[s]),
                    Col("total_minor", line_total[s]),
                    Col("refunded_quantity", self._const(0, k)),
                ],
                advance,
            )
        # shipments and tracking
        ship_orders = np.flatnonzero(shipped_mask)
        delivered = state[ship_orders] != 2
        shipped_at = placed[ship_orders] + (rng.integers(4, 30, size=n_ship) * 3600 * US)
        shipped_at = np.minimum(shipped_at, self.now_us - 3600 * US)
        transit = rng.integers(24, 120, size=n_ship) * 3600 * US
        delivered_at = np.minimum(shipped_at + transit, self.now_us - 600 * US)
        eta = shipped_at + transit + DAY_US
        carrier_i = rng.integers(0, len(CARRIERS), size=n_ship)
        start = self.loader.reserve("shipments", n_ship)
        ship_ids = np.arange(start, start + n_ship, dtype=np.int64)
        for s in self._chunks(n_ship):
            k = s.stop - s.start
            tracking = [f"SC{o:014d}" for o in self.order_ids[ship_orders[s]].tolist()]
            carriers = carrier_i[s].tolist()
            self._write(
                "shipments",
                [
                    Col("id", ship_ids[s]),
                    Col("shop_id", self._const(self.shop, k)),
                    Col("order_id", self.order_ids[ship_orders[s]]),
                    Col("external_id", [f"ss{i}" for i in range(s.start, s.stop)], "str"),
                    Col("carrier", [CARRIERS[c][0] for c in carriers], "str"),
                    Col("tracking_number", tracking, "str"),
                    Col(
                        "tracking_url",
                        [CARRIERS[c][1] + t for c, t in zip(carriers, tracking, strict=True)],
                        "str",
                    ),
                    Col("status", ["delivered" if d else "in_transit" for d in delivered[s].tolist()], "str"),
                    Col("shipped_at", shipped_at[s], "ts"),
                    Col("estimated_delivery_at", eta[s], "ts"),
                    Col("delivered_at", np.where(delivered[s], delivered_at[s], 0), "ts_null"),
                    Col("created_at", shipped_at[s], "ts"),
                    Col("updated_at", np.where(delivered[s], delivered_at[s], shipped_at[s]), "ts"),
                ],
                advance,
            )
        # tracking events: label created, picked up, in transit, delivered (the last only when delivered)
        steps = (
            (0.0, "label_created", "Shipment information received"),
            (0.15, "picked_up", "Parcel picked up"),
            (0.5, "in_transit", "Departed sorting centre"),
            (1.0, "delivered", "Delivered"),
        )
        ev_ship: list[I64] = []
        ev_time: list[I64] = []
        ev_step: list[NDArray[Any]] = []
        for j, (frac, _status, _desc) in enumerate(steps):
            mask = delivered if j == 3 else np.ones(n_ship, dtype=bool)
            at = shipped_at + (transit * frac).astype(np.int64)
            at = np.minimum(at, self.now_us - 300 * US)
            ev_ship.append(ship_ids[mask])
            ev_time.append(at[mask])
            ev_step.append(np.full(int(mask.sum()), j))
        tr_ship = np.concatenate(ev_ship)
        tr_time = np.concatenate(ev_time)
        tr_step = np.concatenate(ev_step)
        order = np.lexsort((tr_step, tr_ship))
        tr_ship, tr_time, tr_step = tr_ship[order], tr_time[order], tr_step[order]
        n_tr = len(tr_ship)
        start = self.loader.reserve("tracking_events", n_tr)
        for s in self._chunks(n_tr):
            k = s.stop - s.start
            st = tr_step[s].tolist()
            self._write(
                "tracking_events",
                [
                    Col("id", np.arange(start + s.start, start + s.stop, dtype=np.int64)),
                    Col("shop_id", self._const(self.shop, k)),
                    Col("shipment_id", tr_ship[s]),
                    Col("occurred_at", tr_time[s], "ts"),
                    Col("status", [steps[j][1] for j in st], "str"),
                    Col("description", [steps[j][2] for j in st], "str"),
                    Col("location", ["Hamburg, DE" if j < 3 else "Destination" for j in st], "str"),
                ],
                advance,
            )
        # returns (3 % of delivered orders) with their first line; refunds for refunded orders
        ret_orders = np.flatnonzero(has_return)
        if n_ret:
            start = self.loader.reserve("returns", n_ret)
            ret_ids = np.arange(start, start + n_ret, dtype=np.int64)
            ret_status = rng.choice(
                ["requested", "approved", "in_transit", "received", "refunded"], size=n_ret
            )
            created = np.minimum(placed[ret_orders] + 8 * DAY_US, self.now_us - 3600 * US)
            self._write(
                "returns",
                [
                    Col("id", ret_ids),
                    Col("shop_id", self._const(self.shop, n_ret)),
                    Col("order_id", self.order_ids[ret_orders]),
                    Col("customer_id", self.cust_ids[cust[ret_orders]]),
                    Col("number", [f"R{self.order_numbers[o]}" for o in ret_orders.tolist()], "str"),
                    Col("status", ret_status.tolist(), "str"),
                    Col("resolution", ["refund"] * n_ret, "str"),
                    Col("reason", ["too small"] * n_ret, "str"),
                    Col("created_at", created, "ts"),
                    Col("updated_at", created, "ts"),
                ],
                advance,
            )
            start = self.loader.reserve("return_lines", n_ret)
            self._write(
                "return_lines",
                [
                    Col("id", np.arange(start, start + n_ret, dtype=np.int64)),
                    Col("shop_id", self._const(self.shop, n_ret)),
                    Col("return_id", ret_ids),
                    Col("order_line_id", line_ids[line_starts[ret_orders]]),
                    Col("quantity", self._const(1, n_ret)),
                    Col("reason", ["too small"] * n_ret, "str"),
                ],
                advance,
            )
        ref_orders = np.flatnonzero(np.isin(state, (5, 6)))
        if n_refund:
            start = self.loader.reserve("refunds", n_refund)
            at = np.minimum(placed[ref_orders] + 10 * DAY_US, self.now_us - 3600 * US)
            self._write(
                "refunds",
                [
                    Col("id", np.arange(start, start + n_refund, dtype=np.int64)),
                    Col("shop_id", self._const(self.shop, n_refund)),
                    Col("order_id", self.order_ids[ref_orders]),
                    Col("external_id", [f"sr{i}" for i in range(n_refund)], "str"),
                    Col("amount_minor", refunded[ref_orders]),
                    Col("currency", ["EUR"] * n_refund, "str"),
                    Col("reason", ["lost in transit"] * n_refund, "str"),
                    Col("status", ["succeeded"] * n_refund, "str"),
                    Col("processed_at", at, "ts"),
                    Col("created_at", at, "ts"),
                    Col("updated_at", at, "ts"),
                ],
                advance,
            )

    def conversations(self) -> None:
        rng = self.rng
        n = self.sizes.conversations
        m = self.sizes.messages
        created = self._sorted_times(n, 365, min_age_s=300)
        # 60 % are about an order the customer had already placed; the rest come from any customer
        with_order = rng.random(n) < 0.6
        eligible_orders = np.maximum(np.searchsorted(self.order_placed, created, side="right"), 1)
        order_idx = (rng.random(n) * eligible_orders).astype(np.int64)
        eligible_cust = np.maximum(np.searchsorted(self.cust_created, created, side="right"), 1)
        cust_idx = np.where(
            with_order, self.order_cust[order_idx], (rng.random(n) * eligible_cust).astype(np.int64)
        )
        # messages per conversation: at least one, m in total
        counts = np.ones(n, dtype=np.int64)
        if m > n:
            counts += rng.multinomial(m - n, np.full(n, 1.0 / n))
        counts[0] += m - int(counts.sum())
        age = (self.now_us - created) / DAY_US
        r = rng.random(n)
        status = np.where(
            age < 3, np.select([r < 0.45, r < 0.7, r < 0.8], [0, 1, 2], 3), np.where(r < 0.8, 3, 4)
        )
        status = np.where((status == 2) & (age > 5), 3, status)
        intent = rng.integers(0, len(INTENTS), size=n)
        channel_p = np.array(CHANNEL_WEIGHTS, dtype=float)
        channel = rng.choice(len(CHANNEL_KINDS), size=n, p=channel_p / channel_p.sum())
        assignee = np.array(self.setup.agent_ids, dtype=np.int64)[
            rng.integers(0, len(self.setup.agent_ids), size=n)
        ]
        assigned = (status != 0) | (r < 0.2)
        team = np.array(self.setup.team_ids, dtype=np.int64)[
            rng.integers(0, len(self.setup.team_ids), size=n)
        ]
        gap = rng.integers(120, 6 * 3600, size=n).astype(np.int64) * US
        # the whole thread fits into the time since it started (recent ones are squeezed, not cut)
        span = np.clip((counts - 1) * gap, 0, (self.now_us - 60 * US - created) * 9 // 10)
        last_at = created + span
        gap = np.where(counts > 1, (last_at - created) // np.maximum(counts - 1, 1), gap)
        first_response = np.where(counts > 1, created + gap, 0)
        # odd counts end with the customer: the conversation waits since that last message
        waiting = np.where(counts % 2 == 1, last_at, 0)
        resolved = np.where(status >= 3, last_at + 600 * US, 0)
        resolved = np.where(resolved > 0, np.minimum(resolved, self.now_us - US), 0)
        channel_ids = np.array([self.setup.channel_ids[k] for k in CHANNEL_KINDS], dtype=np.int64)
        conv_channel = channel_ids[channel]
        conv_lang = [self.cust_lang[c] for c in cust_idx.tolist()]
        numbers = np.arange(1, n + 1, dtype=np.int64)
        start = self.loader.reserve("conversations", n)
        conv_ids = np.arange(start, start + n, dtype=np.int64)
        templates = {
            lang: {
                intent_name: (
                    [_split(t) for t in c["intents"][intent_name]["customer"]],
                    _split(c["intents"][intent_name]["agent"]),
                    _split(c["intents"][intent_name]["subject"]),
                )
                for intent_name in INTENTS
            }
            for lang, c in content.CONVERSATIONS.items()
        }
        order_no = [
            self.order_numbers[o] if w else ""
            for o, w in zip(order_idx.tolist(), with_order.tolist(), strict=True)
        ]
        n_events = (n + m + int((status != 0).sum())) if self.sizes.events else 0
        advance = self._phase("conversations", n + m + n_events + int((r < 0.7).sum()))
        for s in self._chunks(n):
            k = s.stop - s.start
            subjects = []
            for i in range(s.start, s.stop):
                if CHANNEL_KINDS[channel[i]] in ("email", "webform"):
                    subjects.append(order_no[i].join(templates[conv_lang[i]][INTENTS[intent[i]]][2]))
                else:
                    subjects.append(None)
            st = status[s]
            self._write(
                "conversations",
                [
                    Col("id", conv_ids[s]),
                    Col("shop_id", self._const(self.shop, k)),
                    Col("number", numbers[s]),
                    Col("customer_id", self.cust_ids[cust_idx[s]]),
                    Col("channel_id", conv_channel[s]),
                    Col("subject", subjects, "str"),
                    Col("status", [CONV_STATUSES[x] for x in st.tolist()], "str"),
                    Col("priority", [priority_for(int(c)) for c in conv_ids[s].tolist()], "str"),
                    Col(
                        "assignee_id",
                        [
                            a if f else None
                            for a, f in zip(assignee[s].tolist(), assigned[s].tolist(), strict=True)
                        ],
                        "int_null",
                    ),
                    Col(
                        "team_id",
                        [
                            t if f else None
                            for t, f in zip(team[s].tolist(), assigned[s].tolist(), strict=True)
                        ],
                        "int_null",
                    ),
                    Col("language", conv_lang[s.start : s.stop], "str"),
                    Col("intent", [INTENTS[x] for x in intent[s].tolist()], "str"),
                    Col(
                        "order_id",
                        [
                            int(self.order_ids[o]) if w else None
                            for o, w in zip(order_idx[s].tolist(), with_order[s].tolist(), strict=True)
                        ],
                        "int_null",
                    ),
                    Col("snoozed_until", np.where(st == 2, self.now_us + 2 * DAY_US, 0), "ts_null"),
                    Col("first_response_at", first_response[s], "ts_null"),
                    Col("resolved_at", resolved[s], "ts_null"),
                    Col("closed_at", np.where(st == 4, resolved[s] + 600 * US, 0), "ts_null"),
                    Col("waiting_since", waiting[s], "ts_null"),
                    Col("last_message_at", last_at[s], "ts"),
                    Col("last_activity_at", np.maximum(last_at[s], resolved[s]), "ts"),
                    Col("reopened_count", self._const(0, k)),
                    Col("message_count", counts[s]),
                    Col("resolved_by_assistant", self._const(False, k), "bool"),
                    Col("created_at", created[s], "ts"),
                    Col("updated_at", np.maximum(last_at[s], resolved[s]), "ts"),
                ],
                advance,
            )
        # tags
        tagged = np.flatnonzero(r < 0.7)
        for s in self._chunks(len(tagged)):
            idx = tagged[s]
            self._write(
                "conversation_tags",
                [
                    Col("conversation_id", conv_ids[idx]),
                    Col("name", [TAGS[i] for i in intent[idx].tolist()], "str"),
                    Col("shop_id", self._const(self.shop, len(idx))),
                ],
                advance,
            )
        # messages: inbound first, then alternating; texts from the templates with the order number
        msg_start = self.loader.reserve("messages", m)
        conv_start = np.concatenate(([0], np.cumsum(counts)[:-1]))
        events_start = self.loader.reserve("events", n_events) if n_events else 0
        next_event = events_start
        for s in self._chunks(n):
            first = int(conv_start[s.start])
            last = int(conv_start[s.stop - 1] + counts[s.stop - 1])
            c_idx = np.repeat(np.arange(s.start, s.stop), counts[s])
            pos = np.arange(first, last) - conv_start[c_idx]
            inbound = pos % 2 == 0
            at = created[c_idx] + pos * gap[c_idx]
            ids = np.arange(msg_start + first, msg_start + last, dtype=np.int64)
            texts: list[str] = []
            variant = rng.integers(0, 3, size=len(c_idx)).tolist()
            for ci, is_in, v in zip(c_idx.tolist(), inbound.tolist(), variant, strict=True):
                customer_t, agent_t, _ = templates[conv_lang[ci]][INTENTS[intent[ci]]]
                parts = customer_t[v % len(customer_t)] if is_in else agent_t
                texts.append(order_no[ci].join(parts))
            k = len(c_idx)
            msg_channel = conv_channel[c_idx]
            outbound_agent = np.where(inbound, 0, assignee[c_idx])
            self._write(
                "messages",
                [
                    Col("id", ids),
                    Col("shop_id", self._const(self.shop, k)),
                    Col("conversation_id", conv_ids[c_idx]),
                    Col("channel_id", msg_channel),
                    Col("direction", ["inbound" if x else "outbound" for x in inbound.tolist()], "str"),
                    Col("author_type", ["customer" if x else "agent" for x in inbound.tolist()], "str"),
                    Col(
                        "author_agent_id",
                        [None if a == 0 else a for a in outbound_agent.tolist()],
                        "int_null",
                    ),
                    Col("text", texts, "str"),
                    Col("attachments", "[]", "json"),
                    Col("meta", "{}", "json"),
                    Col("delivery_status", ["received" if x else "sent" for x in inbound.tolist()], "str"),
                    Col("created_at", at, "ts"),
                    Col("sent_at", np.where(inbound, 0, at + 2 * US), "ts_null"),
                ],
                advance,
            )
            if not self.sizes.events:
                continue
            # events of these conversations: created, one per message, the final status change
            conv_rows = np.arange(s.start, s.stop)
            changed = conv_rows[status[s] != 0]
            e_conv = np.concatenate((conv_rows, c_idx, changed))
            e_kind = np.concatenate(
                (np.zeros(len(conv_rows), dtype=np.int64), np.where(inbound, 1, 2), np.full(len(changed), 3))
            )
            e_time = np.concatenate((created[conv_rows], at, np.maximum(last_at[changed], resolved[changed])))
            e_msg = np.concatenate(
                (np.zeros(len(conv_rows), dtype=np.int64), ids, np.zeros(len(changed), dtype=np.int64))
            )
            order = np.lexsort((e_kind, e_time, e_conv))
            e_conv, e_kind, e_time, e_msg = e_conv[order], e_kind[order], e_time[order], e_msg[order]
            ne = len(e_conv)
            types = (
                "conversation.created",
                "message.received",
                "message.created",
                "conversation.status_changed",
            )
            data: list[str] = []
            actor_type: list[str] = []
            actor_id: list[int | None] = []
            for ci, kind, mid in zip(e_conv.tolist(), e_kind.tolist(), e_msg.tolist(), strict=True):
                if kind == 0:
                    data.append(f'{{"channel_id": {conv_channel[ci]}, "number": {ci + 1}}}')
                    actor_type.append("customer")
                    actor_id.append(int(self.cust_ids[cust_idx[ci]]))
                elif kind == 3:
                    to = CONV_STATUSES[status[ci]]
                    data.append(f'{{"from": "open", "to": "{to}", "snoozed_until": null}}')
                    actor_type.append("agent")
                    actor_id.append(int(assignee[ci]))
                else:
                    direction = "inbound" if kind == 1 else "outbound"
                    data.append(
                        f'{{"message_id": {mid}, "direction": "{direction}", "channel_id": {conv_channel[ci]}}}'
                    )
                    actor_type.append("customer" if kind == 1 else "agent")
                    actor_id.append(int(self.cust_ids[cust_idx[ci]]) if kind == 1 else int(assignee[ci]))
            self._write(
                "events",
                [
                    Col("id", np.arange(next_event, next_event + ne, dtype=np.int64)),
                    Col("shop_id", self._const(self.shop, ne)),
                    Col("type", [types[x] for x in e_kind.tolist()], "str"),
                    Col("occurred_at", e_time, "ts"),
                    Col("actor_type", actor_type, "str"),
                    Col("actor_id", actor_id, "int_null"),
                    Col("conversation_id", conv_ids[e_conv]),
                    Col("customer_id", self.cust_ids[cust_idx[e_conv]]),
                    Col("data", data, "str"),
                ],
                advance,
            )
            next_event += ne


def content_collection(i: int) -> str:
    names = (
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
    )
    return names[i % len(names)]


def content_type(i: int) -> str:
    types = ("Stoneware Vase", "Linen Shirt", "Wool Throw", "Table Lamp", "Serving Bowl", "Scented Candle")
    return types[(i // 12) % len(types)]


def content_category(i: int) -> str:
    categories = ("vases", "clothing", "textiles", "lighting", "ceramics", "home-fragrance")
    return categories[(i // 12) % len(categories)]


def _loader(url: str) -> Loader:
    if url.startswith("sqlite"):
        return SqliteLoader(url.split("///", 1)[1])
    return PostgresLoader(url.replace("postgresql+psycopg://", "postgresql://"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="postgresql://… or sqlite:///path (migrated)")
    parser.add_argument("--shop-slug", default="scale")
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-events", action="store_true", help="skip the event log (about 1.2 rows per message)"
    )
    parser.add_argument("--keep-indexes", action="store_true", help="PostgreSQL: maintain indexes row by row")
    parser.add_argument("--secret-key", default="scale-generator-secret", help="encrypts channel credentials")
    args = parser.parse_args(argv)
    if args.messages < args.conversations:
        parser.error("--messages must be at least --conversations (every conversation has a first message)")
    url = normalise_database_url(args.database_url)
    sizes = Sizes(
        args.customers, args.orders, args.conversations, args.messages, args.products, not args.no_events
    )

    started = time.perf_counter()
    try:
        setup = asyncio.run(_setup(url, args.shop_slug, args.secret_key, args.seed))
    except SystemExit as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    if setup.resumed:
        console.print(
            f"shop {args.shop_slug!r} (id {setup.shop_id}) exists from an unfinished run: loading it again"
        )
    loader = _loader(url)
    columns = (
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    timings = Timings()
    try:
        with Progress(*columns, console=console) as progress:
            gen = Generator(loader, setup, sizes, args.seed, progress)
            t = time.perf_counter()
            loader.before(args.keep_indexes)
            timings.phases["drop indexes/triggers"] = time.perf_counter() - t
            timings = _merge(timings, gen.run())
            t = time.perf_counter()
            task = progress.add_task("indexes", total=None)
            loader.after()
            progress.update(task, total=1, completed=1)
            timings.phases["rebuild indexes, analyze"] = time.perf_counter() - t
            t = time.perf_counter()
            loader.commit()
            timings.phases["commit"] = time.perf_counter() - t
    except BaseException:
        loader.rollback()
        console.print(
            "[red]the load failed and was rolled back; the shop has no data and will be reused[/red]"
        )
        raise
    total = time.perf_counter() - started
    asyncio.run(_finish(url, setup.shop_id, sizes.conversations, total))

    where = url.split("@")[-1] if "@" in url else url.split("///", 1)[-1]
    table = Table(title=f"shop {args.shop_slug!r} (id {setup.shop_id}) in {where}")
    table.add_column("phase")
    table.add_column("seconds", justify="right")
    for name, seconds in timings.phases.items():
        table.add_row(name, f"{seconds:.1f}")
    table.add_row("[bold]total", f"[bold]{total:.1f}")
    console.print(table)
    rows = Table(title="rows")
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for name, count in timings.rows.items():
        rows.add_row(name, f"{count:,}")
    rows.add_row("[bold]total", f"[bold]{sum(timings.rows.values()):,}")
    console.print(rows)
    return 0


def _merge(a: Timings, b: Timings) -> Timings:
    return Timings({**a.phases, **b.phases}, {**a.rows, **b.rows})


if __name__ == "__main__":
    sys.exit(main())
