"""Request limits for the issuer API, applied in front of every route, before anything reads a
request body:

1. more than ``max_concurrent`` requests at once: 503 with ``Retry-After``;
2. a body declared larger than ``max_body_bytes`` (``Content-Length``): 413 at once;
3. a body without a valid department token: 401 at once, the body unread;
4. more than ``max_concurrent_uploads`` bodies in flight: the request waits up to
   ``upload_wait_seconds`` for a slot, then 503;
5. the body is read here, counting bytes as they stream (chunked bodies included): past
   ``max_body_bytes`` 413; not all there within ``body_timeout_seconds`` 408; the client gone
   before the end, one log line and nothing else;
6. a body with more than ``max_json_containers`` ``[`` and ``{`` bytes: 413 before any JSON
   parser sees it. Nesting depth can be no more than that count, and a deeply nested body
   otherwise overflows the C stack of the JSON parser (py-ecc raises the recursion limit to
   100,000) and kills the process.

Only then does the route see the body (replayed from memory), so memory per request is bounded
by ``max_body_bytes`` and the number of bodies by ``max_concurrent_uploads``.

A few paths may take a small body without a token (the console's login form: the token is in
the body), each with its own, smaller limit (``open_paths``). Where the token comes from is the
caller's choice (``token_of``: the bearer header, or the console's cookie too). Refusals of
pages people see (``html_prefix``, when the browser asks for HTML) are a short HTML page in
Chinese and English instead of JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from html import escape

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestGuard", "RequestLimits", "bearer_token"]

log = logging.getLogger("ecert.issuer.api")


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """How much the issuer API takes at once."""

    max_body_bytes: int = 8 * 1024 * 1024
    """Largest request body (8 MiB: a submission of 1,000 certificates is 1-2 MB)."""
    max_concurrent: int = 64
    """Requests handled at once, bodies or not (``/healthz`` not counted)."""
    max_concurrent_uploads: int = 8
    """Requests with a body being read or handled at once."""
    upload_wait_seconds: float = 10.0
    """How long a request with a body may wait for an upload slot before 503."""
    body_timeout_seconds: float = 30.0
    """Time a client has to send its whole body, from the moment its slot is free."""
    max_json_containers: int = 20_000
    """Most ``[`` and ``{`` bytes in a body (a batch of 1,000 certificates has about 2,000)."""


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class _Refused(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


class _Gone(Exception):
    """The client disconnected before sending its whole body."""


_HTML_WORDS = {
    400: "请求有误",
    401: "请先登录",
    408: "上传超时，请重试",
    413: "文件太大",
    503: "系统繁忙，请稍后再试",
}


def _html_refusal(refused: _Refused) -> bytes:
    words = _HTML_WORDS.get(refused.status, "无法处理此请求")
    login = '<p><a href="/console/login">登录 / Log in</a></p>' if refused.status == 401 else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{words}</title></head><body style="font-size:22px;font-family:sans-serif">'
        f'<main><h1>{words}</h1><p lang="en">{escape(refused.detail)}</p>{login}'
        '<p><a href="/console">返回 / Back</a></p></main></body></html>'
    ).encode()


async def _respond(send: Send, refused: _Refused, *, html: bool = False) -> None:
    body = _html_refusal(refused) if html else json.dumps({"detail": refused.detail}).encode()
    kind = b"text/html; charset=utf-8" if html else b"application/json"
    headers = [
        (b"content-type", kind),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in refused.headers.items()),
    ]
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """ASGI middleware enforcing ``RequestLimits`` (see the module docstring).

    ``authorise(token)`` says whether a token (``token_of(headers)``, by default the bearer
    token) may send a body; it runs in a worker thread (it may ask the database)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: RequestLimits,
        authorise: Callable[[str | None], bool],
        exempt_paths: Collection[str] = ("/healthz",),
        open_paths: Mapping[str, int] | None = None,
        token_of: Callable[[Headers], str | None] = bearer_token,
        html_prefix: str | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self._authorise = authorise
        self._exempt = frozenset(exempt_paths)
        self._open = dict(open_paths or {})
        self._token_of = token_of
        self._html_prefix = html_prefix
        self._active = 0
        self._uploads = asyncio.Semaphore(limits.max_concurrent_uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._exempt:
            await self.app(scope, receive, send)
            return
        if self._active >= self.limits.max_concurrent:
            await _respond(send, _Refused(503, "server busy; try again", {"Retry-After": "1"}))
            return
        self._active += 1
        try:
            await self._guarded(scope, receive, send)
        except _Refused as refused:
            await _respond(send, refused, html=self._wants_html(scope))
        except _Gone as gone:
            log.warning("client went away: %s %s (%s)", scope["method"], scope["path"], gone)
        finally:
            self._active -= 1

    def _wants_html(self, scope: Scope) -> bool:
        if self._html_prefix is None or not str(scope["path"]).startswith(self._html_prefix):
            return False
        return "text/html" in Headers(scope=scope).get("accept", "")

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        limit = self._open.get(scope["path"], self.limits.max_body_bytes)
        declared = self._declared_length(headers, limit)
        if declared is None:  # no body
            await self.app(scope, receive, send)
            return
        if scope["path"] not in self._open:
            token = self._token_of(headers)
            if not await anyio.to_thread.run_sync(self._authorise, token):
                raise _Refused(401, "missing or invalid API token", {"WWW-Authenticate": "Bearer"})
        try:
            await asyncio.wait_for(self._uploads.acquire(), self.limits.upload_wait_seconds)
        except TimeoutError as exc:
            raise _Refused(
                503, "too many uploads at once; try again", {"Retry-After": "1"}
            ) from exc
        try:
            body = await self._read(receive, limit)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:
                    return await receive()  # after the body: wait for the disconnect
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
        finally:
            self._uploads.release()

    def _declared_length(self, headers: Headers, limit: int) -> int | None:
        """The body length the client announced (``-1``: chunked, unknown), ``None`` for no
        body; refuses a declared length over ``limit``."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return -1
        text = headers.get("content-length")
        if text is None:
            return None
        if not text.isdigit():
            raise _Refused(400, "Content-Length is not a number")
        length = int(text)
        if length > limit:
            raise _Refused(413, self._too_large(limit))
        return length or None

    @staticmethod
    def _too_large(limit: int) -> str:
        return f"request body larger than {limit} bytes"

    async def _read(self, receive: Receive, limit: int) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.body_timeout_seconds
        body = bytearray()
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except TimeoutError as exc:
                raise _Refused(
                    408, f"request body not received within {self.limits.body_timeout_seconds} s"
                ) from exc
            if message["type"] == "http.disconnect":
                raise _Gone(f"after {len(body)} bytes of the body")
            body += message.get("body", b"")
            if len(body) > limit:
                raise _Refused(413, self._too_large(limit))
            if not message.get("more_body", False):
                break
        containers = body.count(b"[") + body.count(b"{")
        if containers > self.limits.max_json_containers:
            raise _Refused(
                413,
                f"request body has more than {self.limits.max_json_containers} JSON arrays "
                "and objects",
            )
        return bytes(body)
