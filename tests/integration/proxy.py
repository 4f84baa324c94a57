"""A JSON-RPC proxy on 127.0.0.1 in front of a real node, that can turn faulty on demand: the
kind of thing that stands between a verifier and its node in production (a load balancer, an
API gateway) and fails in its own ways."""

from __future__ import annotations

import http.server
import threading
import urllib.request

from ledger.node import free_port

__all__ = ["FaultyProxy"]

MODES = ("forward", "502", "garbage", "not-jsonrpc", "deep")


class FaultyProxy:
    """``mode``: ``forward`` (pass through), ``502`` (Bad Gateway to everything), ``garbage``
    (200 with an HTML page), ``not-jsonrpc`` (200 with JSON that is not a JSON-RPC reply),
    ``deep`` (200 with JSON nested 100,000 levels deep)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode = "forward"
        self.requests = 0
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
        request = urllib.request.Request(
            self.upstream, data=body, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read()

    def start(self) -> FaultyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
