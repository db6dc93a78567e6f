from __future__ import annotations

from fastapi import APIRouter

from storedesk.api.deps import AdminAuth, Auth, Box, Session
from storedesk.api.params import IdPath
from storedesk.channels import service
from storedesk.channels.models import Channel
from storedesk.channels.repository import ChannelRepository
from storedesk.channels.schemas import ChannelCreate, ChannelOut, ChannelUpdate

router = APIRouter(prefix="/channels", tags=["channels"])


def _out(channel: Channel) -> ChannelOut:
    return ChannelOut(
        id=channel.id,
        kind=channel.kind,
        name=channel.name,
        external_id=channel.external_id,
        settings=channel.settings,
        is_active=channel.is_active,
        has_credentials=channel.credentials_encrypted is not None,
        created_at=channel.created_at,
    )


@router.get("", response_model=list[ChannelOut])
async def list_channels(ctx: Auth, session: Session) -> list[ChannelOut]:
    return [_out(c) for c in await ChannelRepository(session, ctx.shop_id).list()]


@router.post("", response_model=ChannelOut, status_code=201, summary="Connect a channel (admin)")
async def create_channel(body: ChannelCreate, ctx: AdminAuth, session: Session, box: Box) -> ChannelOut:
    channel = await service.create_channel(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        box=box,
        kind=body.kind,
        name=body.name,
        external_id=body.external_id,
        credentials=body.credentials,
        settings=body.settings,
    )
    return _out(channel)


@router.get("/{channel_id}", response_model=ChannelOut)
async def get_channel(channel_id: IdPath, ctx: Auth, session: Session) -> ChannelOut:
    return _out(await ChannelRepository(session, ctx.shop_id).get_or_404(channel_id))


@router.patch("/{channel_id}", response_model=ChannelOut, summary="Change a channel (admin)")
async def update_channel(
    channel_id: IdPath, body: ChannelUpdate, ctx: AdminAuth, session: Session, box: Box
) -> ChannelOut:
    channel = await service.update_channel(
        session,
        shop_id=ctx.shop_id,
        actor=ctx.actor,
        box=box,
        channel_id=channel_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return _out(channel)
