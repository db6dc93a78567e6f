"""Inbound media that a provider only announces (WhatsApp media ids, Messenger/Instagram CDN links): the
bytes are fetched after the message is stored, by the ``channels.fetch_media`` job.

The flow keeps network I/O out of every transaction:

1. ingest stores the message with one attachment entry per file, marked ``"media": "pending"``, and
   enqueues ``channels.fetch_media`` in the same transaction (:func:`needs_fetch`);
2. the job reads what is pending (one short transaction), fetches the bytes through the channel kind's
   registered :class:`MediaFetcher` with no transaction open, writes them to file storage
   (content-addressed, ``data_dir/attachments/<shop>/<xx>/<sha256>``, the same layout as widget and
   email files) and, in a second transaction, records the outcome (:func:`record_outcomes`): an
   :class:`Attachment` row linked to the message, or ``"media": "unavailable"`` with the reason;
3. a temporary failure (network, 5xx, 429, Graph rate limits) is retried with backoff — the entry shows
   "unavailable" meanwhile; a permanent one (unknown media id, too large, a type we do not accept, a
   checksum mismatch) is final.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.channels import filetypes
from storedesk.channels.models import Channel
from storedesk.channels.repository import ChannelRepository
from storedesk.conversations.models import Attachment, Message
from storedesk.conversations.repository import MessageRepository
from storedesk.events import service as events
from storedesk.jobs.registry import JobContext, enqueue, job
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox

log = logging.getLogger("storedesk.channels.media")

MEDIA_JOB = "channels.fetch_media"
PENDING = "pending"
STORED = "stored"
UNAVAILABLE = "unavailable"
# WhatsApp's own ceiling for audio and video; images (5 MB) and documents are checked by the same number
MAX_MEDIA_BYTES = 16 * 1024 * 1024
ACCEPTED_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
    }
    | filetypes.OFFICE  # Word/Excel and OpenDocument text/spreadsheets, recognised by their structure
)


class MediaTemporaryError(Exception):
    """Try again later (network, 5xx, 429, rate limits)."""


class MediaPermanentError(Exception):
    """Will never work (unknown id, too large, refused type, checksum mismatch)."""


@dataclass(frozen=True)
class FetchedMedia:
    data: bytes
    content_type: str
    filename: str | None = None


class MediaFetcher(Protocol):
    async def fetch(
        self, entry: Mapping[str, Any], *, settings: Mapping[str, Any], credentials: Mapping[str, Any]
    ) -> FetchedMedia: ...


_fetchers: dict[str, MediaFetcher] = {}
_box: SecretBox | None = None
_data_dir: Path | None = None


def register_fetcher(kind: str, fetcher: MediaFetcher) -> None:
    _fetchers[kind] = fetcher


def configure(*, box: SecretBox, data_dir: Path) -> None:
    """Called by the composition root (every process that runs jobs): credentials and file storage."""
    global _box, _data_dir
    _box, _data_dir = box, data_dir


def needs_fetch(attachments: Sequence[Mapping[str, Any]]) -> bool:
    return any(a.get("media") == PENDING for a in attachments)


async def enqueue_fetch(session: AsyncSession, *, shop_id: int, message_id: int) -> None:
    """In the ingest transaction: fetch this message's announced media after commit."""
    await enqueue(
        session,
        MEDIA_JOB,
        {"message_id": message_id},
        shop_id=shop_id,
        dedupe_key=f"{MEDIA_JOB}:{message_id}",
    )


# --- file storage --------------------------------------------------------------------------------------------


def store_bytes(data_dir: Path, shop_id: int, data: bytes) -> tuple[str, str]:
    """Write once per content hash; returns ``(sha256 hex, storage key)``."""
    digest = hashlib.sha256(data).hexdigest()
    key = f"{shop_id}/{digest[:2]}/{digest}"
    path = data_dir / "attachments" / key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return digest, key


