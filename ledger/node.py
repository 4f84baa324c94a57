"""A local anvil chain node: start, stop, status, on 127.0.0.1 only, state kept on disk.

The binary comes from the npm package ``@foundry-rs/anvil-linux-amd64`` that ``make setup``
installs under ``hardhat/toolchain``; ``ECERT_ANVIL`` overrides the path.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import LedgerError, NodeUnavailable
from ledger.evm import evm_target

__all__ = ["DEFAULT_CHAIN_ID", "AnvilNode", "NodeInfo", "find_anvil", "free_port", "rpc_ready"]

DEFAULT_CHAIN_ID = 31_330
_TOOLCHAIN_BIN = Path("hardhat/toolchain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
_HOST = "127.0.0.1"


def find_anvil() -> Path:
    """Locate the anvil binary: ``$ECERT_ANVIL``, the repository toolchain, then ``PATH``."""
    override = os.environ.get("ECERT_ANVIL")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    for base in (Path.cwd(), *Path.cwd().parents, here.parent, *here.parents):
        candidate = base / _TOOLCHAIN_BIN
        if candidate.is_file():
            return candidate
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise LedgerError("anvil not found: run 'make setup' or set ECERT_ANVIL")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def rpc_ready(url: str, timeout: float = 0.5) -> int | None:
    """The chain id answered at ``url``, or ``None`` if nothing answers."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(  # noqa: S310 - only our own loopback URL
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(json.load(response)["result"], 16)
    except (OSError, ValueError, KeyError, urllib.error.URLError):
        return None


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What ``ecert chain status`` reports."""

    running: bool
    pid: int | None
    rpc_url: str
    chain_id: int | None
    state_file: Path


class AnvilNode:
    """An anvil process bound to 127.0.0.1, its state persisted to ``state_dir/anvil-state.json``.

    ``start`` either runs it in the foreground of this object (tests; ``stop`` ends it) or
    detached with a pid file (``ecert chain up``; any later ``AnvilNode(...).stop()`` ends it).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        port: int = 8545,
        chain_id: int = DEFAULT_CHAIN_ID,
        block_time: float | None = None,
        persist: bool = True,
        hardfork: str | None = None,
        mining: bool = True,
    ) -> None:
        self.state_dir = state_dir
        self.port = port
        self.chain_id = chain_id
        self.block_time = block_time
        self.persist = persist
        """``False``: a throwaway chain (benchmarks) that writes no state to disk."""
        self.hardfork = evm_target(hardfork)
        """The EVM rules the node runs: the chosen target (``ledger.evm.evm_target``) unless
        given, so the local chain runs the rules the registry was compiled for."""
        self.mining = mining
        """``False``: transactions wait in the pool, no block is mined (``--no-mining``): a
        node that takes a transaction and never passes it on (fault tests)."""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://{_HOST}:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "anvil-state.json"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "anvil.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "anvil.log"

    def _command(self) -> list[str]:
        command = [
            str(find_anvil()),
            "--host",
            _HOST,
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--hardfork",
            self.hardfork,
        ]
        if self.persist:
            # Dump state every second so even a kill -9 loses at most a second of blocks.
            command += ["--state", str(self.state_file), "--state-interval", "1"]
        if self.block_time:
            command += ["--block-time", str(self.block_time)]
        if not self.mining:
            command.append("--no-mining")
        return command

    def start(self, *, detach: bool = False, timeout: float = 15.0) -> NodeInfo:
        """Start anvil and wait until it answers JSON-RPC."""
        if rpc_ready(self.rpc_url) is not None:
            raise LedgerError(f"something already answers on {self.rpc_url}")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                self._command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=detach,
            )
        deadline = time.monotonic() + timeout
        while rpc_ready(self.rpc_url) is None:
            if process.poll() is not None:
                raise LedgerError(f"anvil exited with {process.returncode}; see {self.log_file}")
            if time.monotonic() > deadline:
                process.kill()
                raise NodeUnavailable(f"anvil did not answer on {self.rpc_url} in {timeout}s")
            time.sleep(0.05)
        if detach:
            self.pid_file.write_text(f"{process.pid} {self.port}\n")
        else:
            self._process = process
        return self.status()

    def _pid_from_file(self) -> int | None:
        try:
            return int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self, *, timeout: float = 10.0) -> bool:
        """Stop the node (SIGTERM, then SIGKILL); ``False`` if none was running."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
            return True
        pid = self._pid_from_file()
        if pid is None:
            return False
        stopped = _terminate(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        return stopped

    def kill(self) -> None:
        """``kill -9`` the node this object started (fault tests)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def status(self) -> NodeInfo:
        pid = self._process.pid if self._process is not None else self._pid_from_file()
        chain_id = rpc_ready(self.rpc_url)
        return NodeInfo(
            running=chain_id is not None,
            pid=pid,
            rpc_url=self.rpc_url,
            chain_id=chain_id,
            state_file=self.state_file,
        )


def _terminate(pid: int, timeout: float) -> bool:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True
