"""Background jobs of the assistant. Importing this module registers them:

* ``assistant.handle`` ``{message_id}`` — one assistant turn for one new inbound customer message
  (idempotent: the turn is unique per message; see :func:`storedesk.assistant.service.handle_message`);
  queued per message when the shop's assistant answers by itself;
* ``assistant.suggest`` ``{conversation_id}`` — suggest-only shops: the turn for the conversation's newest
  customer message. At most one waits per conversation (dedupe key ``assistant.suggest:<conversation>``,
  given up when the job starts, so a message arriving while it runs queues the next one).
"""

from __future__ import annotations

from storedesk.assistant import service
from storedesk.jobs.registry import JobContext, PermanentJobError, job


@job(service.JOB, max_attempts=4, backoff_seconds=2.0, backoff_cap_seconds=60.0)
async def handle(ctx: JobContext) -> None:
    if ctx.shop_id is None:
        raise PermanentJobError("assistant.handle needs a shop")
    await service.handle_message(ctx.db, shop_id=ctx.shop_id, message_id=int(ctx.payload["message_id"]))


@job(service.SUGGEST_JOB, max_attempts=4, backoff_seconds=2.0, backoff_cap_seconds=60.0)
async def suggest(ctx: JobContext) -> None:
    if ctx.shop_id is None:
        raise PermanentJobError("assistant.suggest needs a shop")
    await service.suggest_latest(
        ctx.db, shop_id=ctx.shop_id, conversation_id=int(ctx.payload["conversation_id"]), job_id=ctx.job_id
    )
