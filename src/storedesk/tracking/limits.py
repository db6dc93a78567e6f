"""Rate limits of the public self-service pages (``storedesk.kit.ratelimit``: per process by default,
shared by every API process when ``STOREDESK_REDIS_URL`` is set; see docs/tracking.md)."""

from __future__ import annotations

from fastapi import Request

from storedesk.kit.ratelimit import RateLimit

# order lookups (tracking page and returns portal share them): per client address and per order number
lookup_per_ip = RateLimit("10/minute", "lookup.ip")
lookup_per_ip_hour = RateLimit("60/hour", "lookup.ip_hour")
lookup_per_order = RateLimit("8/15minutes", "lookup.order")
# help center
feedback_per_ip = RateLimit("20/hour", "helpcenter.feedback")
suggest_per_ip = RateLimit("120/minute", "helpcenter.suggest")
# returns portal writes
return_per_ip = RateLimit("20/hour", "returns.create")

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
