"""What both faces of the holder's wallet (``ecert wallet present`` and ``ecert serve wallet``)
do with a certificate: read the claims the PDF carries, find the fields the holder names (by
key or by label, in Chinese or English), refuse a lifetime verifiers would refuse, fetch the
proof record from the issuer when the holder has none, build a presentation, draw its QR."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import qrcode
from eth_account.signers.local import LocalAccount
from pyhanko.pdf_utils.reader import PdfFileReader
from qrcode.constants import ERROR_CORRECT_L

from ledger.catalogue import catalogue
from ledger.errors import MerkleError
from ledger.presentation import HOLDER_CLAIM, Presentation, PresentationError, build_presentation
from ledger.proofrecord import ProofRecord
from verifier.document import EmbeddedClaims, read_embedded_claims
from verifier.engine import MAX_PRESENTATION_TTL_S

__all__ = [
    "MAX_LIFETIME",
    "certificate_claims",
    "check_lifetime",
    "fetch_proof",
    "present_from_files",
    "presentation_qr",
    "resolve_fields",
]

MAX_LIFETIME = timedelta(seconds=MAX_PRESENTATION_TTL_S)
"""The longest a presentation may work: what every verifier accepts, no more."""
_SAFE = re.compile(r"[0-9A-Z-]{1,40}")


def check_lifetime(lifetime: timedelta) -> None:
    """``PresentationError`` for a lifetime verifiers refuse (``PRESENTATION_TOO_LONG``)."""
    minutes = int(MAX_LIFETIME.total_seconds() // 60)
    if lifetime > MAX_LIFETIME:
        raise PresentationError(
            f"出示码最长有效 {minutes} 分钟 / a presentation works for at most {minutes} "
            f"minutes (verifiers refuse longer ones); asked for {lifetime}"
        )
    if lifetime.total_seconds() < 10:
        raise PresentationError("a presentation must work for at least 10 seconds")


def resolve_fields(embedded: EmbeddedClaims, names: Sequence[str]) -> list[str]:
    """The claim keys the holder means: each name is a key (``uscc``) or a field's label in
    Chinese or English (``统一社会信用代码``, ``Name``). An unknown one is refused, listing the
    fields this certificate has."""
    spec = catalogue().get(str(embedded.raw.get("cert_type")))
    present = [k for k in embedded.claims if k != HOLDER_CLAIM]
    by_name: dict[str, str] = {k.casefold(): k for k in present}
    labels: dict[str, tuple[str, str]] = {}
    if spec is not None:
        for f in spec.fields:
            if f.key in present:
                labels[f.key] = (f.label_zh, f.label_en)
                by_name.setdefault(f.label_zh.casefold(), f.key)
                by_name.setdefault(f.label_en.casefold(), f.key)
    keys: list[str] = []
    for name in names:
        key = by_name.get(name.strip().casefold())
        if key is None:
            listed = ", ".join(
                f"{k} ({labels[k][0]} / {labels[k][1]})" if k in labels else k for k in present
            )
            raise PresentationError(f"no field {name!r} on this certificate; it has: {listed}")
        if key not in keys:
            keys.append(key)
    return keys


def fetch_proof(issuer_url: str, embedded: EmbeddedClaims, *, timeout: float = 10.0) -> bytes:
    """The certificate's public proof record from its issuer's proof endpoint
    (``GET /api/v1/proofs/{issuer}/{number}``); ``PresentationError`` if it cannot be had."""
    issuer_id = str(embedded.raw.get("issuer_id", ""))
    number = str(embedded.raw.get("certificate_id", ""))
    if not (_SAFE.fullmatch(issuer_id) and _SAFE.fullmatch(number)):
        raise PresentationError("the PDF does not name its issuer and number")
    url = f"{issuer_url.rstrip('/')}/api/v1/proofs/{issuer_id}/{number}"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise PresentationError(
            f"could not reach the issuer at {issuer_url} for the proof; pass --proof FILE "
            "(the department gives it with the certificate)"
        ) from exc
    if response.status_code == 404:
        raise PresentationError(f"the issuer has no anchored certificate {number} (yet)")
    if response.status_code != 200:
        raise PresentationError(f"the issuer answered {response.status_code} for the proof")
    return response.content


def certificate_claims(pdf: bytes) -> EmbeddedClaims:
    """The claims a certificate PDF carries; ``PresentationError`` if it carries none."""
    try:
        embedded = read_embedded_claims(PdfFileReader(io.BytesIO(pdf), strict=False))
    except Exception as exc:  # pyHanko raises assorted errors for a file that is not a PDF
        raise PresentationError("not a certificate PDF") from exc
    if embedded is None:
        raise PresentationError("the PDF carries no ecert claims")
    return embedded


def present_from_files(
    pdf: bytes,
    proof: bytes,
    fields: Sequence[str],
    holder: LocalAccount,
    *,
    lifetime: timedelta,
    nonce: bytes = b"",
) -> Presentation:
    """A signed presentation of ``fields`` (keys or labels) from the certificate PDF and its
    proof record (JSON); any bad input is a ``PresentationError``."""
    check_lifetime(lifetime)
    embedded = certificate_claims(pdf)
    keys = resolve_fields(embedded, fields)
    try:
        return build_presentation(
            ProofRecord.from_json(json.loads(proof)),
            embedded.claims,
            bytes.fromhex(str(embedded.raw["claims_secret"])),
            keys,
            holder,
            expires_at=datetime.now(UTC).replace(microsecond=0) + lifetime,
            nonce=nonce,
        )
    except (ValueError, KeyError, MerkleError) as exc:
        raise PresentationError(str(exc)) from exc


def presentation_qr(text: str, *, box_size: int = 10) -> qrcode.QRCode:
    """The QR code of a presentation, at error correction L (it is read off a screen), in the
    alphanumeric mode its text is made for (``ledger.qrtext``)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_L, box_size=box_size, border=4)
    code.add_data(text.encode("ascii"))
    code.make(fit=True)
    return code
