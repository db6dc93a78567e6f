"""Text for the help center: Markdown → sanitised HTML, plain text, words, accent folding and small
"light" stemmers for the eight portal languages.

The stemmers are deliberately light (strip common plural/case/verb endings, Savoy-style): the aim is
that "Rücksendungen" finds "Rücksendung" and "visszaküldésről" finds "visszaküldés" on SQLite, where
FTS5 has no stemmer for these languages. PostgreSQL uses its own Snowball configurations instead
(migration 0200); both backends put the typo and cross-language layers of ``search.py`` on top.
"""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

LANGUAGES: tuple[str, ...] = ("en", "de", "hu", "nb", "fr", "sv", "pl", "es")
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "hu": "Magyar",
    "nb": "Norsk bokmål",
    "fr": "Français",
    "sv": "Svenska",
    "pl": "Polski",
    "es": "Español",
}

# --- Markdown and HTML ---------------------------------------------------------------------------------

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "hr", "i", "img", "kbd", "li", "mark", "ol", "p",
    "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
}
_md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|h[1-6]|li|tr|td|th|pre|blockquote|div|figcaption|dt|dd)>", re.IGNORECASE)


def sanitise(html: str) -> str:
    """The allow-list sanitiser for article HTML (whatever an editor typed or pasted)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


@lru_cache(maxsize=512)
def render_markdown(body: str) -> str:
    """Article body (Markdown, inline HTML allowed) → sanitised HTML. Headings start at h2 (the page
    title is the h1)."""
    rendered = _md.render(body)
    rendered = re.sub(r"<(/?)h1>", r"<\1h2>", rendered)
    return sanitise(rendered)


def plain_text(body: str) -> str:
    """The readable text of a Markdown body, one line per block."""
    rendered = _BLOCK_END.sub("\n", _md.render(body))
    text = html_lib.unescape(_TAG.sub("", rendered.replace("<br />", "\n")))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def summary(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[:width].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:–-") + "…"


# --- words ----------------------------------------------------------------------------------------------

WORD = re.compile(r"\w+", re.UNICODE)
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "œ": "oe"})


@lru_cache(maxsize=262144)
def fold(word: str) -> str:
    """Lower case without diacritics: "Größe" → "grosse", "Zwrotów" → "zwrotow"."""
    if word.isascii():
        return word.lower()
    lowered = word.lower().translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lower-cased words (accents kept), digits included."""
    return [w for w in WORD.findall(text.lower()) if not w.isdigit() or len(w) > 1]


STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "a an and are as at be by can do does for from has have how i if in into is it its me my no not "
        "of on or our so than that the their them then there this to was we what when where which who "
        "why will with you your".split()
    ),
    "de": frozenset(
        "aber als am an auch auf aus bei bin bis da das dass dein deine dem den der des die du ein eine "
        "einem einen einer es für hat habe haben ich ihr ihre im in ist ja kann man mein meine mich mir "
        "mit nach nicht noch nur oder sie sind so über um und uns unser von vor warum was wenn wer wie "
        "wir wo zu zum zur".split()
    ),
    "hu": frozenset(
        "a az és egy hogy nem is meg de ha mi mit mint van vagy volt már még csak ez azt el ki be fel "
        "le én te ő mi ti ők hogyan hol mikor miért kell lehet tudok szeretném szeretnék".split()
    ),
    "nb": frozenset(
        "og i jeg det at en et den til er som på de med han av ikke der så var meg seg men ett har om vi "
        "min mitt ha hva hvor hvordan når kan skal vil du dere deres".split()
    ),
    "fr": frozenset(
        "au aux avec ce ces comment dans de des du elle en est et eux il je la le les leur lui ma mais "
        "me mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses son sur ta te tes "
        "toi ton tu un une vos votre vous est-ce puis-je".split()
    ),
    "sv": frozenset(
        "och i att det som en på är av för med till den har de inte om ett han men var jag sig från vi "
        "så kan min mitt hur när var vad vill ska du ni er".split()
    ),
    "pl": frozenset(
        "i w z na do nie się to jest że o a jak co po czy ale za od mój moja moje mnie mi jak gdzie kiedy "
        "dlaczego mogę można chcę ten ta te".split()
    ),
    "es": frozenset(
        "a al como con cómo de del el en es esta este la las le lo los mi mis me no o para pero por puedo "
        "que qué se si su sus un una uno y yo dónde cuándo quiero".split()
    ),
}
ALL_STOPWORDS: frozenset[str] = frozenset(fold(w) for ws in STOPWORDS.values() for w in ws)


_FOLDED_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(fold(w) for w in ws) for lang, ws in STOPWORDS.items()
}


def is_stopword(word: str, language: str | None) -> bool:
    folded = fold(word)
    if language in _FOLDED_STOPWORDS:
        return folded in _FOLDED_STOPWORDS[language]
    return folded in ALL_STOPWORDS


