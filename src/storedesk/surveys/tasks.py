"""Survey background work: schedule after a resolution, send, and the NPS scan."""

from __future__ import annotations

from datetime import timedelta

from storedesk.jobs.periodic import periodic
from storedesk.jobs.registry import JobContext, job
from storedesk.surveys import service


@job("survey.after_resolve", max_attempts=5)
async def after_resolve(ctx: JobContext) -> None:
    assert ctx.shop_id is not None
    async with ctx.db.transaction() as session:
        await service.schedule_after_resolve(
            session, shop_id=ctx.shop_id, conversation_id=int(ctx.payload["conversation_id"])
        )


@job("survey.send", max_attempts=5)
async def send(ctx: JobContext) -> None:
    assert ctx.shop_id is not None
    async with ctx.db.transaction() as session:
        await service.send_survey(session, shop_id=ctx.shop_id, survey_id=int(ctx.payload["survey_id"]))


@periodic("survey.scan_nps", every=timedelta(hours=1))
async def scan_nps(ctx: JobContext) -> None:
    """Hourly: NPS after delivery / periodically for the shops whose policy asks for it."""
    async with ctx.db.transaction() as session:
        shop_ids = await service.shops_with_nps(session)
    for shop_id in shop_ids:
        async with ctx.db.transaction() as session:
            await service.scan_nps(session, shop_id=shop_id)
