"""A JSON-RPC proxy on 127.0.0.1 in front of a real node, that can turn faulty on demand: the
kind of thing that stands between a verifier and its node in production (a load balancer, an
API gateway) and fails in its own ways."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request

from ledger.node import free_port

__all__ = ["FaultyProxy"]

MODES = ("forward", "502", "garbage", "not-jsonrpc", "deep")


class FaultyProxy:
    """``mode``: ``forward`` (pass through), ``502`` (Bad Gateway to everything), ``garbage``
    (200 with an HTML page), ``not-jsonrpc`` (200 with JSON that is not a JSON-RPC reply),
    ``deep`` (200 with JSON nested 100,000 levels deep).

    ``dies_on`` (``(method, n, reply_lost)``): the node behind dies at the ``n``-th request for
    ``method``: that request is forwarded, its reply lost if ``reply_lost`` (502 instead), and
    from then on everything is 502 (``mode`` becomes ``502``)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode = "forward"
        self.requests = 0
        self.dies_on: tuple[str, int, bool] | None = None
        self.seen: dict[str, int] = {}
        self._count_lock = threading.Lock()
        self.port = free_port()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                proxy.requests += 1
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, reply = proxy.answer(body)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, body: bytes) -> tuple[int, bytes]:
        mode = self.mode
        if mode == "502":
            return 502, b"<html>502 Bad Gateway</html>"
        if mode == "garbage":
            return 200, b"<html>maintenance</html>"
        if mode == "not-jsonrpc":
            return 200, b'{"status": "ok"}'
        if mode == "deep":
            return 200, b"[" * 100_000
        dying = self._dies_now(body)
        request = urllib.request.Request(
            self.upstream, data=body, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            status, reply = int(response.status), response.read()
        if dying is not None:
            self.mode = "502"
            if dying:
                return 502, b"<html>502 Bad Gateway</html>"
        return status, reply

    def _dies_now(self, body: bytes) -> bool | None:
        """``None``: not this request; else whether its reply is lost."""
        try:
            method = json.loads(body).get("method")
        except (ValueError, AttributeError):
            return None
        with self._count_lock:
            self.seen[method] = self.seen.get(method, 0) + 1
            if self.dies_on is None or self.dies_on[0] != method:
                return None
            _name, n, reply_lost = self.dies_on
            if self.seen[method] != n:
                return None
            self.dies_on = None
            return reply_lost

    def start(self) -> FaultyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
