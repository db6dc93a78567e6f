"""Ingest: the one path by which inbound messages from every channel enter storedesk.

Adapters (WhatsApp, Messenger, Instagram, Twilio, widget, contact form, email, API) turn their wire
format into our own types — :class:`InboundMessage` and :class:`DeliveryUpdate` — and nothing past this
module sees a vendor payload. Two ways in:

* **webhooks** (:func:`accept`): the transport verifies the signature, stores the raw body as an
  :class:`InboundEvent` under a unique ``(source, dedupe_key)`` and enqueues ``channels.ingest`` in the
  same transaction, then answers. A redelivery finds the key taken, stores nothing, enqueues nothing and
  still answers 2xx. The job parses the stored body with the adapter's registered parser and applies
  every item in ONE transaction (customer → conversation → message), then marks the event processed.
* **interactive** (:func:`ingest_now`): the widget, the contact form and the API channel need the
  result in the response, so they store the event and ingest it in the request's transaction.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, cast

import orjson
from sqlalchemy import String, Table, bindparam, func, literal, select
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storedesk.assistant import service as assistant
from storedesk.channels import media
from storedesk.channels.models import Channel, ChannelKind, ChatSession, InboundEvent
from storedesk.channels.repository import ChannelRepository
from storedesk.conversations import service as conversations
from storedesk.conversations.models import (
    Attachment,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
)
from storedesk.conversations.repository import ConversationRepository, MessageRepository
from storedesk.customers import service as customers
from storedesk.customers.models import IdentityKind
from storedesk.db.session import Database, after_commit
from storedesk.jobs.models import Job, JobStatus
from storedesk.jobs.registry import JobContext, job, registry, wakeup
from storedesk.kit.actor import Actor
from storedesk.kit.errors import NotFound, ValidationFailed
from storedesk.kit.time import utcnow
from storedesk.realtime import JOBS_CHANNEL, notifier
from storedesk.shops.service import get_shop

log = logging.getLogger("storedesk.channels.ingest")

INGEST_JOB = "channels.ingest"
MAX_KEY = 200


# --- our own types -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SenderIdentity:
    kind: IdentityKind
    value: str


@dataclass(frozen=True)
class ThreadHints:
    """What an adapter knows about where a message belongs."""

    email_message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_token: str | None = None
    # a conversation the adapter has already verified (a signed email reply token, the API channel)
    conversation_id: int | None = None
    chat_session_id: int | None = None
    new_conversation: bool = False


@dataclass(frozen=True)
class StoredFile:
    """A file the adapter already wrote to file storage (content-addressed); ingest adds its row."""

    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """A message from a customer (or a call event) in storedesk's terms, whatever channel it came by."""

    channel_id: int
    sender: SenderIdentity
    text: str
    name: str | None = None
    html: str | None = None
    attachments: tuple[Mapping[str, Any], ...] = ()
    provider_message_id: str | None = None
    thread: ThreadHints = field(default_factory=ThreadHints)
    timestamp: datetime | None = None
    subject: str | None = None
    language: str | None = None
    # further handles of the same sender (a pre-chat email next to the chat visitor id)
    also_known_as: tuple[SenderIdentity, ...] = ()
    # "system": a timeline entry (call started/ended, auto-reply) that neither reopens nor waits
    kind: Literal["message", "system"] = "message"
    meta: Mapping[str, Any] = field(default_factory=dict)
    files: tuple[StoredFile, ...] = ()


@dataclass(frozen=True)
class DeliveryUpdate:
    """A provider's report about one of our outbound messages."""

    channel_id: int
    provider_message_id: str
    status: DeliveryStatus
    timestamp: datetime | None = None
    error: str | None = None


Item = InboundMessage | DeliveryUpdate


@dataclass(frozen=True)
class IngestResult:
    message_id: int | None
    conversation_id: int | None
    customer_id: int | None
    created: bool


