"""The verifier service's routes: the JSON API for banks' systems, the page a certificate's QR
code opens, the upload page, health, the trust bundle for peers, and Prometheus metrics.

The QR page answers for the certificate's authenticity and, when the visitor says which
province they are in (``?region=GD``, or the page's province picker), for its recognition
there: agreements are public registry data, so any province's verifier can tell.

Verification runs in a worker thread with a timeout unless it needs nothing but local data; the
verification itself never raises (the runner turns failures into ERROR checks)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.datastructures import UploadFile

from ledger.jsonread import JsonRefused, read_json
from ledger.ofd import is_ofd
from verifier.bundle_history import BUNDLE_MEDIA_TYPE
from verifier.document import image_refusal
from verifier.engine import Verifier
from verifier.errors import WouldBlock
from verifier.limits import MAX_API_JSON_BYTES, MAX_JSON_DEPTH
from verifier.metrics import Metrics
from verifier.nonces import NonceBookFull, retry_after
from verifier.pages import RegionPicker, result_page, upload_page
from verifier.result import VerificationReport
from verifier.schemas import HealthOut, NonceOut, VerifyAnswer, VerifyJson
from verifier.sync import IndexSyncer

__all__ = [
    "REQUEST_BODY",
    "VERIFY_TIMEOUT_S",
    "Lang",
    "MetricsDep",
    "Region",
    "VerifierDep",
    "qr_text_report",
    "router",
    "verify_request",
    "visitor_region",
]

log = logging.getLogger("ecert.verifier")

VERIFY_TIMEOUT_S = 20.0
Lang = Annotated[str, Query(pattern="^(zh|en)$", description="zh (default) or en")]
Region = Annotated[
    str | None,
    Query(
        pattern="^[A-Za-z0-9]{0,16}$",
        description="The visitor's province (e.g. GD): recognition is judged for it. Default: "
        "this verifier's province; an unknown code is ignored.",
    ),
]


def _provinces(verifier: Verifier) -> list[tuple[str, str]]:
    """(code, name) of every province the registry data knows, for the picker; none when the
    data cannot be read (the page still answers, without a picker)."""
    try:
        return [(p.code, p.name) for p in verifier.chain.provinces()]
    except Exception as exc:  # the picker is a convenience: never fail the page for it
        log.warning("provinces unreadable for the picker: %s", type(exc).__name__)
        return []


def visitor_region(verifier: Verifier, region: str | None) -> str | None:
    """The visitor's province if it is one of the consortium's, else ``None`` (this
    verifier's own applies)."""
    if not region:
        return None
    code = region.upper()
    return code if any(c == code for c, _n in _provinces(verifier)) else None


def _answer(report: VerificationReport, lang: str) -> Response:
    """The report as compact JSON, serialised once (no re-validation on the way out)."""
    body = json.dumps(report.to_json(lang), ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), media_type="application/json")


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


async def qr_text_report(
    verifier: Verifier, metrics: Metrics, text: str, region: str | None = None
) -> VerificationReport:
    """QR text: on the event loop when everything it needs is local (index, cached proofs; well
    under a millisecond, cheaper than a thread hop), else in a worker thread. ``region``: the
    visitor's province (``visitor_region``), for recognition."""
    try:
        report = verifier.verify_qr_text(text, local_only=True, region=region)
    except WouldBlock:
        return await _run(metrics, "qr", lambda: verifier.verify_qr_text(text, region=region))
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
    if is_ofd(data):
        return await _run(metrics, "ofd", lambda: verifier.verify_ofd(data))
    # A decompression bomb is refused from its header, before anything is decoded.
    refusal = await run_in_threadpool(image_refusal, data)
    if refusal is not None:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, refusal)
    return await _run(metrics, "image", lambda: verifier.verify_image(data))


