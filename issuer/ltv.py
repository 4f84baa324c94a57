"""Long-term evidence in a sealed PDF (PAdES B-LT / B-LTA): a DSS revision with the seal's
certificates and CRLs, then a document timestamp over everything, appended as incremental
updates after the sealed revision. The certificate's anchor binds the sealed revision only
(leaf version 2), so the extended file verifies exactly as before — and keeps verifying with
tools we did not write after the seal's and the timestamp authority's certificates expire."""

from __future__ import annotations

import io
from collections.abc import Sequence

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers, timestamps
from pyhanko.sign.validation import add_validation_info
from pyhanko_certvalidator import ValidationContext

__all__ = ["extend"]

_RESERVED_TIMESTAMP = 16_384


def extend(
    pdf: bytes,
    *,
    timestamper: timestamps.TimeStamper,
    roots: Sequence[asn1_x509.Certificate],
    certificates: Sequence[asn1_x509.Certificate] = (),
    crls: Sequence[bytes] = (),
) -> bytes:
    """``pdf`` with validation data for its seal (if it has none yet) and a document
    timestamp (validation data for the timestamp's own chain included)."""
    context = ValidationContext(
        trust_roots=list(roots),
        other_certs=list(certificates),
        crls=list(crls),
        allow_fetching=False,
    )
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    if "/DSS" not in reader.root:
        seal = reader.embedded_signatures[0]
        pdf = bytes(add_validation_info(seal, context, in_place=False).getvalue())
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = signers.PdfTimeStamper(timestamper).timestamp_pdf(
        writer, "sha256", validation_context=context, bytes_reserved=_RESERVED_TIMESTAMP
    )
    return bytes(out.getvalue())
