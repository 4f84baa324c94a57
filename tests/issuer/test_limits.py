"""The issuer API's request guard, driven as an ASGI app with bodies that arrive in pieces,
slowly, never, or too big: each refusal comes before the body (or the part of it past the
limit) is read, and a client that goes away costs one log line."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from starlette.types import Message, Receive, Scope, Send

from issuer.limits import RequestGuard, RequestLimits

TOKEN = "ecert_good"


@dataclass
class Echo:
    """An app that reads the whole body and answers with its length."""

    seen: list[bytes] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.seen.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


@dataclass
class Client:
    """One request: its body pieces are handed out as the guard asks for them."""

    pieces: list[bytes]
    delay: float = 0.0
    disconnect_after: int | None = None
    asked: int = 0
    sent: list[Message] = field(default_factory=list)

    async def receive(self) -> Message:
        self.asked += 1
        if self.disconnect_after is not None and self.asked > self.disconnect_after:
            return {"type": "http.disconnect"}
        if self.delay:
            await asyncio.sleep(self.delay)
        piece = self.pieces.pop(0) if self.pieces else b""
        return {"type": "http.request", "body": piece, "more_body": bool(self.pieces)}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        return int(starts[0]["status"]) if starts else None

    @property
    def detail(self) -> str:
        body = b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")
        return str(json.loads(body)["detail"])


def _scope(method: str = "POST", *, length: int | None = None, token: str | None = TOKEN) -> Scope:
    headers = [(b"content-type", b"application/json")]
    if length is None and method == "POST":
        headers.append((b"transfer-encoding", b"chunked"))
    elif length is not None:
        headers.append((b"content-length", str(length).encode()))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return {"type": "http", "method": method, "path": "/api/v1/certificates", "headers": headers}


def _guard(app: Echo, **limits: float) -> RequestGuard:
    values = {"max_body_bytes": 1000, **limits}
    return RequestGuard(
        app,
        limits=RequestLimits(**values),  # type: ignore[arg-type]
        authorise=lambda token: token == TOKEN,
    )


def _run(call: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(call(), 10))


def test_a_body_arriving_in_pieces_reaches_the_route_whole() -> None:
    app = Echo()
    client = Client([b"a" * 400, b"b" * 400, b"c" * 200])
    _run(lambda: _guard(app)(_scope(length=1000), client.receive, client.send))
    assert client.status == 200
    assert app.seen == [b"a" * 400 + b"b" * 400 + b"c" * 200]


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    app = Echo()
    client = Client([b"x" * 2000])
    _run(lambda: _guard(app)(_scope(length=60 * 1024 * 1024), client.receive, client.send))
    assert (client.status, client.asked, app.seen) == (413, 0, [])
    assert client.detail == "request body larger than 1000 bytes"


def test_no_token_means_401_before_the_body_is_read() -> None:
    for token in (None, "ecert_wrong"):
        app = Echo()
        client = Client([b"x" * 500])
        _run(lambda: _guard(app)(_scope(length=500, token=token), client.receive, client.send))  # noqa: B023
        assert (client.status, client.asked, app.seen) == (401, 0, [])
        assert any(h == (b"www-authenticate", b"Bearer") for h in client.sent[0]["headers"])


def test_a_chunked_body_is_cut_off_just_past_the_limit() -> None:
    app = Echo()
    client = Client([b"x" * 300] * 100)
    _run(lambda: _guard(app)(_scope(), client.receive, client.send))
    assert (client.status, app.seen) == (413, [])
    assert client.asked == 4  # 1,200 bytes read of 30,000
    assert len(client.pieces) == 96


def test_a_body_that_does_not_arrive_in_time_gets_408() -> None:
    app = Echo()
    client = Client([b"x" * 10] * 50, delay=0.05)
    _run(lambda: _guard(app, body_timeout_seconds=0.3)(_scope(), client.receive, client.send))
    assert client.status == 408
    assert app.seen == []


def test_a_client_that_goes_away_costs_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    app = Echo()
    client = Client([b"x" * 100] * 5, disconnect_after=2)
    with caplog.at_level(logging.INFO, logger="ecert.issuer.api"):
        _run(lambda: _guard(app)(_scope(length=500), client.receive, client.send))
    assert client.sent == []
    assert app.seen == []
    (record,) = caplog.records
    assert record.getMessage() == (
        "client went away: POST /api/v1/certificates (after 200 bytes of the body)"
    )
    assert record.exc_info is None


def test_uploads_beyond_the_cap_wait_then_get_503() -> None:
    app = Echo()
    guard = _guard(app, max_concurrent_uploads=1, upload_wait_seconds=0.2)
    slow = Client([b"x" * 10] * 10, delay=0.1)
    turned_away = Client([b"y"])

    async def both() -> None:
        first = asyncio.create_task(guard(_scope(), slow.receive, slow.send))
        await asyncio.sleep(0.05)
        await guard(_scope(length=1), turned_away.receive, turned_away.send)
        await first

    _run(both)
    assert (slow.status, turned_away.status) == (200, 503)
    assert turned_away.asked == 0


def test_requests_beyond_the_concurrency_cap_get_503_but_healthz_answers() -> None:
    app = Echo()
    guard = _guard(app, max_concurrent=1)
    slow = Client([b"x" * 10] * 10, delay=0.05)
    busy = Client([])
    health = Client([])

    async def three() -> None:
        first = asyncio.create_task(guard(_scope(), slow.receive, slow.send))
        await asyncio.sleep(0.05)
        await guard(_scope("GET"), busy.receive, busy.send)
        await guard({**_scope("GET"), "path": "/healthz"}, health.receive, health.send)
        await first

    _run(three)
    assert (slow.status, busy.status, health.status) == (200, 503, 200)
    assert any(h == (b"retry-after", b"1") for h in busy.sent[0]["headers"])


def test_a_deeply_nested_body_never_reaches_a_json_parser() -> None:
    app = Echo()
    client = Client([b"[" * 400, b"]" * 400])
    _run(lambda: _guard(app, max_json_containers=300)(_scope(), client.receive, client.send))
    assert (client.status, app.seen) == (413, [])
    assert client.detail == "request body has more than 300 JSON arrays and objects"