class ChannelRef(Protocol):
    """What a parser needs of a channel (a :class:`Channel` row or a cached routing entry)."""

    @property
    def id(self) -> int: ...

    @property
    def kind(self) -> str: ...

    @property
    def external_id(self) -> str | None: ...


Parser = Callable[[ChannelRef, bytes, Mapping[str, str]], Sequence[Item]]
_parsers: dict[str, Parser] = {}


def register_parser(source: str, parser: Parser) -> None:
    """Adapters register how to turn their stored raw bodies into items (run by the ingest job)."""
    _parsers[source] = parser


class MalformedPayload(ValueError):
    """The stored body cannot be understood; the event is marked failed and never retried."""


# --- raw events ----------------------------------------------------------------------------------------------


def event_key(channel_id: int, natural_key: str) -> str:
    """The dedupe key of an event: provider ids are scoped to our channel, long keys are hashed."""
    key = f"{channel_id}:{natural_key}"
    if len(key) > MAX_KEY:
        key = f"{channel_id}:sha256:{hashlib.sha256(natural_key.encode()).hexdigest()}"
    return key


def _event_values(
    source: str,
    dedupe_key: str,
    shop_id: int | None,
    channel_id: int | None,
    headers: Mapping[str, str],
    body: bytes,
    status: str,
) -> dict[str, Any]:
    now = utcnow()
    return {
        "source": source,
        "dedupe_key": dedupe_key[:255],
        "shop_id": shop_id,
        "channel_id": channel_id,
        "headers": dict(headers),
        "body": body,
        "status": status,
        "received_at": now,
        "processed_at": now if status == "processed" else None,
    }


def _dialect(conn: AsyncSession | AsyncConnection) -> str:
    return conn.get_bind().dialect.name if isinstance(conn, AsyncSession) else conn.dialect.name


def _insert_event(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(InboundEvent)
        .on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
        .returning(InboundEvent.id)
    )


async def store_event(
    session: AsyncSession | AsyncConnection,
    *,
    source: str,
    dedupe_key: str,
    shop_id: int | None,
    channel_id: int | None,
    headers: Mapping[str, str],
    body: bytes,
    status: str = "received",
) -> int | None:
    """Insert the raw delivery unless ``(source, dedupe_key)`` exists. Returns the new id, or None."""
    values = _event_values(source, dedupe_key, shop_id, channel_id, headers, body, status)
    result = await session.execute(_insert_event(_dialect(session)), values)
    return cast(int | None, result.scalar_one_or_none())


# --- accepting a webhook: the raw body and its ingest job, written together -----------------------------------

_JOBS = cast(Table, Job.__table__)


@functools.cache
def _accept_pg(notify: bool = True) -> Any:
    """PostgreSQL: ONE statement stores the event, enqueues its job and wakes the workers.

    ``WITH ev AS (INSERT … ON CONFLICT DO NOTHING RETURNING id), j AS (INSERT INTO jobs SELECT … FROM ev
    RETURNING id) SELECT j.id, pg_notify(…) FROM j``: a redelivery inserts no event, hence no job and no
    NOTIFY; the NOTIFY is delivered when the statement's transaction commits. Built once, run with
    parameters (no per-request statement construction).
    """
    columns = (
        "source",
        "dedupe_key",
        "shop_id",
        "channel_id",
        "headers",
        "body",
        "status",
        "received_at",
        "processed_at",
    )
    ev = (
        _insert_event("postgresql")
        .values({name: bindparam(name, type_=InboundEvent.__table__.c[name].type) for name in columns})
        .cte("ev")
    )
    job_values = select(
        bindparam("shop_id", type_=_JOBS.c.shop_id.type),
        literal(INGEST_JOB, type_=_JOBS.c.name.type),
        func.jsonb_build_object("event_id", ev.c.id),
        literal("queued", type_=_JOBS.c.status.type),
        literal(0, type_=_JOBS.c.attempts.type),
        bindparam("max_attempts", type_=_JOBS.c.max_attempts.type),
        bindparam("received_at", type_=_JOBS.c.run_at.type),
        literal(f"{INGEST_JOB}:", type_=_JOBS.c.dedupe_key.type).concat(cast_(ev.c.id, String)),
        bindparam("received_at", type_=_JOBS.c.created_at.type),
    ).select_from(ev)
    enqueued = (
        pg_insert(_JOBS)
        .from_select(
            [
                "shop_id",
                "name",
                "payload",
                "status",
                "attempts",
                "max_attempts",
                "run_at",
                "dedupe_key",
                "created_at",
            ],
            job_values,
        )
        .returning(_JOBS.c.id)
        .cte("j")
    )
    if not notify:
        return select(enqueued.c.id)
    return select(enqueued.c.id, func.pg_notify(JOBS_CHANNEL, "")).select_from(enqueued)


