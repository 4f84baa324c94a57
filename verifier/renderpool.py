"""Render processes: pixel work (``verifier.pixels``: a PDF page rendered, a photo decoded, both
read for QR codes) done in child processes that can really be stopped.

A render thread cannot be stopped: a timeout answers the request but the thread keeps drawing
(a 14400 pt page took the verifier to 3.6 GB). A child process can: each has an address-space
limit (``RLIMIT_AS``), every job a deadline, and a child that overruns it, runs out of memory,
crashes or fails is killed — its memory goes with it — and replaced when next needed. A child
that grew past ``recycle_rss`` while succeeding is replaced too.

Jobs go over pipes (a kind byte and a length-prefixed payload; a length-prefixed JSON answer
read with the bounded JSON reader): about 0.2 ms on top of the ~3 ms a certificate's page
takes. Each verifier process keeps one pool (``default_pool``), started lazily and closed at
exit; a child also exits when its stdin closes (its parent died)."""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ledger.jsonread import JsonRefused, read_json
from verifier.errors import InputRefused

__all__ = ["RenderFailed", "RenderLimits", "RenderPool", "Unreadable", "default_pool"]

_LENGTH = struct.Struct(">I")
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
_MIB = 1024 * 1024


class RenderFailed(Exception):
    """The pixel work could not be done: out of time or memory, crashed, or every render
    process busy (could not check: never evidence about the input)."""


class Unreadable(RenderFailed):
    """The decoder could not read the file (not an image, not a PDF pdfium can open)."""


@dataclass(frozen=True, slots=True)
class RenderLimits:
    processes: int = 2
    """Render processes per verifier process (started when first needed)."""
    memory_bytes: int = 384 * _MIB
    """Address-space limit of each (``RLIMIT_AS``): a page of ours needs ~60 MB, a
    40-megapixel photo ~250 MB."""
    page_deadline_s: float = 5.0
    """Time for one page (a certificate's takes ~3 ms, ~60 ms when read thoroughly)."""
    image_deadline_s: float = 10.0
    """Time for one photo (a 12-megapixel photo read thoroughly takes ~1 s)."""
    wait_s: float = 10.0
    """How long a job waits for a free render process."""
    recycle_rss: int = 160 * _MIB
    """A process that grew beyond this is replaced after its job."""


class _Child:
    """One render process and its pipes."""

    def __init__(self, memory_bytes: int) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "verifier.pixels", str(memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a library's crash report is no user's business
            env=env,
            close_fds=True,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss(self) -> int:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        return 0

    def call(self, job: bytes, payload: bytes, deadline: float) -> dict[str, object]:
        self._write(job + _LENGTH.pack(len(payload)) + payload, deadline)
        (size,) = _LENGTH.unpack(self._read(_LENGTH.size, deadline))
        answer = read_json(self._read(size, deadline), max_bytes=1 * _MIB, what="render answer")
        if not isinstance(answer, dict):
            raise RenderFailed("the render process answered garbage")
        return answer

    def _wait(self, fd: int, writing: bool, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RenderFailed("out of time")
        ready = (
            select.select([], [fd], [], remaining)
            if writing
            else select.select([fd], [], [], remaining)
        )
        if not any(ready):
            raise RenderFailed("out of time")

    def _write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            self._wait(self._in, True, deadline)
            try:
                view = view[os.write(self._in, view[: 1 * _MIB]) :]
            except BlockingIOError:
                continue
            except BrokenPipeError as exc:
                raise RenderFailed(self._death()) from exc

    def _read(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        left = size
        while left:
            self._wait(self._out, False, deadline)
            try:
                chunk = os.read(self._out, min(left, 1 * _MIB))
            except BlockingIOError:
                continue
            if not chunk:
                raise RenderFailed(self._death())
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _death(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(1.0)
        code = self.process.returncode
        if code is not None and code < 0:
            return f"the render process died ({signal.Signals(-code).name})"
        return f"the render process exited ({code})"

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5.0)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class RenderPool:
    """Up to ``limits.processes`` render processes shared by the threads of one process."""

    def __init__(self, limits: RenderLimits | None = None) -> None:
        self.limits = limits or RenderLimits()
        self._idle: queue.LifoQueue[_Child | None] = queue.LifoQueue()
        for _ in range(self.limits.processes):
            self._idle.put(None)  # a slot whose process is started when first used
        self._closed = False
        self.failures = 0
        """Jobs that ended with the process killed (overran, crashed, out of memory)."""

    def page_qr(self, pdf: bytes) -> list[str]:
        """The QR texts on the first page; ``InputRefused`` (a page outside the limits) or
        ``RenderFailed``."""
        return self._run(b"P", pdf, self.limits.page_deadline_s)

    def image_qr(self, data: bytes) -> list[str]:
        """The QR texts in a photo; ``InputRefused`` (too many pixels) or ``RenderFailed``."""
        return self._run(b"I", data, self.limits.image_deadline_s)

    def check_image(self, data: bytes) -> None:
        """``InputRefused`` if the image's header says it has too many pixels (nothing
        decoded); an unreadable header passes (the decode then says why)."""
        self._run(b"S", data, self.limits.page_deadline_s)

    def warm(self) -> None:
        """Start one render process now (so the first PDF does not wait ~0.15 s for it)."""
        try:
            child = self._idle.get_nowait()
        except queue.Empty:
            return
        try:
            if child is None and not self._closed:
                child = _Child(self.limits.memory_bytes)
        finally:
            self._idle.put(child)

    def pids(self) -> list[int]:
        """The render processes now running (for tests and metrics)."""
        with self._idle.mutex:
            return [c.pid for c in self._idle.queue if c is not None and c.alive()]

    def _run(self, job: bytes, payload: bytes, seconds: float) -> list[str]:
        if self._closed:
            raise RenderFailed("the verifier is shutting down")
        try:
            child = self._idle.get(timeout=self.limits.wait_s)
        except queue.Empty as exc:
            raise RenderFailed("every render process is busy") from exc
        keep: _Child | None = None
        try:
            if child is None or not child.alive():
                child = _Child(self.limits.memory_bytes)
            answer = child.call(job, payload, time.monotonic() + seconds)
            keep = self._keep(child, answer)
        except RenderFailed:
            self.failures += 1
            raise
        except (JsonRefused, OSError) as exc:  # garbage from the process, or no process at all
            self.failures += 1
            raise RenderFailed(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if keep is None and child is not None:
                child.kill()
            self._idle.put(keep)
        texts = answer.get("texts")
        if isinstance(texts, list) and all(isinstance(t, str) for t in texts):
            return texts
        if "refused" in answer:
            raise InputRefused(str(answer["refused"]))
        if "unreadable" in answer:
            raise Unreadable(str(answer["unreadable"]))
        raise RenderFailed(str(answer.get("failed", "the render process answered garbage")))

    def _keep(self, child: _Child, answer: dict[str, object]) -> _Child | None:
        """The child, unless it failed (its state is unknown) or grew too large."""
        if "failed" in answer:
            self.failures += 1
            return None
        return child if child.rss() <= self.limits.recycle_rss else None

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                return
            if child is not None:
                child.kill()


class _Default:
    """This process's pool, created on first use."""

    lock = threading.Lock()
    pool: RenderPool | None = None


def default_pool() -> RenderPool:
    """This process's render pool (created on first use, closed at exit)."""
    with _Default.lock:
        if _Default.pool is None:
            _Default.pool = RenderPool()
            atexit.register(_Default.pool.close)
        return _Default.pool
