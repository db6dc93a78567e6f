"""IMAP polling with imapclient: fetch the messages that arrived after the last seen UID.

A mailbox position is a :class:`ImapCursor` ``(uidvalidity, last_uid)``.  IMAP UIDs are only meaningful within
one UIDVALIDITY: when the server reports a different UIDVALIDITY (mailbox re-created, server migrated), every
stored UID is void.  :func:`poll_mailbox` then starts over from UID 1 and flags the batch
(``uidvalidity_changed``) so the ingest de-duplicates by Message-ID; :func:`fetch_new_messages` is the plain
form that raises :class:`UidValidityChanged` instead.

Messages are fetched with ``BODY.PEEK[]`` (never marks them read); ``mark_seen=True`` sets ``\\Seen`` after a
successful fetch.  imapclient is blocking: call :func:`apoll_mailbox` from async code (runs in a thread).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

__all__ = [
    "ImapBatch",
    "ImapConfig",
    "ImapCursor",
    "ImapError",
    "UidValidityChanged",
    "apoll_mailbox",
    "fetch_new_messages",
    "poll_mailbox",
]


@dataclass(frozen=True)
class ImapConfig:
    host: str
    username: str
    password: str
    port: int = 993
    folder: str = "INBOX"
    use_ssl: bool = True  # implicit TLS (993); with use_ssl=False set starttls for port 143
    starttls: bool = False
    mark_seen: bool = False
    timeout: float = 30.0
    batch_size: int = 50  # messages per FETCH command
    max_messages: int | None = None  # cap per poll (the rest comes next time)
    ssl_context: ssl.SSLContext | None = None


@dataclass(frozen=True)
class ImapCursor:
    uidvalidity: int | None = None
    last_uid: int = 0


@dataclass(frozen=True)
class ImapBatch:
    messages: list[tuple[int, bytes]]
    cursor: ImapCursor  # where the next poll continues
    uidvalidity_changed: bool = False


class ImapError(Exception):
    """Login, network or protocol failure (retry on the next poll)."""


class UidValidityChanged(ImapError):
    def __init__(self, old: int, new: int) -> None:
        super().__init__(f"UIDVALIDITY changed from {old} to {new}: stored UIDs are void, re-sync from UID 1")
        self.old = old
        self.new = new


def _connect(config: ImapConfig) -> IMAPClient:
    client = IMAPClient(
        config.host,
        port=config.port,
        ssl=config.use_ssl,
        ssl_context=config.ssl_context,
        timeout=config.timeout,
    )
    try:
        if config.starttls and not config.use_ssl:
            client.starttls(config.ssl_context or ssl.create_default_context())
        client.login(config.username, config.password)
    except Exception:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:  # noqa: S110
            pass


def _select(client: IMAPClient, config: ImapConfig) -> int:
    info = client.select_folder(config.folder, readonly=not config.mark_seen)
    return int(info.get(b"UIDVALIDITY", 0))


def _fetch(client: IMAPClient, config: ImapConfig, since_uid: int) -> list[tuple[int, bytes]]:
    # "UID n:*" always matches the highest UID, even below n: filter
    uids = sorted(uid for uid in client.search(["UID", f"{since_uid + 1}:*"]) if uid > since_uid)
    if config.max_messages is not None:
        uids = uids[: config.max_messages]
    messages: list[tuple[int, bytes]] = []
    for start in range(0, len(uids), max(1, config.batch_size)):
        chunk = uids[start : start + config.batch_size]
        response = client.fetch(chunk, ["BODY.PEEK[]"])
        for uid in chunk:
            data = response.get(uid)
            if not data:
                continue  # expunged meanwhile
            body = data.get(b"BODY[]")
            if isinstance(body, bytes):
                messages.append((uid, body))
    if config.mark_seen and messages:
        client.add_flags([uid for uid, _ in messages], [b"\\Seen"], silent=True)
    return messages


def poll_mailbox(config: ImapConfig, cursor: ImapCursor, *, resync: bool = True) -> ImapBatch:
    """Fetch what is new since ``cursor``; returns the messages (by ascending UID) and the next cursor.

    On a UIDVALIDITY change the mailbox is read again from UID 1 (``resync=False``: nothing is fetched and the
    batch only reports the change).
    """
    try:
        client = _connect(config)
    except (IMAPClientError, OSError) as error:
        raise ImapError(f"cannot log in to {config.host}:{config.port}: {error}") from error
    try:
        uidvalidity = _select(client, config)
        changed = cursor.uidvalidity is not None and uidvalidity != cursor.uidvalidity
        if changed and not resync:
            messages: list[tuple[int, bytes]] = []
        else:
            messages = _fetch(client, config, 0 if changed else cursor.last_uid)
    except (IMAPClientError, OSError) as error:
        raise ImapError(f"IMAP error on {config.host}:{config.port}/{config.folder}: {error}") from error
    finally:
        _close(client)
    last_uid = messages[-1][0] if messages else (0 if changed else cursor.last_uid)
    return ImapBatch(messages, ImapCursor(uidvalidity, last_uid), changed)


def fetch_new_messages(
    config: ImapConfig, since_uid: int, *, uidvalidity: int | None = None
) -> list[tuple[int, bytes]]:
    """``[(uid, raw bytes)]`` of the messages with a UID above ``since_uid``.

    Pass the ``uidvalidity`` that ``since_uid`` belongs to: if the mailbox reports another one,
    :class:`UidValidityChanged` is raised (the caller resets to UID 0 and de-duplicates).
    """
    batch = poll_mailbox(config, ImapCursor(uidvalidity, since_uid), resync=False)
    if batch.uidvalidity_changed:
        raise UidValidityChanged(uidvalidity or 0, batch.cursor.uidvalidity or 0)
    return batch.messages


async def apoll_mailbox(config: ImapConfig, cursor: ImapCursor) -> ImapBatch:
    """:func:`poll_mailbox` in a worker thread, for use inside the asyncio app."""
    return await asyncio.to_thread(poll_mailbox, config, cursor)
