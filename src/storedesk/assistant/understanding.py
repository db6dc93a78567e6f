"""Small pure helpers around the NLU: yes/no answers, angry tone, postal addresses."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from storedesk.assistant.templates import NO, YES
from storedesk.commerce.connectors.protocol import ZIP_OPTIONAL_COUNTRIES

_PUNCT = re.compile(r"[^\w\s'’-]+", re.UNICODE)
ALL_YES = frozenset().union(*YES.values())
ALL_NO = frozenset().union(*NO.values())
# words that by themselves are too weak to be an answer when they start a longer message
WEAK = frozenset({"ok", "okay", "right", "not", "pas", "inte", "ikke", "nicht", "bitte", "y", "n", "ne"})


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no (any of the assistant's languages), None for anything else."""
    clean = " ".join(_PUNCT.sub(" ", unicodedata.normalize("NFC", text).lower().replace("’", "'")).split())
    if not clean:
        return None
    words = clean.split()
    if clean in ALL_NO:
        return False
    if clean in ALL_YES:
        return True
    if len(words) > 12:
        return None
    for n in (3, 2, 1):
        head = " ".join(words[:n])
        if len(words) >= n and head not in WEAK:
            if head in ALL_NO:
                return False
            if head in ALL_YES:
                return True
    return None


ANGRY: dict[str, tuple[str, ...]] = {
    "en": ("ridiculous", "unacceptable", "disgrace", "furious", "scam", "worst", "joke", "fed up", "pathetic",
           "useless", "never again", "lawyer", "rip off", "rip-off", "angry", "outraged", "disgusting"),
    "de": ("unverschämt", "frechheit", "inakzeptabel", "skandal", "betrug", "sauer", "wütend", "lächerlich",
           "nie wieder", "anwalt", "zumutung", "katastrophe", "unmöglich", "abzocke"),
    "hu": ("felháborító", "elfogadhatatlan", "botrány", "csalás", "dühös", "nevetséges", "soha többé",
           "ügyvéd", "pofátlan", "katasztrófa"),
    "nb": ("uakseptabelt", "skandale", "svindel", "sint", "latterlig", "aldri igjen", "advokat", "elendig",
           "forbanna", "katastrofe"),
    "fr": ("inadmissible", "inacceptable", "scandale", "arnaque", "furieux", "furieuse", "ridicule",
           "plus jamais", "avocat", "honteux", "lamentable", "n'importe quoi"),
    "sv": ("oacceptabelt", "skandal", "bedrägeri", "arg", "förbannad", "löjligt", "aldrig igen", "advokat",
           "bedrövligt", "katastrof"),
    "pl": ("skandal", "niedopuszczalne", "oszustwo", "wściekły", "wściekła", "żenujące", "nigdy więcej",
           "prawnik", "kpina", "porażka", "absurd"),
    "es": ("inaceptable", "vergüenza", "estafa", "furioso", "furiosa", "ridículo", "nunca más", "abogado",
           "indignante", "lamentable", "harto", "harta"),
}  # fmt: skip


def angry(text: str, language: str) -> list[str]:
    """The signals that a message is angry (empty when it is not)."""
    low = unicodedata.normalize("NFC", text).lower()
    found = [w for w in ANGRY.get(language, ()) + ANGRY["en"] if re.search(r"(?<!\w)" + re.escape(w), low)]
    signals = [f"word:{w}" for w in dict.fromkeys(found)]
    words = re.findall(r"[^\W\d_]{3,}", text)
    if len(words) >= 3 and sum(w.isupper() for w in words) >= 3:
        signals.append("caps")
    if "!!!" in text or "?!?" in text:
        signals.append("exclamations")
    # one angry word alone is a complaint; a word with shouting, or two words, is anger
    return signals if (len(found) >= 2 or (found and len(signals) > len(found)) or len(signals) >= 2) else []


