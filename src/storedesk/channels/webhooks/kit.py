"""Helpers shared by the channel transports: channel routing, credentials, rate limits, client address."""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import select

from storedesk.channels.models import Channel, ChannelKind
from storedesk.channels.service import credentials
from storedesk.db.session import Database
from storedesk.kit.crypto import SecretBox
from storedesk.kit.ratelimit import RateLimit
from storedesk.realtime import broker

__all__ = ["ChannelRoutes", "RateLimit", "RoutedChannel", "channel_routes", "channel_secrets", "client_ip"]


@dataclass(frozen=True)
class RoutedChannel:
    """What a webhook needs of a channel (decrypted secrets included), cached per process."""

    id: int
    shop_id: int
    kind: str
    external_id: str | None
    secrets: dict[str, Any]
    settings: dict[str, Any]


ROUTE_CACHE_SECONDS = 60.0
ROUTE_CACHE_MAX = 10_000
# events that change what a webhook may trust (secrets, external id, active flag): they drop the cache
CHANNEL_EVENTS = ("channel.created", "channel.updated")

_Entry = tuple[float, RoutedChannel | None]
_K = TypeVar("_K")


class ChannelRoutes:
    """Per-process cache of the active channels webhooks are addressed to, with their secrets decrypted.

    Busy webhooks (a thousand a second) then skip a query and a decryption each. Entries are dropped as
    soon as a ``channel.created``/``channel.updated`` event of the shop reaches this process through the
    real-time broker (PostgreSQL NOTIFY reaches every API process) — a rotated secret or a disconnected
    channel takes effect at once — and at the latest after ``ROUTE_CACHE_SECONDS`` (the backstop for an
    event lost while the listener reconnected, which also clears everything).

    Looking a channel up by its provider-side address is the one place a lookup crosses tenants: the
    address is what tells us the shop. Callers must verify the delivery with the found channel's own
    secret before trusting anything; what they then write carries that channel's shop.
    """

    def __init__(self, db: Database, box: SecretBox, ttl: float = ROUTE_CACHE_SECONDS) -> None:
        self.db = db
        self.box = box
        self.ttl = ttl
        self._by_address: dict[tuple[str, str], _Entry] = {}
        self._by_id: dict[int, _Entry] = {}
        _live_routes.add(self)

    def invalidate(self, shop_id: int | None = None) -> None:
        """Forget the shop's channels and every "no such channel" answer (all of them without a shop)."""
        _drop(self._by_address, shop_id)
        _drop(self._by_id, shop_id)

    def _fresh(self, entry: _Entry | None, now: float) -> bool:
        return entry is not None and now - entry[0] < self.ttl

    def _routed(self, row: Any) -> RoutedChannel:
        secrets = self.box.decrypt_json(row.credentials_encrypted) if row.credentials_encrypted else {}
        return RoutedChannel(
            row.id, row.shop_id, row.kind, row.external_id, secrets, dict(row.settings or {})
        )

    async def _query(self, *where: Any) -> list[RoutedChannel]:
        stmt = select(
            Channel.id,
            Channel.shop_id,
            Channel.kind,
            Channel.external_id,
            Channel.credentials_encrypted,
            Channel.settings,
        ).where(Channel.is_active.is_(True), *where)
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [self._routed(row) for row in rows]

    async def by_address(
        self, kinds: Sequence[ChannelKind], external_ids: Sequence[str]
    ) -> dict[tuple[str, str], RoutedChannel]:
        """Active channels of these kinds addressed by these provider-side ids (phone number id, page id)."""
        now = time.monotonic()
        out: dict[tuple[str, str], RoutedChannel] = {}
        missing: list[tuple[str, str]] = []
        for key in [(k.value, i) for k in kinds for i in external_ids]:
            entry = self._by_address.get(key)
            if entry is not None and self._fresh(entry, now):
                if entry[1] is not None:
                    out[key] = entry[1]
            else:
                missing.append(key)
        if missing:
            found = {
                (c.kind, c.external_id or ""): c
                for c in await self._query(
                    Channel.kind.in_(sorted({k for k, _ in missing})),
                    Channel.external_id.in_(sorted({i for _, i in missing})),
                )
            }
            self._trim(self._by_address)
            for key in missing:
                self._by_address[key] = (now, found.get(key))
                if key in found:
                    out[key] = found[key]
        return out

    async def by_id(self, channel_id: int) -> RoutedChannel | None:
        """An active channel by our id (webhook URLs that carry it, like Twilio's)."""
        now = time.monotonic()
        entry = self._by_id.get(channel_id)
        if entry is not None and self._fresh(entry, now):
            return entry[1]
        found = await self._query(Channel.id == channel_id)
        self._trim(self._by_id)
        self._by_id[channel_id] = (now, found[0] if found else None)
        return found[0] if found else None

    @staticmethod
    def _trim(cache: dict[Any, _Entry]) -> None:
        if len(cache) >= ROUTE_CACHE_MAX:  # unknown addresses cannot grow it without bound
            cache.clear()


def _drop(cache: dict[_K, _Entry], shop_id: int | None) -> None:
    if shop_id is None:
        cache.clear()
        return
    for key in [k for k, (_, c) in cache.items() if c is None or c.shop_id == shop_id]:
        del cache[key]


_live_routes: weakref.WeakSet[ChannelRoutes] = weakref.WeakSet()


def _on_channel_event(shop_id: int, event: dict[str, Any]) -> None:
    if event.get("type") in CHANNEL_EVENTS:
        for routes in list(_live_routes):
            routes.invalidate(shop_id)


def _on_gap() -> None:
    for routes in list(_live_routes):
        routes.invalidate()


broker.observe(_on_channel_event, on_gap=_on_gap)


def channel_routes(request: Request) -> ChannelRoutes:
    """The app's routing cache (one per app, created on first use)."""
    state = request.app.state
    routes: ChannelRoutes | None = getattr(state, "channel_routes", None)
    if routes is None:
        routes = state.channel_routes = ChannelRoutes(state.db, state.box)
    return routes


def channel_secrets(request: Request, channel: Channel) -> dict[str, Any]:
    box: SecretBox = request.app.state.box
    return credentials(channel, box)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
