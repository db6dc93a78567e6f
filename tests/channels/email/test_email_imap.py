"""IMAP polling against a real IMAP server: pymap's in-memory backend, started per module on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from imapclient import IMAPClient

from storedesk.channels.email.imap import (
    ImapConfig,
    ImapCursor,
    ImapError,
    UidValidityChanged,
    apoll_mailbox,
    fetch_new_messages,
    poll_mailbox,
)

HAVE_PYMAP = importlib.util.find_spec("pymap") is not None
pytestmark = pytest.mark.skipif(
    not HAVE_PYMAP, reason="pymap (IMAP test server, dev dependency) is not installed"
)
# the pymap console script, run with this interpreter (its bin/ directory need not be on PATH)
PYMAP = [
    sys.executable,
    "-c",
    "import sys; from pymap.main import main; sys.argv[0] = 'pymap'; sys.exit(main())",
]

USER, PASSWORD = "demouser", "demopass"


def _mail(number: int) -> bytes:
    return (
        f"From: Customer {number} <c{number}@client.example>\r\nTo: support@shop.example\r\n"
        f"Subject: Question {number}\r\nMessage-ID: <q{number}@client.example>\r\n\r\nBody {number}\r\n"
    ).encode()


@pytest.fixture(scope="module")
def imap_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [*PYMAP, "--no-tls", "--host", "127.0.0.1", "--port", str(port), "dict", "--demo-data",
         "--demo-user", USER, "--demo-password", PASSWORD],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("pymap did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def mailbox(imap_port: int, request: pytest.FixtureRequest) -> Iterator[tuple[IMAPClient, ImapConfig]]:
    folder = f"Support-{request.node.name[:40]}"
    client = IMAPClient("127.0.0.1", port=imap_port, ssl=False, timeout=10)
    client.login(USER, PASSWORD)
    client.create_folder(folder)
    config = ImapConfig(
        host="127.0.0.1", port=imap_port, username=USER, password=PASSWORD, folder=folder, use_ssl=False,
        timeout=10, batch_size=2,
    )  # fmt: skip
    try:
        yield client, config
    finally:
        client.logout()


def _uidvalidity(client: IMAPClient, folder: str) -> int:
    return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])


def test_fetch_new_messages_by_uid(mailbox: tuple[IMAPClient, ImapConfig]) -> None:
    client, config = mailbox
    for number in (1, 2, 3):
        client.append(config.folder, _mail(number))
    first = fetch_new_messages(config, 0)
    assert [raw for _, raw in first] == [_mail(1), _mail(2), _mail(3)]
    uids = [uid for uid, _ in first]
    assert uids == sorted(uids)
    assert fetch_new_messages(config, uids[-1]) == []  # "UID n:*" quirk filtered
    client.append(config.folder, _mail(4))
    [(uid, raw)] = fetch_new_messages(config, uids[-1], uidvalidity=_uidvalidity(client, config.folder))
    assert raw == _mail(4)
    assert uid > uids[-1]
    # read-only by default: nothing was marked \Seen
    client.select_folder(config.folder, readonly=True)
    assert all(b"\\Seen" not in flags for flags in client.get_flags([*uids, uid]).values())


def test_mark_seen(mailbox: tuple[IMAPClient, ImapConfig]) -> None:
    client, config = mailbox
    client.append(config.folder, _mail(1))
    client.append(config.folder, _mail(2))
    messages = fetch_new_messages(ImapConfig(**{**config.__dict__, "mark_seen": True}), 0)
    client.select_folder(config.folder, readonly=True)
    flags = client.get_flags([uid for uid, _ in messages])
    assert all(b"\\Seen" in value for value in flags.values())
    assert len(flags) == 2


def test_poll_cursor_and_max_messages(mailbox: tuple[IMAPClient, ImapConfig]) -> None:
    client, config = mailbox
    for number in range(1, 6):
        client.append(config.folder, _mail(number))
    limited = ImapConfig(**{**config.__dict__, "max_messages": 3})
    batch = poll_mailbox(limited, ImapCursor())
    assert [raw for _, raw in batch.messages] == [_mail(1), _mail(2), _mail(3)]
    assert batch.cursor == ImapCursor(_uidvalidity(client, config.folder), batch.messages[-1][0])
    assert batch.uidvalidity_changed is False
    rest = poll_mailbox(limited, batch.cursor)
    assert [raw for _, raw in rest.messages] == [_mail(4), _mail(5)]
    empty = poll_mailbox(limited, rest.cursor)
    assert empty.messages == []
    assert empty.cursor == rest.cursor


def test_uidvalidity_change(mailbox: tuple[IMAPClient, ImapConfig]) -> None:
    client, config = mailbox
    client.append(config.folder, _mail(1))
    batch = poll_mailbox(config, ImapCursor())
    old_validity = batch.cursor.uidvalidity
    assert old_validity is not None
    # the mailbox is re-created: its UIDs start over under a new UIDVALIDITY
    client.delete_folder(config.folder)
    client.create_folder(config.folder)
    client.append(config.folder, _mail(7))
    new_validity = _uidvalidity(client, config.folder)
    assert new_validity != old_validity
    with pytest.raises(UidValidityChanged) as caught:
        fetch_new_messages(config, batch.cursor.last_uid, uidvalidity=old_validity)
    assert (caught.value.old, caught.value.new) == (old_validity, new_validity)
    resynced = poll_mailbox(config, batch.cursor)
    assert resynced.uidvalidity_changed is True
    assert [raw for _, raw in resynced.messages] == [_mail(7)]
    assert resynced.cursor == ImapCursor(new_validity, resynced.messages[0][0])


def test_bad_login(imap_port: int) -> None:
    config = ImapConfig(host="127.0.0.1", port=imap_port, username=USER, password="wrong", use_ssl=False)
    with pytest.raises(ImapError):
        fetch_new_messages(config, 0)


def test_nothing_listening() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ImapConfig(
        host="127.0.0.1", port=port, username=USER, password=PASSWORD, use_ssl=False, timeout=2
    )
    with pytest.raises(ImapError):
        fetch_new_messages(config, 0)


@pytest.mark.anyio
async def test_async_poll(mailbox: tuple[IMAPClient, ImapConfig]) -> None:
    client, config = mailbox
    client.append(config.folder, _mail(9))
    batch = await apoll_mailbox(config, ImapCursor())
    assert [raw for _, raw in batch.messages] == [_mail(9)]
