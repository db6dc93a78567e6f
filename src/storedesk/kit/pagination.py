"""Opaque keyset cursors: ``(sort value, id)`` encoded as URL-safe base64 JSON."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, literal, tuple_
from sqlalchemy.orm import QueryableAttribute

from storedesk.kit.errors import ValidationFailed


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "cursor is not valid", details={"field": "cursor"}, reason="cursor_invalid"
        ) from exc
    if not isinstance(values, list) or len(values) != arity:
        raise ValidationFailed("cursor is not valid", details={"field": "cursor"}, reason="cursor_invalid")
    return values


# --- keyset (seek) paging over any sort ------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    """One column (or expression) of a sort order. ``nulls_last`` only matters for a nullable key: where
    its NULLs sort (in this key's direction)."""

    expr: ColumnElement[Any] | QueryableAttribute[Any]
    descending: bool = False
    nullable: bool = False
    nulls_last: bool = True

    def reversed(self) -> SortKey:
        return SortKey(self.expr, not self.descending, self.nullable, not self.nulls_last)

    def order(self) -> ColumnElement[Any]:
        clause = self.expr.desc() if self.descending else self.expr.asc()
        if self.nullable:
            return clause.nulls_last() if self.nulls_last else clause.nulls_first()
        return clause


def keyset_order(keys: Sequence[SortKey]) -> list[ColumnElement[Any]]:
    return [k.order() for k in keys]


def keyset_segments(keys: Sequence[SortKey], values: Sequence[Any]) -> list[ColumnElement[bool]]:
    """Where-clauses selecting every row strictly after ``values`` in the order of ``keys``, as disjoint
    segments in that order: each is an equality prefix plus one range, so each can seek an index whose
    columns follow ``keys`` (an ``OR`` of them could not). The trailing keys that share a direction are
    compared as one row value. The last key must be unique and never NULL (the id)."""
    n = len(keys)
    if n == 0 or len(values) != n or values[-1] is None:
        raise ValueError("a keyset needs a value for every key and a non-NULL last key")

    def equal(i: int) -> ColumnElement[bool]:
        return keys[i].expr.is_(None) if values[i] is None else keys[i].expr == values[i]

    def prefix(j: int) -> list[ColumnElement[bool]]:
        return [equal(i) for i in range(j)]

    def after(i: int) -> ColumnElement[bool]:
        expr = keys[i].expr
        compared: ColumnElement[bool] = expr < values[i] if keys[i].descending else expr > values[i]
        return compared

    # the suffix s..n-1 compared as one row value: one direction, known values, only its first key nullable
    s = n - 1
    while (
        s > 0
        and keys[s - 1].descending == keys[-1].descending
        and values[s - 1] is not None
        and not keys[s].nullable
    ):
        s -= 1
    if s == n - 1:
        segments = [and_(*prefix(s), after(s))]
    else:
        row = tuple_(*(k.expr for k in keys[s:]))
        seek = tuple_(*(literal(v, k.expr.type) for k, v in zip(keys[s:], values[s:], strict=True)))
        segments = [and_(*prefix(s), row < seek if keys[-1].descending else row > seek)]
    for j in range(s, -1, -1):
        key = keys[j]
        if j < s:
            if values[j] is None:
                if not key.nulls_last:  # NULLs first: every value comes after
                    segments.append(and_(*prefix(j), key.expr.is_not(None)))
                continue
            segments.append(and_(*prefix(j), after(j)))
        if key.nullable and key.nulls_last and values[j] is not None:
            segments.append(and_(*prefix(j), key.expr.is_(None)))
    return segments
