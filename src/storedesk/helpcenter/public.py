"""Shared by the public self-service pages (help center, order tracking, returns portal): the string
catalogue in eight languages, language negotiation, date and money formatting (Babel), the Jinja2
environment and the response headers.

Each package registers its strings (``{language: {key: text}}``) with :func:`register`; placeholders
are ``{name}`` and are filled with :func:`t`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_time
from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from storedesk.helpcenter.text import LANGUAGE_NAMES, LANGUAGES

LANG_COOKIE = "sd_portal_lang"
STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATE_DIRS = [
    Path(__file__).resolve().parent / "templates",
    Path(__file__).resolve().parent.parent / "tracking" / "templates",
    Path(__file__).resolve().parent.parent / "returns" / "templates",
]
BABEL_LOCALES = {
    "en": "en",
    "de": "de",
    "hu": "hu",
    "nb": "nb",
    "fr": "fr",
    "sv": "sv",
    "pl": "pl",
    "es": "es",
}

_catalogue: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}


def register(strings: Mapping[str, Mapping[str, str]]) -> None:
    for lang, texts in strings.items():
        _catalogue.setdefault(lang, {}).update(texts)


def catalogue() -> dict[str, dict[str, str]]:
    return _catalogue


def t(lang: str, key: str, /, **params: Any) -> str:
    text = _catalogue.get(lang, {}).get(key) or _catalogue["en"].get(key) or key
    return text.format(**params) if params else text


def tn(lang: str, key: str, n: int, /, **params: Any) -> str:
    """Like :func:`t` for a count: ``<key>_one`` when ``n`` is 1 (every catalogue has both forms;
    languages whose other plural forms differ phrase the text so that one form fits, e.g. Polish
    "Artykuły: {n}")."""
    return t(lang, f"{key}_one" if n == 1 else key, n=n, **params)


# --- language and time zone ---------------------------------------------------------------------------------


def negotiate(request: Request, shop_default: str, explicit: str | None = None) -> str:
    """The visitor's language: explicit choice (path or ``?lang=``) → cookie → browser → shop default."""
    for candidate in (explicit, request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return str(candidate)
    header = request.headers.get("accept-language", "")
    if header:
        wanted: list[tuple[float, str]] = []
        for part in header.split(",")[:12]:
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
        aliases = {"no": "nb", "nn": "nb"}
        for _, tag in wanted:
            base = tag.split("-")[0].lower()
            base = aliases.get(base, base)
            if base in LANGUAGES:
                return base
    return shop_default if shop_default in LANGUAGES else "en"


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


@lru_cache(maxsize=256)
def country_zone(country: str | None) -> str | None:
    """The main time zone of a country (Babel's CLDR data), e.g. NO → Europe/Oslo."""
    if not country:
        return None
    zones = get_global("territory_zones").get(country.upper())
    return str(zones[0]) if zones else None


@lru_cache(maxsize=16)
def locale(lang: str) -> Locale:
    return Locale.parse(BABEL_LOCALES.get(lang, "en"))


def fmt_datetime(value: datetime | None, lang: str, tz: ZoneInfo, fmt: str = "medium") -> str:
    """The date (``fmt``: short, medium, long, full) and the time without seconds, in ``tz``, joined the
    way the locale joins them ("20 Nov 2026, 17:44", "20.11.2026, 17:44", "2026. nov. 20. 17:44")."""
    if value is None:
        return ""
    loc = locale(lang)
    style = fmt if fmt in ("short", "medium", "long", "full") else "medium"
    local = value.astimezone(tz)
    date_part = format_date(local.date(), style, locale=loc)
    time_part = format_time(value, "short", tzinfo=tz, locale=loc)
    pattern = str(loc.datetime_formats[style])
    return pattern.replace("{1}", date_part).replace("{0}", time_part).replace("'", "")


def fmt_date(value: date | datetime | None, lang: str, tz: ZoneInfo | None = None, fmt: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(tz) if tz else value
        value = value.date()
    return format_date(value, fmt, locale=locale(lang))


def fmt_money(minor: int | None, currency: str, lang: str) -> str:
    if minor is None:
        return ""
    return format_currency(minor / 100, currency, locale=locale(lang))


# --- templates and responses --------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _fingerprint(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    path = STATIC_DIR / name
    version = _fingerprint(str(path), path.stat().st_mtime) if path.is_file() else "0"
    return f"/help/static/{name}?v={version}"


def build_environment() -> Environment:
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS]),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(static_url=static_url, language_names=LANGUAGE_NAMES, languages=LANGUAGES)
    return environment


env = build_environment()


def helpers(lang: str, tz: ZoneInfo) -> dict[str, Callable[..., str]]:
    return {
        "t": partial(t, lang),
        "tn": partial(tn, lang),
        "dt": lambda v, fmt="medium": fmt_datetime(v, lang, tz, fmt),
        "d": lambda v, fmt="long": fmt_date(v, lang, tz, fmt),
        "money": lambda minor, currency: fmt_money(minor, currency, lang),
    }


def render_public(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    lang: str,
    tz: ZoneInfo | None = None,
    status_code: int = 200,
    embed: bool = False,
    cache_seconds: int = 0,
    set_language: bool = False,
) -> HTMLResponse:
    zone_ = tz or ZoneInfo("UTC")
    ctx = {"request": request, "lang": lang, "embed": embed, "tz": zone_, **helpers(lang, zone_), **context}
    response = HTMLResponse(env.get_template(template).render(ctx), status_code=status_code)
    response.headers["Content-Language"] = lang
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Cache-Control"] = f"public, max-age={cache_seconds}" if cache_seconds else "no-store"
    ancestors = "*" if embed else "'none'"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        f"connect-src 'self'; frame-ancestors {ancestors}; base-uri 'self'; form-action 'self'"
    )
    if not embed:
        response.headers["X-Frame-Options"] = "DENY"
    if set_language:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
        if cache_seconds:
            response.headers["Cache-Control"] = f"private, max-age={cache_seconds}"
    return response


def switcher(current: str, shop_languages: Sequence[str]) -> list[tuple[str, str, bool]]:
    """(code, name, is current) for the language menu: the shop's languages first, then the others."""
    ordered = [lang for lang in shop_languages if lang in LANGUAGES]
    ordered += [lang for lang in LANGUAGES if lang not in ordered]
    return [(lang, LANGUAGE_NAMES[lang], lang == current) for lang in ordered]
