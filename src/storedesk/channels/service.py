"""Channels (inboxes): connect, change, disconnect. Credentials are encrypted before they are stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.channels.models import Channel, ChannelKind
from storedesk.channels.repository import ChannelRepository
from storedesk.events.service import record
from storedesk.kit.actor import Actor
from storedesk.kit.crypto import SecretBox
from storedesk.kit.errors import Conflict


async def _check_external_id(
    session: AsyncSession, kind: ChannelKind, external_id: str | None, own: int | None
) -> None:
    if not external_id:
        return
    stmt = select(Channel.id).where(Channel.kind == kind, Channel.external_id == external_id)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is not None and found != own:
        raise Conflict(
            f"another {kind.value} channel is already connected to {external_id}",
            details={"field": "external_id"},
        )


async def create_channel(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    box: SecretBox,
    kind: ChannelKind,
    name: str,
    external_id: str | None = None,
    credentials: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> Channel:
    await _check_external_id(session, kind, external_id, None)
    channel = Channel(
        shop_id=shop_id,
        kind=kind,
        name=name,
        external_id=external_id,
        credentials_encrypted=box.encrypt_json(credentials) if credentials else None,
        settings=settings or {},
    )
    session.add(channel)
    await session.flush()
    await record(
        session,
        shop_id=shop_id,
        type="channel.created",
        actor=actor,
        data={"channel_id": channel.id, "kind": kind.value, "name": name},
    )
    return channel


async def update_channel(
    session: AsyncSession,
    *,
    shop_id: int,
    actor: Actor,
    box: SecretBox,
    channel_id: int,
    changes: dict[str, Any],
) -> Channel:
    channel = await ChannelRepository(session, shop_id).get_or_404(channel_id)
    if "external_id" in changes:
        await _check_external_id(session, ChannelKind(channel.kind), changes["external_id"], channel.id)
    changed = sorted(changes)
    if "credentials" in changes:
        creds = changes.pop("credentials")
        channel.credentials_encrypted = box.encrypt_json(creds) if creds else None
    for key, value in changes.items():
        setattr(channel, key, value)
    await record(
        session,
        shop_id=shop_id,
        type="channel.updated",
        actor=actor,
        data={"channel_id": channel.id, "changed": changed},
    )
    return channel


def credentials(channel: Channel, box: SecretBox) -> dict[str, Any]:
    return box.decrypt_json(channel.credentials_encrypted) if channel.credentials_encrypted else {}
