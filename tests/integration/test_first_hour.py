"""The README's first hour, as a newcomer runs it: the demo run the way ``make demo`` runs it
(its password file, its home ``./.ecert``) in a fresh folder, then every command of the
README's marked block, line by line and exactly as written, in one shell session's
environment — real processes, a real anvil, services on 127.0.0.1. The commands come from the
README itself, so it cannot drift from what is tested."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from ledger.node import AnvilNode

pytestmark = pytest.mark.anvil

REPO = Path(__file__).resolve().parents[2]
MARK = "<!-- first-hour:"
PORTS = {8545: "the demo's chain", 8600: "the issuer service", 8801: "ZJ's verifier"}
ISSUER = "11330000MB0000011M"  # the demo's 浙江省市场监督管理局


def readme_commands() -> list[str]:
    """The command lines of the README's first-hour block (comments and blank lines left out)."""
    text = (REPO / "README.md").read_text("utf-8")
    assert text.count(MARK) == 1, "the README must mark exactly one first-hour block"
    block = text.split(MARK, 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def _background(line: str) -> str | None:
    """The command of a line the shell would run in the background (``… &  # comment``)."""
    tokens = list(shlex.shlex(line, posix=True, punctuation_chars=True))
    if not tokens or tokens[-1] != "&":
        return None
    command = re.sub(r"\s*&\s*(#.*)?$", "", line)
    assert "&" not in command, f"cannot tell the background command in {line!r}"
    return command


def _session_env(tmp_path: Path) -> dict[str, str]:
    """A newcomer's shell: ecert on PATH (as after ``. .venv/bin/activate``), nothing of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECERT_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(tmp_path)
    return env


class Session:
    """Runs lines as one interactive bash session would: variables set or exported by a line
    (``export X=…``, ``TOKEN=$(…)``) are there for the next; ``… &`` lines are services, started
    in the background, waited for until they listen, and stopped at the end."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env
        self.services: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.times: list[tuple[str, float]] = []
        """How long each line took (printed with -s)."""
        self._state = cwd / ".session-env"

    def run(self, line: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        began = time.monotonic()
        try:
            return self._run(line, timeout)
        finally:
            self.times.append((line, time.monotonic() - began))

    def _run(self, line: str, timeout: float) -> subprocess.CompletedProcess[str]:
        command = _background(line)
        if command is not None:
            self._start(command)
            return subprocess.CompletedProcess(line, 0, "", "")
        script = f'set -a\n{line}\nstatus=$?\nenv -0 > "{self._state}"\nexit $status\n'
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if self._state.exists():
            pairs = self._state.read_bytes().split(b"\0")
            self.env = dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
            self._state.unlink()
        return done

    def _start(self, command: str) -> None:
        log = self.cwd / f".service-{len(self.services)}.log"
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=self.cwd,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
        self.services.append((process, log))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"{command!r} exited {process.returncode}:\n{log.read_text()}")
            found = re.search(r"on http://127\.0\.0\.1:(\d+)", log.read_text("utf-8", "replace"))
            if found and _listening(int(found.group(1))):
                return
            time.sleep(0.2)
        pytest.fail(f"{command!r} did not listen within 90 s:\n{log.read_text()}")

    def stop(self) -> None:
        for process, _log in self.services:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process, _log in self.services:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def newcomer(tmp_path: Path) -> Iterator[Session]:
    busy = [f"{port} ({what})" for port, what in PORTS.items() if _listening(port)]
    if busy:
        pytest.fail(
            f"ports in use on 127.0.0.1: {', '.join(busy)}. The first hour runs the README's "
            "commands as written, on the demo's ports: stop what listens there (ecert chain down, "
            "the services) and run again."
        )
    session = Session(tmp_path, _session_env(tmp_path))
    try:
        yield session
    finally:
        session.stop()
        AnvilNode(tmp_path / ".ecert" / "chain").stop()  # if the test stopped half-way


def _ok(session: Session, line: str) -> str:
    done = session.run(line)
    assert done.returncode == 0, f"{line}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr, line
    return done.stdout


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return str(answer.read().decode("utf-8"))


def test_the_readmes_first_hour_after_the_demo(newcomer: Session, tmp_path: Path) -> None:
    started = time.monotonic()
    # What 'make demo' does: a random password file in ./.ecert, then the demo with it.
    home = tmp_path / ".ecert"
    home.mkdir(mode=0o700)
    (home / "demo-password").write_text(secrets.token_urlsafe(24) + "\n")
    (home / "demo-password").chmod(0o600)
    demo = _ok(newcomer, "ECERT_KEY_PASSWORD_FILE=.ecert/demo-password ecert demo")
    assert "ecert serve verifier --region ZJ" in demo.split("下一步 / next")[1]
    demo_time = time.monotonic() - started

    commands = readme_commands()
    assert commands[-1].startswith("ecert chain down")
    out = {line: _ok(newcomer, line) for line in commands[:-1]}

    def said(prefix: str) -> str:
        return next(text for line, text in out.items() if line.startswith(prefix))

    assert re.search(r"\d{4}BL00000001: ANCHORED", said("ecert status"))
    assert "accepted 1, rejected 0, failed 0, waiting for the chain 0" in said("ecert issue")
    token = newcomer.env["TOKEN"]
    assert token.startswith("ecert_")
    submitted = json.loads(said("curl -s --retry 20 --retry-connrefused --retry-delay 1 -H"))
    assert submitted["accepted"] == 1, submitted
    assert (tmp_path / "roots.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "真实有效" in said("ecert verify")  # issued after the demo, its proof found: VALID
    assert "真实有效" in said("ecert verify licences/*.ofd")  # the same record's OFD (SM2 seal)
    assert len(list((home / "out").glob("*.ofd"))) == len(list((home / "out").glob("*.pdf")))
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")
    url = newcomer.env["URL"]
    assert url.startswith("http://127.0.0.1:8801/v/")
    assert said('curl -s --retry 20 --retry-connrefused --retry-delay 1 "$URL"').split() == [
        'data-verdict="VALID"'
    ]

    # The same scan, read here: the page that opens, and the visitor's province on it.
    scanned = subprocess.run(
        ["zbarimg", "--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable"]
        + [str(p) for p in (home / "out").glob("*BL00000001-qr.png")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert scanned == url
    page = _get(scanned)
    assert 'data-verdict="VALID"' in page
    assert '<label for="region">' in page
    assert 'data-verdict="VALID"' in _get(f"{scanned}?region=GD")  # GD recognises ZJ's licences
    estate = next((home / "out").glob("*RE00000013-qr.png"))
    estate_url = subprocess.run(
        ["zbarimg", "--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", str(estate)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert 'data-verdict="NOT_RECOGNISED"' in _get(f"{estate_url}?region=GD")  # no agreement

    # The API call's certificate, sealed and anchored by the service on the demo's home.
    number = submitted["results"][0]["certificate_id"]
    request = urllib.request.Request(
        f"http://127.0.0.1:8600/api/v1/certificates/{number}",
        headers={"Authorization": f"Bearer {token}"},
    )
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(request, timeout=10) as answer:
            state = json.load(answer)["status"]
        if state == "ANCHORED" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert state == "ANCHORED"
    assert (home / "proofs" / ISSUER / f"{number}.json").is_file()

    # Public reads need no password; --rpc comes before ECERT_RPC_URL, which comes before the
    # configuration (run in-process: these are checks, not the README's commands).
    runner = CliRunner()
    public = {"ECERT_HOME": str(home), "ECERT_KEY_PASSWORD": "", "ECERT_KEY_PASSWORD_FILE": ""}
    nowhere = "http://127.0.0.1:9"
    roots = runner.invoke(app, ["trust", "roots", "--out", str(tmp_path / "r.pem")], env=public)
    assert roots.exit_code == 0, roots.output
    found = runner.invoke(app, ["status", "sample-ZJ-1", "--issuer", ISSUER], env=public)
    assert found.exit_code == 0, found.output
    assert "ANCHORED" in found.output
    unreachable = runner.invoke(
        app, ["network", "matrix"], env={**public, "ECERT_RPC_URL": nowhere}
    )
    assert unreachable.exit_code == 2, unreachable.output
    matrix = runner.invoke(
        app,
        ["network", "matrix", "--type", "BUSINESS_LICENCE", "--rpc", "http://127.0.0.1:8545"],
        env={**public, "ECERT_RPC_URL": nowhere},
    )
    assert matrix.exit_code == 0, matrix.output
    assert "✔" in matrix.output
    configured = json.loads((home / "network.json").read_text())["deployment"]["rpc_url"]
    assert configured == "http://127.0.0.1:8545"  # the overrides were not saved

    _ok(newcomer, commands[-1])
    assert not _listening(8545)
    print(f"demo {demo_time:.0f} s, first hour {time.monotonic() - started - demo_time:.0f} s")
    for line, seconds in newcomer.times:
        print(f"{seconds:5.1f} s  {line[:90]}")
