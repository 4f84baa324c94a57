"""The verification report endpoints: the sealed PDF a bank files, for a QR code's page
(``GET /v/{payload}/report.pdf``) and for any input the API takes (``POST /api/v1/report``)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from verifier.engine import Verifier
from verifier.errors import ReportUnavailable
from verifier.result import VerificationReport
from verifier.routes import (
    REQUEST_BODY,
    VERIFY_TIMEOUT_S,
    Lang,
    MetricsDep,
    Region,
    VerifierDep,
    qr_text_report,
    verify_request,
    visitor_region,
)

__all__ = ["router"]

router = APIRouter()


def _report_response(verifier: Verifier, report: VerificationReport, pdf: bytes) -> Response:
    number = report.certificate.certificate_id or "certificate"
    safe = "".join(c for c in number if c.isalnum() or c in "-_") or "certificate"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="verification-{safe}.pdf"'},
    )


async def _sealed(
    verifier: Verifier, report: VerificationReport, lang: str, url: str | None
) -> bytes:
    try:
        return await asyncio.wait_for(
            run_in_threadpool(lambda: verifier.report_pdf(report, lang=lang, verify_url=url)),
            VERIFY_TIMEOUT_S,
        )
    except ReportUnavailable as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except TimeoutError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "try again") from exc


@router.get(
    "/v/{payload}/report.pdf",
    tags=["pages"],
    operation_id="verificationReport",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The sealed report"},
        409: {"description": "This verifier has no report seal"},
    },
)
async def qr_report(
    payload: str,
    request: Request,
    verifier: VerifierDep,
    metrics: MetricsDep,
    lang: Lang = "zh",
    region: Region = None,
) -> Response:
    """The sealed verification report (PDF) of the certificate this QR code is for: verdict,
    every check, the certificate's fields, the data's time and source, and a QR code to verify
    it again — sealed with this province's e-seal, for a bank's file."""
    if len(payload) > 1000:
        raise HTTPException(status.HTTP_414_URI_TOO_LONG, "QR text too long")
    report = await qr_text_report(verifier, metrics, payload, visitor_region(verifier, region))
    url = str(request.url_for("qr_page", payload=payload))
    return _report_response(verifier, report, await _sealed(verifier, report, lang, url))


@router.post(
    "/api/v1/report",
    tags=["verify"],
    operation_id="report",
    openapi_extra=REQUEST_BODY,
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The sealed report"},
        400: {"description": "Malformed request"},
        409: {"description": "This verifier has no report seal"},
        413: {"description": "Body too large"},
        415: {"description": "Unsupported content type"},
        422: {"description": "Invalid fields"},
    },
)
async def report_api(request: Request, lang: Lang = "zh") -> Response:
    """The same verification as ``verify``, answered as the sealed verification report (PDF)
    a bank files."""
    verifier: Verifier = request.app.state.verifier
    report = await verify_request(request)
    qr = report.certificate.qr
    url = str(request.url_for("qr_page", payload=qr)) if qr else None
    pdf = await _sealed(verifier, report, lang, url)
    return _report_response(verifier, report, pdf)
