"""Opaque keyset cursors: ``(sort value, id)`` encoded as URL-safe base64 JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

from storedesk.kit.errors import ValidationFailed


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid", details={"field": "cursor"}) from exc
    if not isinstance(values, list) or len(values) != arity:
        raise ValidationFailed("cursor is not valid", details={"field": "cursor"})
    return values
