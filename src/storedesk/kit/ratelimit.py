"""Rate limits (moving windows, the ``limits`` package), counted in one place for every API process.

By default the counts live in each process's memory: with N API processes a client gets N × the limit.
With ``STOREDESK_REDIS_URL`` set, every process counts in that Redis, so a limit is one limit however
many processes serve the shop. If Redis cannot be reached, a process falls back to its own memory for that
request (and logs it) rather than refusing or waving everything through.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from storedesk.kit.errors import TooManyRequests

log = logging.getLogger("storedesk.ratelimit")


class _Shared:
    storage: Storage = MemoryStorage()
    fallback: Storage = MemoryStorage()
    limiter = MovingWindowRateLimiter(storage)
    fallback_limiter = MovingWindowRateLimiter(fallback)
    uri: str | None = None
    warned_at = 0.0


def configure(redis_url: str | None) -> None:
    """Count in Redis (``redis://host:6379/0``) or, given nothing, in this process's memory."""
    if redis_url == _Shared.uri:
        return
    storage: Storage = MemoryStorage()
    if redis_url:
        found = storage_from_string(redis_url, socket_timeout=0.25, socket_connect_timeout=0.25)
        if not isinstance(found, Storage):
            raise ValueError(f"STOREDESK_REDIS_URL must be a redis:// URL, not {redis_url!r}")
        storage = found
    _Shared.uri = redis_url
    _Shared.storage = storage
    _Shared.limiter = MovingWindowRateLimiter(storage)
    _Shared.warned_at = 0.0


def backend() -> str:
    return "redis" if _Shared.uri else "memory"


class RateLimit:
    """``RateLimit("10/minute", "tracking.lookup_ip").check(shop, ip)``: raises TooManyRequests (429 with
    ``retry_after``) past the limit. The name keeps limits with the same spec apart in the shared store."""

    def __init__(self, spec: str, name: str | None = None) -> None:
        self.item: RateLimitItem = parse(spec)
        self.name = name or spec

    def _run(self, method: str, *keys: str) -> Any:
        try:
            return getattr(_Shared.limiter, method)(self.item, self.name, *keys)
        except Exception:
            if _Shared.storage is _Shared.fallback or isinstance(_Shared.storage, MemoryStorage):
                raise
            now = time.monotonic()
            if now - _Shared.warned_at > 60:
                _Shared.warned_at = now
                log.warning("rate-limit store %s unreachable; counting in this process", _Shared.uri)
            return getattr(_Shared.fallback_limiter, method)(self.item, self.name, *keys)

    def hit(self, *keys: str) -> bool:
        return bool(self._run("hit", *keys))

    def check(self, *keys: str) -> None:
        if not self.hit(*keys):
            stats = self._run("get_window_stats", *keys)
            retry = max(1, int(stats.reset_time - time.time()) + 1)
            raise TooManyRequests("too many requests; try again shortly", details={"retry_after": retry})

    def reset(self) -> None:
        """Forget the counts (tests). Clears the whole store the limits share."""
        _Shared.storage.reset()
        _Shared.fallback.reset()
