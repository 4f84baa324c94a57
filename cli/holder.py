"""What both faces of the holder's wallet (``ecert wallet present`` and ``ecert serve wallet``)
do with a certificate: read the claims the PDF carries, build a presentation of chosen fields,
draw its QR code."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import qrcode
from eth_account.signers.local import LocalAccount
from pyhanko.pdf_utils.reader import PdfFileReader
from qrcode.constants import ERROR_CORRECT_L

from ledger.errors import MerkleError
from ledger.presentation import Presentation, PresentationError, build_presentation
from ledger.proofrecord import ProofRecord
from verifier.document import EmbeddedClaims, read_embedded_claims

__all__ = ["certificate_claims", "present_from_files", "presentation_qr"]


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
    """A signed presentation of ``fields`` from the certificate PDF and its proof record
    (JSON); any bad input is a ``PresentationError``."""
    embedded = certificate_claims(pdf)
    try:
        return build_presentation(
            ProofRecord.from_json(json.loads(proof)),
            embedded.claims,
            bytes.fromhex(str(embedded.raw["claims_secret"])),
            list(fields),
            holder,
            expires_at=datetime.now(UTC).replace(microsecond=0) + lifetime,
            nonce=nonce,
        )
    except (ValueError, KeyError, MerkleError) as exc:
        raise PresentationError(str(exc)) from exc


def presentation_qr(text: str, *, box_size: int = 10) -> qrcode.QRCode:
    """The QR code of a presentation, at error correction L (it is read off a screen)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_L, box_size=box_size, border=4)
    code.add_data(text.encode("ascii"))
    code.make(fit=True)
    return code
