"""Inbound e-mail parsing: raw RFC 5322 bytes → :class:`ParsedEmail`.

``parse_email`` is a pure function built on the stdlib ``email`` package (``policy.default``) and made tolerant
of real-world breakage: it never raises for any ``bytes`` input.  Broken or unknown charsets, raw 8-bit headers,
junk before the header block, missing or duplicated headers, uuencoded bodies and undecodable attachments all
degrade to the best readable result.
"""

from __future__ import annotations

import base64
import binascii
import html as html_lib
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError, MessageError
from email.headerregistry import Address, AddressHeader, DateHeader
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import nh3

from storedesk.channels.email.autoreply import BounceInfo, detect_auto_reply, detect_bounce
from storedesk.channels.email.reply import extract_reply, extract_reply_from_html, html_to_text

logger = logging.getLogger(__name__)

__all__ = [
    "REPLY_TOKEN_PATTERN",
    "Attachment",
    "EmailAddress",
    "ParsedEmail",
    "decode_bytes",
    "find_reply_token",
    "make_reply_token_marker",
    "parse_email",
    "resolve_cid_images",
    "sanitize_html",
]

# --------------------------------------------------------------------------------------------------------------
# Data types
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailAddress:
    name: str
    address: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "address": self.address}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content_id: str | None
    inline: bool
    payload: bytes = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    from_: EmailAddress | None
    to: list[EmailAddress]
    cc: list[EmailAddress]
    reply_to: list[EmailAddress]
    subject: str
    date: datetime | None
    text: str
    html: str | None
    reply_text: str
    attachments: list[Attachment]
    is_auto_reply: bool
    is_bounce: bool
    bounce: BounceInfo | None = None
    reply_token: str | None = None
    original_sender: str | None = None  # X-Original-Sender (mailing lists / Google Groups rewrite From)

    @property
    def failed_recipients(self) -> list[str]:
        return list(self.bounce.failed_recipients) if self.bounce else []

    @property
    def bounced_message_id(self) -> str | None:
        return self.bounce.original_message_id if self.bounce else None

    @property
    def contact(self) -> EmailAddress | None:
        """The customer behind the mail: X-Original-Sender (group lists), else the first Reply-To, else From."""
        if self.original_sender:
            return EmailAddress(self.from_.name if self.from_ else "", self.original_sender)
        if self.reply_to:
            first = self.reply_to[0]
            name = first.name or (self.from_.name if self.from_ else "")
            return EmailAddress(name, first.address)
        return self.from_

    def as_dict(self) -> dict[str, Any]:
        """The JSON contract of ``storedesk email parse``."""
        return {
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "from": self.from_.as_dict() if self.from_ else None,
            "to": [address.as_dict() for address in self.to],
            "cc": [address.as_dict() for address in self.cc],
            "subject": self.subject,
            "date": self.date.isoformat() if self.date else None,
            "text": self.text,
            "html": self.html,
            "reply_text": self.reply_text,
            "attachments": [attachment.as_dict() for attachment in self.attachments],
            "is_auto_reply": self.is_auto_reply,
            "is_bounce": self.is_bounce,
        }


# --------------------------------------------------------------------------------------------------------------
# Reply tokens
# --------------------------------------------------------------------------------------------------------------

REPLY_TOKEN_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{7,63}"  # noqa: S105 - a regex, not a secret
_RE_TOKEN = re.compile(rf"^{REPLY_TOKEN_PATTERN}$")
_RE_TOKEN_MARKER = re.compile(rf"\[ref:({REPLY_TOKEN_PATTERN})\]")


def make_reply_token_marker(token: str) -> str:
    """The body marker for outbound mail: ``[ref:<token>]`` (8–64 chars of ``A-Z a-z 0-9 _ -``)."""
    if not _RE_TOKEN.match(token):
        raise ValueError("reply token must be 8-64 characters of A-Z, a-z, 0-9, '_' and '-'")
    return f"[ref:{token}]"


def find_reply_token(
    addresses: Collection[str], bodies: Collection[str], *, our_domains: Collection[str] | None = None
) -> str | None:
    """A token from a ``local+<token>@domain`` recipient, else from a ``[ref:<token>]`` marker in a body."""
    domains = {domain.lower() for domain in our_domains} if our_domains else None
    for address in addresses:
        local, _, domain = address.rpartition("@")
        if not local or "+" not in local:
            continue
        if domains is not None and domain.lower() not in domains:
            continue
        candidate = local.rsplit("+", 1)[1]
        if _RE_TOKEN.match(candidate):
            return candidate
    for body in bodies:
        match = _RE_TOKEN_MARKER.search(body)
        if match:
            return match.group(1)
    return None


