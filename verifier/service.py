"""The verifier service (FastAPI): an app factory that wires the verifier, the background
syncer, the request guard and request timing to the routes in ``verifier.routes``.

Every malformed input gets a clean 4xx (never a 5xx): requests are limited before any body is
read (``verifier.middleware``), verification runs in a worker thread with a timeout, pixel work
in render processes that can be stopped (``verifier.renderpool``), and the verification itself
never raises. The background syncer keeps the registry index fresh so requests answer from it
without a node round-trip, and never dies (``verifier.sync``).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from ledger.failover import RPC_ENV
from verifier.config import VerifierConfig, build_verifier
from verifier.engine import Verifier
from verifier.metrics import Metrics
from verifier.middleware import RequestGuard, RequestLimits, Timing
from verifier.renderpool import default_pool
from verifier.reporting import router as report_router
from verifier.routes import router
from verifier.sync import IndexSyncer

__all__ = [
    "CONFIG_ENV",
    "LIMITS_ENV",
    "REGION_ENV",
    "RPC_ENV",
    "app_from_environment",
    "create_app",
    "limits_to_environment",
]

CONFIG_ENV = "ECERT_VERIFIER_CONFIG"
REGION_ENV = "ECERT_VERIFIER_REGION"
LIMITS_ENV = "ECERT_VERIFIER_LIMITS"
BUNDLE_INTERVAL_S = 60.0


def create_app(
    verifier: Verifier,
    *,
    sync_interval: float | None = 1.0,
    limits: RequestLimits | None = None,
) -> FastAPI:
    """The verifier app; ``sync_interval=None`` keeps no background sync (tests drive it)."""
    metrics = Metrics()
    syncer = (
        IndexSyncer(verifier.chain, interval=sync_interval, bundle_interval=BUNDLE_INTERVAL_S)
        if sync_interval is not None
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if syncer is not None:
            syncer.start()
        # a render process ready before the first PDF (it takes ~0.15 s to start)
        threading.Thread(target=default_pool().warm, name="ecert-render-warm", daemon=True).start()
        yield
        if syncer is not None:
            syncer.stop()

    app = FastAPIOffline(  # Swagger UI and ReDoc served from the package: /docs needs no network
        title="ecert verifier",
        version="1.0",
        lifespan=lifespan,
        description="Verify electronic certificates. 电子证照核验。",
    )
    app.state.verifier = verifier
    app.state.metrics = metrics
    app.state.syncer = syncer
    app.include_router(router)
    app.include_router(report_router)

    @app.exception_handler(ValueError)
    async def bad_value(_request: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)[:300]}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        )

    app.add_middleware(RequestGuard, limits=limits or RequestLimits())
    app.add_middleware(Timing, metrics=metrics)
    return app


def app_from_environment() -> FastAPI:
    """App factory for ``uvicorn --factory`` with several worker processes: each worker builds
    its own verifier from ``$ECERT_VERIFIER_CONFIG`` and ``$ECERT_VERIFIER_REGION``, reading the
    chain through ``$ECERT_RPC_URL`` if set (they share the registry index file, which is safe
    to sync from several processes)."""
    path = Path(os.environ[CONFIG_ENV])
    config = VerifierConfig.load(path)
    if os.environ.get(RPC_ENV):
        config = replace(config, rpc_url=os.environ[RPC_ENV])
    verifier = build_verifier(config, path, region=os.environ[REGION_ENV])
    limits = (
        RequestLimits(**json.loads(os.environ[LIMITS_ENV])) if LIMITS_ENV in os.environ else None
    )
    return create_app(verifier, limits=limits)


def limits_to_environment(limits: RequestLimits) -> None:
    """Hand ``limits`` to worker processes started by ``app_from_environment``."""
    os.environ[LIMITS_ENV] = json.dumps(asdict(limits))
