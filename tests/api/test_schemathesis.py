"""Property-based API fuzzing from /openapi.json: no 500s, no responses that contradict the schema."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from storedesk.api.app import create_app
from storedesk.config import Settings
from storedesk.db.migrate import upgrade
from storedesk.db.session import Database
from tests.conftest import TEST_SECRET, make_shop
from tests.servers import serve_in_thread

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    data = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{data / 'fuzz.db'}"
    upgrade(url)

    async def seed() -> None:
        db = Database(url)
        shop = await make_shop(db, "fuzz")
        await make_shop(db, "other")
        TOKEN["admin"] = shop.tokens["admin"]
        await db.dispose()

    asyncio.run(seed())
    app = create_app(
        Settings(data_dir=Path(data), database_url=url, secret_key=TEST_SECRET, jobs_mode="external"),
        run_jobs=False,
    )
    with serve_in_thread(app) as base:
        yield schemathesis.openapi.from_url(f"{base}/openapi.json")


@pytest.mark.slow
@pytest.mark.xdist_group("schemathesis")
def test_api_conforms(api_schema: schemathesis.BaseSchema) -> None:
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/logout":
            continue  # would revoke the token the rest of the run uses
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN['admin']}"}, checks=checks)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(
                f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: {str(exc)[:600]}"
            )
    assert operations >= 30
    assert failures == []
