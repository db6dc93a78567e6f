"""Files attached in the composer: checked (size, then type by content with the one policy of
:func:`storedesk.channels.filetypes.attachment_type`), stored by content hash under the data directory,
described in the message's ``attachments``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile

from storedesk.channels import filetypes
from storedesk.web.config import MAX_ATTACHMENT_BYTES
from storedesk.web.i18n import _
from storedesk.web.templating import env

MAX_FILES = 5
# the file picker's hint (the server decides by content): the one list of accepted types
ACCEPT = ",".join(sorted(filetypes.ATTACHMENT_TYPES))
env.globals["attachment_accept"] = ACCEPT
_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


@dataclass
class Upload:
    filename: str
    content_type: str
    data: bytes


def safe_filename(name: str) -> str:
    cleaned = _SAFE_NAME.sub("_", Path(name or "file").name).strip(" .") or "file"
    return cleaned[:200]


async def read_uploads(files: Sequence[UploadFile], *, limit: int) -> tuple[list[Upload], str | None]:
    """The uploads, or an explanation of why they are refused."""
    chosen = [f for f in files if f.filename]
    if len(chosen) > MAX_FILES:
        return [], _("Attach at most %(n)s files.", n=MAX_FILES)
    out: list[Upload] = []
    cap = min(MAX_ATTACHMENT_BYTES, limit)
    for f in chosen:
        announced = (f.content_type or "application/octet-stream").split(";")[0].strip().lower()
        data = await f.read(cap + 1)
        if len(data) > cap:
            return [], _(
                "%(name)s is too large: files can be at most %(mb)s MB.",
                name=safe_filename(f.filename or ""),
                mb=round(cap / 1024 / 1024, 1),
            )
        content_type = filetypes.attachment_type(data, announced)
        if content_type is None:
            return [], _(
                "%(name)s: this kind of file (%(type)s) cannot be attached. Allowed: images, PDF, "
                "Word, Excel and OpenDocument documents without macros, text.",
                name=safe_filename(f.filename or ""),
                type=announced,
            )
        out.append(Upload(safe_filename(f.filename or ""), content_type, data))
    return out, None


def store(uploads: list[Upload], *, data_dir: Path, shop_id: int) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = []
    for upload in uploads:
        digest = hashlib.sha256(upload.data).hexdigest()
        key = f"{shop_id}/{digest[:2]}/{digest}"
        path = data_dir / "attachments" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(upload.data)
        stored.append(
            {
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(upload.data),
                "sha256": digest,
                "storage_key": key,
            }
        )
    return stored


def stored_path(data_dir: Path, storage_key: str) -> Path | None:
    root = (data_dir / "attachments").resolve()
    path = (root / storage_key).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path
