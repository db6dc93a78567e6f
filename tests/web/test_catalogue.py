"""The agent UI's catalogue is complete: every string in an agent-facing template or route is in the
committed ``messages.pot``, has a German translation and keeps its ``%(placeholders)s``.

Extraction uses Babel's API with the same ``babel.cfg`` and keywords as the documented ``pybabel
extract`` command (docs/agent-ui.md, "Languages"), so a new ``_()`` without a German translation fails
here. The last test renders a few agent pages outside ``storedesk.web`` in German.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from storedesk.db.session import Database
from storedesk.web import i18n
from tests.conftest import ShopWorld
from tests.helpcenter.kit import seed_help_center, seed_order

SOURCE_ROOT = Path(i18n.__file__).resolve().parents[2]  # src/storedesk
CATALOGUE_DIR = Path(i18n.CATALOGUE_DIR)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")

MsgId = str | tuple[str, ...]


def _extracted() -> dict[MsgId, list[str]]:
    """msgid -> where it is used, from a fresh extraction with babel.cfg."""
    with (CATALOGUE_DIR / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(  # type: ignore[no-untyped-call]
            fh, filename=str(CATALOGUE_DIR / "babel.cfg")
        )
    keywords = {**DEFAULT_KEYWORDS, "_": None, "N_": None}
    found: dict[MsgId, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(SOURCE_ROOT), method_map, options_map, keywords=keywords
    ):
        msgid: MsgId = message if isinstance(message, str) else tuple(message)
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain=i18n.DOMAIN)


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def extracted() -> dict[MsgId, list[str]]:
    return _extracted()


def test_extraction_covers_agent_pages_outside_storedesk_web(extracted: dict[MsgId, list[str]]) -> None:
    places = {place.split(":")[0] for where in extracted.values() for place in where}
    for expected in (
        "returns/templates/agent/returns_queue.html",
        "returns/web.py",
        "helpcenter/templates/agent/help_list.html",
        "helpcenter/agent_routes.py",
        "commerce/templates/commerce/stores.html",
        "commerce/web.py",
        "analytics/templates/kpis.html",
        "surveys/templates/reviews.html",
        "surveys/web.py",
        "web/templates/app.html",
    ):
        assert expected in places, expected
    # Public pages have their own per-language text modules.
    assert not any("templates/public/" in p or "tracking/templates" in p for p in places)


def test_messages_pot_is_up_to_date(extracted: dict[MsgId, list[str]]) -> None:
    pot = _read(CATALOGUE_DIR / "messages.pot")
    committed = {m.id if isinstance(m.id, str) else tuple(m.id) for m in pot if m.id}
    missing = sorted(map(str, set(extracted) - committed))
    stale = sorted(map(str, committed - set(extracted)))
    assert not missing, f"run the pybabel extract command in docs/agent-ui.md; not in messages.pot: {missing}"
    assert not stale, f"run the pybabel extract command in docs/agent-ui.md; no longer used: {stale}"


def test_every_msgid_has_german_with_the_same_placeholders(extracted: dict[MsgId, list[str]]) -> None:
    de = _read(CATALOGUE_DIR / "de" / "LC_MESSAGES" / "messages.po", locale="de")
    problems: list[str] = []
    for msgid, where in extracted.items():
        key = msgid if isinstance(msgid, str) else msgid[0]
        message = de.get(key)
        label = f"{msgid!r} ({where[0]})"
        if message is None:
            problems.append(f"not in de/messages.po: {label}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy (ignored at run time): {label}")
        forms = [message.string] if isinstance(message.string, str) else list(message.string or ())
        if not forms or not all(form.strip() for form in forms):
            problems.append(f"no German: {label}")
            continue
        if isinstance(msgid, str):
            expected = [_placeholders(msgid)]
        else:
            # German has two forms like English: singular ~ msgid, plural ~ msgid_plural.
            expected = [_placeholders(msgid[0]), _placeholders(msgid[-1])]
            if len(forms) != len(expected):
                problems.append(f"{len(forms)} plural forms instead of {len(expected)}: {label}")
                continue
        for form, wanted in zip(forms, expected, strict=True):
            if _placeholders(form) != wanted:
                problems.append(f"placeholders {sorted(_placeholders(form))} != {sorted(wanted)}: {label}")
    assert not problems, "\n".join(problems)


def test_the_german_catalogue_has_no_fuzzy_or_obsolete_entries() -> None:
    de = _read(CATALOGUE_DIR / "de" / "LC_MESSAGES" / "messages.po", locale="de")
    assert [m.id for m in de if m.id and m.fuzzy] == []
    assert list(de.obsolete) == []


@pytest.mark.anyio
async def test_returns_queue_help_center_editor_and_kpis_in_german(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    from tests.web.helpers import login

    seeded = await seed_order(db, shop_a.id)
    created = await client.post(
        "/api/v1/returns",
        json={
            "order_id": seeded.order_id,
            "method": "refund",
            "lines": [{"order_line_id": seeded.line_ids[0], "quantity": 1}],
        },
        headers=shop_a.h(),
    )
    assert created.status_code in (200, 201), created.text
    await seed_help_center(db, shop_a.id)
    await login(client, "agent@shop-a.test")
    client.cookies.set("storedesk_lang", "de")

    queue = await client.get("/app/returns?status=todo")
    assert queue.status_code == 200
    for german in ("Handlungsbedarf", "Erledigt", "Retoure", "Bestellung", "Betrag"):
        assert german in queue.text, german
    assert "Needs action" not in queue.text

    detail = await client.get(f"/app/returns/{created.json()['id']}")
    assert detail.status_code == 200
    for german in ("Verlauf", "Warenwert", "Rücksendeetikett"):
        assert german in detail.text, german

    listing = await client.get("/app/help")
    assert listing.status_code == 200
    for german in ("Selbsthilfe", "Neuer Artikel", "Kategorien", "Hilfreich"):
        assert german in listing.text, german
    assert "New article" not in listing.text

    kpis = await client.get("/app/kpis")
    assert kpis.status_code == 200
    for german in ("Support-Kennzahlen", "Rückstand (jetzt offen)", "Erstantwort (Geschäftszeiten)", "Woche"):
        assert german in kpis.text, german
