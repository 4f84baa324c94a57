"""The verifier service (FastAPI): a JSON API for banks' systems, the page a certificate's QR
code links to, an upload page for people, health and Prometheus metrics.

Every malformed input gets a clean 4xx (never a 5xx): bodies are capped, verification runs in
a worker thread with a timeout, and the verification itself never raises. A background thread
keeps the registry index fresh so requests answer from it without a node round-trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from verifier.config import VerifierConfig, build_verifier
from verifier.engine import Verifier
from verifier.errors import WouldBlock
from verifier.metrics import Metrics
from verifier.pages import result_page, upload_page
from verifier.result import VerificationReport

__all__ = ["CONFIG_ENV", "MAX_BODY_BYTES", "REGION_ENV", "app_from_environment", "create_app"]

CONFIG_ENV = "ECERT_VERIFIER_CONFIG"
REGION_ENV = "ECERT_VERIFIER_REGION"
MAX_BODY_BYTES = 12 * 1024 * 1024
VERIFY_TIMEOUT_S = 20.0
BUNDLE_INTERVAL_S = 60.0
Lang = Annotated[str, Query(pattern="^(zh|en)$", description="zh (default) or en")]


class VerifyJson(BaseModel):
    """Verify from the QR text, or from the issuer id and certificate number."""

    qr_text: str | None = Field(
        default=None, max_length=1000, description="The QR code's text (URL or bare payload)."
    )
    presentation: str | None = Field(
        default=None, max_length=4000, description="A holder's presentation (ECP1.…)."
    )
    issuer_id: str | None = Field(default=None, max_length=32)
    certificate_id: str | None = Field(default=None, max_length=40)


class CheckOut(BaseModel):
    name: str = Field(description="Stable dotted name, e.g. seal.intact")
    status: Literal["VALID", "INVALID", "ERROR", "SKIPPED"]
    reason: str | None = Field(description="Stable reason code; set unless VALID")
    message: str | None = Field(description="The reason in words (zh or en)")
    detail: str | None
    data: dict[str, Any]


class VerifyAnswer(BaseModel):
    """A verification: the verdict, every check, what the certificate says, how fresh the
    registry data was."""

    verdict: Literal["VALID", "INVALID", "INDETERMINATE"]
    input: Literal["pdf", "image", "qr", "id", "presentation"]
    region: str
    certificate: dict[str, Any]
    checks: list[CheckOut]
    freshness: dict[str, Any]


def _answer(report: VerificationReport, lang: str) -> Response:
    """The report as compact JSON, serialised once (no re-validation on the way out)."""
    body = json.dumps(report.to_json(lang), ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), media_type="application/json")


class Timing:
    """Request counts and latency per route template for /metrics (a plain ASGI middleware:
    cheaper than ``@app.middleware``, which costs a task and a stream per request)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        code = 500

        async def sent(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", "other")
            self.metrics.request(endpoint, code, time.perf_counter() - start)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = b'{"detail":"request body too large"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------- dependencies


async def get_verifier(request: Request) -> Verifier:
    verifier: Verifier = request.app.state.verifier
    return verifier


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


VerifierDep = Annotated[Verifier, Depends(get_verifier)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


async def _run(
    metrics: Metrics, kind: str, work: Callable[[], VerificationReport]
) -> VerificationReport:
    try:
        report = await asyncio.wait_for(run_in_threadpool(work), VERIFY_TIMEOUT_S)
    except TimeoutError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "verification took too long; try again"
        ) from exc
    metrics.verdict(kind, report.verdict.value)
    return report


async def _qr(verifier: Verifier, metrics: Metrics, text: str) -> VerificationReport:
    """QR text: on the event loop when everything it needs is local (index, cached proofs; well
    under a millisecond, cheaper than a thread hop), else in a worker thread."""
    try:
        report = verifier.verify_qr_text(text, local_only=True)
    except WouldBlock:
        return await _run(metrics, "qr", lambda: verifier.verify_qr_text(text))
    metrics.verdict("qr", report.verdict.value)
    return report


async def _from_upload(
    verifier: Verifier, metrics: Metrics, upload: UploadFile
) -> VerificationReport:
    data = await upload.read()
    if not data:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the uploaded file is empty")
    if data.lstrip()[:5] == b"%PDF-":
        return await _run(metrics, "pdf", lambda: verifier.verify_pdf(data))
    return await _run(metrics, "image", lambda: verifier.verify_image(data))


# ---------------------------------------------------------------- routes

router = APIRouter()

_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": VerifyJson.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post(
    "/api/v1/verify",
    tags=["verify"],
    openapi_extra=_REQUEST_BODY,
    response_model=VerifyAnswer,
    responses={
        400: {"description": "Malformed request"},
        413: {"description": "Body too large"},
        415: {"description": "Unsupported content type"},
        422: {"description": "Invalid fields"},
    },
)
async def verify_api(request: Request, lang: Lang = "zh") -> Response:
    """Verify a certificate: multipart ``file`` (PDF or QR image), or JSON with ``qr_text`` or
    ``issuer_id`` + ``certificate_id``. Returns the verdict (VALID / INVALID / INDETERMINATE),
    every check with its status and stable reason code, and the certificate's fields."""
    # The hot path: app state read directly (each FastAPI dependency costs ~30 µs a request).
    verifier: Verifier = request.app.state.verifier
    metrics: Metrics = request.app.state.metrics
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=5)
        except Exception as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "malformed multipart body") from exc
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "send the file in field 'file'")
        report = await _from_upload(verifier, metrics, upload)
    elif content_type == "application/json":
        try:
            body = VerifyJson.model_validate_json(await request.body())
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid JSON body") from exc
        if body.qr_text or body.presentation:
            text = body.presentation or body.qr_text or ""
            report = await _qr(verifier, metrics, text)
        elif body.issuer_id and body.certificate_id:
            issuer_id, number = body.issuer_id, body.certificate_id
            report = await _run(metrics, "id", lambda: verifier.verify_id(issuer_id, number))
        else:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "give qr_text, or issuer_id and certificate_id",
            )
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send multipart/form-data or application/json"
        )
    return _answer(report, lang)


