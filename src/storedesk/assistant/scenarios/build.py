"""Expand :mod:`.phrases` into ``scenarios.jsonl`` (run ``python -m storedesk.assistant.scenarios.build``
after editing the phrases; the JSONL is committed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from storedesk.assistant.scenarios.phrases import P

FILE = Path(__file__).with_name("scenarios.jsonl")


def _s(
    lang: str, sid: str, who: str, order: str | None, turns: list[tuple[str, str]], **extra: Any
) -> dict[str, Any]:
    routine = all(expect not in ("handover", "verify") for _, expect in turns) and who in (
        "owner",
        "anon_email",
    )
    return {
        "id": f"{lang}-{sid}",
        "language": lang,
        "who": who,
        "order": order,
        "routine": routine,
        "turns": [{"say": text, "expect": expect} for text, expect in turns],
        **extra,
    }


def build() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for lang, p in P.items():
        t = p["track"]
        out += [
            _s(lang, "track-in-transit", "owner", "in_transit", [(t[0], "track")]),
            _s(lang, "track-late", "owner", "late", [(t[1], "track_late")]),
            _s(lang, "track-delivered", "owner", "delivered", [(t[2], "track")]),
            _s(lang, "track-latest", "owner", "in_transit", [(t[3], "track")]),
            _s(lang, "track-stranger", "stranger", "in_transit", [(t[0], "verify")]),
            _s(lang, "track-anon-email", "anon_email", "in_transit", [(p["anon_email"][0], "track")]),
            _s(lang, "track-anon", "anon", None, [(p["anon"][0], "verify")]),
        ]
        c = p["cancel"]
        out += [
            _s(lang, "cancel-yes", "owner", "unshipped_recent",
               [(c[0], "cancel_confirm"), (p["yes"][0], "cancel_done")], cancelled=True),
            _s(lang, "cancel-no", "owner", "unshipped_recent",
               [(c[1], "cancel_confirm"), (p["no"][0], "cancel_kept")], cancelled=False),
            _s(lang, "cancel-shipped", "owner", "in_transit", [(c[2], "cancel_shipped")], cancelled=False),
            _s(lang, "cancel-outside-window", "owner", "unshipped_old", [(c[3], "cancel_window")], cancelled=False),
        ]  # fmt: skip
        a = p["address"]
        out += [
            _s(lang, "address-change", "owner", "unshipped_recent",
               [(a[0], "address_ask"), (p["address_text"][0], "address_confirm"), (p["yes"][0], "address_done")],
               address_changed=True),
            _s(lang, "address-shipped", "owner", "in_transit", [(a[1], "address_shipped")], address_changed=False),
            _s(lang, "return-eligible", "owner", "delivered", [(p["return"][0], "return_eligible")]),
            _s(lang, "return-outside-window", "owner", "delivered_old", [(p["return"][1], "return_not_eligible")]),
            _s(lang, "return-policy-1", "owner", "delivered", [(p["policy"][0], "return_policy")]),
            _s(lang, "return-policy-2", "owner", "delivered", [(p["policy"][1], "return_policy")]),
            _s(lang, "refund-done", "owner", "refunded", [(p["refund"][0], "refund_done")]),
            _s(lang, "refund-none", "owner", "delivered", [(p["refund"][1], "refund_none")]),
            _s(lang, "delivery-1", "owner", "delivered", [(p["delivery"][0], "delivery")]),
            _s(lang, "delivery-2", "owner", "delivered", [(p["delivery"][1], "delivery")]),
            _s(lang, "payment-1", "owner", "delivered", [(p["payment"][0], "payment")]),
            _s(lang, "payment-2", "owner", "delivered", [(p["payment"][1], "payment")]),
            _s(lang, "praise", "owner", "delivered", [(p["praise"][0], "praise")]),
            _s(lang, "stock", "owner", "delivered", [(p["stock"][0], "stock")]),
            _s(lang, "damaged-1", "owner", "delivered", [(p["damaged"][0], "handover")], priority="high"),
            _s(lang, "damaged-2", "owner", "delivered", [(p["damaged"][1], "handover")], priority="high"),
            _s(lang, "delivery-problem", "owner", "delivered", [(p["delivery_problem"][0], "handover")]),
            _s(lang, "payment-problem", "owner", "delivered", [(p["payment_problem"][0], "handover")], priority="high"),
            _s(lang, "talk-to-human", "owner", "delivered", [(p["human"][0], "handover")]),
            _s(lang, "angry", "owner", "delivered", [(p["complaint"][0], "handover")], priority="high"),
        ]  # fmt: skip
    return out


def main() -> None:
    rows = build()
    with FILE.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} scenarios written to {FILE}")  # noqa: T201 - a developer script


if __name__ == "__main__":
    main()
