"""Office documents among customer files: real .docx/.xlsx/.odt/.ods containers are recognised from their
bytes; macro-carrying variants, other ZIPs (a Java archive) and executables are refused — in the sniffer,
for media a provider announces, and for widget uploads over HTTP."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from storedesk.channels import filetypes
from storedesk.channels.media import MediaPermanentError, checked_type
from storedesk.db.session import Database
from tests.channels.conftest import sqlite_only
from tests.conftest import ShopWorld, count_rows

CT = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">{}</Types>'
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
WORD_MACRO = "application/vnd.ms-word.document.macroEnabled.main+xml"
SHEET_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def ooxml(main: str, part: str, content_type: str, extra: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml", CT.format(f'<Override PartName="/{part}" ContentType="{content_type}"/>')
        )
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(part, main)
        for name in extra:
            z.writestr(name, b"\x00" * 16)
    return buf.getvalue()


def odf(mimetype: str, extra: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", "<office:document-content/>", compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", "<manifest:manifest/>", compress_type=zipfile.ZIP_DEFLATED)
        for name in extra:
            z.writestr(name, "<script/>")
    return buf.getvalue()


def jar() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: Evil\n")
        z.writestr("Evil.class", b"\xca\xfe\xba\xbe")
    return buf.getvalue()


DOCX = ooxml("<w:document/>", "word/document.xml", WORD_MAIN)
XLSX = ooxml("<workbook/>", "xl/workbook.xml", SHEET_MAIN)
ODT = odf(filetypes.ODT)
ODS = odf(filetypes.ODS)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def test_sniff_office_documents_and_refusals() -> None:
    assert [filetypes.sniff(d) for d in (DOCX, XLSX, ODT, ODS)] == [
        filetypes.DOCX,
        filetypes.XLSX,
        filetypes.ODT,
        filetypes.ODS,
    ]
    refused = {
        "docm (macro-enabled type)": ooxml("<w:document/>", "word/document.xml", WORD_MACRO),
        "docx with a VBA project": ooxml(
            "<w:document/>", "word/document.xml", WORD_MAIN, ("word/vbaProject.bin",)
        ),
        "odt with Basic macros": odf(filetypes.ODT, ("Basic/Standard/Module1.xml",)),
        "odt template (another type)": odf("application/vnd.oasis.opendocument.text-template"),
        "java archive": jar(),
        "windows executable": EXE,
        "truncated zip": DOCX[:200],
        "plain text": b"hello",
    }
    assert {name: filetypes.sniff(data) for name, data in refused.items()} == dict.fromkeys(refused)


def test_announced_media_is_checked_against_the_bytes() -> None:
    assert checked_type(filetypes.DOCX, DOCX) == filetypes.DOCX
    assert checked_type(f"{filetypes.ODS}; charset=binary", ODS) == filetypes.ODS
    with pytest.raises(MediaPermanentError, match=f"the file is {filetypes.XLSX}, not the announced"):
        checked_type(filetypes.DOCX, XLSX)
    with pytest.raises(MediaPermanentError, match="the bytes are not a"):
        checked_type(filetypes.XLSX, jar())
    with pytest.raises(MediaPermanentError, match="are not accepted"):
        checked_type("application/x-msdownload", EXE)
    with pytest.raises(MediaPermanentError, match="are not accepted"):
        checked_type("application/vnd.ms-word.document.macroEnabled.12", DOCX)


@sqlite_only
@pytest.mark.anyio
async def test_widget_uploads_office_documents_not_executables(
    client: httpx.AsyncClient, db: Database, shop_a: ShopWorld
) -> None:
    r = await client.post("/widget/shop-a/session", json={"token": None, "language": "en"})
    token = r.json()["token"]
    for i, (name, data, expected) in enumerate(
        [
            ("invoice.docx", DOCX, filetypes.DOCX),
            ("returns.xlsx", XLSX, filetypes.XLSX),
            ("notes.odt", ODT, filetypes.ODT),
        ]
    ):
        r = await client.post(
            "/widget/shop-a/attachments",
            data={"token": token, "client_id": f"office{i:05d}"},
            files={"file": (name, data, "application/octet-stream")},
        )
        assert r.status_code == 201, r.text
        att = r.json()["message"]["attachments"][0]
        assert (att["filename"], att["content_type"], att["size"]) == (name, expected, len(data))
        r = await client.get(att["url"])
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == expected
        assert r.headers["content-disposition"].startswith("attachment")
    before = await count_rows(db, "attachments")
    for i, (name, data) in enumerate([("setup.exe", EXE), ("tool.jar", jar()), ("report.docx", EXE)]):
        r = await client.post(
            "/widget/shop-a/attachments",
            data={"token": token, "client_id": f"refuse{i:05d}"},
            files={"file": (name, data, filetypes.DOCX)},
        )
        assert r.status_code == 422
        assert r.json()["error"]["message"] == (
            "only images (PNG, JPEG, GIF, WebP), PDF files and documents (Word, Excel, OpenDocument) can be sent"
        )
    assert await count_rows(db, "attachments") == before
