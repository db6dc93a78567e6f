"""Collision warnings: who is viewing or typing in a conversation, in one process and across processes."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import httpx
import pytest

from storedesk.api.app import create_app
from storedesk.config import Settings
from storedesk.db.session import Database
from storedesk.realtime import broker
from storedesk.web.presence import presence
from tests.conftest import TEST_SECRET, ShopWorld
from tests.servers import free_port
from tests.web.helpers import login, seed_conversation

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _empty_presence() -> None:
    presence.clear()


async def _presence(client: httpx.AsyncClient, conversation_id: int) -> str:
    r = await client.get(f"/app/c/{conversation_id}/presence")
    assert r.status_code == 200
    return r.text


async def test_viewing_typing_and_leaving(settings: Settings, db: Database, shop_a: ShopWorld) -> None:
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    cid = seeded.conversation_id
    app = create_app(settings, db=db, run_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as agent,
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as admin,
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as viewer,
        ):
            csrf_agent = await login(agent, "agent@shop-a.test")
            csrf_viewer = await login(viewer, "viewer@shop-a.test")
            await login(admin, "admin@shop-a.test")
            assert "is viewing" not in await _presence(admin, cid)

            beat = {"csrf_token": csrf_agent, "state": "viewing"}
            assert (await agent.post(f"/app/c/{cid}/presence", data=beat)).status_code == 204
            html = await _presence(admin, cid)
            assert "Agent shop-a is viewing this conversation" in html
            # nobody is warned about themselves
            assert "Agent shop-a" not in await _presence(agent, cid)

            beat["state"] = "typing"
            assert (await agent.post(f"/app/c/{cid}/presence", data=beat)).status_code == 204
            assert "Agent shop-a is typing a reply" in await _presence(admin, cid)

            # a viewer cannot reply, so "typing" from a viewer counts as viewing
            vbeat = {"csrf_token": csrf_viewer, "state": "typing"}
            assert (await viewer.post(f"/app/c/{cid}/presence", data=vbeat)).status_code == 204
            html = await _presence(admin, cid)
            assert "Agent shop-a is typing a reply" in html
            assert "Viewer shop-a" not in html  # typing wins the line; the viewer is only viewing
            assert "Viewer shop-a is viewing" in await _presence(agent, cid)

            beat["state"] = "left"
            assert (await agent.post(f"/app/c/{cid}/presence", data=beat)).status_code == 204
            html = await _presence(admin, cid)
            assert "Agent shop-a" not in html
            assert "Viewer shop-a is viewing this conversation" in html


async def test_an_agent_on_another_process_is_seen(
    settings: Settings, db: Database, db_url: str, shop_a: ShopWorld, tmp_path: Path
) -> None:
    """Two API processes on one PostgreSQL: a heartbeat sent to one reaches the other through NOTIFY."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several API processes need PostgreSQL")
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    cid = seeded.conversation_id
    port = free_port()
    env = {
        **os.environ,
        "STOREDESK_DATABASE_URL": db_url,
        "STOREDESK_DATA_DIR": str(tmp_path / "other"),
        "STOREDESK_SECRET_KEY": TEST_SECRET,
        "STOREDESK_JOBS_MODE": "external",
        "STOREDESK_SMTP_PORT": "0",
        "STOREDESK_LOG_LEVEL": "warning",
    }
    other = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("storedesk")), "serve", "--port", str(port), env=env
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as remote:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await remote.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the second API process did not start"
                await asyncio.sleep(0.2)
            app = create_app(settings, db=db, run_jobs=False)  # this process LISTENs (realtime_pg)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as local:
                    await login(local, "admin@shop-a.test")
                    csrf = await login(remote, "agent@shop-a.test")
                    r = await remote.post(
                        f"/app/c/{cid}/presence", data={"csrf_token": csrf, "state": "typing"}
                    )
                    assert r.status_code == 204
                    html = ""
                    deadline = time.monotonic() + 10
                    while "Agent shop-a is typing a reply" not in html and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)
                        html = await _presence(local, cid)
                    assert "Agent shop-a is typing a reply" in html
                    r = await remote.post(
                        f"/app/c/{cid}/presence", data={"csrf_token": csrf, "state": "left"}
                    )
                    assert r.status_code == 204
                    deadline = time.monotonic() + 10
                    while "Agent shop-a" in html and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)
                        html = await _presence(local, cid)
                    assert "Agent shop-a" not in html
    finally:
        other.terminate()
        await asyncio.wait_for(other.wait(), timeout=15)


async def test_typing_in_the_agent_ui_reaches_the_chat_widget(
    settings: Settings, db: Database, shop_a: ShopWorld
) -> None:
    """The widget shows "Support is typing…" from the same broker events the agent UI's composer causes."""
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    cid = seeded.conversation_id
    app = create_app(settings, db=db, run_jobs=False)
    async with app.router.lifespan_context(app):
        queue = broker.subscribe(shop_a.id)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as agent:
                csrf = await login(agent, "agent@shop-a.test")
                seen: list[tuple[str, bool]] = []
                for state in ("viewing", "typing", "typing", "viewing"):
                    r = await agent.post(f"/app/c/{cid}/presence", data={"csrf_token": csrf, "state": state})
                    assert r.status_code == 204
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and len(seen) < 2:
                    try:
                        event = await asyncio.wait_for(queue.get(), 0.5)
                    except TimeoutError:
                        continue
                    if event["type"] == "typing":
                        assert (event["actor"], event["agent_id"], event["conversation_id"]) == (
                            "agent",
                            shop_a.agent_ids["agent"],
                            cid,
                        )
                        seen.append((event["type"], event["typing"]))
                # one start and one stop, not one event per keystroke beat
                assert seen == [("typing", True), ("typing", False)]
        finally:
            broker.unsubscribe(shop_a.id, queue)
