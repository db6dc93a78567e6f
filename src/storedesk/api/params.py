"""Request parameter types shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from storedesk.kit.schemas import MAX_ID

# every id in a path or query is a positive 64-bit integer (larger ones are a 422, not a crash)
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