# --------------------------------------------------------------------------------------------------------------
# Charsets
# --------------------------------------------------------------------------------------------------------------

# WHATWG-style label mapping plus the supersets that real mail needs.
_CHARSET_ALIASES = {
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso_8859-1": "cp1252",
    "x-user-defined": "cp1252",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "unknown": "utf-8",
    "default": "utf-8",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "windows-874": "cp874",
    "cp-850": "cp850",
    "iso-8859-9": "cp1254",
}
_JIS_CP932 = "x-iso-2022-jp-cp932"  # our own decoder, see _decode_iso2022jp
# When the declared charset fails, try its relatives (supersets, mislabelled siblings) before UTF-8/Windows-1252.
_CHARSET_FALLBACKS: dict[str, tuple[str, ...]] = {
    "iso-2022-jp": (_JIS_CP932, "cp932", "euc_jis_2004"),
    "iso2022_jp": (_JIS_CP932, "cp932", "euc_jis_2004"),
    "cp932": ("euc_jis_2004", _JIS_CP932),
    "euc-jp": ("euc_jis_2004", "cp932", _JIS_CP932),
    "gb18030": ("big5hkscs",),
    "big5hkscs": ("gb18030",),
    "cp949": ("iso2022_kr",),
    "cp1252": ("latin-1",),
}


