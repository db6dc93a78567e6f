"""Mail the agent workspace sends itself (password reset links), through the configured SMTP relay.

Sent after the response from a background task: never inside a transaction, and without the response
time telling whether an address belongs to an agent.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from storedesk.web.config import mail_from, smtp_relay

log = logging.getLogger("storedesk.web.mail")


def build_message(*, to: str, sender: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "storedesk.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


async def send_mail(*, to: str, subject: str, body: str, default_sender: str) -> bool:
    """Send one plain-text mail; returns False (and logs why) when there is no relay or it fails."""
    relay = smtp_relay()
    if relay is None:
        log.warning("no SMTP relay configured (STOREDESK_SMTP_RELAY_URL); mail to %s not sent", to)
        return False
    message = build_message(to=to, sender=mail_from() or default_sender, subject=subject, body=body)
    try:
        await aiosmtplib.send(
            message,
            hostname=relay.host,
            port=relay.port,
            username=relay.username,
            password=relay.password,
            use_tls=relay.use_tls,
            start_tls=True if relay.start_tls else None,
            timeout=20,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.error("password reset mail to %s failed: %s", to, exc)
        return False
    return True
