"""Settings only the agent workspace reads (``STOREDESK_*`` environment variables, read per use so
tests and operators can change them without rebuilding the app)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[3]

# the size of an attachment the composer accepts (the message body limit of the app applies too); its types
# are storedesk.channels.filetypes.ATTACHMENT_TYPES, checked by content
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def node_modules_dir() -> Path:
    """Where ``npm ci`` put the front-end packages (htmx, its SSE extension, Chart.js)."""
    configured = os.environ.get("STOREDESK_NODE_MODULES")
    return Path(configured) if configured else REPO_ROOT / "node_modules"


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool


def smtp_relay() -> SmtpRelay | None:
    """``STOREDESK_SMTP_RELAY_URL``: ``smtp://[user:pass@]host[:port]`` (STARTTLS when offered),
    ``smtp+starttls://`` (STARTTLS required) or ``smtps://`` (TLS from the start)."""
    url = os.environ.get("STOREDESK_SMTP_RELAY_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
        raise ValueError("STOREDESK_SMTP_RELAY_URL must look like smtp://user:pass@host:587")
    return SmtpRelay(
        host=parts.hostname,
        port=parts.port or (465 if parts.scheme == "smtps" else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=parts.scheme == "smtps",
        start_tls=parts.scheme == "smtp+starttls",
    )


def mail_from() -> str | None:
    return os.environ.get("STOREDESK_SMTP_FROM") or None
