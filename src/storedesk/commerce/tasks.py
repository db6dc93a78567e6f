"""Background jobs of the commerce domain. Importing this module registers them:

* ``commerce.backfill`` ``{store_id, run}`` — copies the store into the mirror in slices of
  ``BACKFILL_SLICE_SECONDS``; each slice queues the next, so no worker is held for hours and a worker
  crash costs at most one page (the checkpoints are in ``Store.sync_state``). A long ``Retry-After`` from
  the platform re-queues the job for after the wait instead of retrying at once.
* ``commerce.webhook`` ``{event_id}`` — applies one stored platform delivery.
* ``commerce.reconcile`` ``{store_id}`` — re-reads recently changed orders to catch missed webhooks, then
  queues itself again.
* ``commerce.register_webhooks`` ``{store_id, public_base_url}`` — subscribes the platform's webhooks to
  the store's address under ``STOREDESK_BASE_URL`` right after a store is connected.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from storedesk.commerce import service, sync
from storedesk.commerce.connectors import registry
from storedesk.jobs.registry import JobContext, PermanentJobError, enqueue, job
from storedesk.kit.actor import SYSTEM
from storedesk.kit.crypto import SecretBox
from storedesk.kit.time import utcnow

log = logging.getLogger("storedesk.commerce.tasks")

BACKFILL_SLICE_SECONDS = 60.0


def configure(box: SecretBox) -> None:
    """Called by the composition root so jobs can decrypt store credentials."""
    registry.configure(box)


@job(service.REGISTER_WEBHOOKS_JOB, max_attempts=5, backoff_seconds=30.0)
async def register_webhooks(ctx: JobContext) -> None:
    state = await service.register_webhooks(
        ctx.db,
        shop_id=int(ctx.shop_id or 0),
        actor=SYSTEM,
        store_id=int(ctx.payload["store_id"]),
        public_base_url=str(ctx.payload["public_base_url"]),
    )
    log.info("webhooks of store %s: %s", ctx.payload["store_id"], state["status"])


@job(sync.BACKFILL_JOB, max_attempts=12, backoff_seconds=10.0, backoff_cap_seconds=900.0)
async def backfill(ctx: JobContext) -> None:
    store_id = int(ctx.payload["store_id"])
    run = ctx.payload.get("run")
    step = int(ctx.payload.get("step") or 0)
    result = await sync.run_backfill(
        ctx.db, store_id=store_id, run=run, budget_seconds=BACKFILL_SLICE_SECONDS
    )
    log.info(
        "backfill of store %s: %s (%s pages, %s items)", store_id, result.status, result.pages, result.items
    )
    if result.status in ("continue", "rate_limited", "busy"):
        delay = {"continue": 0.0, "rate_limited": result.retry_after or 60.0, "busy": 30.0}[result.status]
        async with ctx.db.transaction() as session:
            await enqueue(
                session,
                sync.BACKFILL_JOB,
                {"store_id": store_id, "run": run, "step": step + 1},
                shop_id=ctx.shop_id,
                run_at=utcnow() + timedelta(seconds=delay),
                dedupe_key=f"{sync.BACKFILL_JOB}:{store_id}:{run}:{step + 1}",
            )
    elif result.status == "failed":
        raise PermanentJobError(result.error or "the backfill failed")


@job(sync.WEBHOOK_JOB, max_attempts=8, backoff_seconds=5.0)
async def apply_webhook(ctx: JobContext) -> None:
    await sync.process_webhook(ctx.db, int(ctx.payload["event_id"]))


@job(sync.RECONCILE_JOB, max_attempts=5, backoff_seconds=60.0)
async def reconcile(ctx: JobContext) -> None:
    store_id = int(ctx.payload["store_id"])
    result = await sync.reconcile(ctx.db, store_id=store_id)
    log.info(
        "reconciliation of store %s: %s (%s orders, %s changed)",
        store_id,
        result.status,
        result.orders,
        result.changed,
    )
    if result.status == "skipped" and result.error is None:
        return  # the store is gone: stop the cycle
    await sync.schedule_next_reconcile(ctx.db, store_id)