# --- light stemmers (on folded words) -------------------------------------------------------------------

# (suffix, replacement), tried longest first; a stem keeps at least MIN_STEM characters
_SUFFIXES: dict[str, list[tuple[str, str]]] = {
    "en": [("ational", "ate"), ("ations", "ate"), ("ation", "ate"), ("ies", "y"), ("sses", "ss"),
           ("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("ing", ""), ("ed", ""), ("ly", ""), ("ss", "ss"),
           ("s", "")],
    "de": [("ungen", "ung"), ("heiten", "heit"), ("keiten", "keit"), ("ern", ""), ("em", ""), ("er", ""),
           ("en", ""), ("es", ""), ("e", ""), ("n", ""), ("s", "")],
    "hu": [("jaban", ""), ("jeben", ""), ("abol", ""), ("ebol", ""), ("arol", ""), ("erol", ""),
           ("bol", ""), ("rol", ""), ("tol", ""), ("nak", ""), ("nek", ""), ("val", ""), ("vel", ""),
           ("ban", ""), ("ben", ""), ("hoz", ""), ("hez", ""), ("kent", ""), ("ert", ""), ("ra", ""),
           ("re", ""), ("ba", ""), ("be", ""), ("at", ""), ("et", ""), ("ot", ""), ("ok", ""), ("ek", ""),
           ("ak", ""), ("ig", ""), ("on", ""), ("en", ""), ("i", ""), ("t", ""), ("k", "")],
    "nb": [("hetene", ""), ("hetens", ""), ("endes", ""), ("ende", ""), ("ene", ""), ("ane", ""),
           ("het", ""), ("ers", ""), ("ets", ""), ("ens", ""), ("er", ""), ("en", ""), ("et", ""),
           ("ar", ""), ("e", ""), ("a", ""), ("s", "")],
    "fr": [("issements", "iss"), ("issement", "iss"), ("ements", ""), ("ement", ""), ("ations", "at"),
           ("ation", "at"), ("euses", "eu"), ("euse", "eu"), ("ees", ""), ("ee", ""), ("es", ""),
           ("er", ""), ("ez", ""), ("e", ""), ("s", ""), ("x", "")],
    "sv": [("heterna", ""), ("arna", ""), ("erna", ""), ("orna", ""), ("heten", ""), ("andet", ""),
           ("ande", ""), ("arne", ""), ("ade", ""), ("ar", ""), ("er", ""), ("or", ""), ("en", ""),
           ("et", ""), ("at", ""), ("na", ""), ("a", ""), ("e", "")],
    "pl": [("owania", "ow"), ("ami", ""), ("ach", ""), ("owi", ""), ("iem", ""), ("om", ""), ("ow", ""),
           ("ie", ""), ("ia", ""), ("em", ""), ("y", ""), ("i", ""), ("a", ""), ("e", ""), ("u", ""),
           ("o", "")],
    "es": [("aciones", "ac"), ("acion", "ac"), ("ciones", "cion"), ("mente", ""), ("ando", ""),
           ("iendo", ""), ("ados", ""), ("idas", ""), ("ado", ""), ("ida", ""), ("ar", ""), ("er", ""),
           ("ir", ""), ("es", ""), ("s", ""), ("a", ""), ("o", ""), ("e", "")],
}  # fmt: skip
MIN_STEM = {"en": 3, "de": 4, "hu": 5, "nb": 3, "fr": 4, "sv": 3, "pl": 4, "es": 4}
_DOUBLE = re.compile(r"([bdfgkmnprt])\1$")


@lru_cache(maxsize=262144)
def stem(word: str, language: str) -> str:
    """The light stem of ``word`` (folded) in ``language``; other languages are only folded."""
    folded = fold(word)
    suffixes = _SUFFIXES.get(language)
    if not suffixes or folded.isdigit():
        return folded
    minimum = MIN_STEM[language]
    for suffix, replacement in suffixes:
        if folded.endswith(suffix) and len(folded) - len(suffix) + len(replacement) >= minimum:
            folded = folded[: len(folded) - len(suffix)] + replacement
            break
    if language == "hu":  # case ending after the plural: "visszaküldésekről"
        for suffix in ("ek", "ok", "ak", "k"):
            if folded.endswith(suffix) and len(folded) - len(suffix) >= minimum:
                folded = folded[: -len(suffix)]
                break
    if language == "es" and folded[-1:] in ("a", "o", "e") and len(folded) > minimum:
        folded = folded[:-1]  # envíos → envio → envi, like envío
    if language == "en" and _DOUBLE.search(folded) and len(folded) > 4:
        folded = folded[:-1]  # shipping → shipp → ship
    return folded


def terms(text: str, language: str) -> list[str]:
    """Stems of the non-stopwords of ``text`` (what the SQLite index holds)."""
    stop = STOPWORDS.get(language, frozenset())
    return [stem(w, language) for w in words(text) if w not in stop]
