"""Meta channels: WhatsApp Cloud API, Messenger and Instagram DMs (one signature scheme, one Graph API)."""

from __future__ import annotations

from datetime import datetime

import httpx

from storedesk.channels.meta.whatsapp import WhatsAppSender, window_open_until
from storedesk.channels.outbound import OutboundMessage, register_sender
from storedesk.db.session import Database


def configure(db: Database, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
    """Give the WhatsApp sender the database so it enforces the 24-hour window before calling Meta.

    Call once per process that runs ``delivery.send`` jobs (the app and every ``storedesk worker``).
    """

    async def lookup(message: OutboundMessage) -> datetime | None:
        async with db.sessionmaker() as session:
            return await window_open_until(
                session,
                shop_id=message.shop_id,
                conversation_id=message.conversation_id,
                channel_id=message.channel_id,
            )

    register_sender("whatsapp", WhatsAppSender(window=lookup, transport=transport))