COUNTRIES = {
    "DE": ("germany", "deutschland", "allemagne", "alemania", "niemcy", "tyskland", "németország"),
    "AT": ("austria", "österreich", "autriche", "austria", "ausztria", "østerrike", "österrike"),
    "HU": ("hungary", "magyarország", "ungarn", "hongrie", "hungría", "węgry"),
    "NO": ("norway", "norge", "norwegen", "norvège", "noruega", "norwegia", "norvégia"),
    "SE": ("sweden", "sverige", "schweden", "suède", "suecia", "szwecja", "svédország"),
    "FR": ("france", "frankreich", "francia", "francja", "franciaország", "frankrike"),
    "PL": ("poland", "polska", "polen", "pologne", "polonia", "lengyelország"),
    "ES": ("spain", "españa", "spanien", "espagne", "hiszpania", "spanyolország"),
    "GB": ("united kingdom", "uk", "england", "great britain", "vereinigtes königreich", "royaume-uni"),
    "US": ("united states", "usa", "us"),
    "DK": ("denmark", "danmark", "dänemark"),
    "NL": ("netherlands", "nederland", "niederlande", "pays-bas", "holland"),
    "IE": ("ireland", "éire", "eire", "irland", "irlande", "irlanda", "irlandia", "írország"),
    "CA": ("canada", "kanada", "canadá", "kanadzie"),
}
# postcodes with letters: UK "SW1A 1AA", Canada "K1A 0B1", Irish Eircode "D02 X285", Netherlands "1012 AB"
# (the letters upper case; the UK, Canadian and Irish forms are distinctive enough to take in any case)
_UK_ZIP = r"(?i:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})(?!\w)"
_CA_ZIP = r"(?i:[ABCEGHJ-NPRSTVXY]\d[A-Z]\s?\d[A-Z]\d)(?!\w)"
_IE_ZIP = r"(?i:(?:[AC-FHKNPRTV-Y]\d{2}|D6W)\s?[0-9AC-FHKNPRTV-Y]{4})(?!\w)"
_NL_ZIP = r"[1-9]\d{3}\s?[A-Z]{2}(?!\w)"
# two-letter Canadian provinces written between the city and the postcode: "Ottawa ON K1A 0B1"
CA_PROVINCES = frozenset("AB BC MB NB NL NS NT NU ON PE QC SK YT".split())
# a part that is a unit ("Flat 3", "Apt 4B", "Wohnung 12") or a care-of line: the address's second line
_UNIT = re.compile(
    r"^(?:flat|apt\.?|apartment|unit|suite|ste\.?|room|floor|wohnung|whg\.?|appartement|apto\.?|"
    r"lgh\.?|leilighet|lägenhet|lakás|mieszkanie|m\.)\s*[\w/-]*\d[\w/-]*$|^c/o\s+\S.*$",
    re.IGNORECASE,
)
_ZIP = (
    r"(?:[A-Z]{1,2}-)?("
    + "|".join((_UK_ZIP, _CA_ZIP, _IE_ZIP, _NL_ZIP, r"\d{2}-\d{3}", r"\d{3}\s?\d{2}", r"\d{4,5}"))
    + ")"
)
_ZIP_CITY = re.compile(r"^" + _ZIP + r"\s+([^\W\d_].*)$")
_CITY_ZIP = re.compile(r"^([^\W\d_][^\d]*?)\s+" + _ZIP + r"$")
_ZIP_ONLY = re.compile(r"^" + _ZIP + r"$")
_STREET = re.compile(r"\d")
# "street no, postcode city" written on one line without separators: "Hauptstraße 5 10115 Berlin"
_INLINE = re.compile(
    r"(?P<street>(?:\d+[a-zA-Z]?\s+)?[^\W\d_][\w.'’ -]*?\s\d+[a-zA-Z]?(?:\s?[/-]\s?\d+[a-zA-Z]?)?)\s+"
    r"(?:[A-Z]{1,2}-)?(?P<zip>\d{2}-\d{3}|\d{3}\s?\d{2}|\d{4,5})\s+(?P<city>[^\W\d_][\w'’ -]*[^\W\d_])"
)
# words that introduce an address in a sentence ("change it to …", "neue Adresse …") — never part of it
LEAD_WORDS = frozenset(
    """to please my new address the deliver ship send change
    auf nach zu an ist lautet bitte meine mein neue neuen adresse anschrift lieferadresse liefern
    címre cím címem új kérem szállítási címet
    til på min ny nye adressen adresse leveringsadresse
    à ma mon nouvelle adresse livraison merci svp
    till mina nya adress leveransadress
    na mój moja nowy nowa adres dostawy proszę
    mi nueva dirección entrega para""".split()
)
# surname particles that may be lower case inside a name
_PARTICLES = frozenset({"van", "von", "de", "da", "del", "della", "der", "di", "du", "la", "le", "y", "zu"})


