"""``storedesk email parse FILE`` through typer's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storedesk.channels.email.cli import app

runner = CliRunner()

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_parse_prints_the_json_contract() -> None:
    result = runner.invoke(app, ["parse", str(FIXTURES / "dsn_bounce.eml")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["message_id"] == "dsn-1@mx.shop.example"
    assert data["from"] == {"name": "Mail Delivery System", "address": "MAILER-DAEMON@mx.shop.example"}
    assert data["to"] == [{"name": "", "address": "support@shop.example"}]
    assert data["cc"] == []
    assert data["subject"] == "Undelivered Mail Returned to Sender"
    assert data["date"] == "2025-03-08T12:00:00+01:00"
    assert data["is_bounce"] is True
    assert data["is_auto_reply"] is True
    assert data["attachments"] == [
        {"filename": "Delivery report.txt", "content_type": "message/delivery-status", "size": 270},
        {"filename": "Your order 7007 has shipped.eml", "content_type": "message/rfc822", "size": 258},
    ]
    assert data["html"] is None


def test_parse_keeps_non_ascii_readable() -> None:
    result = runner.invoke(app, ["parse", str(FIXTURES / "german_reply.eml")])
    assert result.exit_code == 0
    assert '"subject": "AW: Ihre Bestellung 10045 – Größe"' in result.stdout


def test_parse_reads_stdin() -> None:
    raw = (FIXTURES / "auto_reply_oof.eml").read_bytes()
    result = runner.invoke(app, ["parse", "-"], input=raw)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["is_auto_reply"] is True


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.eml"
    result = runner.invoke(app, ["parse", str(missing)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: no such file: {missing}\n"
    assert "Traceback" not in result.output


def test_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["parse", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path} is a directory, not a mail file\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked.eml"
    locked.write_bytes(b"Subject: x\r\n\r\n")
    locked.chmod(0)
    result = runner.invoke(app, ["parse", str(locked)])
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot read {locked}: Permission denied\n"


def test_unreadable_file_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root ignores file modes; simulate the OS refusing the read instead."""
    target = tmp_path / "locked.eml"
    target.write_bytes(b"Subject: x\r\n\r\n")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    result = runner.invoke(app, ["parse", str(target)])
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot read {target}: Permission denied\n"


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert result.exit_code in (0, 2)
    assert "parse" in result.output
