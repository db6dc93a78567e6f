"""One-off: schemathesis over the commerce routes only (not committed)."""
from __future__ import annotations
import asyncio
from pathlib import Path
import pytest, schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance
from storedesk.api.app import create_app
from storedesk.commerce import tasks as commerce_tasks
from storedesk.commerce.actions_endpoints import router as actions_router
from storedesk.commerce.webhooks import router as webhooks_router
from storedesk.config import Settings
from storedesk.db.migrate import upgrade
from storedesk.db.session import Database
from tests.conftest import TEST_SECRET
from tests.commerce.conftest import fast_shop
from tests.servers import serve_in_thread
TOKEN = {}
def test_commerce_fuzz(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    upgrade(url)
    async def seed():
        db = Database(url); shop = await fast_shop(db, "fuzz"); TOKEN["admin"] = shop.tokens["admin"]; await db.dispose()
    asyncio.run(seed())
    app = create_app(Settings(data_dir=tmp_path, database_url=url, secret_key=TEST_SECRET, jobs_mode="external"), run_jobs=False)

    commerce_tasks.configure(app.state.box)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]
    failures = []
    with serve_in_thread(app) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        for result in schema.get_all_operations():
            op = result.ok()
            if not (op.path.startswith("/api/v1/stores") or "/actions" in op.path or op.path.startswith("/webhooks/shopify") or op.path.startswith("/webhooks/woo") or op.path.startswith("/webhooks/ecwid") or op.path.startswith("/api/v1/orders")):
                continue
            @given(case=op.as_strategy())
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
            def run(case):
                case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN['admin']}"}, checks=checks)
            try:
                run()
            except Exception as exc:
                failures.append(f"{op.method.upper()} {op.path}: {type(exc).__name__}: {str(exc)[:900]}")
    print("\n\n".join(failures)); assert not failures