def _json_body(data: bytes) -> VerifyJson:
    """The JSON body, read with the bounded reader: 413 beyond its size, 422 for anything that
    is not a valid request (nested too deep, not JSON, wrong fields)."""
    if len(data) > MAX_API_JSON_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"JSON body larger than {MAX_API_JSON_BYTES:,} bytes"
        )
    try:
        return VerifyJson.model_validate(
            read_json(data, max_bytes=MAX_API_JSON_BYTES, max_depth=MAX_JSON_DEPTH, what="body")
        )
    except JsonRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except ValueError as exc:  # pydantic's ValidationError
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid JSON body") from exc


router = APIRouter()

REQUEST_BODY: dict[str, Any] = {
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
    operation_id="verify",
    openapi_extra=REQUEST_BODY,
    response_model=VerifyAnswer,
    responses={
        400: {"description": "Malformed request"},
        413: {"description": "Body too large"},
        415: {"description": "Unsupported content type"},
        422: {"description": "Invalid fields"},
        503: {"description": "Verification took too long; try again"},
    },
)
async def verify_api(request: Request, lang: Lang = "zh") -> Response:
    """Verify a certificate: multipart ``file`` (PDF, OFD or QR image), or JSON with ``qr_text``,
    ``presentation``, or ``issuer_id`` + ``certificate_id``. Returns the verdict (VALID /
    NOT_RECOGNISED / INVALID / INDETERMINATE), every check with its status and stable reason
    code (always the same check names for one input kind), and the certificate's fields."""
    return _answer(await verify_request(request), lang)


async def verify_request(request: Request) -> VerificationReport:
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
        return await _from_upload(verifier, metrics, upload)
    if content_type == "application/json":
        body = _json_body(await request.body())
        if body.qr_text or body.presentation:
            return await qr_text_report(verifier, metrics, body.presentation or body.qr_text or "")
        if body.issuer_id and body.certificate_id:
            issuer_id, number = body.issuer_id, body.certificate_id
            return await _run(metrics, "id", lambda: verifier.verify_id(issuer_id, number))
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "give qr_text, or issuer_id and certificate_id"
        )
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send multipart/form-data or application/json"
    )


@router.get("/v/{payload}", response_class=HTMLResponse, tags=["pages"], operation_id="verifyPage")
async def qr_page(
    payload: str,
    verifier: VerifierDep,
    metrics: MetricsDep,
    lang: Lang = "zh",
    region: Region = None,
) -> HTMLResponse:
    """The page a certificate's QR code opens: genuine or not, and recognised or not in the
    visitor's province (``region``, or this verifier's), with a picker to choose it."""
    if len(payload) > 1000:
        raise HTTPException(status.HTTP_414_URI_TOO_LONG, "QR text too long")
    visitor = visitor_region(verifier, region)
    report = await qr_text_report(verifier, metrics, payload, visitor)
    where = f"&region={visitor}" if visitor else ""
    switch = f"/v/{payload}?lang={'zh' if lang == 'en' else 'en'}{where}"
    picker = RegionPicker(f"/v/{payload}", tuple(_provinces(verifier)), visitor)
    return HTMLResponse(result_page(report, lang, switch, picker))


@router.post(
    "/api/v1/nonce",
    tags=["verify"],
    response_model=NonceOut,
    operation_id="createNonce",
    responses={
        429: {"description": "Too many nonces for this client; see Retry-After"},
        503: {"description": "Too many outstanding nonces; see Retry-After"},
    },
)
async def nonce(request: Request, verifier: VerifierDep) -> NonceOut:
    """A fresh nonce for a holder's presentation: it is accepted once, within ten minutes, so a
    screenshot of the presentation cannot be used again. Rate-limited per client address."""
    client = request.client.host if request.client is not None else "unknown"
    wait = verifier.nonces.admit(client)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many nonces for this client; try again later",
            headers={"Retry-After": retry_after(wait)},
        )
    try:
        value, expires = await verifier.nonces.issue_async()
    except NonceBookFull as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "too many nonces outstanding; try again later",
            headers={"Retry-After": "10"},
        ) from exc
    return NonceOut(nonce=value.hex(), expires_at=expires)


