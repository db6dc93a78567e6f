"""The help center on SQLite and PostgreSQL: search (typos, inflection, other languages), the widget's
suggestions and deflection, feedback, indexable pages, the editor (drafts never change the live text),
roles and tenant isolation."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from storedesk.channels.models import ChatSession
from storedesk.conversations.models import Conversation
from storedesk.db.session import Database
from storedesk.helpcenter import service
from storedesk.helpcenter.models import ArticleFeedback, ArticleOpen
from storedesk.kit.time import utcnow
from storedesk.knowledge.models import Article, ArticleVersion
from tests.conftest import ShopWorld, count_rows
from tests.helpcenter.kit import seed_help_center

pytestmark = pytest.mark.anyio


async def _suggest(
    client: httpx.AsyncClient, q: str, lang: str, shop: str = "shop-a"
) -> list[tuple[str, str, bool]]:
    response = await client.get(f"/help/{shop}/suggest", params={"q": q, "lang": lang})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    return [(a["title"], a["language"], a["other_language"]) for a in response.json()["articles"]]


async def test_search_tolerates_typos_inflection_and_other_languages(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    assert await seed_help_center(db, shop_a.id) == {"categories": 7, "articles_created": 13, "indexed": 26}
    # typo in English
    assert (await _suggest(client, "retrun", "en"))[0] == ("Returns and refunds", "en", False)
    assert (await _suggest(client, "sise gide", "en"))[0] == ("Size guide", "en", False)
    # German inflection and words without umlauts
    assert (await _suggest(client, "Rücksendungen", "de"))[0] == (
        "Rücksendungen und Erstattungen",
        "de",
        False,
    )
    assert ("Größentabelle", "de", False) in (await _suggest(client, "groesse", "de"))[:2]
    # Hungarian (no Hungarian articles): the English article, marked as being in another language
    assert (await _suggest(client, "visszaküldés", "hu"))[0] == ("Returns and refunds", "en", True)
    assert (await _suggest(client, "¿cómo devuelvo un artículo?", "es"))[0] == (
        "Returns and refunds",
        "en",
        True,
    )
    response = await client.get("/help/shop-a/suggest", params={"q": "elfelejtett jelszó", "lang": "hu"})
    first = response.json()["articles"][0]
    assert (first["title"], first["language_name"], first["other_language"]) == (
        "Your customer account",
        "angol",
        True,
    )
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/help/shop-a/hu/a/your-account\?src=widget", first["url"])
    # an English query on the German portal finds the German version through the thesaurus
    assert (await _suggest(client, "refund", "de"))[0] == ("Rücksendungen und Erstattungen", "de", False)
    # internal articles are never suggested to visitors, but agents find them
    assert all(
        "Damage claims" not in title for title, _, _ in await _suggest(client, "damage claims goodwill", "en")
    )
    agents = await client.get(
        "/api/v1/help/search", params={"q": "goodwill", "language": "en"}, headers=shop_a.h("viewer")
    )
    assert [(h["slug"], h["visibility"]) for h in agents.json()["hits"]][:1] == [
        ("team-damage-claims", "internal")
    ]
    # the search page says what it corrected
    page = await client.get("/help/shop-a/en/search", params={"q": "retrun polcy"})
    assert "Showing results for “return polcy”." in page.text
    assert 'data-hit="' in page.text


async def test_pages_are_indexable_and_fall_back_to_another_language(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    await seed_help_center(db, shop_a.id)
    root = await client.get("/help/shop-a", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"})
    assert (root.status_code, root.headers["location"]) == (302, "/help/shop-a/de")
    home = await client.get("/help/shop-a/de")
    assert '<html lang="de">' in home.text and "Wie können wir helfen?" in home.text
    assert '<link rel="alternate" hreflang="en" href="http://127.0.0.1:8000/help/shop-a/en">' in home.text
    assert "Versand &amp; Lieferung" in home.text
    assert "Für das Team" not in home.text  # no public articles there
    article = await client.get("/help/shop-a/de/a/returns-and-refunds")
    assert article.status_code == 200
    assert (
        '<link rel="canonical" href="http://127.0.0.1:8000/help/shop-a/de/a/returns-and-refunds">'
        in article.text
    )
    assert '"@type": "Article"' in article.text and '"inLanguage": "de"' in article.text
    assert "Umtausch gegen eine andere Größe oder Farbe" in article.text  # related article, German title
    hungarian = await client.get("/help/shop-a/hu/a/returns-and-refunds")
    assert hungarian.status_code == 200
    assert '<html lang="hu">' in hungarian.text and '<article class="doc" lang="en"' in hungarian.text
    assert (
        "Ez a cikk még nem érhető el az Ön nyelvén; itt olvashatja ezen a nyelven: angol." in hungarian.text
    )
    assert (
        '<link rel="canonical" href="http://127.0.0.1:8000/help/shop-a/en/a/returns-and-refunds">'
        in hungarian.text
    )
    sitemap = await client.get("/help/shop-a/sitemap.xml")
    assert sitemap.headers["content-type"] == "application/xml"
    assert (
        '<xhtml:link rel="alternate" hreflang="de" href="http://127.0.0.1:8000/help/shop-a/de/a/size-guide"/>'
        in sitemap.text
    )
    assert "team-damage-claims" not in sitemap.text
    assert (await client.get("/help/shop-a/de/a/team-damage-claims")).status_code == 404
    assert (await client.get("/help/shop-a/xx")).status_code == 404


async def test_feedback_and_deflection(client: httpx.AsyncClient, db: Database, shop_a: ShopWorld) -> None:
    await seed_help_center(db, shop_a.id)
    visitor_a, visitor_b = "visitor-aaaaaaaa", "visitor-bbbbbbbb"
    for visitor in (visitor_a, visitor_b):
        opened = await client.get(f"/help/shop-a/en/a/size-guide?src=widget&v={visitor}")
        assert opened.status_code == 200
    sent = await client.post(
        "/help/shop-a/en/a/size-guide/feedback",
        data={"helpful": "no", "comment": "  Missing shoe sizes  ", "language": "en"},
    )
    assert (sent.status_code, sent.headers["location"]) == (
        303,
        "/help/shop-a/en/a/size-guide?thanks=1#fb-title",
    )
    thanks = await client.get(sent.headers["location"].split("#")[0])
    assert "Thank you for your feedback!" in thanks.text
    async with db.transaction() as session:
        feedback = (await session.execute(select(ArticleFeedback))).scalars().all()
        opens = (await session.execute(select(ArticleOpen).order_by(ArticleOpen.id))).scalars().all()
        # visitor B started a chat right after reading; both opens are older than the 30-minute window
        for row in opens:
            row.opened_at = utcnow() - timedelta(hours=2)
        conversation = Conversation(
            shop_id=shop_a.id,
            number=99,
            customer_id=shop_a.customer_id,
            channel_id=shop_a.channel_id,
            status="open",
            last_activity_at=utcnow(),
            created_at=utcnow() - timedelta(hours=2) + timedelta(minutes=5),
        )
        session.add(conversation)
        await session.flush()
        session.add(
            ChatSession(
                shop_id=shop_a.id,
                channel_id=shop_a.channel_id,
                visitor_id=visitor_b,
                conversation_id=conversation.id,
            )
        )
    assert [(f.helpful, f.comment, f.language) for f in feedback] == [(False, "Missing shoe sizes", "en")]
    assert [(o.source, o.visitor_id) for o in opens] == [("widget", visitor_a), ("widget", visitor_b)]
    stats = await client.get("/api/v1/help/stats", headers=shop_a.h("viewer"))
    assert stats.json() == {
        "days": 30,
        "opened_from_widget": 2,
        "judged": 2,
        "deflected": 1,
        "chats_after": 1,
        "deflection_rate": 0.5,
        "helpful": 0,
        "not_helpful": 1,
    }


async def test_editor_drafts_never_change_the_live_text(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    from tests.web.helpers import login

    await seed_help_center(db, shop_a.id)
    csrf = await login(client, "agent@shop-a.test")
    listing = await client.get("/app/help")
    assert listing.status_code == 200 and "Returns and refunds" in listing.text
    created = await client.post(
        "/app/help",
        data={
            "csrf_token": csrf,
            "title": "Gift wrapping",
            "body": "We wrap **every** gift for free.",
            "category": "orders",
            "visibility": "public",
            "language": "en",
            "action": "publish",
        },
    )
    assert created.status_code == 303
    article_id = int(created.headers["location"].split("/")[3].split("?")[0])
    assert (await _suggest(client, "gift wraping", "en"))[0] == ("Gift wrapping", "en", False)
    draft = await client.post(
        f"/app/help/{article_id}/versions/en",
        data={
            "csrf_token": csrf,
            "title": "Gift wrapping and cards",
            "body": "We wrap every gift and add a card.",
            "action": "draft",
        },
    )
    assert draft.status_code == 303
    live = await client.get("/help/shop-a/en/a/gift-wrapping")
    assert "We wrap <strong>every</strong> gift for free." in live.text and "add a card" not in live.text
    editor = await client.get(f"/app/help/{article_id}?lang=en")
    assert "We wrap every gift and add a card." in editor.text and "Unpublished changes" in editor.text
    preview = await client.post(
        "/app/help/preview", data={"body": "<script>x</script>\n\n**hi**"}, headers={"X-CSRF-Token": csrf}
    )
    assert preview.text == "\n<p><strong>hi</strong></p>\n"
    published = await client.post(
        f"/app/help/{article_id}/versions/en",
        data={
            "csrf_token": csrf,
            "title": "Gift wrapping and cards",
            "body": "We wrap every gift and add a card.",
            "action": "publish",
        },
    )
    assert published.status_code == 303
    assert "add a card" in (await client.get("/help/shop-a/en/a/gift-wrapping")).text
    german = await client.post(
        f"/app/help/{article_id}/versions/de",
        data={
            "csrf_token": csrf,
            "title": "Geschenkverpackung",
            "body": "Wir verpacken jedes Geschenk.",
            "action": "draft",
        },
    )
    assert german.status_code == 303
    assert (await client.get("/help/shop-a/de/a/gift-wrapping")).text.count(
        '<article class="doc" lang="en"'
    ) == 1
    async with db.transaction() as session:
        versions = (
            await session.execute(
                select(ArticleVersion.language, ArticleVersion.status)
                .where(ArticleVersion.article_id == article_id)
                .order_by(ArticleVersion.language)
            )
        ).all()
    assert [tuple(v) for v in versions] == [("de", "draft"), ("en", "published")]


async def test_viewers_read_and_other_shops_see_nothing(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    await seed_help_center(db, shop_a.id)
    async with db.transaction() as session:
        article = (await session.execute(select(Article).where(Article.slug == "size-guide"))).scalar_one()
    viewer = await client.put(
        f"/api/v1/help/articles/{article.id}/versions/en",
        json={"title": "Hacked", "body": "x"},
        headers=shop_a.h("viewer"),
    )
    assert viewer.status_code == 403
    assert (
        await client.get(f"/api/v1/help/articles/{article.id}", headers=shop_a.h("viewer"))
    ).status_code == 200
    before = (await count_rows(db, "article_versions"), await count_rows(db, "events"))
    for method, url, body in [
        ("get", f"/api/v1/help/articles/{article.id}", None),
        (
            "put",
            f"/api/v1/help/articles/{article.id}/versions/en",
            {"title": "Hacked", "body": "x", "publish": True},
        ),
        ("patch", f"/api/v1/help/articles/{article.id}", {"visibility": "internal"}),
        ("post", f"/api/v1/help/articles/{article.id}/versions/en/unpublish", None),
        ("delete", f"/api/v1/help/articles/{article.id}", None),
    ]:
        response = await client.request(method, url, json=body, headers=shop_b.h("admin"))
        assert response.status_code == 404, (url, response.text)
    assert (await client.get("/api/v1/help/articles", headers=shop_b.h())).json() == []
    assert (await client.get("/api/v1/help/search?q=size", headers=shop_b.h())).json()["hits"] == []
    assert await _suggest(client, "size guide", "en", shop="shop-b") == []
    assert (await client.get("/help/shop-b/en/a/size-guide")).status_code == 404
    assert (await count_rows(db, "article_versions"), await count_rows(db, "events")) == before
    async with db.transaction() as session:
        still = (
            await session.execute(
                select(ArticleVersion.title).where(
                    ArticleVersion.article_id == article.id, ArticleVersion.language == "en"
                )
            )
        ).scalar_one()
    assert still == "Size guide"
    # the service refuses another shop's article too
    async with db.transaction() as session:
        with pytest.raises(Exception) as not_found:
            await service.set_related(
                session,
                shop_id=shop_b.id,
                actor=service.Actor("agent", 1),
                article_id=article.id,
                related_ids=[],
            )
    assert getattr(not_found.value, "status_code", None) == 404
