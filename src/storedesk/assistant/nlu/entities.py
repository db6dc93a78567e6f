"""Entity extraction: order number, email, phone, tracking number (+ carrier), product (fuzzy match
against the shop's catalogue), sizes and colours (multilingual vocabularies)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

DEFAULT_ORDER_PATTERN = r"SD-\d{3,10}|\d{4,6}"

# --- order numbers ---------------------------------------------------------------------------------

_ORDER_KEYWORDS = [
    # en
    "order number",
    "order no",
    "order nr",
    "order",
    "purchase",
    "reference",
    "ref",
    "no",
    "nr",
    "num",
    # de
    "bestellnummer",
    "bestellung",
    "bestell-nr",
    "auftragsnummer",
    "auftrag",
    "nummer",
    # hu
    "rendelésszám",
    "rendelésszámom",
    "rendelési szám",
    "rendelés",
    "rendelésem",
    "rendelésemet",
    "rendelést",
    "rendelésről",
    "rendelésnek",
    "rendelés száma",
    "sz",
    "számú",
    "szám",
    # nb / da
    "ordrenummer",
    "ordrenr",
    "ordre",
    "bestillingsnummer",
    "bestillingsnr",
    "bestilling",
    "bestillingen",
    # fr
    "numéro de commande",
    "n° de commande",
    "commande",
    "n°",
    "no de commande",
    # sv
    "ordernummer",
    "ordernr",
    "beställningsnummer",
    "beställning",
    "beställningen",
    # pl
    "numer zamówienia",
    "nr zamówienia",
    "zamówienie",
    "zamówienia",
    "zamówieniu",
    "zamówieniem",
    # es / it / nl
    "número de pedido",
    "nº de pedido",
    "pedido",
    "nº",
    "numero d'ordine",
    "ordine",
    "bestelling",
    "bestelnummer",
]
_CURRENCY_AFTER = re.compile(
    r"^\s?(?:€|eur|euro|euros|kr|kroner|kronor|nok|sek|dkk|ft|huf|forint|zł|zl|pln|złotych|\$|usd|£|gbp|%|"
    r"cm|mm|km|kg|g|ml|l|x|mah|w|gb|tb|rpm)(?!\w)",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(?:€|\$|£|eur|kr|usd|gbp)\s?$", re.IGNORECASE)
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def _fold(text: str) -> str:
    return text.lower()


@lru_cache(maxsize=64)
def _order_regex(pattern: str) -> re.Pattern[str]:
    # the number must not be glued to other word characters; a Hungarian case suffix ("48213-as")
    # or a trailing full stop is fine
    return re.compile(rf"(?<![\w+/@-])(?:{pattern})(?![\w@])(?!-\d)(?!\.\d)", re.IGNORECASE)


_KEYWORD_BEFORE = re.compile(
    r"(?:"
    + "|".join(re.escape(k) for k in sorted(_ORDER_KEYWORDS, key=len, reverse=True))
    + r")\.?\s*(?:#|:|-|nr\.?|no\.?|n°|nº|number|nummer|számú)?\s*(?:#|:)?\s*$",
    re.IGNORECASE,
)
_KEYWORD_AFTER = re.compile(
    r"^(?:-?\w{0,3})?\s*(?:számú|sz\.|rendelés|ordre|bestilling|order|beställning|zamówienie)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    value: str


def _order_candidates(text: str, pattern: str, blocked: list[tuple[int, int]]) -> list[tuple[int, Span]]:
    out: list[tuple[int, Span]] = []
    for m in _order_regex(pattern).finditer(text):
        s, e = m.start(), m.end()
        if any(s < be and bs < e for bs, be in blocked):
            continue
        raw = m.group(0)
        before = text[max(0, s - 40) : s]
        after = text[e : e + 16]
        score = 0
        if any(ch.isalpha() for ch in raw) and any(ch.isdigit() for ch in raw):
            score += 3
        if before.endswith("#") or _KEYWORD_BEFORE.search(before):
            score += 3
        if _KEYWORD_AFTER.search(after):
            score += 2
        if _CURRENCY_AFTER.search(after) or _CURRENCY_BEFORE.search(before):
            score -= 6
        digits = raw.lstrip("#")
        if _YEAR.match(digits) and score < 3:
            score -= 4
        if re.search(r"\d[.,]$", before):  # decimal part of an amount
            score -= 6
        if score >= 0:
            value = raw.lstrip("#").upper()
            out.append((score, Span(s, e, value)))
    return out


# --- tracking numbers ------------------------------------------------------------------------------

_TRACKING_KEYWORDS = re.compile(
    r"(?:tracking|track|trace|sendungsnummer|sendungsverfolgung|paketnummer|trackingnummer|"
    r"sporingsnummer|sporing|sendingsnummer|kollinummer|forsendelsesnummer|pakkenummer|"
    r"nyomkövetési|nyomkövetés|csomagszám|suivi|spårningsnummer|spårning|sändningsnummer|kolli-id|"
    r"przesyłki|śledzenia|seguimiento|tracciamento|zendingnummer|trackingcode|track\s*&\s*trace|"
    r"waybill|awb|fuldmagt)",
    re.IGNORECASE,
)

_S10_COUNTRY_CARRIER = {
    "NO": "Posten Norge",
    "SE": "PostNord",
    "DK": "PostNord",
    "DE": "Deutsche Post",
    "HU": "Magyar Posta",
    "PL": "Poczta Polska",
    "FR": "La Poste",
    "ES": "Correos",
    "GB": "Royal Mail",
    "US": "USPS",
    "NL": "PostNL",
    "IT": "Poste Italiane",
    "CN": "China Post",
}

# (regex, carrier, needs a tracking keyword nearby)
_TRACKING_FORMATS: list[tuple[re.Pattern[str], str | None, bool]] = [
    (re.compile(r"\b1Z[0-9A-Z]{16}\b"), "UPS", False),
    (re.compile(r"\b[A-Z]{2}\d{9}[A-Z]{2}\b"), "S10", False),
    (re.compile(r"\b9[1-5]\d{20}\b"), "USPS", False),
    (re.compile(r"\b00(?:3|4)\d{17}\b"), "DHL", False),  # 20-digit SSCC-style parcel labels
    (re.compile(r"\b\d{24}\b"), "InPost", False),
    (re.compile(r"\bJJD\d{18}\b"), "DHL", False),
    (re.compile(r"\b\d{14}\b"), "DPD", True),
    (re.compile(r"\b\d{10}\b"), "DHL Express", True),
    (re.compile(r"\b(?:\d{12}|\d{15})\b"), "FedEx", True),
    (re.compile(r"\b\d{11}\b"), "GLS", True),
    (re.compile(r"\b(?=[A-Z0-9]*\d{6})[A-Z0-9]{10,30}\b"), None, True),
]


def _find_tracking(text: str) -> tuple[Span, str | None] | None:
    upper = text.upper()
    has_kw = _TRACKING_KEYWORDS.search(text) is not None
    for rx, carrier, needs_kw in _TRACKING_FORMATS:
        if needs_kw and not has_kw:
            continue
        m = rx.search(upper)
        if m is None:
            continue
        value = m.group(0)
        if carrier == "S10":
            carrier = _S10_COUNTRY_CARRIER.get(value[-2:])
        return Span(m.start(), m.end(), value), carrier
    return None


# --- email / phone ---------------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

PHONE_REGIONS: dict[str, str] = {
    "en": "GB",
    "de": "DE",
    "hu": "HU",
    "nb": "NO",
    "fr": "FR",
    "sv": "SE",
    "pl": "PL",
    "es": "ES",
    "da": "DK",
    "nl": "NL",
    "it": "IT",
}


def _find_phone(text: str, region: str, blocked: list[tuple[int, int]]) -> Span | None:
    for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        if any(m.start < be and bs < m.end for bs, be in blocked):
            continue
        e164 = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
        return Span(m.start, m.end, e164)
    return None


# --- sizes -----------------------------------------------------------------------------------------

_SIZE_VALUE = r"(?:XXXS|XXS|XS|S|M|L|XL|XXL|XXXL|[2-5]XL|\d{2}(?:[.,]5)?|\d{1,2}/\d{1,2})"
_SIZE_WORDS = {
    "small": "S",
    "medium": "M",
    "large": "L",
    "klein": "S",
    "mittel": "M",
    "groß": "L",
    "gross": "L",
    "petite": "S",
    "moyenne": "M",
    "grande": "L",
    "liten": "S",
    "stor": "L",
    "mediano": "M",
    "pequeña": "S",
    "pequeño": "S",
    "kicsi": "S",
    "közepes": "M",
    "nagy": "L",
}
_SIZE_KEYWORDS = (
    r"(?:size|sz|größe|grösse|gr|méret\w*|str|størrelse|storlek|strl|taille|rozmiar\w*|rozm|talla|"
    r"taglia|maat|numéro|nummer|number|númer)"
)
_SIZE_AFTER_KW = re.compile(
    rf"\b{_SIZE_KEYWORDS}\.?\s*:?\s*(?P<v>{_SIZE_VALUE}|"
    + "|".join(sorted(_SIZE_WORDS, key=len, reverse=True))
    + r")(?![\w/])",
    re.IGNORECASE,
)
_SIZE_BEFORE_KW = re.compile(
    rf"(?<![\w/])(?P<v>{_SIZE_VALUE})(?:-?(?:es|as|os|ös|ás|és|s))?\s+(?:méret\w*|size|storlek|størrelse)",
    re.IGNORECASE,
)
_SIZE_STANDALONE = re.compile(r"(?<![\w/-])(?P<v>XXXS|XXS|XS|XL|XXL|XXXL|[2-5]XL)(?![\w/])")
_SIZE_PREP = re.compile(
    r"\b(?:in|to|into|i|en|w|na|auf|zu|til|till|à|a|para|per|van|naar|zur|in die|in der)\s+(?P<v>[SML])(?![\w'’])"
)
_SIZE_SUFFIX_HU = re.compile(r"(?<![\w/])(?P<v>XXL|XL|XS|S|M|L)-(?:es|as|os|ös|ás|és|re|ra|et|t)\b")


def _norm_size(v: str) -> str:
    low = v.lower()
    if low in _SIZE_WORDS:
        return _SIZE_WORDS[low]
    return v.upper().replace(",", ".")


def _find_sizes(text: str, blocked: list[tuple[int, int]]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for rx in (_SIZE_AFTER_KW, _SIZE_BEFORE_KW, _SIZE_STANDALONE, _SIZE_PREP, _SIZE_SUFFIX_HU):
        for m in rx.finditer(text):
            s = m.start("v")
            if any(bs <= s < be for bs, be in blocked):
                continue
            found.append((s, _norm_size(m.group("v"))))
    return found


# --- colours ---------------------------------------------------------------------------------------

_COLOUR_EXACT: dict[str, dict[str, str]] = {
    "en": {
        "black": "black",
        "white": "white",
        "red": "red",
        "blue": "blue",
        "green": "green",
        "yellow": "yellow",
        "grey": "grey",
        "gray": "grey",
        "brown": "brown",
        "pink": "pink",
        "purple": "purple",
        "orange": "orange",
        "beige": "beige",
        "navy": "navy",
        "silver": "silver",
        "gold": "gold",
        "dark blue": "navy",
        "light blue": "blue",
    },
    "fr": {
        **{w: "black" for w in ("noir", "noire", "noirs", "noires")},
        **{w: "white" for w in ("blanc", "blanche", "blancs", "blanches")},
        **{w: "red" for w in ("rouge", "rouges")},
        **{w: "blue" for w in ("bleu", "bleue", "bleus", "bleues")},
        **{w: "green" for w in ("vert", "verte", "verts", "vertes")},
        **{w: "yellow" for w in ("jaune", "jaunes")},
        **{w: "grey" for w in ("gris", "grise", "grises")},
        "marron": "brown",
        "rose": "pink",
        "roses": "pink",
        "violet": "purple",
        "violette": "purple",
        "orange": "orange",
        "beige": "beige",
        "bleu marine": "navy",
        "argent": "silver",
        "argenté": "silver",
        "doré": "gold",
        "dorée": "gold",
    },
    "es": {
        **{w: "black" for w in ("negro", "negra", "negros", "negras")},
        **{w: "white" for w in ("blanco", "blanca", "blancos", "blancas")},
        **{w: "red" for w in ("rojo", "roja", "rojos", "rojas")},
        "azul": "blue",
        "azules": "blue",
        "verde": "green",
        "verdes": "green",
        "amarillo": "yellow",
        "amarilla": "yellow",
        "gris": "grey",
        "grises": "grey",
        "marrón": "brown",
        "marron": "brown",
        "rosa": "pink",
        "rosado": "pink",
        "rosada": "pink",
        "morado": "purple",
        "morada": "purple",
        "naranja": "orange",
        "beige": "beige",
        "azul marino": "navy",
        "plateado": "silver",
        "plateada": "silver",
        "dorado": "gold",
        "dorada": "gold",
    },
    "it": {
        **{w: "black" for w in ("nero", "nera", "neri", "nere")},
        **{w: "white" for w in ("bianco", "bianca", "bianchi", "bianche")},
        **{w: "red" for w in ("rosso", "rossa", "rossi", "rosse")},
        "blu": "blue",
        "azzurro": "blue",
        "azzurra": "blue",
        "verde": "green",
        "verdi": "green",
        "giallo": "yellow",
        "gialla": "yellow",
        "grigio": "grey",
        "grigia": "grey",
        "marrone": "brown",
        "rosa": "pink",
        "viola": "purple",
        "arancione": "orange",
        "beige": "beige",
        "argento": "silver",
        "oro": "gold",
    },
    "nl": {
        "zwart": "black",
        "zwarte": "black",
        "wit": "white",
        "witte": "white",
        "rood": "red",
        "rode": "red",
        "blauw": "blue",
        "blauwe": "blue",
        "groen": "green",
        "groene": "green",
        "geel": "yellow",
        "gele": "yellow",
        "grijs": "grey",
        "grijze": "grey",
        "bruin": "brown",
        "bruine": "brown",
        "roze": "pink",
        "paars": "purple",
        "paarse": "purple",
        "oranje": "orange",
        "beige": "beige",
        "marineblauw": "navy",
        "zilver": "silver",
        "goud": "gold",
    },
    "de": {"pink": "pink", "gold": "gold", "marineblau": "navy", "dunkelblau": "navy", "navy": "navy"},
    "nb": {"gull": "gold", "marineblå": "navy", "mørkeblå": "navy", "sølv": "silver"},
    "da": {"guld": "gold", "marineblå": "navy", "mørkeblå": "navy", "sølv": "silver", "lyserød": "pink"},
    "sv": {"guld": "gold", "marinblå": "navy", "mörkblå": "navy", "silver": "silver"},
    "pl": {"granatowy": "navy", "granatowa": "navy", "granatowe": "navy"},
    "hu": {"sötétkék": "navy", "tengerészkék": "navy"},
}
# stems that take inflection endings (up to ``_STEM_SLACK`` extra letters)
_COLOUR_STEMS: dict[str, dict[str, str]] = {
    "de": {
        "schwarz": "black",
        "weiß": "white",
        "weiss": "white",
        "rot": "red",
        "blau": "blue",
        "grün": "green",
        "gelb": "yellow",
        "grau": "grey",
        "braun": "brown",
        "rosa": "pink",
        "lila": "purple",
        "orange": "orange",
        "beige": "beige",
        "silber": "silver",
    },
    "nb": {
        "svart": "black",
        "hvit": "white",
        "rød": "red",
        "blå": "blue",
        "grønn": "green",
        "gul": "yellow",
        "grå": "grey",
        "brun": "brown",
        "rosa": "pink",
        "lilla": "purple",
        "oransje": "orange",
        "beige": "beige",
    },
    "da": {
        "sort": "black",
        "hvid": "white",
        "rød": "red",
        "blå": "blue",
        "grøn": "green",
        "gul": "yellow",
        "grå": "grey",
        "brun": "brown",
        "rosa": "pink",
        "lilla": "purple",
        "orange": "orange",
    },
    "sv": {
        "svart": "black",
        "vit": "white",
        "röd": "red",
        "blå": "blue",
        "grön": "green",
        "gul": "yellow",
        "grå": "grey",
        "brun": "brown",
        "rosa": "pink",
        "lila": "purple",
        "orange": "orange",
        "beige": "beige",
    },
    "pl": {
        "czarn": "black",
        "biał": "white",
        "czerwon": "red",
        "niebiesk": "blue",
        "zielon": "green",
        "żółt": "yellow",
        "szar": "grey",
        "brązow": "brown",
        "różow": "pink",
        "fioletow": "purple",
        "pomarańczow": "orange",
        "beżow": "beige",
        "srebrn": "silver",
    },
    "hu": {
        "feket": "black",
        "fehér": "white",
        "piros": "red",
        "vörös": "red",
        "kék": "blue",
        "zöld": "green",
        "sárg": "yellow",
        "szürk": "grey",
        "barn": "brown",
        "rózsaszín": "pink",
        "lil": "purple",
        "narancs": "orange",
        "bézs": "beige",
        "ezüst": "silver",
    },
}
_STEM_SLACK = {"pl": 4, "hu": 4, "de": 3, "nb": 2, "da": 2, "sv": 2}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _find_colours(text: str, language: str) -> list[tuple[int, str]]:
    langs = [language, "en"] if language != "en" else ["en"]
    words = [(m.start(), m.group(0).lower()) for m in _WORD.finditer(text)]
    found: list[tuple[int, str]] = []
    taken: set[int] = set()
    for lang in langs:
        exact = _COLOUR_EXACT.get(lang, {})
        # two-word colours first ("bleu marine", "dark blue")
        for i in range(len(words) - 1):
            pair = f"{words[i][1]} {words[i + 1][1]}"
            if pair in exact and i not in taken:
                found.append((words[i][0], exact[pair]))
                taken.update({i, i + 1})
        for i, (pos, w) in enumerate(words):
            if i in taken:
                continue
            if w in exact:
                found.append((pos, exact[w]))
                taken.add(i)
                continue
            stems = _COLOUR_STEMS.get(lang, {})
            slack = _STEM_SLACK.get(lang, 0)
            for stem, canon in stems.items():
                if w.startswith(stem) and len(w) - len(stem) <= slack:
                    found.append((pos, canon))
                    taken.add(i)
                    break
    return found


# --- products --------------------------------------------------------------------------------------


def match_product(text: str, catalogue: Sequence[str], cutoff: float = 85.0) -> tuple[str, float] | None:
    """Best catalogue entry fuzzily present in ``text`` (word windows scored with ``fuzz.ratio``)."""
    if not catalogue:
        return None
    words = default_process(text).split()
    if not words:
        return None
    names = [default_process(c) for c in catalogue]
    best: tuple[float, int, int] | None = None  # (score, name length, index)
    by_len: dict[int, list[int]] = {}
    for i, n in enumerate(names):
        if n:
            by_len.setdefault(len(n.split()), []).append(i)
    for k, idxs in by_len.items():
        sizes = {max(1, k - 1), k, k + 1}
        windows = [" ".join(words[i : i + s]) for s in sizes for i in range(0, max(1, len(words) - s + 1))]
        scores = process.cdist(
            [names[i] for i in idxs], windows, scorer=fuzz.ratio, score_cutoff=cutoff, workers=1
        )
        for row, i in enumerate(idxs):
            sc = float(scores[row].max())
            if sc >= cutoff:
                cand = (sc, len(names[i]), -i)
                if best is None or cand > (best[0], best[1], -best[2]):
                    best = (sc, len(names[i]), i)
    if best is None:
        return None
    return catalogue[best[2]], best[0]


# --- public entry point ----------------------------------------------------------------------------


def extract_entities(
    text: str,
    *,
    language: str = "en",
    catalogue: Sequence[str] | None = None,
    order_pattern: str | None = None,
    phone_region: str | None = None,
) -> dict[str, Any]:
    """Entities found in ``text``; keys are present only when something was found:

    ``order_number`` (str, without ``#``), ``email``, ``phone`` (E.164), ``tracking_number`` and
    ``carrier``, ``product`` (the catalogue entry), ``sizes`` and ``colours`` (lists, in order of
    mention; colours as English names)."""
    text = unicodedata.normalize("NFC", text)
    out: dict[str, Any] = {}
    blocked: list[tuple[int, int]] = []
    for m in _EMAIL.finditer(text):
        out.setdefault("email", m.group(0).rstrip("."))
        blocked.append((m.start(), m.end()))
    tracking = _find_tracking(text)
    if tracking is not None:
        span, carrier = tracking
        out["tracking_number"] = span.value
        if carrier:
            out["carrier"] = carrier
        blocked.append((span.start, span.end))
    cands = _order_candidates(text, order_pattern or DEFAULT_ORDER_PATTERN, blocked)
    if cands:
        _score, span = max(cands, key=lambda c: (c[0], -c[1].start))
        out["order_number"] = span.value
        blocked.append((span.start, span.end))
    region = phone_region or PHONE_REGIONS.get(language, "GB")
    phone = _find_phone(text, region, blocked)
    if phone is not None:
        out["phone"] = phone.value
        blocked.append((phone.start, phone.end))
    if catalogue:
        hit = match_product(text, catalogue)
        if hit is not None:
            out["product"] = hit[0]
    sizes = _find_sizes(text, blocked)
    if sizes:
        seen: list[str] = []
        for _, v in sorted(sizes):
            if v not in seen:
                seen.append(v)
        out["sizes"] = seen
    colours = _find_colours(text, language)
    if colours:
        seen_c: list[str] = []
        for _, v in sorted(colours):
            if v not in seen_c:
                seen_c.append(v)
        out["colours"] = seen_c
    return out
