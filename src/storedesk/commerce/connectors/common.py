"""What every HTTP adapter shares: a polite client (429 + Retry-After, 5xx backoff, no retry storms),
money and time parsing, HMAC signatures, and defaults for what a platform does not offer."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import hmac
import random
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import httpx
from babel.numbers import get_currency_precision

from storedesk.commerce.connectors.protocol import (
    Action,
    ActionOutcome,
    Address,
    CancelRequest,
    ExtOrder,
    ExtProduct,
    ExtRefund,
    ExtShipment,
    MalformedPayload,
    NotSupported,
    Page,
    PlatformUnavailable,
    RateLimited,
    RefundRequest,
    Resource,
    ReturnRequest,
    Unreachable,
    WebhookRegistration,
)

Sleep = Callable[[float], Awaitable[None]]
USER_AGENT = "storedesk-connector/0.1 (+https://github.com/storedesk)"


# --- money and time -----------------------------------------------------------------------------------------


def to_minor(amount: Any, currency: str) -> int:
    """A decimal amount in major units (``"10.50"``, ``10.5``, ``"-3.00"``) as integer minor units."""
    if amount is None or amount == "":
        return 0
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise MalformedPayload(f"{amount!r} is not an amount") from exc
    places = get_currency_precision(currency.upper()) if currency else 2
    return int((value * (Decimal(10) ** places)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> str:
    """Integer minor units as the decimal string platforms expect (``1050`` EUR → ``"10.50"``)."""
    places = get_currency_precision(currency.upper()) if currency else 2
    value = Decimal(amount) / (Decimal(10) ** places)
    return f"{value:.{places}f}"


def parse_time(value: Any, *, naive_is_utc: bool = True) -> datetime | None:
    """ISO 8601 (``Z`` or offset), ``2024-09-04 07:22:09 +0000`` (Ecwid) or a UNIX timestamp."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        if len(text) > 19 and text[19] == " " and text[20] in "+-":
            parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedPayload(f"{value!r} is not a date and time") from exc
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise MalformedPayload(f"{value!r} has no time zone")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def hmac_sha256_base64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def signature_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison; an absent or empty header never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def address_line(address: Address | None) -> str:
    if not address:
        return "no address"
    parts = [address.get(k) for k in ("name", "address1", "zip", "city", "country_code")]
    return ", ".join(p for p in parts if p)