def _normalise_charset(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    if label in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[label]
    if label.startswith("x-") and _CHARSET_ALIASES.get(label[2:]):
        return _CHARSET_ALIASES[label[2:]]
    return label


def _known(codec: str) -> bool:
    if codec == _JIS_CP932:
        return True
    try:
        b"".decode(codec)
    except (LookupError, ValueError, TypeError):  # unknown label, or one with NUL bytes and such
        return False
    return True


def _decode_iso2022jp(data: bytes) -> str:
    """ISO-2022-JP with the Microsoft/NEC extensions (CP50220): JIS X 0208 runs re-encoded as CP932."""
    out = bytearray()
    mode = "ascii"
    index = 0
    length = len(data)
    while index < length:
        byte = data[index]
        if byte == 0x1B:
            seq = data[index + 1 : index + 3]
            if seq in (b"$B", b"$@"):
                mode, index = "jis", index + 3
                continue
            if seq in (b"(B", b"(J"):
                mode, index = "ascii", index + 3
                continue
            if seq == b"(I":
                mode, index = "kana", index + 3
                continue
            if data[index + 1 : index + 4] == b"$(D":
                mode, index = "jis", index + 4
                continue
        if byte >= 0x80:
            raise UnicodeDecodeError("iso-2022-jp", data, index, index + 1, "8-bit byte")
        if mode == "jis" and byte > 0x20 and index + 1 < length and data[index + 1] > 0x20:
            first, second = byte, data[index + 1]
            lead = ((first + 1) >> 1) + (0x70 if first <= 0x5E else 0xB0)
            trail = second + (0x1F + (1 if second >= 0x60 else 0) if first % 2 else 0x7E)
            out += bytes((lead, trail))
            index += 2
            continue
        if mode == "kana" and 0x21 <= byte <= 0x5F:
            out.append(byte + 0x80)
        else:
            out.append(byte)
        index += 1
    return out.decode("cp932")


def _strict_decode(data: bytes, codec: str) -> str | None:
    try:
        if codec == _JIS_CP932:
            return _decode_iso2022jp(data)
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def _try_charset(data: bytes, charset: str | None) -> str | None:
    """Strict decoding with the declared charset or one of its relatives; ``None`` if none fits."""
    label = _normalise_charset(charset)
    if not label or not _known(label):
        return None
    for codec in (label, *_CHARSET_FALLBACKS.get(label, ())):
        if _known(codec):
            decoded = _strict_decode(data, codec)
            if decoded is not None:
                return decoded
    return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode ``data`` with the declared ``charset`` if it fits, else UTF-8, else Windows-1252 (never raises)."""
    if data.isascii() and b"\x1b" not in data:
        return data.decode("ascii")
    label = _normalise_charset(charset)
    if label in (None, "cp1252", "utf-8"):
        # unlabelled or Latin-1/ASCII-labelled 8-bit text is very often UTF-8
        decoded = _strict_decode(data, "utf-8")
        if decoded is not None:
            return decoded
    decoded = _try_charset(data, label)
    if decoded is not None:
        return decoded
    decoded = _strict_decode(data, "utf-8")
    if decoded is not None:
        return decoded
    if label and _known(label) and label != _JIS_CP932:
        try:
            return data.decode(label, errors="replace")
        except LookupError:  # pragma: no cover - filtered by _known
            pass
    return data.decode("cp1252", errors="replace")


def _fix_surrogates(value: str, charsets: list[str]) -> str:
    """Headers with raw 8-bit bytes come back surrogate-escaped; decode them with the message's charsets."""
    if not re.search(r"[\udc80-\udcff]", value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    decoded = _strict_decode(data, "utf-8")
    if decoded is not None:
        return decoded
    for charset in charsets:
        decoded = _try_charset(data, charset)
        if decoded is not None:
            return decoded
    return decode_bytes(data, None)


# --------------------------------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------------------------------

_DEFAULT_FACTORY = policy.default.header_factory


@lru_cache(maxsize=4096)
def _cached_header(name: str, value: str) -> Any:
    return _DEFAULT_FACTORY(name, value)


def _HEADER_FACTORY(name: str, value: str) -> Any:
    """``policy.default``'s header factory, memoised for short values: parsing headers is the parser's hot
    spot, header objects are immutable, and mail repeats the same Content-Type/-Disposition values."""
    if len(value) > 512:
        return _DEFAULT_FACTORY(name, value)
    return _cached_header(name, value)


# policy.default with the memoised factory (and never raising on defects)
_POLICY = policy.default.clone(header_factory=_HEADER_FACTORY)
_RE_HEADER_LINE = re.compile(rb"^[!-9;-~]{1,76}:")
_RE_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?(.*?)\?=")


def _strip_leading_junk(raw: bytes) -> bytes:
    """Drop lines before the header block (e.g. '---- Original email message ----' pasted above it)."""
    raw = raw.lstrip(b"\r\n\t ")
    if raw.startswith(b"From ") or _RE_HEADER_LINE.match(raw):
        return raw
    lines = raw.split(b"\n", 6)
    for index in range(1, min(len(lines), 6)):
        if _RE_HEADER_LINE.match(lines[index]) and (
            index + 1 < len(lines)
            and (_RE_HEADER_LINE.match(lines[index + 1]) or lines[index + 1][:1] in b" \t")
        ):
            return b"\n".join(lines[index:])
    return raw


_RE_CONTINUATION = re.compile(rb"^[ \t]")


def _repair_header_block(raw: bytes) -> bytes:
    """Indent stray lines inside the header block (broken folding) so the parser keeps reading headers.

    A line that is neither ``Name: value`` nor a continuation ends the header block for the stdlib parser; if
    real header lines follow it before the blank separator line, it was a continuation that lost its indent.
    """
    end = re.search(rb"\r?\n\r?\n", raw)
    head = raw[: end.start()] if end else raw
    lines = head.split(b"\n")
    last_header = max((index for index, line in enumerate(lines) if _RE_HEADER_LINE.match(line)), default=-1)
    changed = False
    for index in range(1, last_header):
        line = lines[index]
        if line.strip() and not _RE_HEADER_LINE.match(line) and not _RE_CONTINUATION.match(line):
            lines[index] = b" " + line
            changed = True
    if not changed:
        return raw
    return b"\n".join(lines) + (raw[end.start() :] if end else b"")


def _decode_encoded_words(value: str) -> str:
    """RFC 2047 decoding with our charset fallbacks (used when the stdlib header parser fails)."""

    def replace(match: re.Match[str]) -> str:
        charset, encoding, text = match.group(1), match.group(2).upper(), match.group(3)
        charset = charset.split("*", 1)[0]
        try:
            if encoding == "B":
                data = base64.b64decode(text + "=" * (-len(text) % 4))
            else:
                data = re.sub(
                    rb"=([0-9A-Fa-f]{2})",
                    lambda m: bytes([int(m.group(1), 16)]),
                    text.replace("_", " ").encode(),
                )
        except (binascii.Error, ValueError):
            return match.group(0)
        return decode_bytes(data, charset)

    value = re.sub(r"(=\?[^?\s]+\?[QqBb]\?.*?\?=)\s+(?==\?[^?\s]+\?[QqBb]\?)", r"\1", value)
    return _RE_ENCODED_WORD.sub(replace, value)


class _Headers:
    """Tolerant access to a message's headers (raw values decoded with the message's charsets)."""

    def __init__(self, msg: Message, charsets: list[str]) -> None:
        self.items: list[tuple[str, str]] = []
        try:
            raw_items = list(msg.raw_items()) if isinstance(msg, EmailMessage) else list(msg.items())
        except Exception:  # pragma: no cover - defensive
            raw_items = []
        for name, value in raw_items:
            self.items.append((name.lower(), _fix_surrogates(str(value), charsets)))

    def raw_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.items if key == name]

    def text(self, name: str) -> str | None:
        """An unstructured header's value, unfolded and RFC 2047-decoded."""
        values = self.raw_all(name)
        if not values:
            return None
        value = _unfold(values[0])
        if "=?" in value:
            value = _decode_encoded_words(value)
        value = re.sub(r"[\r\n]+", "", value)
        return re.sub(r"[\udc80-\udcff]", "\ufffd", value)

    def addresses(self, name: str) -> list[EmailAddress]:
        result: list[EmailAddress] = []
        for value in self.raw_all(name):
            result.extend(_parse_addresses(name, _unfold(value)))
        return result


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\t", " ")


def _split_address_list(value: str) -> list[str]:
    """Split on commas outside quotes, angle brackets, comments and encoded words."""
    chunks: list[str] = []
    current: list[str] = []
    quoted = False
    angle = 0
    comment = 0
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            current.append(value[index : index + 2])
            index += 2
            continue
        if not quoted and char == "=" and value.startswith("=?", index):
            match = _RE_ENCODED_WORD.match(value, index)
            if match:
                current.append(match.group(0))
                index = match.end()
                continue
        if char == '"' and not comment:
            quoted = not quoted
        elif not quoted:
            if char == "(":
                comment += 1
            elif char == ")" and comment:
                comment -= 1
            elif char == "<" and not comment:
                angle += 1
            elif char == ">" and angle and not comment:
                angle -= 1
            elif char == "," and not angle and not comment:
                chunks.append("".join(current))
                current = []
                index += 1
                continue
        current.append(char)
        index += 1
    chunks.append("".join(current))
    return [chunk.strip() for chunk in chunks if chunk.strip()]


_RE_LOOSE_ADDR_SPEC = re.compile(
    r'(?:"[^"]*"|[^\s<>(),;:"@]+)@[A-Za-z0-9_.-]+[A-Za-z0-9]|(?:"[^"]*"|[^\s<>(),;:"@]+)@\[[^\]]*\]'
)


def _lenient_address(chunk: str) -> EmailAddress | None:
    """Best-effort reading of one malformed address: ``Name <addr>``, ``addr (Name)`` or ``Name addr``."""
    comment = " ".join(re.findall(r"\(([^()]*)\)", chunk)).strip()
    angle = re.search(r"<([^<>]*)>", chunk)
    if angle:
        address = angle.group(1).strip()
        name = chunk[: angle.start()].strip() or comment
    else:
        bare = re.sub(r"\([^()]*\)", " ", chunk)
        bare = re.sub(r'^[^"@<]*:\s*', "", bare).rstrip(";").strip()  # "Group: addr;" syntax
        found = _RE_LOOSE_ADDR_SPEC.search(bare)
        if found is None:
            # "Name (addr@example.com)": the address hides in the comment
            found_in_comment = _RE_LOOSE_ADDR_SPEC.search(comment)
            if found_in_comment is None:
                return None
            address = found_in_comment.group(0)
            name = bare
        else:
            address = found.group(0)
            name = (bare[: found.start()] + " " + bare[found.end() :]).strip(" <>\t") or comment
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        return None
    if name.startswith('"') and name.endswith('"') and len(name) >= 2:
        name = name[1:-1].replace('\\"', '"')
    return EmailAddress(_clean_name(_decode_encoded_words(name)), address)


def _parse_addresses(name: str, value: str) -> list[EmailAddress]:
    chunks = _split_address_list(value)
    lenient = [address for address in (_lenient_address(chunk) for chunk in chunks) if address is not None]
    strict: list[EmailAddress] = []
    malformed = False
    try:
        header = _HEADER_FACTORY(name, value)
        if not isinstance(header, AddressHeader):
            raise HeaderParseError("not an address header")
        addresses: tuple[Address, ...] = header.addresses
        for address in addresses:
            addr_spec = address.addr_spec
            if not addr_spec or addr_spec in ("<>", '""'):
                continue
            if "@" not in addr_spec or (addr_spec.startswith('"') and '"' not in value):
                malformed = True  # the stdlib reinterpreted a malformed value; read it leniently
                break
            strict.append(EmailAddress(_clean_name(address.display_name or ""), addr_spec))
    except Exception:
        malformed = True
    if malformed or "=?" in value:
        return lenient
    if len(strict) == len(lenient):
        # the stdlib drops "(Name)" comments; chatwoot and Zammad use them as the display name
        strict = [
            EmailAddress(parsed.name or loose.name, parsed.address)
            for parsed, loose in zip(strict, lenient, strict=True)
        ]
    return strict


def _clean_name(name: str) -> str:
    name = re.sub(r"\s+", " ", name.replace("\ufffd", "")).strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1].strip()
    return name


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    ids = re.findall(r"<([^<>\s]+)>", value)
    if not ids:
        ids = [token.strip("<>,;") for token in value.split() if "@" in token or len(value.split()) == 1]
    seen: list[str] = []
    for message_id in ids:
        if message_id and message_id not in seen:
            seen.append(message_id)
    return seen


