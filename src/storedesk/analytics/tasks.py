"""KPI rollup jobs: incremental every five minutes, purchases rebuilt nightly."""

from __future__ import annotations

import logging
from datetime import timedelta

from storedesk.analytics.rollup import all_shop_ids, refresh_shop
from storedesk.jobs.periodic import periodic
from storedesk.jobs.registry import JobContext, job

log = logging.getLogger("storedesk.analytics")


@periodic("kpi.rollup", every=timedelta(minutes=5))
async def rollup_all(ctx: JobContext) -> None:
    """Every five minutes: roll up each shop's new events and recent orders."""
    for shop_id in await all_shop_ids(ctx.db):
        stats = await refresh_shop(ctx.db, shop_id)
        if stats.conversations or stats.customers:
            log.info(
                "kpi rollup shop %s: %s events, %s conversations, %s customers in %.2fs",
                shop_id,
                stats.events,
                stats.conversations,
                stats.customers,
                stats.seconds,
            )


@periodic("kpi.rebuild_buyers", every=timedelta(days=1))
async def rebuild_buyers_all(ctx: JobContext) -> None:
    """Nightly: every customer's buying days again (late cancellations of older orders)."""
    for shop_id in await all_shop_ids(ctx.db):
        await refresh_shop(ctx.db, shop_id, all_buyers=True)


@job("kpi.refresh_shop", max_attempts=3)
async def refresh_one(ctx: JobContext) -> None:
    """On demand (admin, tests, demo seed): roll up one shop now."""
    assert ctx.shop_id is not None
    await refresh_shop(ctx.db, ctx.shop_id)