def require_https(url: str, platform: str) -> None:
    """Credentials never travel in clear text, except to this machine (tests, local development)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return
    raise NotSupported(
        f"{platform} needs an https:// address; {url} would send the credentials in clear text"
    )


# --- HTTP ---------------------------------------------------------------------------------------------------


def retry_after_seconds(response: httpx.Response, default: float) -> float:
    """``Retry-After`` as seconds: an integer, a decimal, or an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class PlatformHTTP:
    """One platform's HTTP client.

    * 429: waits ``Retry-After`` (or a backoff) and tries again, up to ``max_retries`` times; a wait longer
      than ``max_wait`` is not slept here but raised as :class:`RateLimited` so a job can come back later
      instead of holding a worker (and a restarted backfill never fires a burst of requests).
    * 502/503/504 and connection errors: exponential backoff with jitter, then :class:`PlatformUnavailable`
      or :class:`Unreachable`.
    * every other status is returned for the adapter to interpret (401, 403, 404, 422 ...).
    """

    def __init__(
        self,
        base_url: str,
        *,
        platform: str,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        params: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        max_wait: float = 60.0,
        backoff: float = 0.5,
        sleep: Sleep | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.backoff = backoff
        self.sleep: Sleep = sleep or asyncio.sleep
        self.requests = 0
        self.waited = 0.0
        self._options: dict[str, Any] = {
            "base_url": self.base_url,
            "headers": {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            "auth": auth,
            "params": params,
            "transport": transport,
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            "follow_redirects": False,
        }
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """Created on first use: verifying a webhook builds a connector but never talks to the platform."""
        if self._client is None:
            self._client = httpx.AsyncClient(**self._options)
        return self._client

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waited += seconds
            await self.sleep(seconds)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retries: int | None = None,
    ) -> httpx.Response:
        attempts = self.max_retries if retries is None else retries
        attempt = 0
        while True:
            attempt += 1
            try:
                self.requests += 1
                response = await self.client.request(method, path, params=params, json=json)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt > attempts:
                    raise Unreachable(
                        f"cannot reach {self.platform} at {self.host}: {_reason(exc)}",
                        details={"host": self.host},
                    ) from exc
                await self.wait(self._backoff(attempt))
                continue
            except (
                httpx.ReadTimeout,
                httpx.WriteTimeout,
                httpx.PoolTimeout,
                httpx.RemoteProtocolError,
            ) as exc:
                if attempt > attempts:
                    raise PlatformUnavailable(
                        f"{self.platform} at {self.host} did not answer in time", details={"host": self.host}
                    ) from exc
                await self.wait(self._backoff(attempt))
                continue
            if response.status_code == 429:
                delay = retry_after_seconds(response, self._backoff(attempt))
                if attempt > attempts or delay > self.max_wait:
                    raise RateLimited(
                        f"{self.platform} is rate limiting requests; try again in {delay:.0f} s",
                        retry_after=delay,
                    )
                await self.wait(delay)
                continue
            if response.status_code in (500, 502, 503, 504):
                if attempt > attempts:
                    raise PlatformUnavailable(
                        f"{self.platform} answered {response.status_code}; it seems to be having trouble",
                        details={"status": response.status_code},
                    )
                await self.wait(retry_after_seconds(response, self._backoff(attempt)))
                continue
            return response

    def _backoff(self, attempt: int) -> float:
        ceiling = min(30.0, self.backoff * (2 ** (attempt - 1)))
        return float(ceiling / 2 + random.random() * ceiling / 2)


def _reason(exc: BaseException) -> str:
    """The cause of a connection failure in plain words (the chain holds the socket error)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(seen, ConnectionRefusedError):
            return "the connection was refused"
        if isinstance(seen, TimeoutError | httpx.ConnectTimeout):
            return "the connection timed out"
        seen = seen.__cause__ or seen.__context__
    return str(exc) or type(exc).__name__


def json_body(response: httpx.Response, platform: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise PlatformUnavailable(
            f"{platform} answered {response.status_code} with something that is not JSON",
            details={"status": response.status_code},
        ) from exc


# --- defaults for what a platform does not offer ------------------------------------------------------------


class BaseConnector:
    """Shared behaviour. Subclasses override what their platform supports; the rest answers in plain words
    that the platform cannot do it."""

    platform = "unknown"
    label = "this platform"
    actions: frozenset[Action] = frozenset()
    resources: tuple[Resource, ...] = (Resource.customers, Resource.products, Resource.orders)

    def _unsupported(self, what: str) -> NotSupported:
        return NotSupported(f"{self.label} cannot {what} through its API; do it in the {self.label} admin")

    async def list_fulfillments(self, cursor: str | None) -> Page[ExtShipment]:
        return Page([], None, 0)  # fulfilments come embedded in orders

    async def list_refunds(self, cursor: str | None) -> Page[ExtRefund]:
        return Page([], None, 0)  # refunds come embedded in orders

    async def get_product(self, external_id: str) -> ExtProduct | None:
        return None

    async def get_product_by_inventory_item(self, inventory_item_id: str) -> ExtProduct | None:
        return None

    async def cancel(self, order: ExtOrder, request: CancelRequest) -> ActionOutcome:
        raise self._unsupported("cancel orders")

    async def refund(self, order: ExtOrder, request: RefundRequest) -> ActionOutcome:
        raise self._unsupported("refund orders")

    async def update_shipping_address(self, order: ExtOrder, address: Address) -> ActionOutcome:
        raise self._unsupported("change a shipping address")

    async def add_note(self, order: ExtOrder, note: str) -> ActionOutcome:
        raise self._unsupported("add notes to orders")

    async def add_tags(self, order: ExtOrder, tags: list[str]) -> ActionOutcome:
        raise self._unsupported("tag orders")

    async def create_return(self, order: ExtOrder, request: ReturnRequest) -> ActionOutcome:
        raise self._unsupported("create returns")

    async def register_webhooks(self, callback_url: str) -> WebhookRegistration:
        raise NotSupported(
            f"{self.label} cannot subscribe webhooks through its API; "
            f"in the {self.label} admin, send order, customer and product events to {callback_url}"
        )

    async def resend_confirmation(self, order: ExtOrder) -> ActionOutcome:
        raise self._unsupported("resend order confirmations")

    async def aclose(self) -> None:
        return None