def _parse_date(headers: _Headers) -> datetime | None:
    values = headers.raw_all("date")
    if not values:
        return None
    parsed: datetime | None = None
    try:
        header = _HEADER_FACTORY("date", values[0])
        if isinstance(header, DateHeader):
            parsed = header.datetime
    except Exception:
        parsed = None
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(values[0])
        except (TypeError, ValueError, IndexError):
            return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# --------------------------------------------------------------------------------------------------------------
# HTML sanitising
# --------------------------------------------------------------------------------------------------------------

_ALLOWED_TAGS = {
    "a", "abbr", "address", "b", "bdi", "bdo", "blockquote", "br", "caption", "center", "cite", "code", "col",
    "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "*": {"title", "dir", "lang", "align", "style"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign", "width", "bgcolor"},
    "th": {"colspan", "rowspan", "valign", "width", "bgcolor", "scope"},
    "table": {"border", "cellpadding", "cellspacing", "width", "bgcolor"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type"},
    "blockquote": {"cite"},
}
_ALLOWED_STYLE = {
    "color", "background-color", "background", "font", "font-family", "font-size", "font-style", "font-weight",
    "text-align", "text-decoration", "text-indent", "text-transform", "line-height", "letter-spacing",
    "white-space", "vertical-align", "border", "border-top", "border-right", "border-bottom", "border-left",
    "border-color", "border-style", "border-width", "border-collapse", "border-spacing", "padding",
    "padding-top", "padding-right", "padding-bottom", "padding-left", "margin", "margin-top", "margin-right",
    "margin-bottom", "margin-left", "width", "height", "max-width", "min-width", "list-style-type",
}  # fmt: skip


