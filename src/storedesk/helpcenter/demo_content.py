"""The demo shop's help center: categories in eight languages, the seed's articles (``demo.content``)
filed under them, and more articles in English and German (tracking, late parcels, customs,
exchanges, cancelling, vouchers, an internal one for agents), related to each other.

``storedesk.demo.seed`` calls :func:`install` after it has written its articles; it is idempotent and
can also be run alone on any shop (``await install(session, shop_id=...)``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.helpcenter import service
from storedesk.helpcenter.repository import ArticleRepository, CategoryRepository, RelationRepository
from storedesk.kit.actor import SYSTEM, Actor
from storedesk.shops.service import get_shop

CATEGORIES: list[dict[str, Any]] = [
    {
        "slug": "shipping",
        "names": {"en": "Shipping & delivery", "de": "Versand & Lieferung", "hu": "Szállítás", "nb": "Frakt og levering",
                  "fr": "Livraison", "sv": "Frakt och leverans", "pl": "Wysyłka i dostawa", "es": "Envíos y entregas"},
        "aliases": ["Shipping & delivery"],
    },
    {
        "slug": "returns",
        "names": {"en": "Returns & refunds", "de": "Rücksendungen & Erstattungen", "hu": "Visszaküldés és visszatérítés",
                  "nb": "Retur og refusjon", "fr": "Retours et remboursements", "sv": "Returer och återbetalningar",
                  "pl": "Zwroty i refundacje", "es": "Devoluciones y reembolsos"},
        "aliases": ["Returns & refunds"],
    },
    {
        "slug": "orders",
        "names": {"en": "Orders", "de": "Bestellungen", "hu": "Rendelések", "nb": "Bestillinger", "fr": "Commandes",
                  "sv": "Beställningar", "pl": "Zamówienia", "es": "Pedidos"},
        "aliases": [],
    },
    {
        "slug": "payment",
        "names": {"en": "Payment", "de": "Bezahlung", "hu": "Fizetés", "nb": "Betaling", "fr": "Paiement",
                  "sv": "Betalning", "pl": "Płatności", "es": "Pago"},
        "aliases": ["Payment"],
    },
    {
        "slug": "products",
        "names": {"en": "Products & sizing", "de": "Produkte & Größen", "hu": "Termékek és méretek",
                  "nb": "Produkter og størrelser", "fr": "Produits et tailles", "sv": "Produkter och storlekar",
                  "pl": "Produkty i rozmiary", "es": "Productos y tallas"},
        "aliases": ["Products"],
    },
    {
        "slug": "account",
        "names": {"en": "Your account", "de": "Ihr Konto", "hu": "Fiókja", "nb": "Kontoen din", "fr": "Votre compte",
                  "sv": "Ditt konto", "pl": "Twoje konto", "es": "Tu cuenta"},
        "aliases": ["Your account"],
    },
    {
        "slug": "team",
        "names": {"en": "For the team", "de": "Für das Team"},
        "aliases": [],
    },
]  # fmt: skip

ARTICLES: list[dict[str, Any]] = [
    {
        "slug": "track-your-order",
        "category": "shipping",
        "versions": {
            "en": (
                "Track your order",
                """As soon as your parcel leaves our warehouse you receive an email with the tracking number. You can follow every order on our tracking page: enter your order number and the email address you ordered with, or open the link in any of our emails.

**What the statuses mean**

- *Ready to ship*: the label is printed, the carrier has not scanned the parcel yet.
- *On its way*: the carrier has the parcel; it moves between sorting centres.
- *Out for delivery*: the driver has it today.
- *Delivered*: the carrier confirmed delivery, also to a neighbour, a parcel locker or a pickup point.

The tracking page shows every scan in your language and time zone, and the expected delivery day. If the tracking has not changed for three working days, see *Late or lost parcels*.""",
            ),
            "de": (
                "Bestellung verfolgen",
                """Sobald Ihr Paket unser Lager verlässt, erhalten Sie eine E-Mail mit der Sendungsnummer. Jede Bestellung können Sie auf unserer Sendungsverfolgungsseite verfolgen: Geben Sie Bestellnummer und die E-Mail-Adresse ein, mit der Sie bestellt haben, oder öffnen Sie den Link in einer unserer E-Mails.

**Was die Status bedeuten**

