"""Training/held-out data, paths, and loaders for the optional public data sets."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from storedesk.assistant.nlu.intents import INTENT_INDEX

PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"
TRAIN_FILE = PACKAGE_DATA / "train.jsonl"
HELDOUT_FILE = PACKAGE_DATA / "heldout.jsonl"

MISSION_LANGUAGES: tuple[str, ...] = ("en", "de", "hu", "nb", "fr", "sv", "pl", "es")


class DataError(ValueError):
    """A data file is malformed."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    language: str
    group: str = ""


def data_dir() -> Path:
    """Where storedesk keeps generated state: ``$STOREDESK_DATA_DIR`` or ``./.storedesk-data``."""
    return Path(os.environ.get("STOREDESK_DATA_DIR") or ".storedesk-data")


def models_dir() -> Path:
    return data_dir() / "models"


def embeddings_dir() -> Path:
    return data_dir() / "embeddings"


def shared_data_dir() -> Path | None:
    """The public data sets (``../shared/data``), or ``None`` when they are not around."""
    candidates: list[Path] = []
    env = os.environ.get("STOREDESK_SHARED_DATA")
    if env:
        candidates.append(Path(env))
    candidates.append(Path.cwd().parent / "shared" / "data")
    # <root>/src/storedesk/assistant/nlu/data.py -> <root>/../shared/data
    candidates.append(Path(__file__).resolve().parents[4].parent / "shared" / "data")
    for c in candidates:
        if (c / "intents").is_dir():
            return c
    return None


def load_jsonl(path: Path) -> list[Example]:
    """Read ``{"text","intent","language"[,"group"]}`` lines; raises :class:`DataError`."""
    out: list[Example] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, intent, lang = str(row["text"]), str(row["intent"]), str(row["language"])
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path}:{n}: {exc}") from exc
            if intent not in INTENT_INDEX:
                raise DataError(f"{path}:{n}: unknown intent {intent!r}")
            group = str(row.get("group") or f"{path.stem}:{n}")
            out.append(Example(text=text, intent=intent, language=lang, group=group))
    return out


def train_examples() -> list[Example]:
    return load_jsonl(TRAIN_FILE)


def heldout_examples() -> list[Example]:
    return load_jsonl(HELDOUT_FILE)


def fingerprint(examples: Iterable[Example]) -> str:
    h = hashlib.sha256()
    for e in examples:
        h.update(f"{e.text}\x1f{e.intent}\x1f{e.language}\x1f{e.group}\x1e".encode())
    return h.hexdigest()


# --- Bitext customer-support set (English), mapped to our taxonomy --------------------------------

BITEXT_MAP: dict[str, str] = {
    "cancel_order": "cancel_order",
    "change_order": "change_order",
    "change_shipping_address": "change_shipping_address",
    "check_invoice": "invoice_request",
    "get_invoice": "invoice_request",
    "check_payment_methods": "payment_methods",
    "payment_issue": "payment_problem",
    "check_refund_policy": "return_policy",
    "get_refund": "refund_request",
    "track_refund": "refund_status",
    "complaint": "complaint",
    "contact_customer_service": "talk_to_human",
    "contact_human_agent": "talk_to_human",
    "create_account": "account_help",
    "delete_account": "account_help",
    "edit_account": "account_help",
    "recover_password": "account_help",
    "registration_problems": "account_help",
    "delivery_options": "delivery_options",
    "delivery_period": "delivery_options",
    "track_order": "track_order",
}

_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")


def bitext_examples(per_intent: int = 40, seed: int = 7) -> list[Example]:
    """Up to ``per_intent`` English rows per mapped Bitext intent; empty if the set is absent."""
    root = shared_data_dir()
    if root is None:
        return []
    path = root / "intents" / "bitext_cs" / "bitext_cs_1.8MB.csv"
    if not path.is_file():
        return []
    by_intent: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            ours = BITEXT_MAP.get(row.get("intent", ""))
            text = (row.get("instruction") or "").strip()
            if ours is None or not text:
                continue
            by_intent[ours].append(_PLACEHOLDER.sub("48213", text))
    rng = random.Random(seed)
    out: list[Example] = []
    for intent in sorted(by_intent):
        rows = sorted(set(by_intent[intent]))
        rng.shuffle(rows)
        for i, t in enumerate(rows[:per_intent]):
            out.append(Example(t, intent, "en", f"bitext.{intent}.{i}"))
    return out


# --- multilingual smoke set ------------------------------------------------------------------------

SMOKE_MAP: dict[str, str] = {
    "track_order": "track_order",
    "cancel_order": "cancel_order",
    "get_refund": "refund_request",
    "change_shipping_address": "change_shipping_address",
    "payment_issue": "payment_problem",
    "delivery_period": "delivery_options",
    "recover_password": "account_help",
    "contact_human_agent": "talk_to_human",
    "change_order": "change_order",
    "delete_account": "account_help",
}


def smoke_examples() -> list[Example]:
    """The 240-row multilingual smoke set with labels mapped to our taxonomy (empty if absent)."""
    root = shared_data_dir()
    if root is None:
        return []
    path = root / "intents" / "multilingual_smoke" / "ml_ecom_parallel.tsv"
    if not path.is_file():
        return []
    out: list[Example] = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            intent = SMOKE_MAP.get(row["intent"])
            if intent is not None:
                out.append(Example(row["text"], intent, row["lang"], f"smoke.{row['item']}"))
    return out


def by_language(examples: Sequence[Example]) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        out[e.language].append(e)
    return dict(out)
