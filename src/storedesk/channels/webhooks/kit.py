"""Helpers shared by the channel transports: channel routing, credentials, rate limits, client address."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.channels.models import Channel, ChannelKind
from storedesk.channels.service import credentials
from storedesk.kit.crypto import SecretBox
from storedesk.kit.ratelimit import RateLimit

__all__ = ["RateLimit", "channel_secrets", "channels_by_external_id", "client_ip", "routed_channels"]


async def channels_by_external_id(
    session: AsyncSession, kinds: Sequence[ChannelKind], external_ids: Sequence[str]
) -> dict[tuple[str, str], Channel]:
    """Active channels addressed by a provider-side id (phone number id, page id, ...).

    This is the one place a lookup crosses tenants: the provider's address is what tells us the shop.
    Callers must verify the delivery with the found channel's own secret before trusting anything.
    """
    if not external_ids:
        return {}
    stmt = select(Channel).where(
        Channel.kind.in_([k.value for k in kinds]),
        Channel.external_id.in_(list(external_ids)),
        Channel.is_active.is_(True),
    )
    return {(c.kind, c.external_id or ""): c for c in (await session.execute(stmt)).scalars()}


@dataclass(frozen=True)
class RoutedChannel:
    """What a webhook needs of a channel, cached briefly per process (see :func:`routed_channels`)."""

    id: int
    shop_id: int
    kind: str
    external_id: str
    secrets: dict[str, Any]
    settings: dict[str, Any]


ROUTE_CACHE_SECONDS = 5.0


async def routed_channels(
    request: Request, session: AsyncSession, kinds: Sequence[ChannelKind], external_ids: Sequence[str]
) -> dict[tuple[str, str], RoutedChannel]:
    """:func:`channels_by_external_id` with the secrets decrypted, cached for a few seconds per app.

    Busy webhooks (thousands a second) then skip a query and a decryption each; a channel that is changed
    or disconnected takes effect within ``ROUTE_CACHE_SECONDS``.
    """
    cache: dict[tuple[str, str], tuple[float, RoutedChannel | None]] = request.app.state.__dict__.setdefault(
        "channel_route_cache", {}
    )
    now = time.monotonic()
    wanted = [(k.value, i) for k in kinds for i in external_ids]
    out: dict[tuple[str, str], RoutedChannel] = {}
    missing = []
    for key in wanted:
        hit = cache.get(key)
        if hit is not None and now - hit[0] < ROUTE_CACHE_SECONDS:
            if hit[1] is not None:
                out[key] = hit[1]
        else:
            missing.append(key)
    if missing:
        found = await channels_by_external_id(session, kinds, list({i for _, i in missing}))
        for key in missing:
            channel = found.get(key)
            routed = (
                RoutedChannel(
                    channel.id,
                    channel.shop_id,
                    channel.kind,
                    channel.external_id or "",
                    channel_secrets(request, channel),
                    dict(channel.settings),
                )
                if channel is not None
                else None
            )
            cache[key] = (now, routed)
            if routed is not None:
                out[key] = routed
        if len(cache) > 10_000:
            cache.clear()
    return out


def channel_secrets(request: Request, channel: Channel) -> dict[str, Any]:
    box: SecretBox = request.app.state.box
    return credentials(channel, box)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