@router.get("/v/{payload}", response_class=HTMLResponse, tags=["pages"])
async def qr_page(
    payload: str,
    verifier: VerifierDep,
    metrics: MetricsDep,
    lang: Lang = "zh",
) -> HTMLResponse:
    """The page a certificate's QR code opens."""
    if len(payload) > 1000:
        raise HTTPException(status.HTTP_414_URI_TOO_LONG, "QR text too long")
    report = await _qr(verifier, metrics, payload)
    switch = f"/v/{payload}?lang={'zh' if lang == 'en' else 'en'}"
    return HTMLResponse(result_page(report, lang, switch))


class NonceOut(BaseModel):
    nonce: str = Field(description="Hex; put it in the presentation (ecert wallet present).")
    expires_at: float = Field(description="Unix time after which it is refused.")


@router.post("/api/v1/nonce", tags=["verify"], response_model=NonceOut)
async def nonce(verifier: VerifierDep) -> NonceOut:
    """A fresh nonce for a holder's presentation: it is accepted once, within ten minutes, so a
    screenshot of the presentation cannot be used again."""
    value, expires = verifier.nonces.issue()
    return NonceOut(nonce=value.hex(), expires_at=expires)


@router.get("/", response_class=HTMLResponse, tags=["pages"])
async def home_page(lang: Lang = "zh") -> HTMLResponse:
    """Upload a PDF or a QR photo, or paste the QR text."""
    return HTMLResponse(upload_page(lang))


@router.post("/verify", response_class=HTMLResponse, tags=["pages"])
async def verify_form(
    request: Request, verifier: VerifierDep, metrics: MetricsDep, lang: Lang = "zh"
) -> HTMLResponse:
    """The upload page's form."""
    try:
        form = await request.form(max_files=1, max_fields=5)
    except Exception as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "malformed form") from exc
    upload = form.get("file")
    text = form.get("qr_text")
    if isinstance(upload, UploadFile) and upload.filename:
        report = await _from_upload(verifier, metrics, upload)
    elif isinstance(text, str) and text.strip():
        qr = text.strip()[:1000]
        report = await _qr(verifier, metrics, qr)
    else:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "choose a file or paste the QR text")
    return HTMLResponse(result_page(report, lang, f"/?lang={'zh' if lang == 'en' else 'en'}"))


@router.get("/healthz", tags=["ops"])
async def healthz(verifier: VerifierDep) -> dict[str, Any]:
    bundles = verifier.chain.bundles
    return {
        "status": "ok",
        "region": verifier.region,
        "ledger": verifier.chain.freshness(),
        "trust_bundle": bundles.describe() if bundles is not None else None,
    }


@router.get(
    "/api/v1/bundle",
    tags=["bundle"],
    responses={404: {"description": "No verified trust bundle yet"}},
)
async def trust_bundle(verifier: VerifierDep) -> Response:
    """The newest trust bundle this verifier verified and answers from when offline, for peer
    verifiers to fetch (each verifies it again: nothing here is taken on trust)."""
    bundles = verifier.chain.bundles
    signed = bundles.bundle if bundles is not None else None
    if signed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no verified trust bundle yet")
    body = json.dumps(signed.to_json(), ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), media_type="application/json")


@router.get("/metrics", response_class=PlainTextResponse, tags=["ops"])
async def metrics_text(metrics: MetricsDep) -> PlainTextResponse:
    return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")


# ---------------------------------------------------------------- app


def create_app(verifier: Verifier, *, sync_interval: float | None = 1.0) -> FastAPI:
    """The verifier app; ``sync_interval=None`` keeps no background sync (tests drive it)."""
    stop = threading.Event()
    metrics = Metrics()

    def sync() -> None:
        last_bundle_check = time.monotonic()
        while not stop.wait(sync_interval or 1.0):
            verifier.chain.refresh(force=True)
            bundles = verifier.chain.bundles
            if bundles is not None and time.monotonic() - last_bundle_check >= BUNDLE_INTERVAL_S:
                last_bundle_check = time.monotonic()
                bundles.refresh()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        thread = None
        if sync_interval is not None:
            thread = threading.Thread(target=sync, name="ecert-index-sync", daemon=True)
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=10)

    app = FastAPI(
        title="ecert verifier",
        version="1.0",
        lifespan=lifespan,
        description="Verify electronic certificates. 电子证照核验。",
    )
    app.state.verifier = verifier
    app.state.metrics = metrics
    app.include_router(router)

    @app.exception_handler(ValueError)
    async def bad_value(_request: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)[:300]}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        )

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(Timing, metrics=metrics)
    return app


def app_from_environment() -> FastAPI:
    """App factory for ``uvicorn --factory`` with several worker processes: each worker builds
    its own verifier from ``$ECERT_VERIFIER_CONFIG`` and ``$ECERT_VERIFIER_REGION`` (they share
    the registry index file, which is safe to sync from several processes)."""
    path = Path(os.environ[CONFIG_ENV])
    verifier = build_verifier(VerifierConfig.load(path), path, region=os.environ[REGION_ENV])
    return create_app(verifier)
