"""Sealing an OFD package with a department's SM2 e-seal (GB/T 38540 §8, GB/T 33190 §18).

Every file of the package is a signed reference in ``Signature.xml`` (its SM3 digest as the
``CheckValue``), the seal's picture is stamped on the page (``StampAnnot``), and
``SignedValue.dat`` holds the DER ``SES_Signature``: a ``TBS_Sign`` with the seal, the time,
the SM3 digest of ``Signature.xml`` and that file's path, signed with SM3-with-SM2 by the
department's seal certificate, which travels with it.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from issuer.ofd.package import DOC, SIGNATURES, PageInfo
from issuer.ofd.xmlbuild import child, document, number, root
from issuer.sm2pki import Sm2Issued
from ledger import ses, sm2
from ledger.errors import LedgerError
from ledger.ofd import OfdPackage

__all__ = ["SIGNATURE", "SIGNED_VALUE", "OfdSealer"]

SIGN_DIR = f"{DOC}/Signs/Sign_0"
SIGNATURE = f"{SIGN_DIR}/Signature.xml"
SIGNED_VALUE = f"{SIGN_DIR}/SignedValue.dat"
PROVIDER = {"ProviderName": "ecert", "Version": "0.1.0", "Company": "ecert"}


class OfdSealer:
    """Seals OFD packages with one department's SM2 seal certificate and ``SES_Seal``."""

    def __init__(self, signer: Sm2Issued, seal: ses.SesSeal) -> None:
        allowed = seal["eseal_info"]["property"].certificates()
        if signer.der not in allowed:
            raise LedgerError("the seal does not list this seal certificate")
        self._signer = signer
        # Both as parsed from DER, once: asn1crypto re-encodes a structure built in memory on
        # every dump(), and each signature dumps them.
        self._signer_der = signer.der
        self._seal = ses.SesSeal.load(seal.dump())
        self.stamp_mm = float(seal["eseal_info"]["picture"]["width"].native)

    def seal(
        self, package: OfdPackage, page: PageInfo, *, now: datetime | None = None
    ) -> OfdPackage:
        """The package with ``Signatures.xml``, ``Signature.xml`` and ``SignedValue.dat``."""
        moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        signature_xml = self._signature_xml(package, page, moment)
        tbs = ses.TbsSign(
            {
                "version": ses.SES_VERSION,
                "eseal": self._seal,
                "time_info": moment,
                "data_hash": sm2.sm3(signature_xml),
                "property_info": f"/{SIGNATURE}",
            }
        )
        signed = ses.SesSignature(
            {
                "to_sign": tbs,
                "cert": self._signer_der,
                "signature_alg_id": sm2.SM3_WITH_SM2,
                "signature": sm2.sign(self._signer.key, tbs.dump()),
            }
        )
        signatures = root("Signatures")
        child(signatures, "MaxSignId", "1")
        child(signatures, "Signature", ID="1", Type="Seal", BaseLoc=f"/{SIGNATURE}")
        return package.with_files(
            {
                SIGNATURES: document(signatures),
                SIGNATURE: signature_xml,
                SIGNED_VALUE: signed.dump(),
            }
        )

    @staticmethod
    def _signature_xml(package: OfdPackage, page: PageInfo, moment: datetime) -> bytes:
        signature = root("Signature")
        info = child(signature, "SignedInfo")
        child(info, "Provider", **PROVIDER)
        child(info, "SignatureMethod", sm2.SM3_WITH_SM2)
        child(info, "SignatureDateTime", moment.strftime("%Y%m%d%H%M%SZ"))
        references = child(info, "References", CheckMethod=sm2.SM3)
        for path, data in package.items():
            reference = child(references, "Reference", FileRef=f"/{path}")
            child(reference, "CheckValue", base64.b64encode(sm2.sm3(data)).decode("ascii"))
        child(
            info,
            "StampAnnot",
            ID="1",
            PageRef=page.page_id,
            Boundary=" ".join(number(v) for v in page.stamp_box),
        )
        child(signature, "SignedValue", f"/{SIGNED_VALUE}")
        return document(signature)
