"""Sealing certificate PDFs with a department's organisational e-seal (PAdES).

PAdES baseline B-B by default; B-T when a timestamp authority URL is configured (RFC 3161), and
then B-LT: the certificates and CRLs that validate the seal (the province service publishes the
CRLs beside its timestamps) are added in a DSS revision after the signature, so the seal can be
validated years later without asking anyone. If the CRLs cannot be fetched the seal stays B-T
(the verifier's own decision rests on the registry) and a warning is logged.
The signature is a certification signature allowing form filling and further signatures only,
so any later change of content is flagged by validators. The key is loaded once per ``Sealer``
and the CMS size reserved up front, so sealing signs once per document.
"""

from __future__ import annotations

import io
import logging
import time

import httpx
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata import xmp_xml
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import add_validation_info
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer.pki import Issued
from issuer.render import ATTACHMENT_NAME, RenderedCertificate

__all__ = ["SEAL_FIELD", "Sealer", "to_asn1"]

SEAL_FIELD = "ecert-seal"
_RESERVED_B_B = 4_096  # the CMS is about 1.8 KB (P-256 seal + province CA)
_RESERVED_B_T = 16_384  # plus an RFC 3161 token with its TSA chain (about 9.4 KB in all)
_CRL_REUSE_S = 3600.0  # CRLs are valid for days; fetch them at most hourly
log = logging.getLogger("ecert.issuer.seal")


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class Sealer:
    """Seals PDFs with one department's seal certificate and its chain up to the root."""

    def __init__(
        self,
        seal: Issued,
        chain: list[x509.Certificate],
        *,
        location: str,
        timestamp_url: str | None = None,
        crl_urls: tuple[str, ...] = (),
    ) -> None:
        key_der = seal.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._signer = signers.SimpleSigner(
            signing_cert=to_asn1(seal.cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            embed_roots=False,  # verifiers hold the root; embedding it only grows every PDF
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [to_asn1(c) for c in chain]
            ),
        )
        self._timestamper = (
            timestamps.HTTPTimeStamper(timestamp_url, timeout=10) if timestamp_url else None
        )
        self._meta = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=True,
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            reason="电子证照签章 / certificate e-seal",
            location=location,
        )
        self._reserved = _RESERVED_B_T if timestamp_url else _RESERVED_B_B
        self._crl_urls = tuple(crl_urls)
        self._chain = [to_asn1(c) for c in chain]
        self._roots = [to_asn1(c) for c in chain if c.issuer == c.subject]
        self._crls: tuple[float, list[bytes]] | None = None

    @property
    def level(self) -> str:
        """What this sealer aims for (``level_of`` says what a sealed file is)."""
        if self._timestamper is None:
            return "B-B"
        return "B-LT" if self._crl_urls else "B-T"

    @staticmethod
    def level_of(reader: PdfFileReader) -> str:
        """B-B, B-T or B-LT, read off a sealed file."""
        unsigned = reader.embedded_signatures[0].signer_info["unsigned_attrs"]
        kinds = {a["type"].native for a in unsigned} if unsigned.native else set()
        if "signature_time_stamp_token" not in kinds:
            return "B-B"
        return "B-LT" if "/DSS" in reader.root else "B-T"

    def _current_crls(self) -> list[bytes]:
        if self._crls is None or time.monotonic() - self._crls[0] > _CRL_REUSE_S:
            crls = []
            for url in self._crl_urls:
                response = httpx.get(url, timeout=10)
                response.raise_for_status()
                crls.append(response.content)
            self._crls = (time.monotonic(), crls)
        return self._crls[1]

    def _with_validation_data(self, sealed: bytes) -> bytes:
        """B-T → B-LT: a DSS revision with the chain and the CRLs (B-T if they are missing)."""
        try:
            crls = self._current_crls()
        except httpx.HTTPError as exc:
            log.warning("CRLs unavailable (%s): sealing B-T, not B-LT", type(exc).__name__)
            return sealed
        context = ValidationContext(
            trust_roots=self._roots, other_certs=self._chain, crls=crls, allow_fetching=False
        )
        signature = PdfFileReader(io.BytesIO(sealed), strict=False).embedded_signatures[0]
        return bytes(add_validation_info(signature, context, in_place=False).getvalue())

    def seal(self, rendered: RenderedCertificate) -> bytes:
        """The sealed PDF: one incremental update that adds the claims attachment, the XMP
        metadata and the signature, so the seal covers all three."""
        out = signers.sign_pdf(
            self._writer(rendered),
            self._meta,
            signer=self._signer,
            timestamper=self._timestamper,
            bytes_reserved=self._reserved,
        )
        sealed = bytes(out.getvalue())
        return self._with_validation_data(sealed) if self._crl_urls else sealed

    @staticmethod
    def _writer(rendered: RenderedCertificate) -> IncrementalPdfFileWriter:
        writer = IncrementalPdfFileWriter(io.BytesIO(rendered.page))
        data = embed.EmbeddedFileObject.from_file_data(
            writer, data=rendered.attachment, mime_type="application/json"
        )
        embed.embed_file(
            writer,
            embed.FileSpec(
                file_spec_string=ATTACHMENT_NAME,
                file_name=ATTACHMENT_NAME,
                embedded_data=data,
                description="ecert machine-readable claims",
                af_relationship=generic.NameObject("/Data"),
            ),
        )
        # pyHanko keeps a MetadataStream's own properties when it updates the modification
        # date at write time; a plain stream would be replaced by its own XMP.
        metadata = xmp_xml.MetadataStream(stream_data=rendered.xmp)
        writer.root[generic.NameObject("/Metadata")] = writer.add_object(metadata)
        writer.update_root()  # type: ignore[no-untyped-call]
        return writer
