"""Pure ASGI middleware: refuse oversized bodies before anything reads them."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised while a body without Content-Length is read past the limit. An HTTPException, so the
    framework's body parsing lets it through to the error handlers (``storedesk.api.errors``: 413
    ``body_too_large``); raised elsewhere, the middleware answers the same."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


class BodySizeLimit:
    """The one body-size check of the app: ``max_bytes`` for every request, or what ``path_limit`` returns
    for the request's path (e.g. larger widget uploads).

    A request that announces a Content-Length within the limit is passed through untouched (the HTTP
    server delivers exactly that many bytes); one without (chunked) is counted while it is read."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, path_limit: Callable[[str], int | None] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limit = path_limit

    async def _reject(self, send: Send, limit: int) -> None:
        error = BodyTooLarge(limit)
        body = json.dumps(
            {"error": {"code": "body_too_large", "message": error.detail, "details": {"max_bytes": limit}}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if self.path_limit is not None:
            limit = self.path_limit(scope["path"]) or limit
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    break
                if length > limit:
                    await self._reject(send, limit)
                    return
                await self.app(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send, limit)
