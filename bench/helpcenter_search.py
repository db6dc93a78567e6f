"""Help-center search latency over a large synthetic help center.

    .venv/bin/python bench/helpcenter_search.py                       # SQLite, 5,000 articles × 8 languages
    .venv/bin/python bench/helpcenter_search.py --db postgresql       # the local PostgreSQL
    .venv/bin/python bench/helpcenter_search.py --articles 625        # 5,000 versions in total

Builds one shop whose articles each have a version in all eight portal languages: each article is about
one of the thesaurus' topics (its words in the title and text), with real sentences of the language and
Zipf-distributed filler words (about 20,000 per language, so common words behave as in real text).
It indexes the shop, then times ``helpcenter.search.search`` —
the function behind the public search page, the widget's suggestions and the agents' API — for a mix of
queries: exact words, inflected forms, typos, and queries in a language the article is not written in.
The first search after a change rebuilds the shop's vocabulary; it is timed separately ("warm-up").
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import insert

import storedesk.helpcenter.i18n
import storedesk.returns.i18n
import storedesk.tracking.i18n  # noqa: F401
from storedesk.db.migrate import upgrade
from storedesk.db.session import Database
from storedesk.helpcenter import search, service, thesaurus
from storedesk.helpcenter.models import HelpCategory
from storedesk.helpcenter.public import catalogue
from storedesk.helpcenter.text import LANGUAGES
from storedesk.kit.time import utcnow
from storedesk.knowledge.models import Article, ArticleVersion
from storedesk.shops.service import create_shop

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
QUERIES = [
    ("return", "en"), ("refunds", "en"), ("retrun", "en"), ("size guide", "en"), ("where is my parcel", "en"),
    ("Rücksendungen", "de"), ("rucksendung", "de"), ("Zahlungsarten", "de"), ("groesse", "de"),
    ("visszaküldés", "hu"), ("szállítási díj", "hu"), ("jelszó", "hu"),
    ("retur", "nb"), ("levering", "nb"), ("remboursement", "fr"), ("livraison retard", "fr"),
    ("återbetalning", "sv"), ("leverans", "sv"), ("zwrot pieniędzy", "pl"), ("dostawa", "pl"),
    ("devolución", "es"), ("envío", "es"), ("paypal", "en"), ("customs", "de"),
]  # fmt: skip


def sentences(language: str) -> list[str]:
    return [v for v in catalogue()[language].values() if len(v.split()) > 4 and "{" not in v]


SYLLABLES = {
    "en": "ba be co de fi ga ho in ka lo mi ne or pa re si ta th un ve wi",
    "de": "ab be ch de ei en ge ha ie ke li me nd re sc st te un ve we zu",
    "hu": "al be cs el ga gy ha ke le me ny ol ra sz te ve zs ál ét ös ül",
    "nb": "av be de el fo ge ha ig ka le me ne og re sk st ti un ve øy år",
    "fr": "an be ce de en ge in la le me ne ou pa qu re se te un vo ée è",
    "sv": "av be de el fö ga hå ig ka le me ne oc re sk st ti un va ör ä",
    "pl": "ak by ch dz ie ko li ma ni po rz sz ta wi zy ść ąb ęk ół że",
    "es": "ab ce ci de es in la le ma me no pa po qu re se ta to un ve ña",
}  # fmt: skip


def filler(rng: random.Random, language: str, n: int) -> list[str]:
    """A Zipf-distributed vocabulary of made-up words that look like the language."""
    syllables = SYLLABLES[language].split()
    out = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(n * 2)}
    return sorted(out)[:n]


def build(rng: random.Random, n_articles: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Articles on one of the thesaurus' topics each: the topic's words in the title and the text,
    real sentences of the language, and Zipf-distributed filler words (about 20,000 per language)."""
    concepts = sorted(thesaurus.CONCEPTS)
    pools = {lang: sentences(lang) for lang in LANGUAGES}
    vocab = {lang: filler(rng, lang, 20_000) for lang in LANGUAGES}
    cum: dict[str, list[float]] = {}
    for lang, words in vocab.items():
        total = 0.0
        cum[lang] = []
        for rank in range(len(words)):
            total += 1 / (rank + 1)
            cum[lang].append(total)
    articles, versions = [], []
    now = utcnow()
    for i in range(n_articles):
        concept = concepts[i % len(concepts)]
        articles.append({"slug": f"article-{i}", "category": f"c{i % 12}", "visibility": "public" if i % 20 else "internal",
                         "created_at": now, "updated_at": now})  # fmt: skip
        for lang in LANGUAGES:
            topic = [w for phrase in thesaurus.CONCEPTS[concept].get(lang, ()) for w in phrase.split()]
            title = " ".join(
                [rng.choice(topic), *rng.choices(vocab[lang], cum_weights=cum[lang], k=3)]
            ).capitalize()
            paragraphs = []
            for _ in range(3):
                words = rng.choices(vocab[lang], cum_weights=cum[lang], k=55) + rng.sample(
                    topic, min(3, len(topic))
                )
                rng.shuffle(words)
                paragraphs.append(" ".join(words).capitalize() + ". " + rng.choice(pools[lang]))
            versions.append({"index": i, "language": lang, "title": title[:300], "body": "\n\n".join(paragraphs),
                             "status": "published", "created_at": now, "updated_at": now})  # fmt: skip
    return articles, versions


