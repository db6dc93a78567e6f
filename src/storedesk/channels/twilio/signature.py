"""Twilio request signatures: base64 HMAC-SHA1 over the full URL + the sorted POST parameters."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence


def signature_for(url: str, params: Sequence[tuple[str, str]], auth_token: str) -> str:
    """Twilio's scheme: the URL, then every parameter sorted by name (values sorted too), name+value."""
    by_key: dict[str, list[str]] = {}
    for key, value in params:
        by_key.setdefault(key, []).append(value)
    data = url + "".join(key + value for key in sorted(by_key) for value in sorted(by_key[key]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_ok(
    url: str, params: Sequence[tuple[str, str]], header: str | None, auth_token: str | None
) -> bool:
    if not header or not auth_token:
        return False
    return hmac.compare_digest(signature_for(url, params, auth_token).encode(), header.strip().encode())
