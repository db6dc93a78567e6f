"""Secrets at rest (channel and connector credentials) and opaque tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def _fernet_for(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


class SecretBox:
    """MultiFernet over every configured secret: the first encrypts, all decrypt (key rotation)."""

    def __init__(self, secrets_: list[str]) -> None:
        if not secrets_:
            raise ValueError("at least one secret key is required")
        self._box = MultiFernet([_fernet_for(s) for s in secrets_])

    def encrypt_json(self, value: dict[str, Any]) -> str:
        return self._box.encrypt(json.dumps(value, sort_keys=True).encode()).decode()

    def decrypt_json(self, token: str) -> dict[str, Any]:
        try:
            data = json.loads(self._box.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ValueError("credentials cannot be decrypted with the configured secret keys") from exc
        if not isinstance(data, dict):
            raise ValueError("credentials are not an object")
        return data


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    a_b = a.encode() if isinstance(a, str) else a
    b_b = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_b, b_b)
