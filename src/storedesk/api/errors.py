"""Every error leaves as ``{"error": {"code", "message", "details"}}`` with a 4xx status; 500 is a bug."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from storedesk.api.middleware import BodyTooLarge
from storedesk.kit.errors import StoredeskError

log = logging.getLogger("storedesk.api")


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}}, status_code=status, headers=headers
    )


def _jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        out.append(
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "message": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return out


def domain_error_response(exc: StoredeskError) -> JSONResponse:
    """The answer to a domain error (also used by the lean transport, ``storedesk.api.hotroutes``)."""
    headers = None
    if exc.status_code == 429 and isinstance(exc.details, dict) and "retry_after" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after"])}
    return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)


def integrity_error_response(exc: IntegrityError) -> JSONResponse:
    log.info("integrity error turned into 409: %s", exc.orig)
    return error_response(409, "conflict", "the change conflicts with existing data")


def http_error_response(exc: StarletteHTTPException) -> JSONResponse:
    if isinstance(exc, BodyTooLarge):
        return error_response(413, "body_too_large", exc.detail, {"max_bytes": exc.limit})
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden"}
    return error_response(
        exc.status_code,
        codes.get(exc.status_code, "http_error"),
        str(exc.detail),
        None,
        dict(exc.headers) if exc.headers else None,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(StoredeskError)
    async def _domain(_: Request, exc: StoredeskError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _jsonable_errors(exc.errors())
        if any(e["type"] == "json_invalid" for e in errors):
            return error_response(400, "malformed_json", "the request body is not valid JSON", errors)
        first = errors[0] if errors else {"loc": [], "message": "invalid request"}
        where = ".".join(p for p in first["loc"] if p not in ("body",)) or "request"
        return error_response(422, "validation_failed", f"{where}: {first['message']}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_error_response(exc)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return integrity_error_response(exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed request"},
    401: {"model": ErrorBody, "description": "Not signed in"},
    403: {"model": ErrorBody, "description": "Role does not allow this"},
    404: {"model": ErrorBody, "description": "Not found (or belongs to another shop)"},
    409: {"model": ErrorBody, "description": "Conflict or invalid state transition"},
    413: {"model": ErrorBody, "description": "Body too large"},
    422: {"model": ErrorBody, "description": "Validation failed"},
    429: {"model": ErrorBody, "description": "Rate limited"},
}
