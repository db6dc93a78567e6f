"""The agent UI's translation catalogue: gettext-style ``_()`` backed by Babel.

The catalogues are ``<lang>/LC_MESSAGES/messages.po`` beside this file. They are compiled in memory
with Babel when first used (no build step, works offline). English is the source language: its
strings are the msgids. The current request's translations live in a context variable, so Jinja2
templates, forms and services called from a request all see the agent's language.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from storedesk.agents.models import UI_LANGUAGES

CATALOGUE_DIR = Path(__file__).resolve().parent
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES: tuple[str, ...] = UI_LANGUAGES  # a catalogue each (English: the msgids)
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "de": "Deutsch"}

_current: ContextVar[gettext.NullTranslations] = ContextVar("storedesk_ui_translations")
_current_language: ContextVar[str] = ContextVar("storedesk_ui_language", default=DEFAULT_LANGUAGE)


@lru_cache(maxsize=8)
def translations(language: str) -> gettext.NullTranslations:
    """Compiled translations for ``language``; English (the msgids) when there is no catalogue."""
    po_path = CATALOGUE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT_LANGUAGE or not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """The agent's choice (cookie) wins; then the browser's Accept-Language; then English."""
    if preferred in SUPPORTED_LANGUAGES:
        return str(preferred)
    if accept_language:
        wanted: list[tuple[float, str]] = []
        for part in accept_language.split(","):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            if tag:
                wanted.append((quality, tag.strip().replace("_", "-")))
        wanted.sort(key=lambda item: -item[0])
        found = Locale.negotiate([w for _, w in wanted], list(SUPPORTED_LANGUAGES), sep="-")
        if found is not None:
            return str(found.language)
    return DEFAULT_LANGUAGE


def activate(language: str) -> None:
    """Use ``language`` for the rest of this request (or task)."""
    lang = language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    _current.set(translations(lang))
    _current_language.set(lang)


def current_language() -> str:
    return _current_language.get()


def current_locale() -> Locale:
    try:
        return Locale.parse(current_language())
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def _t() -> gettext.NullTranslations:
    try:
        return _current.get()
    except LookupError:
        return gettext.NullTranslations()


def gettext_(message: str) -> str:
    return _t().gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return _t().ngettext(singular, plural, n)


def _(message: str, **params: object) -> str:
    """Translate ``message`` and fill ``%(name)s`` placeholders from ``params``."""
    text = gettext_(message)
    return text % params if params else text


def N_(message: str) -> str:
    """Mark a string for extraction; translate it later where it is shown."""
    return message