@router.get("/", response_class=HTMLResponse, tags=["pages"], operation_id="uploadPage")
async def home_page(lang: Lang = "zh") -> HTMLResponse:
    """Upload a PDF, an OFD or a QR photo, or paste the QR text."""
    return HTMLResponse(upload_page(lang))


@router.post("/verify", response_class=HTMLResponse, tags=["pages"], operation_id="verifyForm")
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
        report = await qr_text_report(verifier, metrics, qr)
    else:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "choose a file or paste the QR text")
    return HTMLResponse(result_page(report, lang, f"/?lang={'zh' if lang == 'en' else 'en'}"))


@router.get("/healthz", tags=["ops"], response_model=HealthOut, operation_id="healthz")
async def healthz(request: Request, verifier: VerifierDep) -> HealthOut:
    """Whether the service answers, how old its registry data is, and how syncing goes."""
    bundles = verifier.chain.bundles
    syncer: IndexSyncer | None = request.app.state.syncer
    return HealthOut(
        status="ok",
        region=verifier.region,
        ledger=verifier.chain.freshness(),
        sync=verifier.chain.health,
        syncer_alive=syncer.alive if syncer is not None else None,
        trust_bundle=bundles.describe() if bundles is not None else None,
    )


@router.get(
    "/api/v1/bundle",
    tags=["bundle"],
    operation_id="trustBundle",
    responses={
        200: {"content": {BUNDLE_MEDIA_TYPE: {}}, "description": "A signed bundle (format 3)"},
        404: {"description": "No verified trust bundle yet"},
    },
)
async def trust_bundle(
    request: Request,
    verifier: VerifierDep,
    since: Annotated[
        str | None,
        Query(
            pattern="^[0-9a-f]{64}$",
            description="Identity (digest) of the bundle the caller holds: answered with the "
            "delta from it when this verifier kept that state, with the full bundle otherwise.",
        ),
    ] = None,
) -> Response:
    """The newest trust bundle this verifier verified and answers from when offline, for peer
    verifiers to fetch (each verifies it again: nothing here is taken on trust) — whole, or as
    a delta from the state named by ``since``. ``X-Ecert-Bundle`` says which."""
    bundles = verifier.chain.bundles
    held = bytes.fromhex(since) if since else None
    served = await run_in_threadpool(bundles.serve, held) if bundles is not None else None
    if served is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no verified trust bundle yet")
    headers = {"X-Ecert-Bundle": served.kind, "Vary": "Accept-Encoding"}
    body = served.body
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        body, headers["Content-Encoding"] = served.gzipped, "gzip"
    return Response(body, media_type=BUNDLE_MEDIA_TYPE, headers=headers)


@router.get("/metrics", response_class=PlainTextResponse, tags=["ops"], operation_id="metrics")
async def metrics_text(verifier: VerifierDep, metrics: MetricsDep) -> PlainTextResponse:
    fresh, health = verifier.chain.freshness(), verifier.chain.health
    gauges = {
        "ecert_verifier_data_age_seconds": (
            "Seconds since the registry data was last synced (-1: never).",
            fresh.age_seconds if fresh.age_seconds is not None else -1.0,
        ),
        "ecert_verifier_data_block": ("Last block the registry data includes.", fresh.block),
        "ecert_verifier_last_sync_success_timestamp": (
            "Unix time of the last successful sync (0: never).",
            health.last_success.timestamp() if health.last_success else 0.0,
        ),
        "ecert_verifier_sync_consecutive_failures": (
            "Failed sync attempts since the last success.",
            health.consecutive_failures,
        ),
    }
    counters = {
        "ecert_verifier_sync_failures_total": ("Failed sync attempts.", health.failures_total),
        "ecert_verifier_reorganisations_total": (
            "Syncs that undid blocks the node's chain dropped.",
            health.reorganisations_total,
        ),
        "ecert_verifier_events_undone_total": (
            "Registry events undone by reorganisations.",
            health.events_undone_total,
        ),
    }
    return PlainTextResponse(
        metrics.render(gauges=gauges, counters=counters),
        media_type="text/plain; version=0.0.4",
    )
