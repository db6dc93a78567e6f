"""Placeholder replaced by the demo generator (being written now)."""

from __future__ import annotations

from typing import Any

from storedesk.db.session import Database

DEMO_ADMIN_EMAIL = "admin@demo.storedesk.test"
DEMO_PASSWORD = "demo-password-1"


async def seed_demo(
    db: Database, *, seed: int, box_secrets: list[str], progress: bool, force: bool
) -> dict[str, Any]:
    from storedesk.agents.models import Role
    from storedesk.agents.service import create_agent
    from storedesk.kit.actor import SYSTEM
    from storedesk.shops.service import create_shop

    async with db.transaction() as session:
        shop = await create_shop(
            session, slug="demo", name="Demo Shop", languages=["en", "de"], default_language="en"
        )
        await create_agent(
            session,
            shop_id=shop.id,
            email=DEMO_ADMIN_EMAIL,
            name="Admin",
            role=Role.admin,
            password=DEMO_PASSWORD,
            actor=SYSTEM,
        )
    return {"status": "created"}
