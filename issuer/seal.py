"""Sealing certificate PDFs with a department's organisational e-seal (PAdES).

PAdES baseline B-B by default; B-T when a timestamp authority URL is configured (RFC 3161).
The signature is a certification signature allowing form filling and further signatures only,
so any later change of content is flagged by validators. The key is loaded once per ``Sealer``
and the CMS size reserved up front, so sealing signs once per document.
"""

from __future__ import annotations

import io

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata import xmp_xml
from pyhanko.sign import fields, signers, timestamps
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer.pki import Issued
from issuer.render import ATTACHMENT_NAME, RenderedCertificate

__all__ = ["SEAL_FIELD", "Sealer", "to_asn1"]

SEAL_FIELD = "ecert-seal"
_RESERVED_B_B = 4_096  # the CMS is about 1.8 KB (P-256 seal + province CA)
_RESERVED_B_T = 16_384  # plus an RFC 3161 token with its TSA chain (about 9.4 KB in all)


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

    @property
    def level(self) -> str:
        return "B-T" if self._timestamper else "B-B"

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
        return bytes(out.getvalue())

    async def async_seal(self, rendered: RenderedCertificate) -> bytes:
        """``seal`` for use inside an event loop (pyHanko's sync API refuses to run there)."""
        out = await signers.async_sign_pdf(
            self._writer(rendered),
            self._meta,
            signer=self._signer,
            timestamper=self._timestamper,
            bytes_reserved=self._reserved,
        )
        return bytes(out.getvalue())

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
