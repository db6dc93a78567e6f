"""Small pure helpers around the NLU: yes/no answers, angry tone, postal addresses."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from storedesk.assistant.templates import NO, YES

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
    "NL": ("netherlands", "nederland", "niederlande", "pays-bas"),
}
_ZIP_CITY = re.compile(r"^(?:[A-Z]{1,2}-)?(\d{2}-\d{3}|\d{3}\s?\d{2}|\d{4,5})\s+(\S.*)$")
_STREET = re.compile(r"\d")


def parse_address(
    text: str, *, default_country: str | None, default_name: str | None
) -> dict[str, Any] | None:
    """A postal address from a free-form message ("Name, Street 1, 12345 City, Country"), else None."""
    parts = [p.split(":", 1)[-1].strip(" .") for p in re.split(r"[,\n;]+", text)]
    parts = [p for p in parts if p]
    if len(parts) < 2:
        return None
    zip_, city, country = None, None, None
    street: str | None = None
    name: str | None = None
    rest: list[str] = []
    for part in parts:
        low = part.lower()
        code = next((c for c, names in COUNTRIES.items() if low in names), None)
        if code and country is None:
            country = code
            continue
        m = _ZIP_CITY.match(part)
        if m and zip_ is None:
            zip_, city = m.group(1), m.group(2)
            continue
        if street is None and _STREET.search(part) and re.search(r"[^\W\d_]{2,}", part):
            street = part
            continue
        rest.append(part)
    if street is None or zip_ is None or city is None:
        return None
    # the first remaining part without digits is the name, if it looks like one (1–5 words)
    for part in rest:
        if not _STREET.search(part) and 1 <= len(part.split()) <= 5 and len(part) <= 80:
            name = part
            break
    country = country or default_country
    name = name or default_name
    if not country or not name:
        return None
    return {"name": name, "address1": street, "zip": zip_, "city": city, "country_code": country}


def address_text(address: dict[str, Any]) -> str:
    return "\n".join(
        x
        for x in (
            str(address.get("name") or ""),
            str(address.get("address1") or ""),
            f"{address.get('zip') or ''} {address.get('city') or ''}".strip(),
            str(address.get("country_code") or ""),
        )
        if x
    )
