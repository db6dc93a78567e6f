"""The agent composer accepts the same files as the widget and Meta media — one policy,
:func:`storedesk.channels.filetypes.attachment_type`: office documents by their structure, whatever the
browser announced; macro-enabled documents and renamed executables are refused with a 422 that says why.
Real uploads through the app, real SQLite file / PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from storedesk.channels import filetypes
from storedesk.conversations.models import Message
from storedesk.db.session import Database
from tests.channels.test_filetypes import DOCX, EXE, ODS, ODT, WORD_MACRO, XLSX, ooxml
from tests.conftest import ShopWorld, count_rows
from tests.web.helpers import login, seed_conversation

pytestmark = pytest.mark.anyio

DOCM = ooxml("<w:document/>", "word/document.xml", WORD_MACRO)
REFUSED = (
    "cannot be attached. Allowed: images, PDF, Word, Excel and OpenDocument documents without macros, text."
)


async def test_composer_attaches_office_documents_by_content(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database
) -> None:
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    csrf = await login(client, "agent@shop-a.test")
    h = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    url = f"/app/c/{seeded.conversation_id}/messages"
    page = await client.get(f"/app/c/{seeded.conversation_id}")
    assert f'accept="{",".join(sorted(filetypes.ATTACHMENT_TYPES))}"' in page.text
    files = [
        ("files", ("offer.docx", DOCX, filetypes.DOCX)),
        # browsers often announce office files as octet-stream: the bytes decide
        ("files", ("prices.xlsx", XLSX, "application/octet-stream")),
        ("files", ("letter.odt", ODT, filetypes.ODT)),
        ("files", ("stock.ods", ODS, "application/vnd.oasis.opendocument.spreadsheet")),
        ("files", ("notes.txt", "Grüße\n".encode(), "text/plain")),
    ]
    r = await client.post(url, data={"text": "documents"}, files=files, headers=h)
    assert r.status_code == 200, r.text
    async with db.transaction() as session:
        message = (await session.execute(select(Message).where(Message.text == "documents"))).scalar_one()
        assert [(a["filename"], a["content_type"], a["size"]) for a in message.attachments] == [
            ("offer.docx", filetypes.DOCX, len(DOCX)),
            ("prices.xlsx", filetypes.XLSX, len(XLSX)),
            ("letter.odt", filetypes.ODT, len(ODT)),
            ("stock.ods", filetypes.ODS, len(ODS)),
            ("notes.txt", "text/plain", 8),
        ]
        mid = message.id
    got = await client.get(f"/app/c/{seeded.conversation_id}/attachments/{mid}/1")
    assert got.status_code == 200
    assert got.content == XLSX


@pytest.mark.parametrize(
    ("name", "data", "announced"),
    [
        ("report.docm", DOCM, "application/vnd.ms-word.document.macroEnabled.12"),
        ("report.docx", DOCM, filetypes.DOCX),  # a macro document renamed .docx
        ("invoice.docx", EXE, filetypes.DOCX),  # an executable renamed .docx
        ("table.csv", EXE, "text/csv"),  # binary bytes announced as text
    ],
)
async def test_composer_refuses_macros_and_disguised_executables(
    client: httpx.AsyncClient, shop_a: ShopWorld, db: Database, name: str, data: bytes, announced: str
) -> None:
    seeded = await seed_conversation(db, shop_a.id, shop_a.customer_id, shop_a.channel_id)
    before = await count_rows(db, "messages")
    csrf = await login(client, "agent@shop-a.test")
    r = await client.post(
        f"/app/c/{seeded.conversation_id}/messages",
        data={"text": "see file"},
        files={"files": (name, data, announced)},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert r.status_code == 422
    assert f"{name}: this kind of file ({announced.lower()}) {REFUSED}" in r.text
    assert await count_rows(db, "messages") == before
