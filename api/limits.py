"""Request limits: body size (413), question size (422) and time (503), enforced before a request can cost much."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TypeVar

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import HTTPError, error_response
from rag.config import Settings
from rag.errors import InvalidInputError

T = TypeVar("T")
# a multipart body carries the file plus boundaries and part headers
MULTIPART_OVERHEAD = 64 * 1024


def check_question(settings: Settings, k: int, texts: Iterable[tuple[str, str]]) -> None:
    """`k` and each (field, text) of a question within the configured limits, else an error naming the field."""
    if k > settings.max_k:
        raise InvalidInputError(f"k: at most {settings.max_k}", field="k")
    for field, text in texts:
        if len(text) > settings.max_query_chars:
            raise InvalidInputError(f"{field}: at most {settings.max_query_chars} characters", field=field)


class BodyLimitMiddleware:
    """Refuse bodies over the limit: at once when Content-Length says so, else as they stream in.

    Multipart uploads may be as large as the upload limit allows; other bodies as the body limit.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, scope: Scope) -> int:
        content_type = _header(scope, b"content-type") or ""
        if content_type.lower().startswith("multipart/"):
            return max(self.max_body_bytes, self.max_upload_bytes + MULTIPART_OVERHEAD)
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPError(413, _too_large_message(limit), "body")
            return message

        await self.app(scope, counted_receive, send)


def _too_large_message(limit: int) -> str:
    return f"request body larger than {limit} bytes"


def _too_large(limit: int):
    return error_response(413, _too_large_message(limit), "body", headers={"connection": "close"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def within(seconds: float, func: Callable[..., T], *args, **kwargs) -> T:
    """Run blocking work in a thread; past `seconds` answer 503 and leave the thread to finish alone.

    The thread cannot be stopped, but the client is not kept waiting and the slot it held in the
    server's connection is freed.
    """
    try:
        with anyio.fail_after(seconds):
            return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs), abandon_on_cancel=True)
    except TimeoutError:
        raise HTTPError(
            503, f"the request took longer than {seconds:g} s; try again or ask a narrower question"
        ) from None
