"""A small customer-service thesaurus: the same idea in the eight portal languages.

It lets a query in one language find an article written in another ("visszaküldés" → "Returns and
refunds"), and catches everyday synonyms within a language ("send back" → "return"). Online shops' help
centers use a small, stable vocabulary, so a hand-written table is fast, predictable and testable; the
multilingual encoder is not used at query time (see docs/helpcenter.md, "Cross-language search").
"""

from __future__ import annotations

from functools import lru_cache

from storedesk.helpcenter.text import LANGUAGES, stem, words

# concept → language → words (the first word of each language is the one used in titles)
CONCEPTS: dict[str, dict[str, tuple[str, ...]]] = {
    "return": {
        "en": ("return", "returns", "send back", "returning"),
        "de": ("rücksendung", "retoure", "zurücksenden", "zurückschicken", "rückgabe", "widerruf"),
        "hu": ("visszaküldés", "visszaküld", "visszaküldeni", "vissza", "visszavétel", "elállás"),
        "nb": ("retur", "returnere", "sende tilbake", "angrerett"),
        "fr": ("retour", "retourner", "renvoyer", "rétractation"),
        "sv": ("retur", "returnera", "skicka tillbaka", "ångerrätt"),
        "pl": ("zwrot", "zwrócić", "odesłać", "odstąpienie"),
        "es": ("devolución", "devolver", "devuelvo", "devolverlo", "desistimiento"),
    },
    "refund": {
        "en": ("refund", "money back", "reimburse"),
        "de": ("erstattung", "rückerstattung", "geld zurück", "erstatten"),
        "hu": ("visszatérítés", "pénz vissza", "visszautalás"),
        "nb": ("refusjon", "pengene tilbake", "tilbakebetaling"),
        "fr": ("remboursement", "rembourser"),
        "sv": ("återbetalning", "pengarna tillbaka", "återbetala"),
        "pl": ("zwrot pieniędzy", "refundacja", "zwrot środków"),
        "es": ("reembolso", "reembolsar", "devolución del dinero"),
    },
    "exchange": {
        "en": ("exchange", "swap", "replace"),
        "de": ("umtausch", "umtauschen", "tauschen"),
        "hu": ("csere", "kicserél", "becserél"),
        "nb": ("bytte", "bytterett"),
        "fr": ("échange", "échanger"),
        "sv": ("byte", "byta"),
        "pl": ("wymiana", "wymienić"),
        "es": ("cambio", "cambiar"),
    },
    "shipping": {
        "en": ("shipping", "delivery", "deliver", "dispatch", "postage"),
        "de": ("versand", "lieferung", "zustellung", "liefern", "versandkosten"),
        "hu": ("szállítás", "kiszállítás", "kézbesítés", "szállítási díj"),
        "nb": ("frakt", "levering", "forsendelse", "fraktkostnad"),
        "fr": ("livraison", "expédition", "envoi", "frais de port"),
        "sv": ("frakt", "leverans", "leverera", "fraktkostnad"),
        "pl": ("dostawa", "wysyłka", "przesyłka", "koszt dostawy"),
        "es": ("envío", "entrega", "gastos de envío"),
    },
    "tracking": {
        "en": ("tracking", "track", "parcel", "package", "where is my order"),
        "de": ("sendungsverfolgung", "sendungsnummer", "paket", "wo ist meine bestellung"),
        "hu": ("nyomkövetés", "csomag", "követés", "hol van a rendelésem"),
        "nb": ("sporing", "spore", "pakke", "sendingsnummer"),
        "fr": ("suivi", "colis", "numéro de suivi", "où est ma commande"),
        "sv": ("spårning", "spåra", "paket", "kollinummer"),
        "pl": ("śledzenie", "paczka", "numer przesyłki", "gdzie jest moje zamówienie"),
        "es": ("seguimiento", "paquete", "número de seguimiento", "dónde está mi pedido"),
    },
    "late": {
        "en": ("late", "delay", "delayed", "not arrived", "lost"),
        "de": ("verspätung", "verspätet", "nicht angekommen", "verloren"),
        "hu": ("késés", "késik", "nem érkezett meg", "elveszett"),
        "nb": ("forsinket", "forsinkelse", "ikke kommet", "mistet"),
        "fr": ("retard", "en retard", "pas arrivé", "perdu"),
        "sv": ("försenad", "försening", "inte kommit", "borttappad"),
        "pl": ("opóźnienie", "opóźniona", "nie dotarła", "zagubiona"),
        "es": ("retraso", "retrasado", "no ha llegado", "perdido"),
    },
    "payment": {
        "en": ("payment", "pay", "card", "paypal", "klarna", "charge"),
        "de": ("zahlung", "bezahlen", "zahlungsart", "karte", "abbuchung"),
        "hu": ("fizetés", "fizetni", "fizetési mód", "kártya", "terhelés"),
        "nb": ("betaling", "betale", "betalingsmåte", "kort", "vipps"),
        "fr": ("paiement", "payer", "moyen de paiement", "carte", "débit"),
        "sv": ("betalning", "betala", "betalsätt", "kort", "swish"),
        "pl": ("płatność", "zapłacić", "metoda płatności", "karta", "blik"),
        "es": ("pago", "pagar", "método de pago", "tarjeta", "bizum"),
    },
    "invoice": {
        "en": ("invoice", "receipt", "vat"),
        "de": ("rechnung", "quittung", "mehrwertsteuer"),
        "hu": ("számla", "nyugta", "áfa"),
        "nb": ("faktura", "kvittering", "mva"),
        "fr": ("facture", "reçu", "tva"),
        "sv": ("faktura", "kvitto", "moms"),
        "pl": ("faktura", "paragon", "vat"),
        "es": ("factura", "recibo", "iva"),
    },
    "cancel": {
        "en": ("cancel", "cancellation", "change order"),
        "de": ("stornieren", "stornierung", "bestellung ändern"),
        "hu": ("lemondás", "lemondani", "törlés", "rendelés módosítása"),
        "nb": ("kansellere", "avbestille", "endre bestilling"),
        "fr": ("annuler", "annulation", "modifier la commande"),
        "sv": ("avbeställa", "avbryta", "ändra beställning"),
        "pl": ("anulować", "anulowanie", "zmiana zamówienia"),
        "es": ("cancelar", "cancelación", "modificar pedido"),
    },
    "size": {
        "en": ("size", "size guide", "fit", "measurements"),
        "de": ("größe", "größentabelle", "passform", "maße"),
        "hu": ("méret", "mérettáblázat", "szabás", "méretek"),
        "nb": ("størrelse", "størrelsesguide", "passform", "mål"),
        "fr": ("taille", "guide des tailles", "coupe", "mesures"),
        "sv": ("storlek", "storleksguide", "passform", "mått"),
        "pl": ("rozmiar", "tabela rozmiarów", "krój", "wymiary"),
        "es": ("talla", "guía de tallas", "medidas", "tamaño"),
    },
    "account": {
        "en": ("account", "customer account", "login", "sign in", "profile"),
        "de": ("kundenkonto", "konto", "anmelden", "einloggen", "profil"),
        "hu": ("fiók", "ügyfélfiók", "bejelentkezés", "profil"),
        "nb": ("konto", "kundekonto", "logge inn", "profil"),
        "fr": ("compte", "compte client", "connexion", "profil"),
        "sv": ("konto", "kundkonto", "logga in", "profil"),
        "pl": ("konto", "konto klienta", "logowanie", "profil"),
        "es": ("cuenta", "cuenta de cliente", "iniciar sesión", "perfil"),
    },
    "password": {
        "en": ("password", "forgot password", "reset password"),
        "de": ("passwort", "kennwort", "passwort vergessen"),
        "hu": ("jelszó", "elfelejtett jelszó", "jelszavam"),
        "nb": ("passord", "glemt passord"),
        "fr": ("mot de passe", "mot de passe oublié"),
        "sv": ("lösenord", "glömt lösenord"),
        "pl": ("hasło", "zapomniane hasło", "nie pamiętam hasła"),
        "es": ("contraseña", "olvidé mi contraseña"),
    },
    "damaged": {
        "en": ("damaged", "broken", "faulty", "defective", "wrong item"),
        "de": ("beschädigt", "kaputt", "defekt", "fehlerhaft", "falscher artikel"),
        "hu": ("sérült", "törött", "hibás", "rossz termék"),
        "nb": ("skadet", "ødelagt", "defekt", "feil vare"),
        "fr": ("endommagé", "cassé", "défectueux", "mauvais article"),
        "sv": ("skadad", "trasig", "defekt", "fel vara"),
        "pl": ("uszkodzony", "zepsuty", "wadliwy", "zły produkt"),
        "es": ("dañado", "roto", "defectuoso", "artículo equivocado"),
    },
    "discount": {
        "en": ("discount", "voucher", "coupon", "promo code", "gift card", "store credit"),
        "de": ("rabatt", "gutschein", "rabattcode", "geschenkkarte", "guthaben"),
        "hu": ("kedvezmény", "kupon", "kuponkód", "ajándékkártya", "jóváírás"),
        "nb": ("rabatt", "gavekort", "rabattkode", "tilgodelapp"),
        "fr": ("réduction", "bon de réduction", "code promo", "carte cadeau", "avoir"),
        "sv": ("rabatt", "presentkort", "rabattkod", "tillgodokvitto"),
        "pl": ("rabat", "kupon", "kod rabatowy", "karta podarunkowa", "bon"),
        "es": ("descuento", "cupón", "código promocional", "tarjeta regalo", "vale"),
    },
    "address": {
        "en": ("address", "change address", "shipping address"),
        "de": ("adresse", "lieferadresse", "anschrift"),
        "hu": ("cím", "szállítási cím", "lakcím"),
        "nb": ("adresse", "leveringsadresse"),
        "fr": ("adresse", "adresse de livraison"),
        "sv": ("adress", "leveransadress"),
        "pl": ("adres", "adres dostawy"),
        "es": ("dirección", "dirección de envío"),
    },
    "customs": {
        "en": ("customs", "duties", "import tax"),
        "de": ("zoll", "einfuhrabgaben", "zollgebühren"),
        "hu": ("vám", "vámkezelés", "vámdíj"),
        "nb": ("toll", "avgifter", "tollgebyr"),
        "fr": ("douane", "droits de douane", "frais de douane"),
        "sv": ("tull", "tullavgift", "importavgift"),
        "pl": ("cło", "odprawa celna", "opłaty celne"),
        "es": ("aduana", "aranceles", "impuestos de importación"),
    },
    "contact": {
        "en": ("contact", "customer service", "support", "phone"),
        "de": ("kontakt", "kundenservice", "kundendienst", "telefon"),
        "hu": ("kapcsolat", "ügyfélszolgálat", "telefon"),
        "nb": ("kontakt", "kundeservice", "telefon"),
        "fr": ("contact", "service client", "téléphone"),
        "sv": ("kontakt", "kundtjänst", "telefon"),
        "pl": ("kontakt", "obsługa klienta", "telefon"),
        "es": ("contacto", "atención al cliente", "teléfono"),
    },
    "stock": {
        "en": ("stock", "sold out", "back in stock", "availability"),
        "de": ("lager", "ausverkauft", "wieder verfügbar", "verfügbarkeit"),
        "hu": ("készlet", "elfogyott", "újra kapható", "elérhetőség"),
        "nb": ("lager", "utsolgt", "tilbake på lager", "tilgjengelighet"),
        "fr": ("stock", "épuisé", "de retour en stock", "disponibilité"),
        "sv": ("lager", "slutsåld", "åter i lager", "tillgänglighet"),
        "pl": ("magazyn", "wyprzedany", "ponownie dostępny", "dostępność"),
        "es": ("stock", "agotado", "disponible de nuevo", "disponibilidad"),
    },
    "warranty": {
        "en": ("warranty", "guarantee", "complaint"),
        "de": ("garantie", "gewährleistung", "reklamation"),
        "hu": ("garancia", "jótállás", "reklamáció", "panasz"),
        "nb": ("garanti", "reklamasjon", "klage"),
        "fr": ("garantie", "réclamation", "plainte"),
        "sv": ("garanti", "reklamation", "klagomål"),
        "pl": ("gwarancja", "reklamacja", "rękojmia"),
        "es": ("garantía", "reclamación", "queja"),
    },
}


