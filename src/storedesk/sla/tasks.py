"""SLA background work: the periodic breach report."""

from __future__ import annotations

from datetime import timedelta

from storedesk.jobs.periodic import periodic
from storedesk.jobs.registry import JobContext
from storedesk.kit.time import utcnow
from storedesk.sla.repository import shops_with_due_breaches
from storedesk.sla.service import report_breaches


@periodic("sla.report_breaches", every=timedelta(minutes=1))
async def report_breaches_job(ctx: JobContext) -> None:
    """Every minute: report passed due times (event ``sla.breached`` + notifications), one shop per
    transaction."""
    now = utcnow()
    async with ctx.db.transaction() as session:
        shop_ids = await shops_with_due_breaches(session, now)
    for shop_id in shop_ids:
        while True:
            async with ctx.db.transaction() as session:
                reported = await report_breaches(session, shop_id=shop_id, now=now, limit=500)
            if reported < 500:
                break