def _street(part: str) -> str | None:
    """The street and number in a part of a message, without the words that lead up to it:
    "Hauptstraße 5", "ul. Długa 5/3", "Fő utca 1", "12 rue de la Paix", "change it to Calle Mayor 5"."""
    words = part.split()
    numbered = [i for i, w in enumerate(words) if _STREET.search(w)]
    if not numbered or not re.search(r"[^\W\d_]{2,}", part):
        return None
    anchor = numbered[-1]  # the house number; an order number before it is not part of the street

    def lead(i: int) -> bool:
        return words[i].lower().strip(".:") in LEAD_WORDS

    start = anchor
    while start > 0 and not lead(start - 1) and not _STREET.search(words[start - 1]) and anchor - start < 4:
        start -= 1
    if start == anchor:
        # number first ("12 rue de la Paix", "221B Baker Street"): the street follows the number
        after = words[anchor + 1 :]
        if not after or len(after) > 5 or any(lead(anchor + 1 + i) for i in range(len(after))):
            return None
        return " ".join(words[anchor:])
    if len(words) - start > 6:
        return None
    return " ".join(words[start:])


def _looks_like_name(part: str) -> bool:
    words = part.split()
    if not 1 <= len(words) <= 5 or len(part) > 80 or _STREET.search(part):
        return False
    return all(w[:1].isupper() or w.lower() in _PARTICLES for w in words) and not any(
        w.lower() in LEAD_WORDS for w in words
    )