@lru_cache(maxsize=1)
def _index() -> dict[str, frozenset[str]]:
    """(folded light stem of a single word) → concepts, over every language's words."""
    index: dict[str, set[str]] = {}
    for concept, by_language in CONCEPTS.items():
        for language, phrases in by_language.items():
            for phrase in phrases:
                parts = words(phrase)
                if len(parts) == 1:
                    index.setdefault(stem(parts[0], language), set()).add(concept)
    return {key: frozenset(value) for key, value in index.items()}


@lru_cache(maxsize=1)
def _phrases() -> list[tuple[tuple[str, ...], str]]:
    """Multi-word phrases as folded word tuples → concept ("send back", "où est ma commande")."""
    out: list[tuple[tuple[str, ...], str]] = []
    for concept, by_language in CONCEPTS.items():
        for language, phrases in by_language.items():
            for phrase in phrases:
                parts = words(phrase)
                if len(parts) > 1:
                    out.append((tuple(stem(p, language) for p in parts), concept))
    return out


def concepts_for_word(word: str, language: str | None = None) -> frozenset[str]:
    """The concepts ``word`` stands for (in ``language`` first; any language when nothing matches)."""
    index = _index()
    if language in LANGUAGES:
        found = index.get(stem(word, language))
        if found:
            return found
    out: set[str] = set()
    for lang in LANGUAGES:
        out |= index.get(stem(word, lang), frozenset())
    return frozenset(out)


def concepts_for_query(query_words: list[str], language: str | None = None) -> set[str]:
    found: set[str] = set()
    for word in query_words:
        found |= concepts_for_word(word, language)
    if len(query_words) > 1:
        langs = [language] if language in LANGUAGES else list(LANGUAGES)
        stems = {lang: [stem(w, lang) for w in query_words] for lang in langs if lang}
        for phrase, concept in _phrases():
            for seq in stems.values():
                if _contains(seq, phrase):
                    found.add(concept)
    return found


def _contains(seq: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(seq[i : i + n]) == phrase for i in range(len(seq) - n + 1))


def expansion(concepts: set[str], language: str) -> list[str]:
    """Single words for ``concepts`` in ``language`` (headword first). Words that only occur inside
    phrases ("send back", "où est ma commande") are left out: alone they match too much."""
    out: list[str] = []
    for concept in sorted(concepts):
        for phrase in CONCEPTS[concept].get(language, ()):
            parts = words(phrase)
            if len(parts) == 1 and parts[0] not in out and len(parts[0]) > 2:
                out.append(parts[0])
    return out
