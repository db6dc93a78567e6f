"""Background jobs of returns. Importing this module registers them:

* ``returns.refund`` ``{return_id, order_id, lines, amount_minor, reason, actor_type, actor_id}`` — refunds
  a completed return on the store platform through ``commerce.service.refund_order`` (which talks to the
  connector outside any transaction), after the transaction that completed the return has committed.
  The outcome is written to the return's history (``return.refund_sent`` / ``return.refund_failed``).
"""

from __future__ import annotations

import logging

from storedesk.commerce import service as commerce
from storedesk.jobs.registry import JobContext, PermanentJobError, job
from storedesk.kit.actor import Actor
from storedesk.kit.errors import Conflict, StoredeskError
from storedesk.returns import service

log = logging.getLogger("storedesk.returns.tasks")


@job(service.REFUND_JOB, max_attempts=6, backoff_seconds=30.0, backoff_cap_seconds=1800.0)
async def refund_on_platform(ctx: JobContext) -> None:
    payload = ctx.payload
    shop_id = int(ctx.shop_id or payload["shop_id"])
    return_id = int(payload["return_id"])
    try:
        result = await commerce.refund_order(
            ctx.db,
            shop_id=shop_id,
            actor=Actor(payload.get("actor_type", "system"), payload.get("actor_id")),  # type: ignore[arg-type]
            order_id=int(payload["order_id"]),
            lines=[(int(line), int(qty)) for line, qty in payload["lines"]],
            amount_minor=int(payload["amount_minor"]),
            reason=str(payload.get("reason") or "return"),
            restock=True,
            notify=False,
            confirm=True,
        )
    except Conflict:
        raise  # another action on the order is in flight: retry later
    except StoredeskError as exc:
        async with ctx.db.transaction() as session:
            await service.record_refund_outcome(
                session, shop_id=shop_id, return_id=return_id, ok=False, message=exc.message
            )
        raise PermanentJobError(exc.message) from exc
    except Exception as exc:
        if ctx.is_last_attempt:
            async with ctx.db.transaction() as session:
                await service.record_refund_outcome(
                    session, shop_id=shop_id, return_id=return_id, ok=False, message=str(exc)[:300]
                )
        raise
    async with ctx.db.transaction() as session:
        await service.record_refund_outcome(
            session,
            shop_id=shop_id,
            return_id=return_id,
            ok=True,
            message=result.message,
            refund_id=result.refund_id,
        )
    log.info("return %s refunded on the platform (%s)", return_id, result.status)
