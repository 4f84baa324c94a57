"""Starting and stopping our own services as separate processes on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ledger.node import free_port

__all__ = ["ServiceProcess"]


class ServiceProcess:
    """``python -m cli.main serve <kind> --port P ...`` as a child process."""

    def __init__(self, kind: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.kind = kind
        self.args = args
        self.env = {**os.environ, **env}
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> ServiceProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cli.main",
                    "serve",
                    self.kind,
                    "--port",
                    str(self.port),
                    *self.args,
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()  # never leave a half-started service behind
                raise RuntimeError(
                    f"{self.kind} did not start; see {self.log}:\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.1)

    def kill9(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
