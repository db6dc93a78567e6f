"""Checks every expectation in the shared mail corpus (``../shared/data/mail/expectations.jsonl``).

Used by ``test_corpus.py`` (one test per record) and by ``bench/email_parse.py`` (pass rate).  Each record's
keys map to checks below; keys that describe a source project's internals (routing, storage) are listed in
``NOT_CHECKED`` with the reason.  ``KNOWN_DEVIATIONS`` lists the (file, check) pairs where we deliberately
differ — mostly where the four source projects contradict each other — with the reason.  A deviation that
starts passing makes ``test_known_deviation_still_deviates`` fail, so the list stays honest.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import getaddresses
from functools import cache
from pathlib import Path
from typing import Any

from storedesk.channels.email.parser import ParsedEmail, parse_email, resolve_cid_images
from storedesk.channels.email.reply import (
    extract_reply,
    extract_reply_from_html,
    extract_signature,
    html_to_text,
    split_fragments,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS = (REPO_ROOT / "../shared/data/mail").resolve()
EXPECTATIONS = CORPUS / "expectations.jsonl"

# Every file in the corpus that is a mail, a mail body or a body fragment (not the licences, notes and code).
_NOT_MAIL_SUFFIXES = (".yml", ".md", ".py", ".tsv", ".jsonl", ".rb", ".rst", ".pyc")
_NOT_MAIL_NAMES = {"LICENSE", "MANIFEST.tsv"}


def corpus_available() -> bool:
    return EXPECTATIONS.is_file()


def mail_files() -> list[Path]:
    if not corpus_available():
        return []
    return sorted(
        path
        for path in CORPUS.rglob("*")
        if path.is_file()
        and path.name not in _NOT_MAIL_NAMES
        and not path.name.endswith(_NOT_MAIL_SUFFIXES)
        and "tools" not in path.relative_to(CORPUS).parts
    )


def load_records() -> list[dict[str, Any]]:
    if not corpus_available():
        return []
    with EXPECTATIONS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# --------------------------------------------------------------------------------------------------------------
# Keys we do not check, and why
# --------------------------------------------------------------------------------------------------------------

NOT_CHECKED = {
    "file": "record identity",
    "source": "record identity",
    "expectation_file": "provenance",
    "input": "tells which entry point to call (used, not checked)",
    "compare": "tells how to compare reply_text (used, not checked)",
    "note": "commentary",
    "caveats": "commentary; the affected checks are in KNOWN_DEVIATIONS",
    "sender": "input of the talon signature test (used, not checked)",
    "content_type": "Zammad's choice of which body it stores (text/html vs text/plain); we keep both",
    "zammad_html_alternative_attachment": "Zammad stores its copy of the HTML body as an attachment; we do not",
    "expect.route": "chatwoot inbox routing (ingest service, not the parser)",
    "expect.content_type": "chatwoot message type (ingest service)",
    "expect.sender_taken_from": "explanation of contact_email, which is checked",
    "expect.contact_name": "explanation of contact_name, which is checked",
    "expect.contact_match": "case-insensitive contact lookup is a database concern",
    "expect.note": "commentary",
    "expect.multipart": "MIME structure flag of chatwoot's presenter",
    "expect.content_type_includes": "MIME structure of chatwoot's presenter",
    "expect.creates_conversation": "routing: chatwoot drops its own notification mails (ingest service)",
    "expect.conversation_uuid_from_in_reply_to": "chatwoot's own In-Reply-To id format (ingest service)",
    "expect.content": "chatwoot's version of references.eml differs from the stored file (see caveats)",
}


# --------------------------------------------------------------------------------------------------------------
# Known deviations: (file, check) -> reason
# --------------------------------------------------------------------------------------------------------------

_ZAMMAD_ENCODED_LOCAL = (
    "RFC 2047 section 5 forbids encoded-words inside an addr-spec; we keep the local part verbatim so an encoded "
    "word can never forge another address (Zammad decodes it)"
)
_QUOTED_LOCAL = (
    "local part with spaces: we keep the RFC 5322 quoted form '\"power quadrant system\"@example.com' (valid and "
    "replyable); Zammad drops the quotes"
)
_BARE_NAME = (
    "'From: Test test@example.com' has no angle brackets: we read display name 'Test' and address "
    "test@example.com; Zammad keeps the whole string as both"
)
_STRAY_BRACKET = (
    "'From: \"Millions Lottery Spain transfer\"@example.com>': Zammad keeps the stray '>' in the address and reuses "
    "the string as display name; we read a quoted local part and no display name"
)
_SPLIT_WORD = (
    "Zammad splits the encoded word '=?iso-8859-1?Q?B=FCrling,=20Andreas?=' at the comma and yields '=20Andreas?='; "
    "decoding the whole word gives 'Bürling, Andreas'"
)
_UUENCODE = (
    "inline uuencoded block: we move it into the attachment rulesets-report.csv (the same file Zammad's mail024 "
    "expects as an attachment); Zammad leaves an inline block in the body text"
)
_TRAILING_TEXT_PART = (
    "the text/plain part after the PDF has no Content-Type and no filename: we show it as the body; Zammad stores "
    "it as an attachment named 'file' and shows 'no visible content'"
)
_GMAIL_PLACEHOLDERS = (
    "text-only Gmail mail with three image parts: no HTML body references them by cid, so they stay attachments "
    "and Gmail's '[image: poster (8).jpg]' placeholders stay in the text; chatwoot's presenter rewrites the "
    "placeholders into <img> tags and hides the parts"
)
_REFERENCES_VERSION = (
    "version mismatch documented in SOURCES.md: the stored fixture has References '<…> <test-in-reply-to>', the "
    "spec read expects 'test-reference-id'"
)

KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {
    ("zammad/mail016.box", "body_contains[0]"): (
        "'新建网页 3' is the HTML <title>; mail clients do not show <title> and neither do we (Zammad keeps it)"
    ),
    ("zammad/mail025.box", "body_contains[0]"): _UUENCODE,
    ("zammad/mail025.box", "body_contains[1]"): _UUENCODE,
    ("zammad/mail065.box", "from_display_name"): _SPLIT_WORD,
    ("zammad/mail065.box", "from"): _SPLIT_WORD,
    ("zammad/mail071.box", "from_email"): _QUOTED_LOCAL,
    ("zammad/mail071.box", "from"): _QUOTED_LOCAL,
    ("zammad/mail076.box", "from_email"): _STRAY_BRACKET,
    ("zammad/mail076.box", "from_display_name"): _STRAY_BRACKET,
    ("zammad/mail087.box", "from_email"): _BARE_NAME,
    ("zammad/mail087.box", "from_display_name"): _BARE_NAME,
    ("zammad/mail087.box", "no_visible_body"): _TRAILING_TEXT_PART,
    ("zammad/mail087.box", "attachments"): _TRAILING_TEXT_PART,
    ("zammad/mail092.box", "attachments"): (
        "the returned message has no Subject: we name it after its Content-Description, 'Undelivered Message.eml' "
        "(as Zammad's own mail055 expectation does); this stored yml, from another Zammad version, has 'Mail.eml'"
    ),
    ("zammad/mail096.box", "message_id"): (
        "the Message-ID header is empty: Zammad synthesises '<gen-…@zammad_generated>'; we return None and leave "
        "de-duplication of id-less mail to the ingest service (which can hash the raw bytes)"
    ),
    ("zammad/mail117.box", "from_email"): _ZAMMAD_ENCODED_LOCAL,
    ("zammad/mail117.box", "from"): _ZAMMAD_ENCODED_LOCAL,
    ("zammad/mail118.box", "from_email"): _ZAMMAD_ENCODED_LOCAL,
    ("zammad/mail118.box", "from"): _ZAMMAD_ENCODED_LOCAL,
    ("chatwoot/references.eml", "references"): _REFERENCES_VERSION,
    ("chatwoot/references.eml", "expect.threads_to_message_id"): _REFERENCES_VERSION,
    ("chatwoot/mail_with_quote.eml", "reply_text"): (
        "projects disagree: chatwoot keeps the quote and the '--' signature of this Gmail reply; talon and "
        "email_reply_parser strip 'On … wrote:' quotes and '--' signatures, and so do we"
    ),
    ("chatwoot/support_1.eml", "html_reply_includes"): (
        "chatwoot renders HTML as Markdown ('[C](url)') and expects 'sell paid' although the quoted-printable soft "
        "break 'sell=\\npaid' decodes to 'sellpaid' (SOURCES.md caveat); we render plain text"
    ),
    ("chatwoot/mail_with_plain_text_and_inline_image.eml", "attachments_count"): _GMAIL_PLACEHOLDERS,
    ("chatwoot/mail_with_plain_text_and_inline_image.eml", "expect.text_full_includes"): _GMAIL_PLACEHOLDERS,
    ("chatwoot/mail_with_plain_text_and_inline_image.eml", "expect.text_full_excludes"): _GMAIL_PLACEHOLDERS,
    ("talon/tests/fixtures/standard_replies/iphone.eml", "reply_text"): (
        "projects disagree: talon keeps 'Sent from my iPhone'; email_reply_parser (email_iPhone.txt, "
        "email_BlackBerry.txt, …) hides it as a signature, and so do we"
    ),
    ("talon/tests/fixtures/standard_replies/sparrow.eml", "reply_text"): (
        "projects disagree: talon keeps the '-- ' signature ('xxx / Sent with Sparrow'); email_reply_parser "
        "(correct_sig.txt) hides '-- ' signatures, and so do we"
    ),
    ("talon/tests/fixtures/reply-separated-by-hr.html", "reply_html"): (
        "talon also drops the sign-off 'Bob' because it shares a <div> with the <hr> quote separator; we cut at the "
        "<hr> and its From:/To:/Sent: block and keep 'Bob' as part of the reply"
    ),
}


# --------------------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    file: str
    check: str
    ok: bool
    detail: str = ""


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def _nows(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _rstrip_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


@cache
def _raw(file: str) -> bytes:
    return (CORPUS / file).read_bytes()


@cache
def parsed(file: str) -> ParsedEmail:
    return parse_email(_raw(file))


def _addresses(value: str) -> list[str]:
    """The addr-specs in an expected header string (Zammad gives the decoded raw header, not a parsed list)."""
    parsed = [address.lower() for _, address in getaddresses([value]) if address]
    if all("@" in address for address in parsed):
        return parsed
    return [match.lower() for match in re.findall(r"[^\s<>,;:()\"']+@[^\s<>,;:()\"']+", value)]


def _body_haystack(file: str) -> str:
    """Text and rendered HTML: the projects store either alternative as "the body"."""
    mail = parsed(file)
    return mail.text + "\n" + (html_to_text(mail.html) if mail.html else "")


def _reply_for(record: dict[str, Any]) -> str:
    """The reply text for a record, through the entry point its source project feeds."""
    file = record["file"]
    source_input = record.get("input", "")
    if "signature" in record:
        body, _ = extract_signature(_raw(file).decode("utf-8"), record.get("sender", ""))
        return body
    if source_input.startswith("HTML body"):
        return extract_reply_from_html(_raw(file).decode("utf-8"))
    if source_input.startswith("plain-text body") or source_input.startswith("whole raw message"):
        return extract_reply(_raw(file).decode("utf-8"))
    return parsed(file).reply_text


def _compare_reply(record: dict[str, Any], actual: str, expected: str) -> bool:
    compare = record.get("compare", "")
    if "ignore all whitespace" in compare:
        return _nows(actual) == _nows(expected)
    if "trailing whitespace at line ends" in compare:
        return _rstrip_lines(actual) == _rstrip_lines(expected)
    return actual.strip() == expected.strip()


def _check_fragments(record: dict[str, Any]) -> tuple[bool, str]:
    spec = record["fragments"]
    fragments = split_fragments(_raw(record["file"]).decode("utf-8"))
    problems: list[str] = []
    if "count" in spec and len(fragments) != spec["count"]:
        problems.append(f"count {len(fragments)} != {spec['count']}")
    for flag in ("quoted", "signature", "hidden"):
        if flag in spec:
            actual = [getattr(fragment, flag) for fragment in fragments]
            if actual[: len(spec[flag])] != spec[flag] or len(actual) != len(spec[flag]):
                problems.append(f"{flag} {actual} != {spec[flag]}")
    for index_text, expected in spec.get("exact", {}).items():
        index = int(index_text)
        if index >= len(fragments) or fragments[index].content != expected:
            got = fragments[index].content if index < len(fragments) else None
            problems.append(f"exact[{index}] {got!r} != {expected!r}")
    for index_text, pattern in spec.get("regex", {}).items():
        index = int(index_text)
        if index >= len(fragments) or not re.search(pattern, fragments[index].content, re.MULTILINE):
            got = fragments[index].content[:60] if index < len(fragments) else None
            problems.append(f"regex[{index}] {pattern!r} !~ {got!r}")
    for index_text, needle in spec.get("contains", {}).items():
        index = int(index_text)
        if index >= len(fragments) or needle not in fragments[index].content:
            problems.append(f"contains[{index}] {needle!r}")
    return not problems, "; ".join(problems)


def _is_mime(record: dict[str, Any]) -> bool:
    return record["source"] in ("zammad", "chatwoot") or record.get("input", "").startswith("text/plain part")


def checks_for(record: dict[str, Any]) -> list[tuple[str, Callable[[], tuple[bool, str]]]]:
    """The named checks of one record (each a thunk returning ``(ok, detail)``)."""
    file = record["file"]
    result: list[tuple[str, Callable[[], tuple[bool, str]]]] = []

    def add(name: str, thunk: Callable[[], tuple[bool, str]]) -> None:
        result.append((name, thunk))

    def eq(actual: object, expected: object) -> tuple[bool, str]:
        return actual == expected, f"{actual!r} != {expected!r}"

    mime = _is_mime(record)
    if mime:
        add("parses", lambda: (parsed(file) is not None, ""))
    if "from_email" in record:
        add(
            "from_email",
            lambda: eq(parsed(file).from_.address if parsed(file).from_ else None, record["from_email"]),
        )
    if "from_display_name" in record:
        add(
            "from_display_name",
            lambda: eq(parsed(file).from_.name if parsed(file).from_ else None, record["from_display_name"]),
        )
    if "from" in record:

        def check_from() -> tuple[bool, str]:
            sender = parsed(file).from_
            if sender is None:
                return False, "no sender"
            expected = record["from"]
            ok = sender.address.lower() in expected.lower() and (not sender.name or sender.name in expected)
            return ok, f"{sender!r} not in {expected!r}"

        add("from", check_from)
    for key in ("to", "cc", "reply_to"):
        if key in record:

            def check_addresses(key: str = key) -> tuple[bool, str]:
                actual = [address.address.lower() for address in getattr(parsed(file), key)]
                return eq(actual, _addresses(record[key]))

            add(key, check_addresses)
    if "subject" in record:
        add("subject", lambda: eq(parsed(file).subject, record["subject"]))
    if "message_id" in record:
        add("message_id", lambda: eq(parsed(file).message_id, record["message_id"].strip("<>")))
    if "in_reply_to" in record:
        add("in_reply_to", lambda: eq(parsed(file).in_reply_to, record["in_reply_to"]))
    if "references" in record:
        add("references", lambda: eq(parsed(file).references, record["references"]))
    if "auto_reply" in record:
        add("auto_reply", lambda: eq(parsed(file).is_auto_reply, record["auto_reply"]))
    if "contact_email" in record:
        add(
            "contact_email",
            lambda: eq(
                parsed(file).contact.address if parsed(file).contact else None, record["contact_email"]
            ),
        )
    if "contact_name" in record:

        def check_contact_name() -> tuple[bool, str]:
            contact = parsed(file).contact
            name = contact.name if contact else ""
            # chatwoot falls back to the local part when there is no display name
            if not name and contact:
                name = contact.address.split("@", 1)[0]
            return eq(name, record["contact_name"])

        add("contact_name", check_contact_name)
    for index, needle in enumerate(record.get("body_contains", [])):

        def check_body(needle: str = needle) -> tuple[bool, str]:
            body = _collapse(_body_haystack(file))
            return _collapse(needle) in body, f"{needle!r} not in text ({body[:200]!r}…)"

        add(f"body_contains[{index}]", check_body)
    if "zammad_body_placeholder" in record:
        add("no_visible_body", lambda: (parsed(file).text.strip() == "", repr(parsed(file).text[:200])))
    if "attachments" in record:
        add(
            "attachments",
            lambda: eq(
                [attachment.filename for attachment in parsed(file).attachments], record["attachments"]
            ),
        )
    if "attachments_count" in record:
        add(
            "attachments_count",
            lambda: eq(sum(1 for a in parsed(file).attachments if not a.inline), record["attachments_count"]),
        )
    if "text_full" in record:
        add("text_full", lambda: eq(parsed(file).text.strip(), record["text_full"].strip()))
    if "html_reply_includes" in record:
        add(
            "html_reply_includes",
            lambda: (record["html_reply_includes"] in parsed(file).reply_text, repr(parsed(file).reply_text)),
        )
    if "signature_marker" in record:
        marker = record["signature_marker"]

        def check_marker() -> tuple[bool, str]:
            mail = parsed(file)
            # Zammad marks its stored body, which is the HTML part when there is one
            html_body = record.get("content_type") == "text/html" and mail.html
            reply = _collapse(extract_reply_from_html(mail.html or "") if html_body else mail.reply_text)
            ok = (
                _collapse(marker["last_text_before"]) in reply
                and _collapse(marker["first_text_after"]) not in reply
            )
            return ok, repr(reply[-300:])

        add("signature_marker", check_marker)
    if "reply_text" in record:

        def check_reply() -> tuple[bool, str]:
            actual = _reply_for(record)
            return _compare_reply(
                record, actual, record["reply_text"]
            ), f"{actual!r} != {record['reply_text']!r}"

        add("reply_text", check_reply)
    if "reply_starts_with" in record:
        add(
            "reply_starts_with",
            lambda: (
                _reply_for(record).strip().startswith(record["reply_starts_with"]),
                repr(_reply_for(record)[:100]),
            ),
        )
    for index, needle in enumerate(record.get("reply_contains", [])):
        add(
            f"reply_contains[{index}]",
            lambda needle=needle: (needle in _reply_for(record), repr(_reply_for(record))),
        )
    for index, needle in enumerate(record.get("reply_not_contains", [])):
        add(
            f"reply_not_contains[{index}]",
            lambda needle=needle: (needle not in _reply_for(record), repr(_reply_for(record))),
        )
    if record.get("reply_nonempty"):
        add("reply_nonempty", lambda: (bool(_reply_for(record).strip()), ""))
    if "reply_html_nowhitespace" in record:
        add(
            "reply_html",
            lambda: eq(_nows(_reply_for(record)), _nows(html_to_text(record["reply_html_nowhitespace"]))),
        )
    if "signature" in record:

        def check_signature() -> tuple[bool, str]:
            _, signature = extract_signature(_raw(file).decode("utf-8"), record.get("sender", ""))
            return eq((signature or "").strip(), record["signature"].strip())

        add("signature", check_signature)
    if "fragments" in record:
        add("fragments", lambda: _check_fragments(record))
    if "max_seconds" in record:

        def check_time() -> tuple[bool, str]:
            start = time.perf_counter()
            extract_reply(_raw(file).decode("utf-8"))
            elapsed = time.perf_counter() - start
            return elapsed < record["max_seconds"], f"{elapsed:.3f}s"

        add("max_seconds", check_time)
    for key, value in record.get("expect", {}).items():
        if f"expect.{key}" in NOT_CHECKED:
            continue
        add(f"expect.{key}", _expect_check(record, key, value))
    return result


def _expect_check(record: dict[str, Any], key: str, value: Any) -> Callable[[], tuple[bool, str]]:
    file = record["file"]

    def html_after_cid() -> str:
        return resolve_cid_images(parsed(file).html or "", lambda cid: f"/attachments/{cid}")

    if key == "date":
        return lambda: (
            parsed(file).date is not None and parsed(file).date.isoformat() == value,
            repr(parsed(file).date),
        )
    if key == "in_reply_to":
        return lambda: (parsed(file).in_reply_to == value, repr(parsed(file).in_reply_to))
    if key == "auto_reply":
        return lambda: (parsed(file).is_auto_reply == value, repr(parsed(file).is_auto_reply))
    if key == "must_not_raise":
        return lambda: (parsed(file) is not None, "")
    if key in ("conversation_uuid_from_to", "conversation_uuid_from_x_forwarded_for"):
        return lambda: (parsed(file).reply_token == value, repr(parsed(file).reply_token))
    if key == "threads_to_message_id":
        return lambda: (
            value == parsed(file).in_reply_to or value in parsed(file).references,
            f"{parsed(file).in_reply_to!r} {parsed(file).references!r}",
        )
    if key == "html_full_includes":
        return lambda: (value in html_after_cid(), html_after_cid()[:200])
    if key == "html_full_excludes":
        return lambda: (all(item not in html_after_cid() for item in value), html_after_cid()[:300])
    if key == "text_full_includes":
        return lambda: (value in parsed(file).text, parsed(file).text[:300])
    if key == "text_full_excludes":
        return lambda: (all(item not in parsed(file).text for item in value), parsed(file).text[:300])
    return lambda: (False, f"no checker for expect.{key}")


def run_record(record: dict[str, Any]) -> list[CheckResult]:
    results: list[CheckResult] = []
    for name, thunk in checks_for(record):
        try:
            ok, detail = thunk()
        except Exception as error:  # a crash counts as a failed check
            ok, detail = False, f"{type(error).__name__}: {error}"
        results.append(CheckResult(record["file"], name, ok, "" if ok else detail))
    return results


@dataclass
class PassRate:
    checks_total: int
    checks_passed: int
    records_total: int
    records_passed: int
    deviations: int

    @property
    def check_rate(self) -> float:
        return self.checks_passed / self.checks_total if self.checks_total else 1.0

    @property
    def record_rate(self) -> float:
        return self.records_passed / self.records_total if self.records_total else 1.0


def pass_rate(records: list[dict[str, Any]] | None = None) -> tuple[PassRate, list[CheckResult]]:
    records = load_records() if records is None else records
    failures: list[CheckResult] = []
    total = passed = records_passed = 0
    for record in records:
        results = run_record(record)
        total += len(results)
        ok_here = sum(1 for result in results if result.ok)
        passed += ok_here
        records_passed += ok_here == len(results)
        failures.extend(result for result in results if not result.ok)
    return PassRate(total, passed, len(records), records_passed, len(KNOWN_DEVIATIONS)), failures
