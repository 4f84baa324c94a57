"""The issuer API (FastAPI): submit certificates, follow their progress, download the sealed
PDF and OFD, revoke — each call authenticated by a department token and limited to its issuer and
certificate types — plus a public proof endpoint that verifiers in any province may query.

Request limits (``issuer.limits``) apply before any body is read: a body needs a valid token
first. A certificate a token may not see (another department's, or a type outside the token)
is answered 404 exactly like one that does not exist, so numbers cannot be probed.

A background worker in the same process carries submissions through the pipeline; its loop
survives any error, backs off while errors repeat, and reports them in ``/healthz``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field

from issuer.apidocs import install_catalogue_openapi, submission_examples
from issuer.console import LOGIN_PATH, console_token, install_console
from issuer.formats import parse_formats
from issuer.limits import RequestGuard, RequestLimits
from issuer.pipeline import FormatUnavailable, Pipeline, PipelineError, Submission
from issuer.tokens import Caller, authenticate
from ledger.catalogue import catalogue
from ledger.codes import RevocationReason
from ledger.errors import NodeUnavailable, RegistryRefused, TransactionRejected

__all__ = ["create_app"]

log = logging.getLogger("ecert.issuer.api")
MAX_BATCH = 1000


# ---------------------------------------------------------------- schemas


class CertificateIn(BaseModel):
    reference: str = Field(
        min_length=1, max_length=128, description="Your case number (idempotency key)."
    )
    cert_type: str = Field(min_length=1, max_length=16, examples=["BUSINESS_LICENCE"])
    claims: dict[str, str] = Field(description="Field values by catalogue key.")
    valid_until: date | None = None
    holder_key: str | None = Field(
        default=None,
        pattern=r"^0x(0[23][0-9a-fA-F]{64}|[0-9a-fA-F]{40})$",
        description="The holder key (ecert wallet new: 0x02…/0x03…, a compressed public key), "
        "so they can present chosen fields later: each certificate commits its own account "
        "derived from it, so presentations of two certificates cannot be linked. A bare "
        "account (0x + 40 hex) is committed as it is.",
    )


class SubmitIn(BaseModel):
    certificates: list[CertificateIn] = Field(min_length=1, max_length=MAX_BATCH)
    formats: list[Literal["pdf", "ofd"]] | None = Field(
        default=None,
        min_length=1,
        max_length=2,
        description="The documents to issue each certificate as: the PAdES PDF and/or the OFD "
        "(GB/T 33190, SM2 e-seal). Default: both when the department has an SM2 seal, else the "
        "PDF (or the service's --formats). One record and one anchor cover both.",
        examples=[["pdf", "ofd"]],
    )


class FieldErrorOut(BaseModel):
    field: str
    message: str


class SubmitResultOut(BaseModel):
    reference: str
    certificate_id: str | None
    status: str | None
    duplicate: bool
    errors: list[FieldErrorOut]


class SubmitOut(BaseModel):
    """Per-record outcomes, in the order sent. 202: every record accepted (a repeated
    ``reference`` counts as accepted, ``duplicate`` true); 207: some accepted, the others
    refused with their errors."""

    accepted: int
    rejected: int
    results: list[SubmitResultOut]


class SubmitRefusedOut(SubmitOut):
    """422: no record was accepted; every refused record is listed with its errors."""

    detail: str


class RevokeIn(BaseModel):
    reason: RevocationReason = Field(description="Revocation reason code (1-7).")


# ---------------------------------------------------------------- dependencies

bearer = HTTPBearer(auto_error=False)


def get_pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]


def get_caller(
    pipeline: PipelineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    found = authenticate(pipeline.sessions, credentials.credentials) if credentials else None
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid API token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


CallerDep = Annotated[Caller, Depends(get_caller)]


def _owned(pipeline: Pipeline, who: Caller, certificate_id: str) -> dict[str, Any]:
    """The certificate's view if this token may see it; 404 otherwise, whether it does not
    exist, belongs to another department or is of a type outside the token."""
    try:
        view = pipeline.certificate(who.issuer_id, certificate_id)
    except PipelineError:
        view = None
    if view is None or view["cert_type"] not in who.cert_types:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such certificate")
    return view


# ---------------------------------------------------------------- routes

router = APIRouter()


@dataclass
class WorkerHealth:
    """What the background worker has been doing (written by its thread only)."""

    passes: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    last_pass_at: float | None = None


@router.get("/healthz", tags=["ops"])
def healthz(request: Request) -> dict[str, Any]:
    health: WorkerHealth = request.app.state.worker_health
    age = None if health.last_pass_at is None else round(time.time() - health.last_pass_at, 1)
    return {
        "status": "ok",
        "worker": {
            "passes": health.passes,
            "failures": health.failures,
            "failing_now": health.consecutive_failures > 0,
            "last_error": health.last_error,
            "seconds_since_pass": age,
        },
    }


@router.post(
    "/api/v1/certificates",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmitOut,
    tags=["certificates"],
    responses={
        207: {"model": SubmitOut, "description": "Some records accepted, the others refused."},
        403: {"description": "A known type outside the token, or the issuer is suspended."},
        422: {
            "model": SubmitRefusedOut,
            "description": "No record accepted: each refusal named by record and field "
            "(an unknown type is a refusal of its record: `cert_type: unknown certificate "
            "type`); or `formats` asks for an OFD from a department without an SM2 seal "
            "(`detail` says so).",
        },
    },
)
async def submit(
    body: Annotated[SubmitIn, Body(openapi_examples=submission_examples())],
    who: CallerDep,
    pipeline: PipelineDep,
    response: Response,
) -> SubmitOut | JSONResponse:
    """Store one or many certificates durably; sealing and anchoring follow. Each record is
    checked against its type in the catalogue (see the schemas `Claims_<TYPE>`); the valid
    ones are stored even when others are refused."""
    known = set(catalogue())
    outside = sorted({c.cert_type for c in body.certificates} & known - who.cert_types)
    if outside:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"token not allowed to issue {', '.join(outside)}"
        )
    subs = [
        Submission(c.reference, c.cert_type, c.claims, c.valid_until, c.holder_key)
        for c in body.certificates
    ]
    formats = parse_formats(body.formats) if body.formats else None
    try:
        results = await run_in_threadpool(
            pipeline.submit, who.issuer_id, subs, actor=who.actor, formats=formats
        )
    except FormatUnavailable as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except PipelineError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    out = [
        SubmitResultOut(
            reference=r.reference,
            certificate_id=r.certificate_id,
            status=r.status,
            duplicate=r.duplicate,
            errors=[FieldErrorOut(field=e.field, message=e.message) for e in r.errors],
        )
        for r in results
    ]
    accepted = sum(1 for r in results if r.accepted)
    answer = SubmitOut(accepted=accepted, rejected=len(results) - accepted, results=out)
    if accepted == 0:
        refused = SubmitRefusedOut(
            detail=f"no record was accepted: {answer.rejected} refused", **answer.model_dump()
        )
        return JSONResponse(refused.model_dump(), status.HTTP_422_UNPROCESSABLE_CONTENT)
    if answer.rejected:
        response.status_code = status.HTTP_207_MULTI_STATUS
    return answer


@router.get("/api/v1/certificates/{certificate_id}", tags=["certificates"])
async def read(certificate_id: str, who: CallerDep, pipeline: PipelineDep) -> dict[str, Any]:
    """Status (办理进度), progress trail and, once anchored, the inclusion proof."""
    return await run_in_threadpool(_owned, pipeline, who, certificate_id)


@router.get(
    "/api/v1/certificates/{certificate_id}/pdf", tags=["certificates"], response_class=Response
)
async def pdf(certificate_id: str, who: CallerDep, pipeline: PipelineDep) -> Response:
    await run_in_threadpool(_owned, pipeline, who, certificate_id)
    try:
        data = await run_in_threadpool(pipeline.pdf, who.issuer_id, certificate_id)
    except PipelineError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{certificate_id}.pdf"'},
    )


@router.get(
    "/api/v1/certificates/{certificate_id}/ofd",
    tags=["certificates"],
    response_class=Response,
    responses={
        200: {"content": {"application/ofd": {}}, "description": "The sealed OFD file"},
        409: {"description": "Not sealed yet, or issued without an OFD"},
    },
)
async def ofd(certificate_id: str, who: CallerDep, pipeline: PipelineDep) -> Response:
    """The certificate as an OFD document (GB/T 33190) sealed with the department's SM2 e-seal
    (GB/T 38540): the exact bytes its anchored leaf binds."""
    await run_in_threadpool(_owned, pipeline, who, certificate_id)
    try:
        data = await run_in_threadpool(pipeline.ofd, who.issuer_id, certificate_id)
    except PipelineError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return Response(
        data,
        media_type="application/ofd",
        headers={"Content-Disposition": f'attachment; filename="{certificate_id}.ofd"'},
    )


@router.post("/api/v1/certificates/{certificate_id}/revoke", tags=["certificates"])
async def revoke(
    certificate_id: str, body: RevokeIn, who: CallerDep, pipeline: PipelineDep
) -> dict[str, Any]:
    """Revoke an anchored certificate on chain, with a reason."""
    await run_in_threadpool(_owned, pipeline, who, certificate_id)
    try:
        await run_in_threadpool(
            pipeline.revoke, who.issuer_id, certificate_id, body.reason, actor=who.actor
        )
    except PipelineError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except (NodeUnavailable, TransactionRejected) as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "chain node unreachable; nothing was changed, try again",
        ) from exc
    except RegistryRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"refused by the registry: {exc}") from exc
    return await run_in_threadpool(_owned, pipeline, who, certificate_id)


@router.get("/api/v1/proofs/{issuer_id}/{certificate_id}", tags=["public"])
async def proof(issuer_id: str, certificate_id: str, pipeline: PipelineDep) -> dict[str, Any]:
    """Public: what a verifier needs to check a certificate from its QR code against the chain.
    Hashes and codes only; no personal data."""
    try:
        return await run_in_threadpool(pipeline.public_proof, issuer_id, certificate_id)
    except PipelineError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no anchored certificate") from exc


# ---------------------------------------------------------------- app

_DESCRIPTION = """Issue sealed, chain-anchored certificates. 签发电子证照。

