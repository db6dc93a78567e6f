"""Background jobs of the assistant. Importing this module registers them:

* ``assistant.handle`` ``{message_id}`` — one assistant turn for one new inbound customer message
  (idempotent: the turn is unique per message; see :func:`storedesk.assistant.service.handle_message`).
"""

from __future__ import annotations

from storedesk.assistant import service
from storedesk.jobs.registry import JobContext, PermanentJobError, job


@job(service.JOB, max_attempts=4, backoff_seconds=2.0, backoff_cap_seconds=60.0)
async def handle(ctx: JobContext) -> None:
    if ctx.shop_id is None:
        raise PermanentJobError("assistant.handle needs a shop")
    await service.handle_message(ctx.db, shop_id=ctx.shop_id, message_id=int(ctx.payload["message_id"]))
