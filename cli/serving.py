"""Running a service: connection limits in front of uvicorn, and several worker processes on one
port.

Connection limits (``ConnectionLimits``), enforced by a subclass of uvicorn's httptools
protocol before any request reaches the app: a client has ``header_timeout`` seconds from
connecting (or from the end of its previous request) to send its request line and headers, and
at most ``max_header_bytes`` of them; uvicorn itself has only a keep-alive timeout, which a
client sending a byte every few seconds resets forever. A connection closed for that costs no
log line of its own: one summary line at most every 10 s says how many were closed.

Each worker listens on its own socket bound with ``SO_REUSEPORT``, so the kernel spreads new
connections evenly over the workers (with one shared socket, whichever worker wakes first takes
the whole burst of keep-alive connections and the others idle). The supervisor restarts a worker
that dies, and stops them all on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import multiprocessing
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ConnectionLimits", "guarded_protocol", "serve", "serve_workers"]

log = logging.getLogger("ecert.http")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_timeout: float = 10.0
    """Seconds a client has to send its request line and headers."""
    max_header_bytes: int = 64 * 1024
    """Request line and headers together (431 beyond)."""
    keep_alive: float = 5.0
    """Seconds an idle keep-alive connection stays open."""
    max_connections: int = 1024
    """Open connections and running requests, per worker (uvicorn answers 503 beyond)."""

    def uvicorn_options(self) -> dict[str, Any]:
        return {
            "http": guarded_protocol(self),
            "timeout_keep_alive": self.keep_alive,
            "limit_concurrency": self.max_connections,
        }


class _SlowClients:
    """Connections closed for slow or oversized headers, logged as one line per 10 s at most."""

    def __init__(self) -> None:
        self.closed = 0
        self._unlogged = 0
        self._logged_at = -1e9

    def count(self, why: str) -> None:
        self.closed += 1
        self._unlogged += 1
        now = time.monotonic()
        if now - self._logged_at >= 10.0:
            log.warning("closed %d connection(s) since the last report: %s", self._unlogged, why)
            self._unlogged, self._logged_at = 0, now


_slow_clients = _SlowClients()


def guarded_protocol(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with a header deadline and a header size limit."""
    too_large = f"request headers over {limits.max_header_bytes:,} bytes"

    class GuardedHttpTools(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._header_timer: asyncio.TimerHandle | None = None
            self._reading_headers = True
            """Between requests, or inside a request line and headers."""
            self._received = 0
            """Bytes received while reading headers (the parser holds them: bounded here)."""
            self._header_size = 0
            """Request line and headers of the current request, as parsed."""
            self._headers_done = 0
            self._refused = False

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            reading, done = self._reading_headers, self._headers_done
            if reading and self._header_timer is None:
                self._arm()  # a next request on a kept-alive connection
            super().data_received(data)  # parses; may complete headers, even a whole request
            if reading and self._reading_headers and self._headers_done == done:
                self._received += len(data)  # all of this chunk was (unfinished) headers
                if self._received > limits.max_header_bytes:
                    self._refuse(b"431 Request Header Fields Too Large", too_large)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._header_size = 0

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            self._header_size += len(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            super().on_header(name, value)
            self._header_size += len(name) + len(value) + 4

        def on_headers_complete(self) -> None:
            self._reading_headers = False
            self._headers_done += 1
            self._disarm()
            if self._header_size > limits.max_header_bytes:  # arrived in one piece
                self._refuse(b"431 Request Header Fields Too Large", too_large)
            if not self._refused:
                super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if self._refused:
                return
            super().on_message_complete()
            self._reading_headers, self._received = True, 0

        def _arm(self) -> None:
            self._header_timer = self.loop.call_later(limits.header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if not self._reading_headers or self._refused or self.transport.is_closing():
                return
            if self._received:
                self._refuse(
                    b"408 Request Timeout",
                    f"request headers not sent within {limits.header_timeout:g} s",
                )
            else:
                self._refused = True
                self.transport.close()  # connected, never said anything
                _slow_clients.count(f"nothing sent within {limits.header_timeout:g} s")

        def _refuse(self, status: bytes, why: str) -> None:
            self._refused = True
            self._disarm()
            if self.transport.is_closing():
                return
            body = json.dumps({"detail": why}).encode()
            self.transport.write(
                b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                b"connection: close\r\n\r\n%s" % (status, len(body), body)
            )
            self.transport.close()
            _slow_clients.count(why)

    return GuardedHttpTools


def serve(app: Any, *, host: str, port: int, limits: ConnectionLimits) -> None:
    """One uvicorn process serving ``app`` with ``limits``."""
    uvicorn.run(app, host=host, port=port, log_level="warning", **limits.uvicorn_options())


_QUICK_DEATH_S = 5.0


def _listen(host: str, port: int, *, listen: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(2048)
    return sock


def _worker(factory: str, host: str, port: int, limits: ConnectionLimits) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    sock = _listen(host, port, listen=True)
    module, _, name = factory.partition(":")
    app = getattr(importlib.import_module(module), name)()
    config = uvicorn.Config(app, log_level="warning", **limits.uvicorn_options())
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(
    factory: str,
    *,
    host: str,
    port: int,
    workers: int,
    limits: ConnectionLimits | None = None,
) -> int:
    """Run ``factory()`` (``"module:function"`` returning an ASGI app) in ``workers`` processes
    on ``host:port`` until signalled; returns the exit status."""
    limits = limits or ConnectionLimits()
    reservation = _listen(host, port, listen=False)  # fails now, clearly, if the port is taken
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_worker, args=(factory, host, port, limits), daemon=False)
        process.start()
        return process, time.monotonic()

    running = [start() for _ in range(workers)]
    status = 0
    try:
        while not stop.wait(0.5):
            for i, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                if time.monotonic() - started < _QUICK_DEATH_S:
                    status = 1  # failing at start-up: restarting would only spin
                    stop.set()
                    break
                running[i] = start()
    finally:
        for process, _started in running:
            if process.is_alive():
                process.terminate()
        for process, _started in running:
            process.join(15)
            if process.is_alive():
                process.kill()
                process.join()
        reservation.close()
    return status
