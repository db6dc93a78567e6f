"""parse_email on our own fixtures (tests/channels/email/fixtures, written for storedesk)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storedesk.channels.email.parser import (
    EmailAddress,
    ParsedEmail,
    _parse_email,
    decode_bytes,
    find_reply_token,
    make_reply_token_marker,
    parse_email,
    resolve_cid_images,
    sanitize_html,
)

Read = Callable[[str], bytes]

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_german_reply_iso_8859_1_quoted_printable(fixture_bytes: Read) -> None:
    mail = parse_email(fixture_bytes("german_reply.eml"))
    assert mail.message_id == "5f1e2a90.4411@kunde.example"
    assert mail.in_reply_to == "order-10045.1@shop.example"
    assert mail.references == ["order-10045.0@shop.example", "order-10045.1@shop.example"]
    assert mail.from_ == EmailAddress("Jürgen Weiß", "juergen@kunde.example")
    assert mail.to == [EmailAddress("Kundenservice", "support@shop.example")]
    # "=96" is Windows-1252's en dash under an ISO-8859-1 label (browsers and mail clients read it so)
    assert mail.subject == "AW: Ihre Bestellung 10045 – Größe"
    assert mail.date == datetime(2025, 3, 3, 11, 2, 9, tzinfo=timezone(timedelta(hours=1)))
    assert mail.reply_text == (
        "Hallo Frau Kovács,\n\nvielen Dank, die Größe M passt leider nicht. Können Sie mir bitte L schicken?"
        "\n\nViele Grüße\nJürgen Weiß"
    )
    assert mail.text.endswith("> Ihre Bestellung 10045 ist unterwegs.")
    assert "\r" not in mail.text
    assert mail.html is None
    assert mail.is_auto_reply is False
    assert mail.is_bounce is False


def test_hungarian_iso_8859_2_base64(fixture_bytes: Read) -> None:
    mail = parse_email(fixture_bytes("hungarian_iso8859_2.eml"))
    assert mail.from_ == EmailAddress("Szőke Árpád", "arpad@vevo.example")
    assert mail.subject == "Sérült csomag, kérem a cserét"
    assert mail.reply_text == (
        "Jó napot kívánok!\n\nA csomag sérülten érkezett, kérem cseréljék ki.\n\nÜdvözlettel:\nSzőke Árpád"
    )
    assert "ezt írta:" in mail.text


def test_french_reply_8bit_header_plus_token_and_mobile_signature(fixture_bytes: Read) -> None:
    mail = parse_email(fixture_bytes("french_reply.eml"))
    assert mail.from_ == EmailAddress("Élodie Martin", "elodie@client.example")
    assert mail.reply_text == "Bonjour,\n\nJe n'ai toujours pas reçu mon colis."
    assert mail.reply_token == "Tk7a9QbX2mPz"
    assert parse_email(fixture_bytes("french_reply.eml"), our_domains=["other.example"]).reply_token is None
    assert (
        parse_email(fixture_bytes("french_reply.eml"), our_domains=["SHOP.example"]).reply_token
        == "Tk7a9QbX2mPz"
    )


def test_outlook_reply_windows_1252_original_message_block(fixture_bytes: Read) -> None:
    mail = parse_email(fixture_bytes("outlook_reply.eml"))
    assert mail.subject == "RE: Your invoice 3001"
    assert mail.cc == [EmailAddress("Accounting", "ap@corp.example"), EmailAddress("", "bob@corp.example")]
    assert (
        mail.reply_text
        == "Hi team,\n\nthe invoice shows €49.90 but I paid €39.90 – please correct it.\n\nThanks\nDana"
    )
    assert mail.in_reply_to is None
    assert mail.references == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("auto_reply_oof.eml", True),  # Auto-Submitted: auto-replied + X-Auto-Response-Suppress: All
        ("abwesenheitsnotiz.eml", True),  # subject only
        ("not_auto_reply.eml", False),  # Auto-Submitted: no, "Re: Out of stock?" is not "Out of office"
        ("german_reply.eml", False),
    ],
)
def test_auto_reply_detection(fixture_bytes: Read, name: str, expected: bool) -> None:
    assert parse_email(fixture_bytes(name)).is_auto_reply is expected


@pytest.mark.parametrize(
    "header",
    [
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: list",
        "Precedence: auto_reply",
        "X-Autoreply: yes",
        "X-Autorespond: vacation",
        "X-Auto-Response-Suppress: OOF, DR",
        "Auto-Submitted: auto-generated",
    ],
)
def test_auto_reply_headers(header: str) -> None:
    raw = f"From: a@b.example\r\nTo: c@d.example\r\nSubject: Hello\r\n{header}\r\n\r\nbody\r\n".encode()
    assert parse_email(raw).is_auto_reply is True


@pytest.mark.parametrize(
    "subject",
    ["Out of Office: Re: order", "Automatic reply: hi", "Abwesenheitsnotiz", "Automatische Antwort: x",
     "Réponse automatique : x", "Autoreply: x", "Automatikus válasz: x"],
)  # fmt: skip
def test_auto_reply_subjects(subject: str) -> None:
    raw = f"From: a@b.example\r\nSubject: {subject}\r\n\r\nbody\r\n".encode()
    assert parse_email(raw).is_auto_reply is True


def test_dsn_bounce(fixture_bytes: Read) -> None:
    mail = parse_email(fixture_bytes("dsn_bounce.eml"))
    assert mail.is_bounce is True
    assert mail.is_auto_reply is True
    assert mail.from_ == EmailAddress("Mail Delivery System", "MAILER-DAEMON@mx.shop.example")
    assert mail.failed_recipients == ["nobody@customer.example"]
    assert mail.bounced_message_id == "out-7007.1@shop.example"
    assert mail.bounce is not None
    assert (mail.bounce.action, mail.bounce.status, mail.bounce.permanent) == ("failed", "5.1.1", True)
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("Delivery report.txt", "message/delivery-status"),
        ("Your order 7007 has shipped.eml", "message/rfc822"),
    ]
    assert mail.attachments[1].payload.startswith(b"From: Shop Support <support@shop.example>\r\n")


def test_plain_text_bounce_with_x_failed_recipients() -> None:
    raw = (
        b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\nX-Failed-Recipients: gone@x.example\r\n"
        b"Subject: Delivery Status Notification (Failure)\r\n\r\nAddress not found.\r\n"
    )
    mail = parse_email(raw)
    assert mail.is_bounce is True
    assert mail.failed_recipients == ["gone@x.example"]
    assert mail.bounced_message_id is None


def test_postmaster_writing_a_normal_mail_is_not_a_bounce() -> None:
    raw = b"From: postmaster@shop.example\r\nSubject: Welcome\r\n\r\nHello, your mailbox is ready.\r\n"
    assert parse_email(raw).is_bounce is False


def test_inline_image_attachments_and_sanitised_html(fixture_bytes: Read) -> None:
    mail = parse_email(fixture_bytes("inline_image.eml"))
    assert [(a.filename, a.content_type, a.inline, a.content_id, a.size) for a in mail.attachments] == [
        ("photo.png", "image/png", True, "photo1@client.example", 70),
        ("receipt.pdf", "application/pdf", False, None, 32),
    ]
    assert mail.attachments[1].payload == b"%PDF-1.4\n% storedesk test\n%%EOF\n"
    assert mail.html == (
        '<p>Here is the damage:</p><p><img src="cid:photo1@client.example" alt="photo"></p><p>See <a '
        'href="https://shop.example/orders/8008" rel="noopener noreferrer nofollow">order 8008</a> and <a '
        'rel="noopener noreferrer nofollow">this</a>.</p>'
    )
    assert mail.text == "Here is the damage:\n\nSee order 8008 and this."
    resolved = resolve_cid_images(mail.html, {"photo1@client.example": "/attachments/17"}.get)
    assert '<img src="/attachments/17" alt="photo">' in resolved
    assert "cid:" not in resolved
    assert "cid:" not in resolve_cid_images(mail.html, lambda cid: None)


def test_sanitize_html_removes_active_content() -> None:
    dirty = (
        '<style>body{}</style><script>x()</script><p style="color:red;position:fixed" onload="x()">a</p>'
        '<iframe src="https://evil.example"></iframe><form action="/x"><input name="q"></form>'
        '<a href="javascript:alert(1)">j</a><a href="/relative">r</a><img src="https://t.example/p.gif" onerror="x()">'
    )
    assert sanitize_html(dirty) == (
        '<p style="color:red">a</p><a rel="noopener noreferrer nofollow">j</a>'
        '<a rel="noopener noreferrer nofollow">r</a><img src="https://t.example/p.gif">'
    )


def test_html_only_reply_with_marker_token(fixture_bytes: Read) -> None:
    mail = parse_email(fixture_bytes("html_only_token.eml"))
    assert mail.reply_text == "Yes, please send the label.\n\nSam"
    assert mail.text.startswith("Yes, please send the label.\n\nSam\n\nOn Mon, Mar 10, 2025 at 9:00 AM")
    assert "> Shall we send a return label?" in mail.text
    assert mail.reply_token == "RtN9xq2LmK4v"


def test_broken_and_unknown_charsets(fixture_bytes: Read) -> None:
    mail = parse_email(fixture_bytes("broken_charset.eml"))
    assert mail.from_ == EmailAddress("René", "rene@client.example")  # unknown charset: UTF-8, then cp1252
    assert mail.subject == "Café order"  # unknown label "utf8mb4": bytes are valid UTF-8
    assert mail.text == "Crème brûlée for table 4, please."
    assert mail.date is None  # "not a date"


def test_as_dict_is_the_json_contract(fixture_bytes: Read) -> None:
    data = parse_email(fixture_bytes("inline_image.eml")).as_dict()
    assert list(data) == [
        "message_id", "in_reply_to", "references", "from", "to", "cc", "subject", "date", "text", "html",
        "reply_text", "attachments", "is_auto_reply", "is_bounce",
    ]  # fmt: skip
    assert data["from"] == {"name": "Mia Wong", "address": "mia@client.example"}
    assert data["date"] == "2025-03-09T15:00:00+08:00"
    assert data["attachments"] == [
        {"filename": "photo.png", "content_type": "image/png", "size": 70},
        {"filename": "receipt.pdf", "content_type": "application/pdf", "size": 32},
    ]
    json.dumps(data)  # serialisable as is


def test_reply_token_helpers() -> None:
    assert make_reply_token_marker("Ab3dE5gH") == "[ref:Ab3dE5gH]"
    with pytest.raises(ValueError):
        make_reply_token_marker("short")
    with pytest.raises(ValueError):
        make_reply_token_marker("has space in it")
    assert find_reply_token(["support+Zx81-_kkQ@shop.example"], []) == "Zx81-_kkQ"
    assert find_reply_token(["support+sales@shop.example"], []) is None  # too short to be one of ours
    assert find_reply_token(["a@b.example"], ["> earlier mail [ref:Qq12345678]"]) == "Qq12345678"
    assert find_reply_token([], ["no marker"]) is None


def test_missing_everything_still_parses() -> None:
    mail = parse_email(b"")
    assert mail == ParsedEmail(
        message_id=None, in_reply_to=None, references=[], from_=None, to=[], cc=[], reply_to=[], subject="",
        date=None, text="", html=None, reply_text="", attachments=[], is_auto_reply=False, is_bounce=False,
    )  # fmt: skip


def test_naive_date_is_utc_and_junk_before_headers_is_skipped() -> None:
    raw = b"---- forwarded ----\r\nFrom: x@y.example\r\nSubject: s\r\nDate: Mon, 3 Mar 2025 10:00:00 -0000\r\n\r\nhi"
    mail = parse_email(raw)
    assert mail.subject == "s"
    assert mail.date == datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def test_uuencoded_body_becomes_attachment() -> None:
    raw = b"From: x@y.example\r\nSubject: report\r\n\r\nSee attached.\r\n\r\nbegin 644 hello.txt\r\n%:&5L;&\\`\r\n`\r\nend\r\n"
    mail = parse_email(raw)
    assert mail.text == "See attached."
    assert [(a.filename, a.payload) for a in mail.attachments] == [("hello.txt", b"hello")]


def test_iso_2022_jp_with_nec_extensions() -> None:
    body = b"\x1b$B-!#1ET\x1b(B"  # ① (NEC row 13) １ 都
    raw = b"From: x@y.example\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n" + body
    assert parse_email(raw).text == "①１都"
    assert decode_bytes(b"\x83c\x81[\x83\x8b", "iso-2022-jp") == "ツール"  # mislabelled Shift_JIS


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_never_raises_on_random_bytes(raw: bytes) -> None:
    # _parse_email is parse_email without the last-resort fallback: it must not need it
    assert isinstance(_parse_email(raw, None), ParsedEmail)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["inline_image.eml", "dsn_bounce.eml", "outlook_reply.eml", "broken_charset.eml"]),
       st.integers(min_value=0, max_value=4000), st.binary(min_size=1, max_size=40))  # fmt: skip
def test_never_raises_on_damaged_mail(name: str, position: int, junk: bytes) -> None:

    raw = (FIXTURES / name).read_bytes()
    position %= len(raw)
    damaged = raw[:position] + junk + raw[position + len(junk) :]
    assert isinstance(_parse_email(damaged, None), ParsedEmail)
    assert isinstance(_parse_email(raw[:position], None), ParsedEmail)  # truncated