Every call but `GET /api/v1/proofs/...` and `/healthz` needs a department token
(`Authorization: Bearer ecert_...`, from `ecert token create`), limited to one issuer and its
certificate types, and valid until its expiry. The claim keys of each certificate type are the
schemas `Claims_<TYPE>` below; each request example is a complete submission of one type.
"""


def create_app(
    pipeline: Pipeline,
    *,
    worker_interval: float | None = 0.2,
    limits: RequestLimits | None = None,
) -> FastAPI:
    """The issuer app; ``worker_interval=None`` runs no background worker (tests drive it)."""
    stop = threading.Event()
    health = WorkerHealth()
    interval = worker_interval or 0.2

    def work() -> None:
        while not stop.is_set():
            try:
                pipeline.run_once()
                health.consecutive_failures = 0
                health.last_pass_at = time.time()
            except Exception as exc:  # the worker must survive anything and try again
                health.failures += 1
                health.consecutive_failures += 1
                health.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.error("pipeline pass failed (%d in a row): %s", health.consecutive_failures,
                          health.last_error)  # fmt: skip
            health.passes += 1
            stop.wait(min(interval * 2 ** min(health.consecutive_failures, 8), 30.0))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        thread = None
        if worker_interval is not None:
            thread = threading.Thread(target=work, name="ecert-pipeline", daemon=True)
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=30)

    # Swagger UI and ReDoc from the assets fastapi-offline ships: /docs works with no network.
    app = FastAPIOffline(
        title="ecert issuer API",
        description=_DESCRIPTION,
        version="1.0",
        lifespan=lifespan,
    )
    install_catalogue_openapi(app)
    limits = limits or RequestLimits()
    app.state.pipeline = pipeline
    app.state.worker_health = health
    app.state.max_body_bytes = limits.max_body_bytes
    app.include_router(router)
    install_console(app)

    def may_send_body(token: str | None) -> bool:
        return token is not None and authenticate(pipeline.sessions, token) is not None

    app.add_middleware(
        RequestGuard,
        limits=limits,
        authorise=may_send_body,
        token_of=console_token,  # the bearer header, or the console's session cookie
        open_paths={LOGIN_PATH: 4096},  # the login form carries its token in the body
        html_prefix="/console",
    )
    return app
