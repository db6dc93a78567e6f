from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from storedesk.api.deps import AdminAuth, Session
from storedesk.api.params import IdPath
from storedesk.jobs import service
from storedesk.jobs.models import JobStatus
from storedesk.kit.schemas import Out

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobOut(Out):
    id: int
    name: str
    payload: dict[str, Any]
    status: JobStatus
    attempts: int
    max_attempts: int
    run_at: datetime
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


@router.get(
    "", response_model=list[JobOut], summary="Background jobs of the shop (admin); dead ones can be retried"
)
async def list_jobs(
    ctx: AdminAuth,
    session: Session,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[JobOut]:
    return [
        JobOut.model_validate(j)
        for j in await service.list_jobs(session, shop_id=ctx.shop_id, status=status, limit=limit)
    ]


@router.post("/{job_id}/retry", response_model=JobOut, summary="Put a dead job back in the queue (admin)")
async def retry_job(job_id: IdPath, ctx: AdminAuth, session: Session) -> JobOut:
    return JobOut.model_validate(await service.retry(session, job_id, shop_id=ctx.shop_id))
