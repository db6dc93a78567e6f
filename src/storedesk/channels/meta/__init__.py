"""Meta channels: WhatsApp Cloud API, Messenger and Instagram DMs (one signature scheme, one Graph API)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx

from storedesk.channels import media as channel_media
from storedesk.channels.meta import media as _meta_media  # noqa: F401  (registers the media fetchers)
from storedesk.channels.meta.whatsapp import WhatsAppSender, window_open_until
from storedesk.channels.outbound import OutboundMessage, register_sender
from storedesk.db.session import Database
from storedesk.kit.crypto import SecretBox


def configure(
    db: Database,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    box: SecretBox | None = None,
    data_dir: Path | None = None,
) -> None:
    """Give the WhatsApp sender the database so it enforces the 24-hour window before calling Meta, and
    (with ``box`` and ``data_dir``) let the ``channels.fetch_media`` job decrypt channel credentials and
    write fetched media to file storage.

    Call once per process that runs jobs (the app and every ``storedesk worker``).
    """
    if box is not None and data_dir is not None:
        channel_media.configure(box=box, data_dir=data_dir)

    async def lookup(message: OutboundMessage) -> datetime | None:
        async with db.sessionmaker() as session:
            return await window_open_until(
                session,
                shop_id=message.shop_id,
                conversation_id=message.conversation_id,
                channel_id=message.channel_id,
            )

    register_sender("whatsapp", WhatsAppSender(window=lookup, transport=transport))