@functools.cache
def _accept_pg_sql(dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """:func:`_accept_pg` compiled for the engine's driver, and the values of its constant parameters."""
    compiled = _accept_pg(notify=False).compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


def _ingest_max_attempts() -> int:
    spec = registry.get(INGEST_JOB)
    return spec.max_attempts if spec is not None else 10


async def _accept_on(
    conn: AsyncSession | AsyncConnection,
    dialect: str,
    values: dict[str, Any],
) -> bool:
    if dialect == "postgresql":
        row = (await conn.execute(_accept_pg(), values | {"max_attempts": _ingest_max_attempts()})).first()
        return row is not None
    event_id = (await conn.execute(_insert_event(dialect), values)).scalar_one_or_none()
    if event_id is None:
        return False
    await conn.execute(
        _JOBS.insert(),
        {
            "shop_id": values["shop_id"],
            "name": INGEST_JOB,
            "payload": {"event_id": event_id},
            "status": JobStatus.queued.value,
            "attempts": 0,
            "max_attempts": _ingest_max_attempts(),
            "run_at": values["received_at"],
            "dedupe_key": f"{INGEST_JOB}:{event_id}",
            "created_at": values["received_at"],
        },
    )
    return True


def wake_workers(db: Database) -> None:
    """Ask for a NOTIFY to the job workers after a commit that enqueued work: coalesced with the process's
    other NOTIFYs (:class:`storedesk.realtime.Notifier`)."""
    notifier(db.engine).add([], jobs=True)


async def accept(
    session: AsyncSession,
    *,
    source: str,
    dedupe_key: str,
    shop_id: int,
    channel_id: int,
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """Record a verified delivery and enqueue its ingestion in the caller's transaction (email intake).
    False: a redelivery (nothing done). Webhook transports use :func:`accept_durably`."""
    values = _event_values(source, dedupe_key, shop_id, channel_id, headers, body, "received")
    new = await _accept_on(session, _dialect(session), values)
    if new:
        after_commit(session, wakeup.set)  # the in-process runner (embedded shape)
    return new


async def accept_durably(
    db: Database,
    *,
    source: str,
    dedupe_key: str,
    shop_id: int,
    channel_id: int,
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """A webhook's write: the raw body and its ``channels.ingest`` job, committed before this returns.

    Its own short transaction, no ORM objects: on PostgreSQL one statement (:func:`_accept_pg`, sent as
    SQL compiled once, parameters straight to the driver) and the commit; on SQLite two inserts. False: a
    redelivery, recognised by the unique ``(source, dedupe_key)``; nothing was written.

    (Not autocommit: a pooled connection that was pinged on checkout — ``storedesk.db.session`` — is
    already inside a transaction, and autocommit cannot be switched on there.) No NOTIFY inside this
    transaction: see :func:`wake_workers`.
    """
    values = _event_values(source, dedupe_key, shop_id, channel_id, headers, body, "received")
    if db.kind == "postgresql":
        sql, fixed = _accept_pg_sql(db.engine.dialect)
        params = (
            fixed
            | values
            | {"headers": orjson.dumps(values["headers"]).decode(), "max_attempts": _ingest_max_attempts()}
        )
        async with db.engine.begin() as conn:
            new = (await conn.exec_driver_sql(sql, params)).first() is not None
    else:
        async with db.engine.begin() as conn:
            new = await _accept_on(conn, "sqlite", values)
    if new:
        wakeup.set()  # the in-process runner (embedded shape)
        if db.kind == "postgresql":
            wake_workers(db)
    return new


async def ingest_now(
    session: AsyncSession,
    *,
    source: str,
    dedupe_key: str,
    shop_id: int,
    channel_id: int,
    headers: Mapping[str, str],
    body: bytes,
    items: Sequence[Item],
) -> list[IngestResult] | None:
    """Store the raw event and ingest its items in the caller's transaction. None: a redelivery."""
    event_id = await store_event(
        session,
        source=source,
        dedupe_key=dedupe_key,
        shop_id=shop_id,
        channel_id=channel_id,
        headers=headers,
        body=body,
        status="processed",
    )
    if event_id is None:
        return None
    return [await apply(session, shop_id=shop_id, item=item) for item in items]


async def process_event(session: AsyncSession, event_id: int) -> str:
    """Parse a stored event and apply its items (the job side of :func:`accept`). Returns the status."""
    event = (
        await session.execute(select(InboundEvent).where(InboundEvent.id == event_id).with_for_update())
    ).scalar_one_or_none()
    if event is None:
        return "missing"
    if event.status != "received":
        return event.status  # done by an earlier run
    if event.shop_id is None or event.channel_id is None:
        event.status, event.error = "failed", "event has no shop or channel"
        return event.status
    channel = await ChannelRepository(session, event.shop_id).get(event.channel_id)
    parser = _parsers.get(event.source)
    if channel is None or parser is None:
        event.status = "failed"
        event.error = "channel deleted" if channel is None else f"no parser for source {event.source!r}"
        event.processed_at = utcnow()
        return event.status
    try:
        items = parser(channel, event.body, event.headers)
    except (MalformedPayload, ValueError, KeyError, TypeError) as exc:
        event.status, event.error, event.processed_at = "failed", f"unreadable payload: {exc}", utcnow()
        return event.status
    for item in items:
        await apply(session, shop_id=event.shop_id, item=item, channel=channel)
    event.status, event.processed_at = "processed", utcnow()
    return event.status


@job(INGEST_JOB, max_attempts=10, backoff_seconds=1.0, backoff_cap_seconds=300.0)
async def ingest_event_job(ctx: JobContext) -> None:
    event_id = int(ctx.payload["event_id"])
    try:
        async with ctx.db.transaction() as session:
            await process_event(session, event_id)
    except Exception as exc:
        if ctx.is_last_attempt:
            async with ctx.db.transaction() as session:
                event = await session.get(InboundEvent, event_id)
                if event is not None and event.status == "received":
                    event.status, event.error = "failed", f"gave up after {ctx.attempt} attempts: {exc}"
        raise


# --- applying items ------------------------------------------------------------------------------------------


async def apply(
    session: AsyncSession, *, shop_id: int, item: Item, channel: Channel | None = None
) -> IngestResult:
    """Apply one item; ``channel``: the item's channel when the caller has already loaded it."""
    if isinstance(item, DeliveryUpdate):
        message, changed = await conversations.apply_delivery_status(
            session,
            shop_id=shop_id,
            channel_id=item.channel_id,
            provider_message_id=item.provider_message_id,
            status=item.status,
            occurred_at=item.timestamp,
            error=item.error,
        )
        return IngestResult(
            message.id if message else None, message.conversation_id if message else None, None, changed
        )
    return await ingest_message(session, shop_id=shop_id, message=item, channel=channel)


async def ingest_message(
    session: AsyncSession, *, shop_id: int, message: InboundMessage, channel: Channel | None = None
) -> IngestResult:
    """Customer by identity → conversation by thread → ``add_message``; all in the caller's transaction."""
    if channel is None or channel.id != message.channel_id or channel.shop_id != shop_id:
        channel = await ChannelRepository(session, shop_id).get_or_404(message.channel_id)
    if message.provider_message_id is not None and message.kind == "message":
        existing = await MessageRepository(session, shop_id).by_provider_id(
            channel.id, message.provider_message_id
        )
        if existing is not None:
            # a redelivery, or the provider echoing our own outbound message: never a customer message
            conversation = await ConversationRepository(session, shop_id).get(existing.conversation_id)
            return IngestResult(
                existing.id,
                existing.conversation_id,
                conversation.customer_id if conversation else None,
                False,
            )
    shop = await get_shop(session, shop_id)
    identities = [(message.sender.kind, message.sender.value)] + [
        (i.kind, i.value) for i in message.also_known_as
    ]
    customer, _ = await customers.resolve_by_identities(
        session,
        shop_id=shop_id,
        identities=identities,
        name=message.name,
        language=message.language,
        default_region=shop.country,
        lock=True,  # serialises work on one customer (two deliveries of a new customer: one conversation)
    )
    actor = Actor("customer", customer.id)
    conversation, locked = await _thread(
        session, shop_id=shop_id, channel=channel, customer_id=customer.id, message=message
    )
    if conversation is None:
        conversation = await conversations.open_conversation(
            session,
            shop_id=shop_id,
            actor=actor,
            customer_id=customer.id,
            channel_id=channel.id,
            subject=message.subject[:500] if message.subject else None,
            language=message.language,
        )
    if message.thread.chat_session_id is not None:
        await _bind_chat_session(
            session, shop_id, message.thread.chat_session_id, conversation.id, customer.id
        )
    meta: dict[str, Any] = dict(message.meta)
    # a tapped survey button (docs/surveys.md) is an answer, not a new request: it is kept in the timeline
    # as a system entry (no reopen, no waiting) and recorded by the survey service below
    survey_button = _survey_button(meta)
    if message.timestamp is not None:
        meta.setdefault("provider_timestamp", message.timestamp.isoformat())
    thread = _thread_meta(message)
    if thread:
        meta.setdefault("thread", thread)
    is_system = message.kind == "system" or survey_button is not None
    if is_system and message.provider_message_id:
        meta.setdefault("provider_message_id", message.provider_message_id)
    rows = [
        Attachment(
            shop_id=shop_id,
            filename=f.filename[:255],
            content_type=f.content_type[:100],
            size=f.size,
            sha256=f.sha256,
            storage_key=f.storage_key,
            content_id=f.content_id,
            inline=f.inline,
        )
        for f in message.files
    ]
    if rows:
        session.add_all(rows)
        await session.flush()
    attachments = [dict(a) for a in message.attachments] + [
        {"attachment_id": r.id, "filename": r.filename, "content_type": r.content_type, "size": r.size}
        | ({"content_id": r.content_id, "inline": True} if r.inline else {})
        for r in rows
    ]
    stored, created = await conversations.add_message(
        session,
        shop_id=shop_id,
        actor=actor,
        conversation_id=conversation.id,
        direction=Direction.system if is_system else Direction.inbound,
        text=message.text,
        html=message.html,
        attachments=attachments,
        channel_id=channel.id,
        provider_message_id=None if is_system else message.provider_message_id,
        meta=meta,
        locked=conversation if locked else None,
    )
    if survey_button is not None and created:
        await _answer_survey(session, shop_id, conversation.id, survey_button)

    for row in rows:
        row.message_id = stored.id
    if created and media.needs_fetch(attachments):
        await media.enqueue_fetch(session, shop_id=shop_id, message_id=stored.id)
    if (
        created and not is_system and survey_button is None
    ):  # the assistant looks at new customer messages (same transaction)
        await assistant.on_inbound(
            session, shop=shop, conversation_id=conversation.id, message_id=stored.id, meta=meta
        )
    return IngestResult(stored.id, conversation.id, customer.id, created)


def _survey_button(meta: Mapping[str, Any]) -> str | None:
    """The id of a tapped survey button, from an adapter's interactive reply (``meta.interactive.id``,
    WhatsApp/Messenger) or quick-reply payload (``meta.button.payload``)."""
    for key, field_name in (("interactive", "id"), ("button", "payload"), ("quick_reply", "payload")):
        value = meta.get(key)
        button_id = value.get(field_name) if isinstance(value, Mapping) else None
        if isinstance(button_id, str) and button_id.startswith("survey:"):
            return button_id
    return None


async def _answer_survey(session: AsyncSession, shop_id: int, conversation_id: int, button_id: str) -> None:
    from storedesk.surveys.service import answer_from_channel

    try:
        await answer_from_channel(
            session, shop_id=shop_id, conversation_id=conversation_id, button_id=button_id
        )
    except (NotFound, ValidationFailed):
        log.info("survey button %r in conversation %s matches no survey", button_id, conversation_id)


def _thread_meta(message: InboundMessage) -> dict[str, Any]:
    hints = message.thread
    out: dict[str, Any] = {}
    if hints.email_message_id:
        out["message_id"] = hints.email_message_id
    if hints.in_reply_to:
        out["in_reply_to"] = hints.in_reply_to
    if hints.references:
        out["references"] = list(hints.references)
    return out


async def _usable(session: AsyncSession, shop_id: int, conversation_id: int | None) -> Conversation | None:
    if conversation_id is None:
        return None
    conversation = await ConversationRepository(session, shop_id).get(conversation_id)
    if conversation is None or conversation.status == ConversationStatus.closed:
        return None
    return conversation


async def _thread(
    session: AsyncSession, *, shop_id: int, channel: Channel, customer_id: int, message: InboundMessage
) -> tuple[Conversation | None, bool]:
    """Which conversation a message belongs to (None: a new one), and whether it was read ``FOR UPDATE``
    (then ``add_message`` need not read it again)."""
    hints = message.thread
    if hints.new_conversation:
        return None, False
    found = await _usable(session, shop_id, hints.conversation_id)
    if found is not None:
        return found, False
    kind = ChannelKind(channel.kind)
    if kind == ChannelKind.email:
        ids = [i for i in (hints.in_reply_to, *reversed(hints.references)) if i]
        if ids:
            email_channels = [
                c.id for c in await ChannelRepository(session, shop_id).list() if c.kind == ChannelKind.email
            ]
            by_ids = await conversations.conversation_for_provider_ids(
                session, shop_id=shop_id, channel_ids=email_channels, provider_message_ids=ids
            )
            if by_ids is not None and by_ids.status != ConversationStatus.closed:
                return by_ids, False
        return None, False
    if kind == ChannelKind.webform:
        return None, False
    if kind == ChannelKind.chat:
        if hints.chat_session_id is not None:
            chat = await _chat_session(session, shop_id, hints.chat_session_id)
            return await _usable(session, shop_id, chat.conversation_id), False
        return None, False
    found = await conversations.find_open_conversation(
        session, shop_id=shop_id, customer_id=customer_id, channel_id=channel.id, lock=True
    )
    return found, found is not None


async def _chat_session(session: AsyncSession, shop_id: int, chat_session_id: int) -> ChatSession:
    chat = (
        await session.execute(
            select(ChatSession).where(ChatSession.shop_id == shop_id, ChatSession.id == chat_session_id)
        )
    ).scalar_one_or_none()
    if chat is None:
        raise ValidationFailed("unknown chat session", details={"field": "chat_session_id"})
    return chat


async def _bind_chat_session(
    session: AsyncSession, shop_id: int, chat_session_id: int, conversation_id: int, customer_id: int
) -> None:
    chat = await _chat_session(session, shop_id, chat_session_id)
    chat.conversation_id = conversation_id
    chat.customer_id = customer_id
    chat.last_seen_at = utcnow()
