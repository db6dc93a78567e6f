"""A subset of the scenario suite (src/storedesk/assistant/scenarios/scenarios.jsonl) on the seeded demo
shop, on SQLite and PostgreSQL, through ingest and the job runner. The whole suite runs with
``storedesk assistant eval --scenarios`` (figures in docs/assistant.md)."""

from __future__ import annotations

from typing import Any

import pytest

from storedesk.assistant.scenarios import runner
from storedesk.db.session import Database
from storedesk.demo.seed import seed_demo
from tests.conftest import TEST_SECRET

pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("assistant"), pytest.mark.slow]

SUBSET = (
    "hu-track-in-transit",
    "en-track-late",
    "nb-cancel-yes",
    "sv-cancel-no",
    "pl-cancel-shipped",
    "fr-cancel-outside-window",
    "es-address-change",
    "de-damaged-1",
    "en-track-stranger",
    "de-track-anon",
    "fr-return-eligible",
    "pl-return-outside-window",
    "pl-refund-done",
    "sv-payment-1",
    "nb-angry",
)


@pytest.fixture(autouse=True)
def _links(settings: Any) -> None:
    from storedesk.assistant import service

    service.configure(settings.secret_keys, settings.base_url)


async def test_scenario_subset_on_the_demo_shop(db: Database) -> None:
    await seed_demo(db, seed=1, box_secrets=[TEST_SECRET], progress=False, force=False)
    scenarios = [s for s in runner.load() if s["id"] in SUBSET]
    assert len(scenarios) == len(SUBSET)
    report = await runner.run(db, scenarios)
    failed = [
        (t.scenario, t.expect, t.outcome, t.template, t.problem) for t in report.turns() if not t.correct
    ]
    assert failed == []
    summary = report.summary()
    assert summary["wrong_automated"] == 0
    assert summary["handover_correct"] == summary["handover_expected"] == 2
    assert summary["priority_raised_ok"] == len(SUBSET)
    assert all(r.state_ok for r in report.results)
    resolved = {r.id for r in report.results if r.resolved_without_agent}
    assert {"nb-cancel-yes", "es-address-change", "pl-refund-done", "hu-track-in-transit"} <= resolved
    assert len(runner.load()) >= 200
    assert {s["language"] for s in runner.load()} == {"en", "de", "hu", "nb", "fr", "sv", "pl", "es"}
