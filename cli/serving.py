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

    class GuardedHttpTools(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._header_timer: asyncio.TimerHandle | None = None
            self._header_bytes = 0
            self._reading_headers = True

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            reading = self._reading_headers
            if reading and self._header_timer is None:
                self._arm()  # a next request on a kept-alive connection
            super().data_received(data)  # parses; may complete the headers
            if reading and self._reading_headers and not self.transport.is_closing():
                self._header_bytes += len(data)
                if self._header_bytes > limits.max_header_bytes:
                    self._refuse(b"431 Request Header Fields Too Large", "headers too large")

        def on_headers_complete(self) -> None:
            self._reading_headers = False
            self._disarm()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._reading_headers, self._header_bytes = True, 0

        def _arm(self) -> None:
            self._header_timer = self.loop.call_later(limits.header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if not self._reading_headers or self.transport.is_closing():
                return
            if self._header_bytes or self.url:
                self._refuse(
                    b"408 Request Timeout",
                    f"request headers not sent within {limits.header_timeout:g} s",
                )
            else:
                self.transport.close()  # connected, never said anything
                _slow_clients.count(f"nothing sent within {limits.header_timeout:g} s")

        def _refuse(self, status: bytes, why: str) -> None:
            self._disarm()
            self.transport.write(
                b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
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