- *Versandbereit*: Das Etikett ist gedruckt, der Versanddienstleister hat das Paket noch nicht gescannt.
- *Unterwegs*: Der Versanddienstleister hat das Paket; es läuft durch die Paketzentren.
- *In Zustellung*: Der Zusteller bringt es heute.
- *Zugestellt*: Die Zustellung ist bestätigt, auch beim Nachbarn, in der Packstation oder im Paketshop.

Die Seite zeigt jeden Scan in Ihrer Sprache und Zeitzone sowie den voraussichtlichen Liefertag. Hat sich die Sendungsverfolgung drei Werktage nicht bewegt, lesen Sie *Verspätete oder verlorene Pakete*.""",
            ),
        },
    },
    {
        "slug": "late-or-lost-parcels",
        "category": "shipping",
        "versions": {
            "en": (
                "Late or lost parcels",
                """Most parcels arrive on the expected day; a few are a day or two late, especially before holidays. If the expected delivery date has passed:

1. Check the tracking page: it often shows a delivery to a neighbour or a pickup point.
2. If a delivery attempt failed, the carrier leaves a card or an email with the pickup point and how long the parcel waits there (usually 7 days).
3. If nothing has moved for three working days, write to us with your order number. We open an investigation with the carrier the same day.

If the carrier cannot find the parcel within five working days, we send a replacement free of charge or refund you – whichever you prefer. You never have to wait for the carrier's claim to be settled.""",
            ),
            "de": (
                "Verspätete oder verlorene Pakete",
                """Die meisten Pakete kommen am erwarteten Tag an; einige sind ein, zwei Tage später, besonders vor Feiertagen. Ist das voraussichtliche Lieferdatum verstrichen:

1. Sehen Sie in der Sendungsverfolgung nach: Oft wurde das Paket beim Nachbarn oder in einem Paketshop abgegeben.
2. Ist ein Zustellversuch gescheitert, hinterlässt der Versanddienstleister eine Karte oder E-Mail mit dem Abholort und wie lange das Paket dort liegt (meist 7 Tage).
3. Hat sich drei Werktage nichts getan, schreiben Sie uns mit Ihrer Bestellnummer. Wir stellen noch am selben Tag einen Nachforschungsauftrag.

Findet der Versanddienstleister das Paket nicht innerhalb von fünf Werktagen, schicken wir kostenlos Ersatz oder erstatten den Betrag – ganz wie Sie möchten. Sie müssen nie warten, bis die Reklamation beim Versanddienstleister abgeschlossen ist.""",
            ),
        },
    },
    {
        "slug": "customs-and-duties",
        "category": "shipping",
        "versions": {
            "en": (
                "Customs and duties outside the EU",
                """Orders to Norway, Switzerland and the United Kingdom cross a customs border. For Norway and the UK the import VAT and duties are included in our prices: you pay nothing on delivery. For Switzerland the carrier collects import VAT and a handling fee on delivery.

**Returning from outside the EU.** Use the returns portal as usual. Your return label comes with a customs note: declare the parcel as *returned goods* on the CN22/CN23 form and write the return number on it, so that no duties are charged again. We refund the import VAT you paid together with the items.""",
            ),
            "de": (
                "Zoll und Einfuhrabgaben außerhalb der EU",
                """Bestellungen nach Norwegen, in die Schweiz und in das Vereinigte Königreich überqueren eine Zollgrenze. Für Norwegen und das Vereinigte Königreich sind Einfuhrumsatzsteuer und Zölle in unseren Preisen enthalten: Bei der Zustellung zahlen Sie nichts. In der Schweiz erhebt der Versanddienstleister bei der Zustellung die Einfuhrmehrwertsteuer und eine Bearbeitungsgebühr.

**Rücksendungen von außerhalb der EU.** Nutzen Sie wie gewohnt das Rücksendeportal. Zu Ihrem Rücksendeetikett gehört ein Zollhinweis: Deklarieren Sie das Paket auf dem Formular CN22/CN23 als *Rückware* und notieren Sie die Rücksendenummer, damit keine Abgaben erneut erhoben werden. Die gezahlte Einfuhrumsatzsteuer erstatten wir zusammen mit den Artikeln.""",
            ),
        },
    },
    {
        "slug": "exchange-size-or-colour",
        "category": "returns",
        "versions": {
            "en": (
                "Exchange for another size or colour",
                """Did the size not fit, or would you prefer another colour? In the returns portal choose *Exchange for another size or colour* and pick the variant you want. We only offer variants that are in stock, and we reserve the new item when your return arrives.

Exchanges are free: no return shipping and no restocking fee. We send the new item as soon as the return has been checked, usually within two working days of arrival. If the variant sells out in the meantime, we offer you a refund or store credit instead.""",
            ),
            "de": (
                "Umtausch gegen eine andere Größe oder Farbe",
                """Passt die Größe nicht oder hätten Sie lieber eine andere Farbe? Wählen Sie im Rücksendeportal *Umtausch gegen eine andere Größe oder Farbe* und die gewünschte Variante. Wir bieten nur Varianten an, die vorrätig sind, und reservieren den neuen Artikel, sobald Ihre Rücksendung eintrifft.

Der Umtausch ist kostenlos: kein Rückporto und keine Wiedereinlagerungsgebühr. Den neuen Artikel verschicken wir, sobald die Rücksendung geprüft ist, meist innerhalb von zwei Werktagen nach Eingang. Ist die Variante inzwischen ausverkauft, bieten wir Ihnen eine Erstattung oder ein Guthaben an.""",
            ),
        },
    },
    {
        "slug": "cancel-or-change-an-order",
        "category": "orders",
        "versions": {
            "en": (
                "Cancel or change an order",
                """You can cancel an order or change its delivery address within 24 hours, as long as it has not been handed to the carrier. Write to us in the chat or by email with your order number; we confirm the change straight away.

Once the parcel is on its way we can no longer stop it. You can refuse the delivery or simply return the items within 30 days of delivery – the refund is the same.

If you paid by card, a cancelled order's reservation disappears from your statement within 3–7 days; your bank decides how quickly.""",
            ),
            "de": (
                "Bestellung stornieren oder ändern",
                """Innerhalb von 24 Stunden können Sie eine Bestellung stornieren oder die Lieferadresse ändern, solange sie noch nicht an den Versanddienstleister übergeben wurde. Schreiben Sie uns im Chat oder per E-Mail mit Ihrer Bestellnummer; wir bestätigen die Änderung sofort.

Ist das Paket unterwegs, können wir es nicht mehr aufhalten. Sie können die Annahme verweigern oder die Artikel einfach innerhalb von 30 Tagen nach Zustellung zurückschicken – die Erstattung ist dieselbe.

Bei Kartenzahlung verschwindet die Reservierung einer stornierten Bestellung innerhalb von 3–7 Tagen von Ihrem Kontoauszug; wie schnell, entscheidet Ihre Bank.""",
            ),
        },
    },
    {
        "slug": "vouchers-and-store-credit",
        "category": "payment",
        "versions": {
            "en": (
                "Vouchers, gift cards and store credit",
                """Enter a voucher or gift-card code in the checkout, in the field *Discount code*. One discount code per order; gift cards and store credit can be combined with it.

**Store credit from a return** is worth 10% more than a refund and never expires. You receive the code by email when your return has been checked. If an order costs less than your credit, the rest stays on the code for your next order.""",
            ),
            "de": (
                "Gutscheine, Geschenkkarten und Guthaben",
                """Geben Sie einen Gutschein- oder Geschenkkartencode an der Kasse im Feld *Rabattcode* ein. Pro Bestellung gilt ein Rabattcode; Geschenkkarten und Guthaben lassen sich damit kombinieren.

**Guthaben aus einer Rücksendung** ist 10 % mehr wert als eine Erstattung und verfällt nicht. Den Code erhalten Sie per E-Mail, sobald Ihre Rücksendung geprüft ist. Kostet eine Bestellung weniger als Ihr Guthaben, bleibt der Rest für die nächste Bestellung auf dem Code.""",
            ),
        },
    },
    {
        "slug": "team-damage-claims",
        "category": "team",
        "visibility": "internal",
        "versions": {
            "en": (
                "Damage claims: what we decide without asking",
                """For breakage under €80 send a replacement without asking for the item back (policy `replace_without_return_below_minor`). Above that, ask for a photo of the item and the outer box, then decide.

- Refund the share of shipping when the item is sold out.
- Tag the conversation `goodwill` when you go beyond the policy.
- Never promise a carrier claim outcome; we settle with the customer first.""",
            ),
            "de": (
                "Schadensfälle: was wir ohne Rückfrage entscheiden",
                """Bei Bruch unter 80 € schicken wir Ersatz, ohne den Artikel zurückzufordern (Richtlinie `replace_without_return_below_minor`). Darüber bitten wir um ein Foto von Artikel und Karton und entscheiden dann.

- Ist der Artikel ausverkauft, erstatten wir den anteiligen Versand.
- Gehen wir über die Richtlinie hinaus, bekommt das Gespräch das Tag `goodwill`.
- Nie ein Ergebnis der Reklamation beim Versanddienstleister versprechen; wir regeln es zuerst mit dem Kunden.""",
            ),
        },
    },
]

