"""Normalising handles so the same person resolves to the same customer on every channel."""

from __future__ import annotations

import phonenumbers

from storedesk.customers.models import IdentityKind
from storedesk.kit.errors import ValidationFailed


def normalise_email(value: str) -> str:
    value = value.strip()
    if "@" not in value or value.startswith("@") or value.endswith("@") or " " in value:
        raise ValidationFailed(f"{value!r} is not an email address", details={"field": "email"})
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


def normalise_phone(value: str, default_region: str | None = None) -> str:
    """E.164 (``+4791234567``). Numbers without a country code need the shop's country."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(f"{value!r} is not a phone number", details={"field": "phone"}) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed(f"{value!r} is not a phone number", details={"field": "phone"})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(kind: IdentityKind, value: str, default_region: str | None = None) -> str:
    if kind == IdentityKind.email:
        return normalise_email(value)
    if kind in (IdentityKind.phone, IdentityKind.whatsapp):
        return normalise_phone(value if kind == IdentityKind.phone else _plus(value), default_region)
    value = value.strip()
    if not value or len(value) > 320:
        raise ValidationFailed("identity value must be 1–320 characters", details={"field": "value"})
    return value


def _plus(value: str) -> str:
    # WhatsApp ids are phone numbers without the leading +
    value = value.strip()
    return value if value.startswith("+") else "+" + value
