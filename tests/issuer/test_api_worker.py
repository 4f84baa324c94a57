"""The issuer service's background worker: a pass that fails (here its store loses a table)
is one log line, counted and shown in /healthz, retried with growing pauses; when the store is
whole again the worker carries on by itself."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text

from issuer.api import create_app
from issuer.pipeline import Pipeline
from issuer.store import Base, open_store
from ledger.node import free_port
from tests.conftest import World
from tests.issuer.conftest import SamplePki, department, licences


def _until(predicate: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@contextmanager
def _serving(app: FastAPI) -> Iterator[str]:
    """The app on 127.0.0.1 in a thread of this process (lifespan and worker included)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _until(lambda: server.started, "the server to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_failing_pass_is_counted_shown_and_survived(
    world: World, pki: SamplePki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = open_store(f"sqlite:///{tmp_path / 'issuer.sqlite'}")
    engine = sessions.kw["bind"]
    pipeline = Pipeline(sessions, [department(world, pki)], world.registry)
    pipeline.submit("ZJ-AMR", licences(1))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE batches"))  # every pass now fails at close_batches
    app = create_app(pipeline, worker_interval=0.02)

    with caplog.at_level(logging.ERROR, logger="ecert.issuer.api"), _serving(app) as url:

        def worker() -> dict[str, Any]:
            health: dict[str, Any] = httpx.get(f"{url}/healthz", timeout=5).json()["worker"]
            return health

        _until(lambda: worker()["failures"] >= 3, "three failed passes")
        health = worker()
        assert health["failing_now"]
        assert "no such table: batches" in health["last_error"]
        time.sleep(0.5)
        assert worker()["failures"] < 10  # backing off (0.04, 0.08, 0.16 s...), not every 20 ms
        Base.metadata.create_all(engine)
        _until(lambda: not worker()["failing_now"], "a good pass", timeout=30)
    records = [r for r in caplog.records if r.name == "ecert.issuer.api"]
    assert records
    assert all(r.exc_info is None and "pipeline pass failed" in r.getMessage() for r in records)
    engine.dispose()
