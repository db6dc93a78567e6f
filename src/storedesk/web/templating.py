"""Jinja2 environment for the agent UI: autoescaping, the translation catalogue, and formatting
filters (dates in the shop's time zone and the agent's locale, money, sanitised customer HTML)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nh3
from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from storedesk.kit.time import utcnow
from storedesk.sla.badge import badge as sla_badge
from storedesk.web import i18n

TEMPLATES = Path(__file__).resolve().parent / "templates"

# what survives of a customer's HTML: text formatting, lists, tables and links; never scripts, styles,
# forms, frames or remote images (tracking pixels)
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


def sanitise_html(html: str | None) -> Markup:
    """Customer HTML made safe to show inside the agent UI (nh3, an allow-list sanitiser)."""
    if not html:
        return Markup("")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)  # noqa: S704 - the output of an allow-list sanitiser


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def fmt_datetime(value: datetime | None, tz: str | None = None, fmt: str = "short") -> str:
    if value is None:
        return ""
    return format_datetime(value, fmt, tzinfo=_zone(tz), locale=i18n.current_locale())


def fmt_when(value: datetime | None, tz: str | None = None) -> str:
    """Time only when today, date and time otherwise (in the shop's time zone)."""
    if value is None:
        return ""
    zone = _zone(tz)
    local = value.astimezone(zone)
    today = utcnow().astimezone(zone).date()
    if local.date() == today:
        return format_datetime(value, "HH:mm", tzinfo=zone, locale=i18n.current_locale())
    if local.year == today.year:
        return format_datetime(value, "d MMM, HH:mm", tzinfo=zone, locale=i18n.current_locale())
    return format_datetime(value, "d MMM yyyy", tzinfo=zone, locale=i18n.current_locale())


def fmt_ago(value: datetime | None) -> str:
    if value is None:
        return ""
    delta: timedelta = value - utcnow()
    return format_timedelta(delta, add_direction=True, threshold=1.0, locale=i18n.current_locale())


def fmt_duration(value: datetime | None) -> str:
    """How long since ``value`` (e.g. waiting time), without direction: '3 hours'."""
    if value is None:
        return ""
    return format_timedelta(utcnow() - value, threshold=1.0, format="narrow", locale=i18n.current_locale())


def fmt_money(minor: int | None, currency: str = "EUR") -> str:
    if minor is None:
        return ""
    return format_currency(minor / 100, currency, locale=i18n.current_locale())


def fmt_number(value: int | float) -> str:
    return format_decimal(value, locale=i18n.current_locale())


def fmt_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{format_decimal(round(size / 1024, 1), locale=i18n.current_locale())} KB"
    return f"{format_decimal(round(size / 1024 / 1024, 1), locale=i18n.current_locale())} MB"


_WORD = re.compile(r"\w", re.UNICODE)


def initials(name: str | None) -> str:
    parts = [p for p in (name or "").split() if _WORD.search(p)]
    if not parts:
        return "?"
    letters = [p[0] for p in parts[:2]]
    return "".join(letters).upper()


def avatar_hue(seed: int | str | None) -> int:
    import hashlib

    return hashlib.sha256(str(seed or "").encode()).digest()[0] * 360 // 256


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        enable_async=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext_, i18n.ngettext_, newstyle=True
    )
    env.filters.update(
        datetime=fmt_datetime,
        when=fmt_when,
        ago=fmt_ago,
        duration=fmt_duration,
        money=fmt_money,
        number=fmt_number,
        size=fmt_size,
        sanitise=sanitise_html,
        initials=initials,
        hue=avatar_hue,
        sla_badge=lambda conversation: sla_badge(conversation, utcnow()),
    )
    return env


env = build_environment()


def render(name: str, context: dict[str, Any]) -> str:
    return env.get_template(name).render(context)
