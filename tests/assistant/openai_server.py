"""A local OpenAI-compatible chat server for the assistant's tests: ``POST /v1/chat/completions`` with the
documented request (``model``, ``messages``) and response (``choices[0].message.content``, ``usage``)
shapes, bearer-key checking and OpenAI's error body. What it answers is set by the test (``reply``);
``delay`` and ``status`` make it slow or failing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.servers import serve_in_thread


@dataclass
class FakeOpenAI:
    api_key: str | None = "sk-test-123"
    reply: Callable[[dict[str, Any]], str] = lambda body: str(body["messages"][-1]["content"])
    delay: float = 0.0
    status: int = 200
    raw: str | None = None  # a body sent as is (malformed answers)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    async def completions(self, request: Request) -> Response:
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        if self.api_key is not None and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse(
                {
                    "error": {
                        "message": "Incorrect API key provided.",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
                status_code=401,
            )
        body = await request.json()
        self.requests.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return JSONResponse(
                {"error": {"message": "The server is overloaded.", "type": "server_error"}},
                status_code=self.status,
            )
        if self.raw is not None:
            return PlainTextResponse(self.raw, media_type="application/json")
        content = self.reply(body)
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 1_765_000_000,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
            }
        )


@contextmanager
def openai_server(**kwargs: Any) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(**kwargs)
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    with serve_in_thread(app) as url:
        fake.url = url
        yield fake


def user_text(body: dict[str, Any]) -> str:
    return str(body["messages"][-1]["content"])