def checked_type(declared: str | None, data: bytes) -> str:
    """The content type we store: the provider's word, checked against the bytes where we can tell."""
    content_type = (declared or "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        raise MediaPermanentError(f"files of type {content_type or 'unknown'!r} are not accepted")
    sniffed = filetypes.sniff(data)
    if (
        sniffed is not None
        and sniffed != content_type
        and content_type.startswith(("image/", "application/"))
    ):
        raise MediaPermanentError(f"the file is {sniffed}, not the announced {content_type}")
    if sniffed is None and content_type in filetypes.SNIFFABLE:
        raise MediaPermanentError(f"the bytes are not a {content_type} file")
    return content_type


# --- reads and the write path --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingMedia:
    message_id: int
    channel_kind: str
    settings: Mapping[str, Any]
    credentials: Mapping[str, Any]
    entries: list[tuple[int, dict[str, Any]]]  # (index in message.attachments, entry)


async def pending_media(
    session: AsyncSession, *, shop_id: int, message_id: int, box: SecretBox | None
) -> PendingMedia | None:
    """What is still to fetch for a message (entries pending, or unavailable but worth retrying)."""
    message = await MessageRepository(session, shop_id).get(message_id)
    if message is None or message.channel_id is None:
        return None
    channel: Channel | None = await ChannelRepository(session, shop_id).get(message.channel_id)
    if channel is None:
        return None
    entries = [
        (i, dict(a))
        for i, a in enumerate(message.attachments or [])
        if a.get("media") == PENDING or (a.get("media") == UNAVAILABLE and a.get("retry"))
    ]
    if not entries:
        return None
    credentials: dict[str, Any] = {}
    if channel.credentials_encrypted and box is not None:
        credentials = box.decrypt_json(channel.credentials_encrypted)
    return PendingMedia(message.id, str(channel.kind), dict(channel.settings or {}), credentials, entries)


@dataclass(frozen=True)
class Outcome:
    index: int
    stored: Attachment | None = None  # not yet added to a session
    error: str | None = None
    retry: bool = False


async def record_outcomes(
    session: AsyncSession, *, shop_id: int, message_id: int, outcomes: Sequence[Outcome]
) -> Message:
    """The one write path for fetched media: attachment rows linked to the message, entries updated."""
    message = await MessageRepository(session, shop_id).get_for_update(message_id)
    entries = [dict(a) for a in message.attachments or []]
    for outcome in outcomes:
        if outcome.index >= len(entries):
            continue
        entry = entries[outcome.index]
        if entry.get("media") == STORED:
            continue  # an earlier run got it
        if outcome.stored is not None:
            row = outcome.stored
            row.message_id = message.id
            session.add(row)
            await session.flush()
            entry.pop("error", None)
            entry.pop("retry", None)
            entry.update(
                media=STORED,
                attachment_id=row.id,
                filename=row.filename,
                content_type=row.content_type,
                size=row.size,
                sha256=row.sha256,
                storage_key=row.storage_key,
            )
        else:
            entry.update(media=UNAVAILABLE, error=outcome.error or "media unavailable", retry=outcome.retry)
    message.attachments = entries
    await session.flush()
    # the timeline entry for the agent UI (live refresh) and the audit trail
    await events.record(
        session,
        shop_id=shop_id,
        type="message.media_fetched",
        actor=SYSTEM,
        conversation_id=message.conversation_id,
        data={
            "message_id": message.id,
            "stored": [o.index for o in outcomes if o.stored is not None],
            "unavailable": [o.index for o in outcomes if o.stored is None],
            "retrying": any(o.retry for o in outcomes),
        },
    )
    return message


def _filename(
    entry: Mapping[str, Any], fetched: FetchedMedia, content_type: str, message_id: int, index: int
) -> str:
    name = fetched.filename or entry.get("filename")
    if name:
        clean = "".join(ch for ch in Path(str(name)).name if ch.isprintable() and ch not in '\\/"')[:200]
        if clean:
            return clean
    ext = filetypes.EXTENSIONS.get(content_type) or {
        "text/plain": "txt", "audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/aac": "aac",
        "audio/amr": "amr", "video/mp4": "mp4", "video/3gpp": "3gp",
    }.get(content_type, "bin")  # fmt: skip
    return f"{entry.get('kind') or 'file'}-{message_id}-{index + 1}.{ext}"


async def fetch_all(pending: PendingMedia, *, shop_id: int, data_dir: Path) -> list[Outcome]:
    """Fetch and store every pending file (no transaction may be open: this talks to the provider)."""
    fetcher = _fetchers.get(pending.channel_kind)
    outcomes: list[Outcome] = []
    for index, entry in pending.entries:
        if fetcher is None:
            outcomes.append(Outcome(index, error=f"no media fetcher for {pending.channel_kind} channels"))
            continue
        try:
            fetched = await fetcher.fetch(entry, settings=pending.settings, credentials=pending.credentials)
            if len(fetched.data) > MAX_MEDIA_BYTES:
                raise MediaPermanentError(f"the file is larger than {MAX_MEDIA_BYTES // (1024 * 1024)} MB")
            if not fetched.data:
                raise MediaPermanentError("the file is empty")
            content_type = checked_type(fetched.content_type, fetched.data)
            digest, key = store_bytes(data_dir, shop_id, fetched.data)
        except MediaTemporaryError as exc:
            outcomes.append(Outcome(index, error=str(exc), retry=True))
            continue
        except MediaPermanentError as exc:
            outcomes.append(Outcome(index, error=str(exc)))
            continue
        outcomes.append(
            Outcome(
                index,
                stored=Attachment(
                    shop_id=shop_id,
                    filename=_filename(entry, fetched, content_type, pending.message_id, index),
                    content_type=content_type,
                    size=len(fetched.data),
                    sha256=digest,
                    storage_key=key,
                ),
            )
        )
    return outcomes


@job(MEDIA_JOB, max_attempts=8, backoff_seconds=10.0, backoff_cap_seconds=3600.0)
async def fetch_media_job(ctx: JobContext) -> None:
    shop_id = int(ctx.shop_id or 0)
    message_id = int(ctx.payload["message_id"])
    if _data_dir is None:
        raise RuntimeError("channels.media is not configured (composition root: media.configure)")
    async with ctx.db.transaction() as session:
        pending = await pending_media(session, shop_id=shop_id, message_id=message_id, box=_box)
    if pending is None:
        return
    outcomes = await fetch_all(pending, shop_id=shop_id, data_dir=_data_dir)
    last = ctx.is_last_attempt
    if last:  # no more tries: what failed now stays unavailable
        outcomes = [Outcome(o.index, o.stored, o.error, False) for o in outcomes]
    async with ctx.db.transaction() as session:
        await record_outcomes(session, shop_id=shop_id, message_id=message_id, outcomes=outcomes)
    failed = [o for o in outcomes if o.retry]
    if failed:
        log.info("media of message %s unavailable for now: %s", message_id, failed[0].error)
        raise MediaTemporaryError(failed[0].error or "media unavailable")
