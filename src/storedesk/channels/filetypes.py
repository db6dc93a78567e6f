"""What a file really is, from its bytes: the one sniffer and type policy for files that enter storedesk
(widget uploads, fetched media, the agent composer's attachments).

Only types we can tell from the content are recognised. Office documents are ZIP containers, so a ZIP is
recognised as one only when its structure says so — an Office Open XML word processing document or
spreadsheet (``.docx``, ``.xlsx``) or an OpenDocument text or spreadsheet (``.odt``, ``.ods``) — and
never when it carries macros (``vbaProject.bin``, a ``macroEnabled`` content type, OpenDocument
``Basic/`` or ``Scripts/``). Anything else (executables, archives, unknown bytes) is ``None``: refused.

:func:`attachment_type` is the policy of the agent composer on top of it: what the bytes are, whatever
the browser announced, plus plain text and CSV (which have no signature), believed only when the bytes are
UTF-8 text without NUL bytes.
"""

from __future__ import annotations

import io
import zipfile

PNG, JPEG, GIF, WEBP, PDF = "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
OFFICE = frozenset({DOCX, XLSX, ODT, ODS})
# types that are only believed when the bytes agree
SNIFFABLE = frozenset({PNG, JPEG, GIF, WEBP, PDF}) | OFFICE
EXTENSIONS = {PNG: "png", JPEG: "jpg", GIF: "gif", WEBP: "webp", PDF: "pdf", DOCX: "docx", XLSX: "xlsx"} | {
    ODT: "odt",
    ODS: "ods",
}

PLAIN, CSV = "text/plain", "text/csv"
TEXT = frozenset({PLAIN, CSV})
# what an agent may attach in the composer: everything the sniffer recognises, and text
ATTACHMENT_TYPES = SNIFFABLE | TEXT

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"%PDF-", PDF),
)
_MAX_CONTENT_TYPES_XML = 1024 * 1024


def sniff(data: bytes) -> str | None:
    """The content type of these bytes, or None when they are nothing we accept."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return None


def _office(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    # OpenDocument: the first member is "mimetype", stored uncompressed, holding the type (ODF 1.2, 3.3)
    if data[26:30] == b"\x08\x00\x00\x00" and data[30:38] == b"mimetype":
        if any(n.startswith(("Basic/", "Scripts/")) for n in names):
            return None  # macros
        for content_type in (ODT, ODS):
            size = int.from_bytes(data[22:26], "little")
            if data[38 : 38 + size] == content_type.encode():
                return content_type
        return None
    if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None
    info = archive.getinfo("[Content_Types].xml")
    if info.file_size > _MAX_CONTENT_TYPES_XML:
        return None
    try:
        types = archive.read(info)
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if b"macroEnabled" in types:
        return None
    if "word/document.xml" in names and b"wordprocessingml.document.main+xml" in types:
        return DOCX
    if "xl/workbook.xml" in names and b"spreadsheetml.sheet.main+xml" in types:
        return XLSX
    return None


def attachment_type(data: bytes, declared: str | None) -> str | None:
    """The type an attached file is stored as, or None when it is refused: the sniffed type when the bytes
    are one of :data:`SNIFFABLE` (a ``.docx`` sent as ``application/octet-stream`` is a DOCX), else the
    announced text type when the bytes really are text. A renamed executable, a macro-enabled document or
    an archive is refused whatever its name or announced type."""
    sniffed = sniff(data)
    if sniffed is not None:
        return sniffed
    content_type = (declared or "").split(";")[0].strip().lower()
    if content_type in TEXT and _is_text(data):
        return content_type
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
