"""The attachment store: files under ``<data dir>/attachments/<storage key>`` (content-addressed keys
written by the channels and the agent UI). Configured once by the composition root."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("storedesk.files")


class _Store:
    root: Path | None = None


def configure(data_dir: Path) -> None:
    _Store.root = (data_dir / "attachments").resolve()


def remove(keys: Iterable[str]) -> int:
    """Delete the files of ``keys`` (missing ones are fine); keys outside the store are ignored."""
    root = _Store.root
    if root is None:
        return 0
    removed = 0
    for key in keys:
        path = (root / key).resolve()
        if root not in path.parents:
            continue
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError:
            log.warning("could not delete %s", path, exc_info=True)
    return removed
