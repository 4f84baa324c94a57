"""A province's RFC 3161 timestamp service (HTTP, ``application/timestamp-query``), so that
seals can be PAdES B-T: the timestamp proves the seal existed before any later key compromise
or certificate expiry. Token signing uses pyHanko's timestamp builder with the province's TSA
certificate from ``ecert`` PKI; run it with ``ecert serve tsa --province ZJ``. The same service
publishes the CRLs of the province CA and the root (``GET /crl/ZJ.crl``, ``/crl/root.crl``),
which B-LT seals embed."""

from __future__ import annotations

from collections.abc import Callable

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer.pki import Issued
from issuer.seal import to_asn1

__all__ = ["create_tsa_app"]

MAX_QUERY_BYTES = 16_384
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


CRL_TYPE = "application/pkix-crl"


def create_tsa_app(
    tsa: Issued,
    chain: list[x509.Certificate],
    crls: Callable[[str], bytes] | None = None,
    *,
    crl_names: tuple[str, ...] = (),
) -> FastAPI:
    """``crls(name)`` makes the current CRL of ``name`` (a province code, or ``root``), for
    the names in ``crl_names``."""
    from asn1crypto import keys as asn1_keys  # noqa: PLC0415

    key = asn1_keys.PrivateKeyInfo.load(
        tsa.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    stamper = DummyTimeStamper(
        tsa_cert=to_asn1(tsa.cert),
        tsa_key=key,
        certs_to_embed=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [to_asn1(c) for c in chain]
        ),
    )
    app = FastAPI(title="ecert timestamp authority (RFC 3161)", version="1.0")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/crl/{name}.crl", response_class=Response)
    async def crl(name: str) -> Response:
        """Made afresh on every request (signing one is cheap), so a revocation is published
        at once."""
        if crls is None or name not in crl_names:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such CRL here")
        return Response(await run_in_threadpool(crls, name), media_type=CRL_TYPE)

    @app.post("/", response_class=Response)
    async def stamp(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != QUERY_TYPE:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send {QUERY_TYPE}")
        body = await request.body()
        if len(body) > MAX_QUERY_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "timestamp query too large")
        try:
            query = tsp.TimeStampReq.load(body)
            query.native  # noqa: B018 - force a full parse so garbage is refused here
        except (ValueError, TypeError) as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "not a timestamp query") from exc
        reply = await run_in_threadpool(stamper.request_tsa_response, query)
        return Response(reply.dump(), media_type=REPLY_TYPE)

    return app
