"""Plain ASGI middleware of the verifier service (cheaper than ``@app.middleware``, which costs
a task and a stream per request): request timing for ``/metrics``, and the request guard, which
applies ``RequestLimits`` in front of every route, before anything reads a body:

1. more than ``max_concurrent`` requests at once (``/healthz`` not counted): 503 with
   ``Retry-After``;
2. a body declared larger than ``max_body_bytes`` (``Content-Length``): 413 at once, unread;
3. the body is read here, counted as it streams: past ``max_body_bytes`` 413; not all there
   within ``body_timeout_seconds`` of the request's arrival 408; the client gone before the
   end, one log line and nothing else (no traceback: the route never sees a half-sent body);
4. the bytes of all bodies held at once (being received, or received and being handled) are
   at most ``max_buffered_bytes``: beyond, 503 with ``Retry-After``. Counted as they arrive,
   not as declared, so clients dripping bodies hold almost nothing and never block the others;
5. a body over 64 KiB (a PDF, a photo) is an upload: at most ``max_uploads`` are handled at
   once; another waits up to ``upload_wait_seconds`` for a slot, then 503.

Refusals close the connection (``Connection: close``), so a client still dripping a body is not
kept. Only then does the route see the body (replayed from memory). Slow *headers* never reach
the app: ``cli.serving`` closes those connections."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from verifier.metrics import Metrics

__all__ = ["RequestGuard", "RequestLimits", "Timing"]

log = logging.getLogger("ecert.verifier.http")

_MIB = 1024 * 1024
_SMALL_BODY = 64 * 1024


class Timing:
    """Request counts and latency per route template for /metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        code = 500

        async def sent(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", "other")
            self.metrics.request(endpoint, code, time.perf_counter() - start)


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """How much the verifier service takes at once."""

    max_body_bytes: int = 12 * _MIB
    """Largest request body (a PDF is at most 10 MB; the route takes photos up to 15 MB if
    this is raised)."""
    max_buffered_bytes: int = 40 * _MIB
    """Bytes of all request bodies held at once, per worker process."""
    max_concurrent: int = 256
    """Requests handled at once, bodies or not (``/healthz`` not counted)."""
    max_uploads: int = 4
    """Bodies over 64 KiB (PDFs, photos) handled at once, per worker process."""
    upload_wait_seconds: float = 10.0
    """How long a received upload may wait for a slot before 503."""
    body_timeout_seconds: float = 20.0
    """Time a client has to send its whole body, from its request's arrival."""


class _Refused(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


class _Gone(Exception):
    """The client disconnected before sending its whole body."""


def _busy() -> _Refused:
    return _Refused(503, "too many uploads at once; try again", {"Retry-After": "2"})


async def _respond(send: Send, refused: _Refused) -> None:
    body = json.dumps({"detail": refused.detail}).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((k.lower().encode(), v.encode()) for k, v in refused.headers.items()),
    ]
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then the client's own messages (its disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class RequestGuard:
    """ASGI middleware enforcing ``RequestLimits`` (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: RequestLimits,
        exempt_paths: Collection[str] = ("/healthz",),
    ) -> None:
        self.app = app
        self.limits = limits
        self._exempt = frozenset(exempt_paths)
        self._active = 0
        self.buffered = 0
        """Bytes of request bodies held now (being received, or received and being handled)."""
        self._uploads = asyncio.Semaphore(limits.max_uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._exempt:
            await self.app(scope, receive, send)
            return
        if self._active >= self.limits.max_concurrent:
            await _respond(send, _Refused(503, "server busy; try again", {"Retry-After": "1"}))
            return
        self._active += 1
        held = [0]  # bytes of this request's body counted in ``buffered``
        try:
            await self._guarded(scope, receive, send, held)
        except _Refused as refused:
            await _respond(send, refused)
        except _Gone as gone:
            log.warning("client went away: %s %s (%s)", scope["method"], scope["path"], gone)
        finally:
            self.buffered -= held[0]
            self._active -= 1

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, held: list[int]) -> None:
        if self._declared_length(Headers(scope=scope)) is None:  # no body
            await self.app(scope, receive, send)
            return
        body = await self._read(receive, held)
        if len(body) <= _SMALL_BODY:
            await self.app(scope, _replay(body, receive), send)
            return
        try:
            await asyncio.wait_for(self._uploads.acquire(), self.limits.upload_wait_seconds)
        except TimeoutError as exc:
            raise _busy() from exc
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            self._uploads.release()

    def _declared_length(self, headers: Headers) -> int | None:
        """The body length the client announced (``-1``: chunked, unknown), ``None`` for no
        body; refuses a declared length over the limit."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return -1
        text = headers.get("content-length")
        if text is None:
            return None
        if not text.isdigit():
            raise _Refused(400, "Content-Length is not a number")
        length = int(text)
        if length > self.limits.max_body_bytes:
            raise _Refused(413, self._too_large())
        return length or None

    def _too_large(self) -> str:
        return f"request body larger than {self.limits.max_body_bytes:,} bytes"

    async def _read(self, receive: Receive, held: list[int]) -> bytes:
        """The whole body, by the deadline, within the size limit and the shared budget."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.body_timeout_seconds
        body = bytearray()
        while True:
            try:
                async with asyncio.timeout_at(deadline):  # no task per receive, unlike wait_for
                    message = await receive()
            except TimeoutError as exc:
                raise _Refused(
                    408,
                    f"request body not received within {self.limits.body_timeout_seconds:g} s",
                ) from exc
            if message["type"] == "http.disconnect":
                raise _Gone(f"after {len(body):,} bytes of the body")
            chunk = message.get("body", b"")
            if self.buffered + len(chunk) > self.limits.max_buffered_bytes:
                raise _busy()
            self.buffered += len(chunk)
            held[0] += len(chunk)
            body += chunk
            if len(body) > self.limits.max_body_bytes:
                raise _Refused(413, self._too_large())
            if not message.get("more_body", False):
                return bytes(body)
