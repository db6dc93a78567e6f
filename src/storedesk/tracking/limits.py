"""Rate limits of the public self-service pages (per process, ``limits`` moving windows).

Several API processes each keep their own counts, so the effective limit is N × the configured one;
that is enough to make guessing order number + email pairs impractical (see docs/tracking.md).
"""

from __future__ import annotations

import time

from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from storedesk.kit.errors import TooManyRequests


class RateLimit:
    def __init__(self, spec: str) -> None:
        self.item = parse(spec)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, *keys: str) -> bool:
        return bool(self.limiter.hit(self.item, *keys))

    def check(self, *keys: str) -> None:
        if not self.hit(*keys):
            stats = self.limiter.get_window_stats(self.item, *keys)
            retry = max(1, int(stats.reset_time - time.time()) + 1)
            raise TooManyRequests("too many requests; try again shortly", details={"retry_after": retry})

    def reset(self) -> None:
        self.limiter.storage.reset()


# order lookups (tracking page and returns portal share them): per client address and per order number
lookup_per_ip = RateLimit("10/minute")
lookup_per_ip_hour = RateLimit("60/hour")
lookup_per_order = RateLimit("8/15minutes")
# help center
feedback_per_ip = RateLimit("20/hour")
suggest_per_ip = RateLimit("120/minute")
# returns portal writes
return_per_ip = RateLimit("20/hour")

ALL = (lookup_per_ip, lookup_per_ip_hour, lookup_per_order, feedback_per_ip, suggest_per_ip, return_per_ip)


def reset_all() -> None:
    for limit in ALL:
        limit.reset()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def lookup_allowed(request: Request, shop_id: int, number: str) -> bool:
    """Counts one lookup attempt; ``False`` when the client or the order number is over its limit.

    Every attempt counts against the order number, whether the number exists or not, so the limit
    itself reveals nothing.
    """
    ip = client_ip(request)
    ok_ip = lookup_per_ip.hit(str(shop_id), ip) and lookup_per_ip_hour.hit(str(shop_id), ip)
    ok_order = lookup_per_order.hit(str(shop_id), number.lower()[:64] or "-")
    return ok_ip and ok_order
