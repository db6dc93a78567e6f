"""Signed links for customers: "track this order" and "see this return", usable from any message.

A token names the shop, the kind of object and its id, and an expiry day; it is HMAC-SHA256-signed
with a key derived from the install's secret keys (the first signs, all verify: rotation works as for
credentials). Tokens are 43 URL-safe characters and reveal nothing but an id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta

from storedesk.kit.time import utcnow

VERSION = 1
KINDS = {"order": 1, "return": 2}
_EPOCH = datetime(2020, 1, 1).date()
_LAYOUT = struct.Struct(">BBQQH")  # version, kind, shop id, object id, expiry (days since 2020-01-01)
_MAC_BYTES = 12
DEFAULT_TTL = timedelta(days=365)


@dataclass(frozen=True)
class LinkTarget:
    kind: str
    shop_id: int
    object_id: int


class LinkSigner:
    def __init__(self, secrets: list[str]) -> None:
        if not secrets:
            raise ValueError("at least one secret is needed")
        self._keys = [hashlib.sha256(b"storedesk.links.v1\x00" + s.encode()).digest() for s in secrets]

    def _mac(self, key: bytes, payload: bytes) -> bytes:
        return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def sign(
        self,
        kind: str,
        shop_id: int,
        object_id: int,
        *,
        now: datetime | None = None,
        ttl: timedelta = DEFAULT_TTL,
    ) -> str:
        expires = ((now or utcnow()) + ttl).date()
        payload = _LAYOUT.pack(VERSION, KINDS[kind], shop_id, object_id, (expires - _EPOCH).days)
        token = payload + self._mac(self._keys[0], payload)
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def verify(self, token: str, kind: str, *, now: datetime | None = None) -> LinkTarget | None:
        """The target of a valid, unexpired token of ``kind``; ``None`` for anything else."""
        if not token or len(token) > 80:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return None
        if len(raw) != _LAYOUT.size + _MAC_BYTES:
            return None
        payload, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
        if not any(hmac.compare_digest(mac, self._mac(key, payload)) for key in self._keys):
            return None
        version, kind_code, shop_id, object_id, days = _LAYOUT.unpack(payload)
        if version != VERSION or kind_code != KINDS.get(kind):
            return None
        if _EPOCH + timedelta(days=days) < (now or utcnow()).date():
            return None
        return LinkTarget(kind, shop_id, object_id)
