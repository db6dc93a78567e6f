from __future__ import annotations

from collections.abc import Sequence

from storedesk.channels.models import Channel
from storedesk.kit.repository import ShopRepository


class ChannelRepository(ShopRepository[Channel]):
    model = Channel
    label = "channel"

    async def list(self) -> Sequence[Channel]:
        return (await self.session.execute(self.select().order_by(Channel.id))).scalars().all()