async def main(db_url: str, n_articles: int, rounds: int) -> None:
    db = Database(db_url)
    rng = random.Random(20261123)
    started = time.perf_counter()
    async with db.transaction() as session:
        shop = await create_shop(
            session, slug="bench", name="Bench", languages=list(LANGUAGES), default_language="en"
        )
        for c in range(12):
            session.add(
                HelpCategory(
                    shop_id=shop.id, slug=f"c{c}", position=c, names={"en": f"Category {c}"}, descriptions={}
                )
            )
        articles, versions = build(rng, n_articles)
        ids = list(
            (
                await session.execute(
                    insert(Article).returning(Article.id), [{**a, "shop_id": shop.id} for a in articles]
                )
            ).scalars()
        )
        rows = [{**{k: v for k, v in ver.items() if k != "index"}, "shop_id": shop.id, "article_id": ids[int(ver["index"])]}  # type: ignore[call-overload]
                for ver in versions]  # fmt: skip
        for start in range(0, len(rows), 2000):
            await session.execute(insert(ArticleVersion), rows[start : start + 2000])
        shop_id = shop.id
    built = time.perf_counter() - started
    started = time.perf_counter()
    async with db.transaction() as session:
        indexed = await service.reindex_shop(session, shop_id=shop_id)
    index_time = time.perf_counter() - started
    print(f"build / index    {built:.1f} s / {index_time:.1f} s  ({indexed} indexed versions)")
    await db.dispose()
    await measure(db_url, shop_id, rounds, f"{n_articles} × {len(LANGUAGES)} languages")


async def measure(db_url: str, shop_id: int, rounds: int, label: str) -> None:
    db = Database(db_url)
    async with db.transaction() as session:
        started = time.perf_counter()
        await search.search(session, shop_id=shop_id, query="warm", language="en", default_language="en")
        warmup = time.perf_counter() - started
        vocab = await search.vocabulary(session, shop_id)
    timings: dict[str, list[float]] = {}
    all_ms: list[float] = []
    for _ in range(rounds):
        for query, lang in QUERIES:
            async with db.transaction() as session:
                t0 = time.perf_counter()
                await search.search(
                    session, shop_id=shop_id, query=query, language=lang, default_language="en"
                )
                ms = (time.perf_counter() - t0) * 1000
            timings.setdefault(f"{query} ({lang})", []).append(ms)
            all_ms.append(ms)
    all_ms.sort()
    p = lambda q: all_ms[min(len(all_ms) - 1, int(q * len(all_ms)))]  # noqa: E731
    print(f"database         {db.kind}")
    print(f"articles         {label}")
    print(
        f"vocabulary       {len(vocab.surface)} words; warm-up (first search after a change) {warmup * 1000:.0f} ms"
    )
    print(
        f"searches         {len(all_ms)}  p50 {p(0.50):.1f} ms  p95 {p(0.95):.1f} ms  p99 {p(0.99):.1f} ms  max {all_ms[-1]:.1f} ms"
    )
    slowest = sorted(timings.items(), key=lambda kv: -statistics.median(kv[1]))[:5]
    for name, values in slowest:
        print(f"  slowest median {statistics.median(values):6.1f} ms  {name}")
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--keep", type=Path, help="build once into this file (SQLite) / database (PostgreSQL) and reuse it"
    )
    args = parser.parse_args()
    if args.db == "postgresql" and args.keep is not None:
        name = f"storedesk_bench_{args.keep.name.replace('.', '_')}"
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        if not exists:
            upgrade(url)
            asyncio.run(main(url, args.articles, args.rounds))
        else:
            asyncio.run(measure(url, 1, args.rounds, f"(reused database {name})"))
    elif args.db == "postgresql":
        name = f"storedesk_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        try:
            upgrade(url)
            asyncio.run(main(url, args.articles, args.rounds))
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    elif args.keep is not None:
        url = f"sqlite+aiosqlite:///{args.keep.resolve()}"
        if not args.keep.exists():
            upgrade(url)
            asyncio.run(main(url, args.articles, args.rounds))
        else:
            asyncio.run(measure(url, 1, args.rounds, "(reused file)"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            asyncio.run(main(url, args.articles, args.rounds))
