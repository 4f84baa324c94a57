"""Running a service in several worker processes on one port.

Each worker listens on its own socket bound with ``SO_REUSEPORT``, so the kernel spreads new
connections evenly over the workers (with one shared socket, whichever worker wakes first takes
the whole burst of keep-alive connections and the others idle). The supervisor restarts a worker
that dies, and stops them all on SIGTERM or SIGINT."""

from __future__ import annotations

import importlib
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

__all__ = ["serve_workers"]

_QUICK_DEATH_S = 5.0


def _listen(host: str, port: int, *, listen: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(2048)
    return sock


def _worker(factory: str, host: str, port: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    sock = _listen(host, port, listen=True)
    module, _, name = factory.partition(":")
    app = getattr(importlib.import_module(module), name)()
    config = uvicorn.Config(app, log_level="warning", timeout_keep_alive=30)
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(factory: str, *, host: str, port: int, workers: int) -> int:
    """Run ``factory()`` (``"module:function"`` returning an ASGI app) in ``workers`` processes
    on ``host:port`` until signalled; returns the exit status."""
    reservation = _listen(host, port, listen=False)  # fails now, clearly, if the port is taken
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_worker, args=(factory, host, port), daemon=False)
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
