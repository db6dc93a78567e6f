"""Shared pieces of the fake platforms: request log, fault injection, signing, deterministic data."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def b64_hmac(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def money(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


@dataclass
class Faults:
    """What the next requests should suffer. Thread-safe enough for one test at a time (the GIL)."""

    rate_limit: int = 0  # answer 429 this many times
    retry_after: str = "1"
    server_error: int = 0  # answer 503 this many times
    stall_on_request: int | None = None  # block the Nth data request until ``release`` is set
    fail_from_request: int | None = None  # answer 503 to the Nth data request and every later one
    release: threading.Event = field(default_factory=threading.Event)
    stalled: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[float, str, str]] = field(default_factory=list)
    data_requests: int = 0

    def reset(self) -> None:
        self.rate_limit = self.server_error = 0
        self.retry_after = "1"
        self.stall_on_request = None
        self.fail_from_request = None
        self.release = threading.Event()
        self.stalled = threading.Event()
        self.requests.clear()
        self.data_requests = 0

    def log(self, request: Request) -> None:
        self.requests.append((time.monotonic(), request.method, request.url.path))

    def inject(self) -> Response | None:
        """A fault to answer with, or None to serve the request."""
        if self.rate_limit > 0:
            self.rate_limit -= 1
            return JSONResponse(
                {"errors": "Exceeded rate limit"}, status_code=429, headers={"Retry-After": self.retry_after}
            )
        if self.server_error > 0:
            self.server_error -= 1
            return JSONResponse({"errors": "Service Unavailable"}, status_code=503)
        return None

    def count_data_request(self) -> Response | None:
        """Count a listing request; a fault to answer with, or None."""
        self.data_requests += 1
        if self.fail_from_request is not None and self.data_requests >= self.fail_from_request:
            return JSONResponse({"errors": "Service Unavailable"}, status_code=503)
        if self.stall_on_request is not None and self.data_requests >= self.stall_on_request:
            self.stalled.set()
            self.release.wait(timeout=60)
        return None


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


BASE_TS = 1767225600.0  # 2026-01-01T00:00:00Z

FIRST = ["Anna", "Bela", "Chris", "Dora", "Emil", "Frida", "Gustav", "Hanna", "Ivo", "Jana"]
LAST = ["Berg", "Nagy", "Schmidt", "Olsen", "Kovacs", "Larsen", "Weber", "Lind", "Horvath", "Meyer"]
COLORS = ["Red", "Blue"]
SIZES = ["S", "M", "L"]


def person(i: int) -> tuple[str, str, str]:
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    return first, last, f"{first.lower()}.{last.lower()}{i}@example.com"
