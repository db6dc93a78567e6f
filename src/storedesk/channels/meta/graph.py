"""Meta platform plumbing shared by WhatsApp, Messenger and Instagram: signatures and Graph API calls."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from storedesk.channels.outbound import PermanentSendError, TemporarySendError

DEFAULT_GRAPH_BASE = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)

# Graph error codes that mean "not now" rather than "never": rate limits and transient failures
TEMPORARY_CODES = {1, 2, 4, 17, 32, 613, 80007, 130429, 131000, 131016, 131048, 131056, 133016, 1200}


def signature_for(body: bytes, app_secret: str) -> str:
    """``X-Hub-Signature-256`` of a body: ``sha256=`` + hex HMAC-SHA256 with the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, header: str | None, app_secret: str | None) -> bool:
    """Check the raw bytes in constant time. A missing header or secret never verifies."""
    if not header or not app_secret:
        return False
    return hmac.compare_digest(signature_for(body, app_secret).encode(), header.strip().encode())


def graph_url(settings: Mapping[str, Any], path: str) -> str:
    base = str(settings.get("api_base_url") or DEFAULT_GRAPH_BASE).rstrip("/")
    version = str(settings.get("graph_version") or DEFAULT_GRAPH_VERSION).strip("/")
    return f"{base}/{version}/{path.lstrip('/')}"


def describe_error(body: Any) -> tuple[int | None, int | None, str]:
    """``(code, subcode, message)`` of a Graph error body ``{"error": {...}}``."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        details = (
            err.get("error_data", {}).get("details") if isinstance(err.get("error_data"), dict) else None
        )
        message = str(details or err.get("message") or "unknown error")
        code = err.get("code")
        sub = err.get("error_subcode")
        return (
            int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
            int(sub) if isinstance(sub, int | str) and str(sub).isdigit() else None,
            message,
        )
    return None, None, "unknown error"


async def post_graph(
    url: str,
    payload: dict[str, Any],
    *,
    access_token: str,
    provider: str,
    permanent_hint: Mapping[int, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """POST JSON to the Graph API; map failures to Temporary/PermanentSendError with a clear reason."""
    if not access_token:
        raise PermanentSendError(f"the {provider} channel has no access_token in its credentials")
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, transport=transport) as client:
            response = await client.post(
                url,
                content=orjson.dumps(payload),
                headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"},
            )
    except httpx.TimeoutException as exc:
        raise TemporarySendError(f"{provider} did not answer in time") from exc
    except httpx.TransportError as exc:
        raise TemporarySendError(f"{provider} could not be reached: {exc}") from exc
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.status_code < 300 and isinstance(body, dict):
        return body
    code, subcode, message = describe_error(body)
    detail = f"{provider} answered {response.status_code}: {message}" + (f" (code {code})" if code else "")
    if response.status_code == 429 or response.status_code >= 500 or (code in TEMPORARY_CODES):
        raise TemporarySendError(detail)
    hints = permanent_hint or {}
    if code is not None and code in hints:
        detail = f"{hints[code]} — {detail}"
    elif subcode is not None and subcode in hints:
        detail = f"{hints[subcode]} — {detail}"
    raise PermanentSendError(detail)
