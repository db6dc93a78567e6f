"""The agent's UI language as a profile setting (page, account menu, ``PATCH /api/v1/me``) and service
errors shown in that language (SQLite and PostgreSQL); every ``reason`` a service raises has its text in
``storedesk.web.errors`` with the same placeholders (the German is checked by test_catalogue.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest

from storedesk.kit import errors as kit_errors
from storedesk.web import errors as web_errors
from storedesk.web import i18n
from tests.conftest import ShopWorld
from tests.web.helpers import login

SOURCE_ROOT = Path(i18n.__file__).resolve().parents[2]  # src/storedesk
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


ERROR_CLASSES = {
    name
    for name, value in vars(kit_errors).items()
    if isinstance(value, type) and issubclass(value, Exception)
}


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _raised_reasons() -> list[tuple[str, set[str] | None, str]]:
    """(reason, the keys of a literal ``params={...}`` or None, where) of every error made with ``reason=``."""
    found: list[tuple[str, set[str] | None, str]] = []
    for path in SOURCE_ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in ERROR_CLASSES:
                continue
            kwargs = {k.arg: k.value for k in node.keywords if k.arg}
            reason = kwargs.get("reason")
            if not isinstance(reason, ast.Constant) or not isinstance(reason.value, str):
                continue
            params = kwargs.get("params")
            keys: set[str] | None = set()
            if isinstance(params, ast.Dict):
                keys = {
                    k.value for k in params.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
                }
            elif params is not None:
                keys = None
            found.append((reason.value, keys, f"{path.relative_to(SOURCE_ROOT)}:{node.lineno}"))
    return found


def test_every_reason_raised_has_a_text_with_its_placeholders() -> None:
    raised = _raised_reasons()
    assert len(raised) >= 30  # the conversation, agent, macro, cursor and CSRF errors at least
    problems = []
    for reason, keys, where in raised:
        template = web_errors.REASONS.get(reason)
        if template is None:
            problems.append(f"{where}: reason {reason!r} has no text in storedesk/web/errors.py")
        elif keys is not None and set(PLACEHOLDER.findall(template)) != keys:
            problems.append(f"{where}: params {sorted(keys)} != placeholders of {template!r}")
    assert not problems, "\n".join(problems)
    # NotFound sets its reason in its own __init__
    unused = set(web_errors.REASONS) - {r for r, _k, _w in raised} - {"not_found"}
    assert not unused, f"texts no service raises: {sorted(unused)}"


@pytest.mark.anyio
async def test_the_profile_language_is_used_after_sign_in_and_errors_follow_it(
    client: httpx.AsyncClient, shop_a: ShopWorld, shop_b: ShopWorld
) -> None:
    # the API: the agent resource shows the language; an agent changes only their own profile
    me = await client.get("/api/v1/me", headers=shop_a.h())
    assert me.status_code == 200 and me.json()["ui_language"] is None
    bad = await client.patch("/api/v1/me", json={"ui_language": "fr"}, headers=shop_a.h())
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
    changed = await client.patch("/api/v1/me", json={"ui_language": "de"}, headers=shop_a.h("viewer"))
    assert changed.status_code == 200 and changed.json()["ui_language"] == "de"
    listed = await client.get("/api/v1/agents", headers=shop_a.h("admin"))
    by_email = {a["email"]: a["ui_language"] for a in listed.json()}
    assert by_email == {"admin@shop-a.test": None, "agent@shop-a.test": None, "viewer@shop-a.test": "de"}
    other = await client.get("/api/v1/agents", headers=shop_b.h("admin"))
    assert {a["ui_language"] for a in other.json()} == {None}

    # the web: English by the browser, then German from the profile page whatever the browser says
    client.headers["Accept-Language"] = "en-GB,en;q=0.9"
    token = await login(client, "agent@shop-a.test")
    page = await client.get("/app/profile")
    assert page.status_code == 200 and "<h1>Your profile</h1>" in page.text
    assert '<option value="" selected>As my browser</option>' in page.text
    refused = await client.post(
        "/app/profile", data={"csrf_token": token, "name": "Agent A", "ui_language": "xx"}
    )
    assert refused.status_code == 422
    assert '<p class="error" id="e-ui-language">Choose one of the offered languages.</p>' in refused.text
    saved = await client.post(
        "/app/profile", data={"csrf_token": token, "name": "Agent A", "ui_language": "de"}
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/app/profile"
    client.cookies.delete("storedesk_lang")  # not the cookie: the profile
    inbox = await client.get("/app/inbox")
    assert '<html lang="de">' in inbox.text and "Posteingang" in inbox.text
    me = await client.get("/api/v1/me", headers=shop_a.h())
    assert me.json()["ui_language"] == "de" and me.json()["name"] == "Agent A"

    # a service error in the agent's language; the JSON API keeps its code and English message
    created = await client.post(
        "/api/v1/conversations",
        json={"customer_id": shop_a.customer_id, "channel_id": shop_a.channel_id, "message": "Hallo"},
        headers=shop_a.h(),
    )
    cid = created.json()["id"]
    r = await client.post(f"/app/c/{cid}/status", data={"csrf_token": token, "status": "open"})
    assert r.status_code == 422
    assert (
        '<p class="error full-row" role="alert">Die Konversation hat bereits den Status „Offen“.</p>'
        in r.text
    )
    api = await client.post(
        f"/api/v1/conversations/{cid}/status", json={"status": "open"}, headers=shop_a.h()
    )
    assert api.status_code == 409
    assert api.json()["error"]["code"] == "invalid_transition"
    assert api.json()["error"]["message"] == f"conversation {cid} is already open"
    closed = await client.post(f"/app/c/{cid}/status", data={"csrf_token": token, "status": "closed"})
    assert closed.status_code == 303
    r = await client.post(f"/app/c/{cid}/status", data={"csrf_token": token, "status": "pending"})
    assert "Eine Konversation im Status „Geschlossen“ kann nicht „Wartend“ werden." in r.text
    r = await client.post(f"/app/c/{cid}/messages", data={"csrf_token": token, "text": "Noch da?"})
    assert r.status_code == 422
    assert "Diese Konversation ist geschlossen. Antworten sind nicht möglich." in r.text  # no composer
    r = await client.post("/app/inbox/bulk", data={"csrf_token": token, "ids": str(cid), "action": "resolve"})
    assert r.status_code == 303
    flash = (await client.get("/app/inbox")).text
    assert "Eine Konversation im Status „Geschlossen“ kann nicht „Gelöst“ werden." in flash

    # the account menu's switch writes the profile too; "as my browser" clears it
    r = await client.post("/app/language", data={"csrf_token": token, "language": "en", "next": "/app/inbox"})
    assert r.status_code == 303
    assert (await client.get("/api/v1/me", headers=shop_a.h())).json()["ui_language"] == "en"
    r = await client.post("/app/profile", data={"csrf_token": token, "name": "Agent A", "ui_language": ""})
    assert (await client.get("/api/v1/me", headers=shop_a.h())).json()["ui_language"] is None
    client.cookies.delete("storedesk_lang")
    client.headers["Accept-Language"] = "de-DE,de;q=0.9"
    assert '<html lang="de">' in (await client.get("/app/inbox")).text
