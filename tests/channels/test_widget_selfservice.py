"""The widget's self-service parts over HTTP: suggested help-center articles before a conversation exists
(opened inside the widget, counted as deflections) and the tracking page in the widget's panel."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from storedesk.db.session import Database
from storedesk.helpcenter import service as help_service
from storedesk.kit.time import utcnow
from tests.conftest import ShopWorld, count_rows
from tests.helpcenter.kit import reset_state, seed_help_center, seed_order

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _fresh_self_service() -> Iterator[None]:
    reset_state()
    yield
    reset_state()


async def _session(client: httpx.AsyncClient, slug: str = "shop-a") -> dict:
    r = await client.post(f"/widget/{slug}/session", json={"language": "de"})
    assert r.status_code == 200, r.text
    return r.json()


async def test_suggestions_open_inside_the_widget_and_count_as_deflections(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    await seed_help_center(db, shop_a.id)
    s = await _session(client)
    visitor = s["visitor_id"]
    assert s["token"].split(".")[2] == visitor

    # what the widget asks while the visitor types (German, at most three, tagged with the visitor)
    r = await client.get(
        "/help/shop-a/suggest",
        params={"q": "Welche Größe passt mir", "lang": "de", "visitor": visitor, "limit": 3},
    )
    assert r.status_code == 200
    articles = r.json()["articles"]
    # the two size articles first, in German (their order differs between the backends: PostgreSQL's
    # German stemmer does not split compounds; SQLite adds a third, weaker match)
    assert {a["title"] for a in articles[:2]} == {
        "Größentabelle",
        "Umtausch gegen eine andere Größe oder Farbe",
    }
    assert len(articles) <= 3
    assert {(a["language"], a["other_language"]) for a in articles} == {("de", False)}
    [size] = [a for a in articles if a["title"] == "Größentabelle"]
    assert size["url"].endswith(f"/help/shop-a/de/a/size-guide?src=widget&v={visitor}")
    # a Hungarian visitor gets the article in another language, and is told which
    hu = (await client.get("/help/shop-a/suggest", params={"q": "méret", "lang": "hu", "limit": 3})).json()
    first = hu["articles"][0]
    assert (first["title"], first["language"], first["other_language"]) == ("Size guide", "en", True)
    assert first["language_name"] == "angol"

    # the widget opens it framed (?embed=1): no site chrome, framing allowed, the open is recorded
    page = await client.get(urlsplit(size["url"]).path, params={"src": "widget", "v": visitor, "embed": "1"})
    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert '<body class="embed">' in page.text
    assert '<header class="top">' not in page.text and '<aside class="side"' not in page.text
    assert '<base target="_blank">' in page.text
    assert '<input type="hidden" name="embed" value="1">' in page.text
    assert await count_rows(db, "help_article_opens") == 1
    # the public page itself still refuses to be framed
    plain = await client.get("/help/shop-a/de/a/size-guide")
    assert plain.headers["X-Frame-Options"] == "DENY"

    # feedback from inside the frame comes back to the framed page
    fb = await client.post(
        "/help/shop-a/de/a/size-guide/feedback", data={"helpful": "yes", "embed": "1"}, follow_redirects=False
    )
    assert fb.headers["location"] == "/help/shop-a/de/a/size-guide?thanks=1&embed=1#fb-title"

    # the visitor did not send the message: a deflection once the 30 minutes are over
    async with db.transaction() as session:
        stats = await help_service.deflection_stats(
            session,
            shop_id=shop_a.id,
            since=utcnow() - timedelta(days=1),
            now=utcnow() + timedelta(minutes=31),
        )
    assert (stats.opened, stats.with_visitor, stats.deflected, stats.chats_after) == (1, 1, 1, 0)


async def test_a_message_after_the_suggestion_is_not_a_deflection(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    await seed_help_center(db, shop_a.id)
    s = await _session(client)
    await client.get(
        "/help/shop-a/de/a/size-guide", params={"src": "widget", "v": s["visitor_id"], "embed": "1"}
    )
    await client.post("/widget/shop-a/identify", json={"token": s["token"], "email": "lena@example.de"})
    r = await client.post(
        "/widget/shop-a/messages",
        json={"token": s["token"], "text": "Passt mir M?", "client_id": "sugg00001"},
    )
    assert r.status_code == 201
    async with db.transaction() as session:
        stats = await help_service.deflection_stats(
            session,
            shop_id=shop_a.id,
            since=utcnow() - timedelta(days=1),
            now=utcnow() + timedelta(minutes=31),
        )
    assert (stats.opened, stats.deflected, stats.chats_after) == (1, 0, 1)


async def test_track_my_order_in_the_widget(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    seeded = await seed_order(db, shop_a.id, number="100234", delivered_days_ago=None, eta_days=-3)
    s = await _session(client)
    token = s["token"]

    # not identified: the tracking form, framed, in the visitor's language
    r = await client.post("/widget/shop-a/track", json={"token": token, "language": "de"})
    assert r.json() == {"url": "/track/shop-a?embed=1&lang=de", "signed": False}

    # identified with an email that does not go with the number: the same neutral answer
    await client.post(
        "/widget/shop-a/identify",
        json={"token": token, "email": "someone@example.com", "order_number": "100234"},
    )
    r = await client.post("/widget/shop-a/track", json={"token": token, "language": "de"})
    assert r.json() == {"url": "/track/shop-a?embed=1&lang=de", "signed": False}

    # identified with the order's email and number: the signed page in the visitor's language and zone
    await client.post(
        "/widget/shop-a/identify", json={"token": token, "email": seeded.email, "order_number": "#100234"}
    )
    r = await client.post(
        "/widget/shop-a/track", json={"token": token, "language": "de", "tz": "Europe/Berlin"}
    )
    body = r.json()
    assert body["signed"] is True
    url = urlsplit(body["url"])
    assert url.path.startswith("/track/shop-a/o/")
    assert parse_qs(url.query) == {"embed": ["1"], "lang": ["de"], "tz": ["Europe/Berlin"]}
    page = await client.get(body["url"])
    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    assert "Bestellung 100234" in page.text
    assert (
        '<div class="notice" role="status" data-late="3"><strong>Ihr Paket ist verspätet.</strong>'
        in page.text
    )

    # bad token: 401, nothing looked up
    r = await client.post("/widget/shop-a/track", json={"token": "v1.1.nobody.xxx"})
    assert r.status_code == 401


async def test_track_lookups_share_the_tracking_page_limits(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    await seed_order(db, shop_a.id, number="100234")
    s = await _session(client)
    await client.post(
        "/widget/shop-a/identify",
        json={"token": s["token"], "email": "wrong@example.com", "order_number": "100234"},
    )
    statuses = [
        (await client.post("/widget/shop-a/track", json={"token": s["token"]})).status_code for _ in range(9)
    ]
    # 8 attempts per order number in 15 minutes, as on /track, whether or not the number exists
    assert statuses == [200] * 8 + [429]
    r = await client.post("/track/shop-a", data={"number": "100234", "email": "lena@example.de"})
    assert r.status_code == 429


async def test_track_is_scoped_to_the_widgets_shop(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    seeded_b = await seed_order(db, shop_b.id, number="200777", email="ole@example.no")
    s = await _session(client, "shop-a")
    # shop B's order, asked for through shop A's widget: the neutral form, nothing signed
    await client.post(
        "/widget/shop-a/identify",
        json={"token": s["token"], "email": seeded_b.email, "order_number": "200777"},
    )
    r = await client.post("/widget/shop-a/track", json={"token": s["token"], "language": "en"})
    assert r.json() == {"url": "/track/shop-a?embed=1&lang=en", "signed": False}
    # shop A's visitor token is no key to shop B's widget
    await _session(client, "shop-b")
    r = await client.post("/widget/shop-b/track", json={"token": s["token"]})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
