"""Signed survey links: ``/s/<survey id>-<signature>``, answerable without signing in.

The signature is an HMAC-SHA256 over the survey id and a random per-survey nonce (stored with the
survey, never in the link), keyed with a key derived from the install's secret keys. Any of the
configured keys verifies (rotation: the first signs). Changing a survey's nonce revokes its link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from storedesk.kit.crypto import constant_time_equals

_TOKEN = re.compile(r"^([1-9][0-9]{0,18})-([A-Za-z0-9_-]{32})$")
_PURPOSE = b"storedesk/survey-link/v1"

_keys: list[bytes] | None = None
_base_url: str | None = None


def configure(secret_keys: list[str], base_url: str) -> None:
    """Called by the composition root (and tests) with ``Settings.secret_keys`` and ``Settings.base_url``."""
    global _keys, _base_url
    if not secret_keys:
        raise ValueError("at least one secret key is required")
    _keys = [hmac.new(k.encode(), _PURPOSE, hashlib.sha256).digest() for k in secret_keys]
    _base_url = base_url.rstrip("/")


def _configured() -> tuple[list[bytes], str]:
    if _keys is None or _base_url is None:
        from storedesk.config import get_settings  # the process's settings when nobody configured us

        settings = get_settings()
        configure(settings.secret_keys, settings.base_url)
    assert _keys is not None and _base_url is not None
    return _keys, _base_url


def new_nonce() -> str:
    return secrets.token_urlsafe(18)[:24]


def _mac(key: bytes, survey_id: int, nonce: str) -> str:
    digest = hmac.new(key, f"survey:{survey_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def token_for(survey_id: int, nonce: str) -> str:
    keys, _ = _configured()
    return f"{survey_id}-{_mac(keys[0], survey_id, nonce)}"


def url_for(survey_id: int, nonce: str, score: int | None = None) -> str:
    _, base = _configured()
    url = f"{base}/s/{token_for(survey_id, nonce)}"
    return f"{url}?score={score}" if score is not None else url


def parse(token: str) -> tuple[int, str] | None:
    """``(survey id, signature)`` of a well-formed token, else None."""
    match = _TOKEN.match(token)
    return (int(match.group(1)), match.group(2)) if match else None


def verify(survey_id: int, nonce: str, signature: str) -> bool:
    keys, _ = _configured()
    ok = False
    for key in keys:  # every key is tried: no early exit that would time the match
        ok |= constant_time_equals(_mac(key, survey_id, nonce), signature)
    return ok