def sanitize_html(html: str) -> str:
    """Safe subset of an HTML body: no script/style/event handlers/forms; links, formatting and ``cid:`` images
    kept (``cid:`` references are left for :func:`resolve_cid_images`)."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head", "template", "xml"},
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel", "cid"},
        url_relative="deny",
        filter_style_properties=_ALLOWED_STYLE,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


_RE_CID_SRC = re.compile(r"""(src=)(["'])cid:([^"']+)\2""", re.IGNORECASE)


def resolve_cid_images(html: str, resolve: Callable[[str], str | None]) -> str:
    """Replace ``src="cid:<id>"`` with ``resolve(<id>)`` (an URL); unresolvable images lose their ``src``."""

    def replace(match: re.Match[str]) -> str:
        url = resolve(match.group(3).strip().strip("<>"))
        if url is None:
            return 'data-cid-missing=""'
        return f'{match.group(1)}"{html_lib.escape(url, quote=True)}"'

    return _RE_CID_SRC.sub(replace, html)


# --------------------------------------------------------------------------------------------------------------
# MIME walking
# --------------------------------------------------------------------------------------------------------------

_RE_UUE_BLOCK = re.compile(r"^begin [0-7]{3,4} ([^\r\n]+)\r?\n(.*?)^end\s*$", re.MULTILINE | re.DOTALL)
_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "message/rfc822": ".eml",
    "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
}


@dataclass
class _Segment:
    kind: str  # "plain" | "html"
    content: str
    group: int  # parts of one multipart/alternative share a group


@dataclass
class _Walk:
    segments: list[_Segment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    group_counter: int = 0

    def next_group(self) -> int:
        self.group_counter += 1
        return self.group_counter


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    if isinstance(raw, list):
        chunks: list[bytes] = []
        for sub in raw:
            if isinstance(sub, Message):
                try:
                    chunks.append(sub.as_bytes(policy=policy.default.clone(linesep="\r\n")))
                except Exception:
                    chunks.append(sub.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape"))
        return b"\r\n".join(chunks)
    return b""


def _part_charset(part: Message) -> str | None:
    try:
        charset = part.get_content_charset()
    except Exception:
        return None
    return str(charset) if charset else None


def _part_text(part: Message) -> str:
    return decode_bytes(_payload_bytes(part), _part_charset(part))


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:
        name = None
    if isinstance(name, tuple):  # RFC 2231 triple from get_param
        name = decode_bytes(str(name[2]).encode("latin-1", "replace"), name[0])
    if not name:
        return None
    name = str(name)
    if _RE_ENCODED_WORD.search(name):
        name = _decode_encoded_words(name)
    name = re.sub(r"[\x00-\x1f\\/]", "_", name).strip().strip(".")
    return name or None


def _content_id(part: Message) -> str | None:
    value = part.get("Content-ID")
    if not value:
        return None
    value = str(value).strip()
    return value[1:-1].strip() if value.startswith("<") and value.endswith(">") else value or None


def _safe_content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # pragma: no cover - defensive
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # pragma: no cover - defensive
        return None


def _add_attachment(
    walk: _Walk, part: Message, payload: bytes | None = None, name: str | None = None
) -> None:
    content_type = _safe_content_type(part)
    data = _payload_bytes(part) if payload is None else payload
    filename = name or _filename(part)
    if not filename:
        description = part.get("Content-Description")
        if content_type == "message/rfc822":
            inner = part.get_payload()
            subject = None
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                try:
                    subject = inner[0].get("Subject")
                except Exception:
                    subject = None
            base = (
                str(subject).strip() if subject else (str(description).strip() if description else "message")
            )
            filename = _decode_encoded_words(base) + ".eml"
        elif (
            description
            and len(str(description)) < 80
            and content_type.startswith(("message/", "text/rfc822"))
        ):
            filename = _decode_encoded_words(str(description).strip()) + _EXTENSIONS.get(content_type, "")
        elif content_type in ("message/delivery-status", "text/rfc822-headers"):
            filename = content_type.split("/", 1)[1] + ".txt"
        else:
            filename = "file"
        filename = re.sub(r"[\x00-\x1f\\/]", "_", filename)
    walk.attachments.append(
        Attachment(
            filename=filename,
            content_type=content_type,
            size=len(data),
            content_id=_content_id(part),
            inline=_disposition(part) == "inline",
            payload=data,
        )
    )


def _add_text_segment(walk: _Walk, part: Message, kind: str, group: int) -> None:
    content = _part_text(part).replace("\r\n", "\n").replace("\r", "\n")
    if kind == "plain":
        content = _extract_uuencoded(walk, content)
    walk.segments.append(_Segment(kind, content, group))


def _extract_uuencoded(walk: _Walk, text: str) -> str:
    """Move ``begin 644 name … end`` blocks out of a text body into attachments."""
    if "begin " not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        data = bytearray()
        try:
            for line in match.group(2).splitlines():
                if line.strip() in ("", "`"):
                    continue
                data.extend(binascii.a2b_uu(line))
        except (binascii.Error, ValueError):
            return match.group(0)
        name = re.sub(r"[\x00-\x1f\\/]", "_", match.group(1).strip()) or "file"
        walk.attachments.append(
            Attachment(name, "application/octet-stream", len(data), None, False, bytes(data))
        )
        return ""

    return _RE_UUE_BLOCK.sub(replace, text)


def _is_body_text(part: Message, kind: str) -> bool:
    if _disposition(part) == "attachment":
        return False
    return _filename(part) is None or (kind == "html" and _disposition(part) == "inline")


def _walk_part(part: Message, walk: _Walk, depth: int = 0, group: int | None = None) -> None:
    content_type = _safe_content_type(part)
    maintype, _, subtype = content_type.partition("/")
    if depth > 30:
        return
    if maintype == "message":
        # message/rfc822, message/delivery-status …: the stdlib parses them as multiparts; keep them whole
        _add_attachment(walk, part)
        return
    if part.is_multipart():
        children = [child for child in (part.get_payload() or []) if isinstance(child, Message)]
        if subtype == "alternative":
            own_group = group if group is not None else walk.next_group()
            _walk_alternative(children, walk, depth, own_group)
        elif subtype == "encrypted":
            for child in children:
                _add_attachment(walk, child)
        elif subtype == "signed":
            if children:
                _walk_part(children[0], walk, depth + 1, group)
            for child in children[1:]:
                _add_attachment(walk, child)
        else:
            for child in children:
                _walk_part(child, walk, depth + 1, group)
        return
    if maintype == "text" and subtype in ("plain", "html") and _is_body_text(part, subtype):
        _add_text_segment(walk, part, "html" if subtype == "html" else "plain", group or walk.next_group())
        return
    if maintype == "text" and subtype not in ("plain", "html") and _disposition(part) != "attachment":
        # text/enriched, text/x-something without a filename: show it as text
        if _filename(part) is None and subtype in ("enriched", "richtext", "markdown", "x-markdown"):
            _add_text_segment(walk, part, "plain", group or walk.next_group())
            return
    _add_attachment(walk, part)


def _walk_alternative(children: list[Message], walk: _Walk, depth: int, group: int) -> None:
    """Keep the best plain and the best HTML alternative; other alternatives (calendar …) are attachments."""
    plain: Message | None = None
    rich: Message | None = None
    for child in children:
        ctype = _safe_content_type(child)
        if ctype == "text/plain" and _disposition(child) != "attachment":
            plain = child
        elif ctype == "text/html" and _disposition(child) != "attachment":
            rich = child
        elif child.is_multipart():
            rich = child  # typically multipart/related holding the HTML body and its images
        elif ctype not in ("text/plain", "text/html"):
            _add_attachment(walk, child)
    if plain is not None:
        _add_text_segment(walk, plain, "plain", group)
    if rich is not None:
        if rich.is_multipart():
            _walk_part(rich, walk, depth + 1, group)
        else:
            _add_text_segment(walk, rich, "html", group)


def _plain_to_html(text: str) -> str:
    return '<div style="white-space: pre-wrap">' + html_lib.escape(text) + "</div>"


def _assemble(segments: list[_Segment]) -> tuple[str, str | None, str]:
    """(text, raw html or None, reply_text) from the body segments in document order."""
    groups: dict[int, dict[str, list[str]]] = {}
    order: list[int] = []
    for segment in segments:
        if segment.group not in groups:
            groups[segment.group] = {"plain": [], "html": []}
            order.append(segment.group)
        groups[segment.group][segment.kind].append(segment.content)

    texts: list[str] = []
    replies: list[str] = []
    html_parts: list[str] = []
    any_html = any(groups[g]["html"] for g in order)
    for group_id in order:
        plain = "\n".join(part.strip("\n") for part in groups[group_id]["plain"]).strip("\n")
        html_list = groups[group_id]["html"]
        if plain.strip():
            texts.append(plain)
            replies.append(extract_reply(plain))
        elif html_list:
            joined = "\n".join(html_list)
            rendered = html_to_text(joined)
            if rendered.strip():
                texts.append(rendered)
                replies.append(extract_reply_from_html(joined))
        if html_list:
            html_parts.extend(html_list)
        elif any_html and plain.strip():
            html_parts.append(_plain_to_html(plain))
    text = "\n\n".join(part for part in texts if part.strip())
    reply = "\n\n".join(part for part in replies if part.strip())
    html = "\n".join(html_parts) if any_html else None
    return text, html, reply


def _mark_inline_attachments(attachments: list[Attachment], raw_html: str | None) -> list[Attachment]:
    """Attachments referenced from the HTML via ``cid:`` are inline (whatever their Content-Disposition)."""
    referenced = set()
    if raw_html:
        referenced = {
            cid.strip().strip("<>").lower() for cid in re.findall(r"cid:([^\"'\s>)]+)", raw_html, re.I)
        }
    result: list[Attachment] = []
    for attachment in attachments:
        cid = (attachment.content_id or "").lower()
        inline = bool(cid) and cid in referenced
        if attachment.inline != inline:
            attachment = Attachment(
                attachment.filename,
                attachment.content_type,
                attachment.size,
                attachment.content_id,
                inline,
                attachment.payload,
            )
        result.append(attachment)
    return result


# --------------------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------------------


def _collect_charsets(msg: Message) -> list[str]:
    charsets: list[str] = []
    try:
        for part in msg.walk():
            charset = _part_charset(part)
            if charset and charset not in charsets:
                charsets.append(charset)
    except Exception:  # noqa: S110  # pragma: no cover - defensive
        pass
    return charsets


def _empty_message() -> EmailMessage:
    return EmailMessage(policy=policy.default)


def _parse_message(raw: bytes) -> Message:
    try:
        return BytesParser(policy=_POLICY).parsebytes(raw)
    except Exception:
        try:
            return BytesParser(policy=policy.compat32).parsebytes(raw)
        except Exception:  # pragma: no cover - the compat32 parser does not raise on bytes
            return _empty_message()


def parse_email(raw: bytes, *, our_domains: Collection[str] | None = None) -> ParsedEmail:
    """Parse one raw message.  Never raises for ``bytes`` input.

    ``our_domains`` restricts where a ``local+token@domain`` reply token is looked for (default: any recipient).
    Should an unforeseen input still break the parser, the failure is logged and the raw body is returned as
    text, so that no mail is ever lost at intake.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError("parse_email expects bytes")
    try:
        return _parse_email(bytes(raw), our_domains)
    except Exception:
        logger.exception("parse_email: unexpected failure, falling back to the raw body")
        body = bytes(raw).replace(b"\r\n", b"\n").partition(b"\n\n")[2] or bytes(raw)
        text = decode_bytes(body)
        return ParsedEmail(
            message_id=None, in_reply_to=None, references=[], from_=None, to=[], cc=[], reply_to=[], subject="",
            date=None, text=text, html=None, reply_text=text.strip(), attachments=[], is_auto_reply=False,
            is_bounce=False,
        )  # fmt: skip


def _parse_email(raw: bytes, our_domains: Collection[str] | None) -> ParsedEmail:
    raw = _repair_header_block(_strip_leading_junk(bytes(raw)))
    msg = _parse_message(raw)
    charsets = _collect_charsets(msg)
    headers = _Headers(msg, charsets)

    walk = _Walk()
    try:
        _walk_part(msg, walk)
    except (MessageError, LookupError, ValueError, TypeError, AttributeError, IndexError, KeyError):
        # keep whatever was collected; worst case the raw body as text
        if not walk.segments:
            walk.segments.append(_Segment("plain", decode_bytes(raw.partition(b"\n\n")[2]), 0))
    text, raw_html, reply_text = _assemble(walk.segments)
    attachments = _mark_inline_attachments(walk.attachments, raw_html)
    html = sanitize_html(raw_html) if raw_html is not None else None

    from_candidates = headers.addresses("from")
    for fallback in ("sender", "reply-to", "return-path"):
        if from_candidates:
            break
        from_candidates = headers.addresses(fallback)
    from_ = from_candidates[0] if from_candidates else None
    to = headers.addresses("to")
    cc = headers.addresses("cc")
    reply_to = headers.addresses("reply-to")
    subject = headers.text("subject") or ""

    message_ids = _message_ids(headers.text("message-id"))
    in_reply_to_ids = _message_ids(headers.text("in-reply-to"))
    references = _message_ids(" ".join(headers.raw_all("references")))

    try:
        is_auto = detect_auto_reply(msg, subject)
    except Exception:  # pragma: no cover - defensive
        is_auto = False
    try:
        bounce = detect_bounce(msg, from_.address if from_ else "", subject, text)
    except Exception:  # pragma: no cover - defensive
        bounce = None
    is_bounce = bounce is not None and bounce.permanent
    if bounce is not None:
        is_auto = True

    recipient_addresses = [address.address for address in to + cc]
    for name in ("delivered-to", "x-original-to", "x-forwarded-for", "x-forwarded-to", "envelope-to"):
        recipient_addresses.extend(_RE_ADDR_ANY.findall(" ".join(headers.raw_all(name))))
    token = find_reply_token(
        recipient_addresses, [text] + ([raw_html] if raw_html else []), our_domains=our_domains
    )

    return ParsedEmail(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=references,
        from_=from_,
        to=to,
        cc=cc,
        reply_to=reply_to,
        subject=subject,
        date=_parse_date(headers),
        text=text,
        html=html,
        reply_text=reply_text,
        attachments=attachments,
        is_auto_reply=is_auto,
        is_bounce=is_bounce,
        bounce=bounce,
        reply_token=token,
        original_sender=next(
            iter(_RE_ADDR_ANY.findall(" ".join(headers.raw_all("x-original-sender")))), None
        ),
    )


_RE_ADDR_ANY = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