RELATED: dict[str, list[str]] = {
    "shipping-and-delivery": ["track-your-order", "late-or-lost-parcels", "customs-and-duties"],
    "track-your-order": ["late-or-lost-parcels", "shipping-and-delivery"],
    "late-or-lost-parcels": ["track-your-order", "damaged-or-wrong-items"],
    "customs-and-duties": ["shipping-and-delivery", "returns-and-refunds"],
    "returns-and-refunds": ["exchange-size-or-colour", "damaged-or-wrong-items", "vouchers-and-store-credit"],
    "exchange-size-or-colour": ["returns-and-refunds", "size-guide"],
    "damaged-or-wrong-items": ["returns-and-refunds", "late-or-lost-parcels"],
    "size-guide": ["exchange-size-or-colour"],
    "payment-methods": ["vouchers-and-store-credit", "cancel-or-change-an-order"],
    "vouchers-and-store-credit": ["payment-methods", "returns-and-refunds"],
    "cancel-or-change-an-order": ["returns-and-refunds", "payment-methods"],
    "your-account": ["cancel-or-change-an-order"],
}


async def install(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor = SYSTEM,
    seed_articles: list[dict[str, Any]] | None = None,
) -> dict[str, int]:
    """Create the categories, file existing articles under them, add the extra articles and relations,
    and (re)build the search index. ``seed_articles``: also create these (``demo.content.ARTICLES``
    shape) when they are missing — for shops the seed did not fill."""
    shop = await get_shop(session, shop_id)
    languages = list(shop.languages)
    categories = CategoryRepository(session, shop_id)
    aliases: dict[str, str] = {}
    for position, spec in enumerate(CATEGORIES):
        names = {lang: name for lang, name in spec["names"].items() if lang in languages}
        if await categories.by_slug(spec["slug"]) is None and names:
            await service.save_category(
                session,
                shop_id=shop_id,
                actor=actor,
                shop_languages=languages,
                slug=spec["slug"],
                names=names,
                position=position,
            )
        for alias in spec["aliases"]:
            aliases[alias] = spec["slug"]
    articles = ArticleRepository(session, shop_id)
    for article in await articles.list():
        if article.category in aliases:
            article.category = aliases[article.category]
    created = 0
    for spec in [*(seed_articles or []), *ARTICLES]:
        if await articles.by_slug(spec["slug"]) is not None:
            continue
        category = aliases.get(spec["category"], spec["category"])
        versions = [(lang, tb) for lang, tb in spec["versions"].items() if lang in languages]
        if not versions:
            continue
        (first_lang, (title, body)), rest = versions[0], versions[1:]
        article = await service.create_article(
            session,
            shop_id=shop_id,
            actor=actor,
            shop_languages=languages,
            category=category,
            visibility=spec.get("visibility", "public"),
            language=first_lang,
            title=title,
            body=body,
            slug=spec["slug"],
            publish=True,
        )
        for lang, (title, body) in rest:
            await service.save_version(
                session,
                shop_id=shop_id,
                actor=actor,
                shop_languages=languages,
                article_id=article.id,
                language=lang,
                title=title,
                body=body,
                publish=True,
            )
        created += 1
    await session.flush()
    by_slug = {a.slug: a.id for a in await articles.list()}
    relations = RelationRepository(session, shop_id)
    for slug, related in RELATED.items():
        if slug in by_slug:
            await relations.replace(by_slug[slug], [by_slug[r] for r in related if r in by_slug])
    indexed = await service.reindex_shop(session, shop_id=shop_id)
    return {"categories": len(CATEGORIES), "articles_created": created, "indexed": indexed}