def parse_address(
    text: str, *, default_country: str | None, default_name: str | None
) -> dict[str, Any] | None:
    """A postal address from a free-form message, else None. Parts may come in any order, separated by
    commas, semicolons or lines ("Name, Street 1, 12345 City, Country"; "1011 Budapest, Fő utca 1";
    "Budapest, Fő utca 1, 1011"; "ul. Długa 5/3, 00-950 Warszawa"), or on one line as "Street 1 12345
    City"; a lead-in ("please change it to …", "neue Adresse: …") is dropped. Name and country default to
    the order's. Postcodes with letters (UK "SW1A 1AA", Canada "Ottawa ON K1A 0B1" with its province,
    Netherlands "1012 AB", Irish Eircodes — optional in Ireland); units and care-of parts ("Flat 3",
    "Apt 4B", "c/o Jane Doe") become ``address2``."""
    parts = [p.split(":", 1)[-1].strip(" .") for p in re.split(r"[,\n;]+", text)]
    parts = [p for p in parts if p]
    if len(parts) < 2:
        return _inline(text, default_country=default_country, default_name=default_name)
    zip_, city, country, province = None, None, None, None
    street: str | None = None
    name: str | None = None
    second: list[str] = []  # units and care-of lines, in the order written
    rest: list[str] = []
    for part in parts:
        low = part.lower()
        code = next((c for c, names in COUNTRIES.items() if low in names), None)
        if code and country is None:
            country = code
            continue
        if _UNIT.match(part):
            second.append(part)
            continue
        m = _ZIP_CITY.match(part)
        if m and zip_ is None:
            zip_, city = m.group(1), m.group(2)
            continue
        m = _CITY_ZIP.match(part)
        if m and zip_ is None and _looks_like_name(m.group(1)):
            city, zip_ = m.group(1), m.group(2)
            continue
        z = _ZIP_ONLY.match(part)
        if z and zip_ is None:
            zip_ = z.group(1)
            continue
        found = _street(part) if street is None else None
        if found is not None:
            street = found
            continue
        rest.append(part)
    if city is None:
        # "Budapest, Fő utca 1, 1011", "London, SW1A 1AA", "Dublin 2, Ireland": the city is a part of its own
        # with a name written too ("Seán Murphy, 12 Main Street, Dublin, D02 X285"), the name comes first
        candidates = [p for p in rest if _looks_like_city(p)]
        city = candidates[-1] if candidates else None
        if city is not None:
            rest.remove(city)
    if city is not None:
        city, province = _city_province(city)
    country = country or default_country
    if street is None or city is None or (zip_ is None and country not in ZIP_OPTIONAL_COUNTRIES):
        return _inline(text, default_country=default_country, default_name=default_name)
    name = next((p for p in rest if _looks_like_name(p)), None)
    name = name or default_name
    if not country or not name:
        return None
    out: dict[str, Any] = {
        "name": name,
        "address1": street,
        "zip": _normal_zip(zip_) if zip_ else None,
        "city": city,
        "country_code": country,
    }
    if second:
        out["address2"] = ", ".join(second)
    if province:
        out["province"] = province
    return out


def _looks_like_city(part: str) -> bool:
    """A name, or a name with a postal district: "Dublin 2", "Dublin 6W"."""
    m = re.match(r"^(.*\S)\s+\d{1,2}[Ww]?$", part)
    return _looks_like_name(part) or (m is not None and _looks_like_name(m.group(1)))


def _city_province(city: str) -> tuple[str, str | None]:
    """ "Ottawa ON" → ("Ottawa", "ON"): a Canadian province code after the city."""
    head, _, tail = city.rpartition(" ")
    if head and tail in CA_PROVINCES:
        return head, tail
    return city, None


def _normal_zip(zip_: str) -> str:
    """Postcodes with letters upper case with their one space: "sw1a1aa" → "SW1A 1AA", "1012ab" →
    "1012 AB", "d02x285" → "D02 X285"; digit-only codes as written."""
    if not re.search(r"[^\W\d_]", zip_):
        return zip_
    compact = re.sub(r"\s+", "", zip_).upper()
    if re.fullmatch(_NL_ZIP, compact):
        return f"{compact[:4]} {compact[4:]}"
    if re.fullmatch(_IE_ZIP, compact):
        return f"{compact[:3]} {compact[3:]}"
    return f"{compact[:-3]} {compact[-3:]}"  # UK and Canada: the inward code is the last three


def _inline(text: str, *, default_country: str | None, default_name: str | None) -> dict[str, Any] | None:
    found = list(_INLINE.finditer(" ".join(text.split())))
    m = found[-1] if found else None  # the last one: lead-in words come first
    if m is None or not default_country or not default_name:
        return None
    street = _street(m.group("street"))
    if street is None:
        return None
    return {
        "name": default_name,
        "address1": street,
        "zip": m.group("zip"),
        "city": m.group("city"),
        "country_code": default_country,
    }


def address_text(address: dict[str, Any]) -> str:
    return "\n".join(
        x
        for x in (
            str(address.get("name") or ""),
            str(address.get("address1") or ""),
            str(address.get("address2") or ""),
            " ".join(str(address.get(k)) for k in ("zip", "city", "province") if address.get(k)),
            str(address.get("country_code") or ""),
        )
        if x
    )
