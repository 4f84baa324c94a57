"""Fetching from peers (other provinces' verifiers, proof directories) with a total deadline and
a size limit, for callers in any thread.

httpx's timeouts are per read: a peer that drips a byte every few seconds — in its headers or
its body — never trips them and holds the caller for as long as it likes. Here every fetch runs
as a coroutine on one event loop thread owned by the ``PeerFetcher`` (connections are pooled
there), under ``asyncio.timeout``: whatever the peer does, the caller has its answer, or
``FetchFailed``, when the deadline passes. The body is counted as it arrives (``gzip`` and
``deflate`` decoded here, within the limit; any other encoding refused), so a peer cannot make
the fetch hold more than ``max_bytes``. Every failure is a ``FetchFailed`` with a reason.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import zlib
from dataclasses import dataclass

import httpx

__all__ = ["FetchFailed", "Fetched", "PeerFetcher"]

_ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class FetchFailed(Exception):
    """The peer could not be reached, was too slow, sent too much, or sent something we
    cannot decode."""


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    body: bytes
    """Empty unless ``status`` is 200."""


class _Body:
    """The body as it arrives, decoded and counted."""

    def __init__(self, url: str, encoding: str, max_bytes: int) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.data = bytearray()
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflate: zlib._Decompress | None = None
        elif encoding in _ENCODINGS:
            self._inflate = zlib.decompressobj(_ENCODINGS[encoding])
        else:
            raise FetchFailed(f"{url}: content encoding {encoding!r} not accepted")

    def add(self, raw: bytes) -> None:
        if self._inflate is None:
            self.data += raw
        else:
            try:
                # never more than one byte past the limit, however well it compresses
                self.data += self._inflate.decompress(raw, self.max_bytes + 1 - len(self.data))
            except zlib.error as exc:
                raise FetchFailed(f"{self.url}: the body does not decompress") from exc
        if len(self.data) > self.max_bytes:
            raise FetchFailed(f"{self.url}: more than {self.max_bytes:,} bytes")

    def done(self) -> bytes:
        if self._inflate is not None and not self._inflate.eof:
            raise FetchFailed(f"{self.url}: the compressed body is truncated")
        return bytes(self.data)


class PeerFetcher:
    """GET with a total deadline and a size limit; thread-safe; one background loop thread,
    started on first use."""

    def __init__(self, *, connect_timeout: float = 3.0) -> None:
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None

    def get(self, url: str, *, max_bytes: int, deadline: float) -> Fetched:
        """The status and (for 200) the body of ``GET url``, within ``deadline`` seconds in
        all; ``FetchFailed`` otherwise."""
        loop = self._running_loop()
        future = asyncio.run_coroutine_threadsafe(self._get(url, max_bytes, deadline), loop)
        try:
            return future.result(deadline + 5.0)  # the coroutine gives up at the deadline
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise FetchFailed(f"{url}: no answer within {deadline:g} s") from exc

    async def _get(self, url: str, max_bytes: int, deadline: float) -> Fetched:
        assert self._client is not None
        try:
            async with asyncio.timeout(deadline):
                async with self._client.stream("GET", url) as response:
                    if response.status_code != 200:
                        return Fetched(response.status_code, b"")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise FetchFailed(f"{url}: more than {max_bytes:,} bytes")
                    body = _Body(url, response.headers.get("content-encoding", ""), max_bytes)
                    async for raw in response.aiter_raw():
                        body.add(raw)
                    return Fetched(200, body.done())
        except TimeoutError as exc:
            raise FetchFailed(f"{url}: no answer within {deadline:g} s") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{url}: {type(exc).__name__}") from exc
        except (OSError, ValueError) as exc:  # a socket or protocol error httpx did not wrap
            raise FetchFailed(f"{url}: {type(exc).__name__}") from exc

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    self._client = httpx.AsyncClient(
                        timeout=httpx.Timeout(None, connect=self._connect_timeout),
                        headers={"Accept-Encoding": "gzip, deflate"},
                        follow_redirects=False,
                    )
                    ready.set()
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="ecert-peer-fetch", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def close(self) -> None:
        with self._lock:
            loop, thread, client = self._loop, self._thread, self._client
            self._loop = self._thread = self._client = None
        if loop is None or thread is None:
            return
        if client is not None:
            closing = asyncio.run_coroutine_threadsafe(client.aclose(), loop)
            with contextlib.suppress(concurrent.futures.TimeoutError, httpx.HTTPError, OSError):
                closing.result(5.0)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5.0)
        if not thread.is_alive():
            loop.close()
