"""Typed errors that carry their HTTP status; a 500 always means a bug.

``code`` is the error's kind (the JSON API's ``error.code``); ``reason`` is a stable identifier of the
particular failure and ``params`` its values, so a transport can show the failure in the user's language
(the agent workspace translates reasons through its catalogue: ``storedesk.web.errors``). ``message`` is
the English text the JSON API sends."""

from __future__ import annotations

from typing import Any


class StoredeskError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        reason: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.reason = reason
        self.params: dict[str, Any] = params or {}
        if code:
            self.code = code

    def as_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(StoredeskError):
    status_code = 422
    code = "validation_failed"


class NotFound(StoredeskError):
    status_code = 404
    code = "not_found"

    def __init__(self, what: str, ident: object | None = None) -> None:
        msg = f"{what} not found" if ident is None else f"{what} {ident} not found"
        super().__init__(msg, details={"resource": what, "id": ident}, reason="not_found")


class Unauthenticated(StoredeskError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(StoredeskError):
    status_code = 403
    code = "forbidden"


class Conflict(StoredeskError):
    status_code = 409
    code = "conflict"


class InvalidTransition(StoredeskError):
    status_code = 409
    code = "invalid_transition"


class TooManyRequests(StoredeskError):
    status_code = 429
    code = "rate_limited"
