"""Pure-ASGI guards in front of the app: a request body size limit and a request timeout.

Both answer before the route sees anything they refuse, so a 50 MB body is never read in full
and a stuck request never holds its client forever. They are plain ASGI (no ``BaseHTTPMiddleware``)
so the body is checked as it streams, chunk by chunk.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodySizeLimitMiddleware", "BodyTooLargeError", "RequestTimeoutMiddleware"]

log = logging.getLogger("api.limits")


async def _send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit; routes answer it with 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than the limit of {limit} bytes (RAG_MAX_BODY_BYTES)")


class BodySizeLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413: by ``Content-Length`` before reading, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = BodyTooLargeError(self.max_bytes)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(send, 400, "Content-Length is not a whole number")
                    return
                if declared > self.max_bytes:
                    await _send_json(send, 413, error.detail)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise error
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if started:
                raise
            await _send_json(send, 413, error.detail)


class RequestTimeoutMiddleware:
    """Answer 504 when a request takes longer than ``seconds``; ``exempt(scope)`` requests are never cut short.

    A synchronous route keeps running in its worker thread after the timeout (threads cannot be
    cancelled); its result is discarded. Writes are exempt so a client is never told that a write
    failed while it is still being applied.
    """

    def __init__(self, app: ASGIApp, seconds: float, exempt: Callable[[Scope], bool] | None = None) -> None:
        self.app = app
        self.seconds = seconds
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.exempt is not None and self.exempt(scope)):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            log.warning("request %s %s timed out after %.1fs", scope.get("method"), scope.get("path"), self.seconds)
            if not started:
                await _send_json(
                    send, 504, f"the request took longer than {self.seconds:g}s (RAG_REQUEST_TIMEOUT_SECONDS)"
                )
