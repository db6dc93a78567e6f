"""Dates, money and language names for the customer's locale (Babel)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency

LOCALES = {"en": "en_GB", "de": "de_DE", "hu": "hu_HU", "nb": "nb_NO", "fr": "fr_FR", "sv": "sv_SE",
           "pl": "pl_PL", "es": "es_ES", "da": "da_DK", "nl": "nl_NL", "it": "it_IT"}  # fmt: skip
# currencies without minor units in the mirror's integer amounts
ZERO_DECIMAL = frozenset({"JPY", "KRW"})


def locale_for(language: str) -> str:
    return LOCALES.get(language, "en_GB")


def money(amount_minor: int, currency: str, language: str) -> str:
    value = Decimal(amount_minor) if currency in ZERO_DECIMAL else Decimal(amount_minor) / 100
    return format_currency(value, currency, locale=locale_for(language))


def day(value: date | datetime, language: str, zone: ZoneInfo | None = None) -> str:
    """A date like "12 March 2026" / "12. März 2026" / "2026. március 12."."""
    if isinstance(value, datetime):
        value = value.astimezone(zone) if zone is not None else value
        value = value.date()
    return format_date(value, format="long", locale=locale_for(language))


def weekday_day(value: datetime, language: str, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return format_date(local.date(), format="EEEE, d MMMM", locale=locale_for(language))


def language_name(code: str, in_language: str) -> str:
    try:
        return str(Locale.parse(locale_for(code)).get_language_name(locale_for(in_language)))
    except (ValueError, TypeError):
        return code


# how "<day> at <time>" reads in each language ({day}: weekday, {date}: day and month, {time}: HH:mm)
WHEN = {
    "en": "on {day} at {time}",
    "de": "am {day} um {time} Uhr",
    "hu": "{date} {time} órától",
    "nb": "{day} kl. {time}",
    "fr": "{day} à {time}",
    "sv": "{day} kl. {time}",
    "pl": "{date} o {time}",
    "es": "el {day} a las {time}",
}


def weekday_time(value: datetime, language: str, zone: ZoneInfo) -> str:
    """When the team is back, e.g. "on Monday at 08:00", "am Montag um 08:00 Uhr", "8 grudnia o 08:00"."""
    local = value.astimezone(zone)
    loc = locale_for(language)
    return WHEN.get(language, WHEN["en"]).format(
        day=format_date(local.date(), format="EEEE", locale=loc),
        date=format_date(local.date(), format="d MMMM" if language != "hu" else "MMMM d.", locale=loc),
        time=local.strftime("%H:%M"),
    )
