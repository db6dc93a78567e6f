"""The e-mail channel: parsing, reply extraction, SMTP intake/sending and IMAP polling."""

from storedesk.channels.email.parser import (
    Attachment,
    EmailAddress,
    ParsedEmail,
    find_reply_token,
    make_reply_token_marker,
    parse_email,
    resolve_cid_images,
)

__all__ = [
    "Attachment",
    "EmailAddress",
    "ParsedEmail",
    "find_reply_token",
    "make_reply_token_marker",
    "parse_email",
    "resolve_cid_images",
]
