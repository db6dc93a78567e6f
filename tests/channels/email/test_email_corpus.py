"""The shared real-world corpus (zammad, chatwoot, talon, email_reply_parser): every file parses, every
expectation holds except the documented deviations in ``email_corpus_check.KNOWN_DEVIATIONS``."""

from __future__ import annotations

from typing import Any

import pytest
from email_corpus_check import (
    CORPUS,
    KNOWN_DEVIATIONS,
    NOT_CHECKED,
    checks_for,
    corpus_available,
    load_records,
    mail_files,
    pass_rate,
    run_record,
)

from storedesk.channels.email.parser import parse_email

pytestmark = pytest.mark.skipif(not corpus_available(), reason=f"mail corpus not found at {CORPUS}")

RECORDS = load_records()
FILES = mail_files()


@pytest.mark.parametrize("path", FILES, ids=[str(path.relative_to(CORPUS)) for path in FILES])
def test_every_corpus_file_parses(path: Any) -> None:
    parsed = parse_email(path.read_bytes())
    # the JSON contract is always complete
    assert set(parsed.as_dict()) == {
        "message_id", "in_reply_to", "references", "from", "to", "cc", "subject", "date", "text", "html",
        "reply_text", "attachments", "is_auto_reply", "is_bounce",
    }  # fmt: skip


def test_corpus_is_complete() -> None:
    assert len(RECORDS) == 147
    assert len(FILES) >= 170


@pytest.mark.parametrize("record", RECORDS, ids=[record["file"] for record in RECORDS])
def test_expectations(record: dict[str, Any]) -> None:
    failures = [
        f"{result.check}: {result.detail}"
        for result in run_record(record)
        if not result.ok and (record["file"], result.check) not in KNOWN_DEVIATIONS
    ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "key", sorted(KNOWN_DEVIATIONS), ids=[f"{f}:{c}" for f, c in sorted(KNOWN_DEVIATIONS)]
)
def test_known_deviation_still_deviates(key: tuple[str, str]) -> None:
    """A listed deviation that starts to pass must be removed from the list."""
    file, check = key
    record = next(record for record in RECORDS if record["file"] == file)
    names = [name for name, _ in checks_for(record)]
    assert check in names, f"{check} is not a check of {file}"
    result = next(result for result in run_record(record) if result.check == check)
    assert not result.ok, f"{file} {check} now passes: remove it from KNOWN_DEVIATIONS"


def test_every_record_key_is_checked_or_explained() -> None:
    explained = set(NOT_CHECKED)
    checked_keys = {
        "from", "from_email", "from_display_name", "to", "cc", "reply_to", "subject", "message_id",
        "in_reply_to", "references", "auto_reply", "contact_email", "contact_name", "body_contains",
        "zammad_body_placeholder", "attachments", "attachments_count", "text_full", "html_reply_includes",
        "signature_marker", "reply_text", "reply_starts_with", "reply_contains", "reply_not_contains",
        "reply_nonempty", "reply_html_nowhitespace", "signature", "fragments", "max_seconds", "expect",
    }  # fmt: skip
    for record in RECORDS:
        for key in record:
            assert key in checked_keys or key in explained, f"{record['file']}: unhandled key {key}"


def test_pass_rate() -> None:
    rate, failures = pass_rate(RECORDS)
    unexpected = [f for f in failures if (f.file, f.check) not in KNOWN_DEVIATIONS]
    assert not unexpected
    assert rate.checks_total - rate.checks_passed == len(KNOWN_DEVIATIONS)
    assert rate.check_rate >= 0.95
