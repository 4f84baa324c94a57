"""The one list of check names a verification report can carry, with their words for people
(plain Chinese first, English second). Names are stable once released: banks' systems key on
them."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CheckName", "label"]


class CheckName(StrEnum):
    # the document file
    DOCUMENT_FORMAT = "document.format"
    DOCUMENT_CLAIMS = "document.claims"
    # the e-seal (PAdES signature)
    SEAL_PRESENT = "seal.present"
    SEAL_INTACT = "seal.intact"
    SEAL_UNMODIFIED = "seal.unmodified"
    SEAL_TRUSTED = "seal.trusted"
    SEAL_KEY_USAGE = "seal.key_usage"
    SEAL_TIMESTAMP = "seal.timestamp"
    # an OFD document and its SM2 e-seal (GB/T 33190, GB/T 38540)
    OFD_STRUCTURE = "ofd.structure"
    OFD_REFERENCES = "ofd.references"
    OFD_SIGNATURE = "ofd.signature"
    OFD_ESEAL = "ofd.eseal"
    OFD_ESEAL_VALIDITY = "ofd.eseal_validity"
    # the QR code
    QR_READ = "qr.read"
    QR_MATCHES_DOCUMENT = "qr.matches_document"
    QR_SIGNATURE = "qr.signature"
    # a holder's presentation
    PRESENTATION_READ = "presentation.read"
    PRESENTATION_FRESH = "presentation.fresh"
    PRESENTATION_CLAIMS = "presentation.claims"
    PRESENTATION_HOLDER = "presentation.holder"
    PRESENTATION_NONCE = "presentation.nonce"
    # the registry
    ANCHOR_ISSUER = "anchor.issuer"
    ANCHOR_INCLUDED = "anchor.included"
    SEAL_REGISTERED = "seal.registered"
    SEAL_STATUS = "seal.status"
    STATUS_NOT_REVOKED = "status.not_revoked"
    STATUS_VALIDITY = "status.validity"
    RECOGNITION = "recognition"


_LABELS: dict[CheckName, tuple[str, str]] = {
    CheckName.DOCUMENT_FORMAT: ("文件格式", "File format"),
    CheckName.DOCUMENT_CLAIMS: ("证照内容完整", "Certificate data intact"),
    CheckName.SEAL_PRESENT: ("电子印章存在", "E-seal present"),
    CheckName.SEAL_INTACT: ("电子印章完好", "E-seal intact"),
    CheckName.SEAL_UNMODIFIED: ("盖章后未被修改", "Not changed after sealing"),
    CheckName.SEAL_TRUSTED: ("印章证书可信", "Seal certificate trusted"),
    CheckName.SEAL_KEY_USAGE: ("印章证书用途正确", "Seal certificate fit for sealing"),
    CheckName.SEAL_TIMESTAMP: ("时间戳有效", "Timestamp valid"),
    CheckName.OFD_STRUCTURE: ("OFD 文件结构完整", "OFD package well-formed"),
    CheckName.OFD_REFERENCES: ("签章所保护的文件均未改动", "Every file the seal covers unchanged"),
    CheckName.OFD_SIGNATURE: ("SM2 签名有效", "SM2 signature valid"),
    CheckName.OFD_ESEAL: ("电子印章属于发证机关且未被伪造", "E-seal genuine and the issuer's"),
    CheckName.OFD_ESEAL_VALIDITY: ("电子印章当时在有效期内", "E-seal within its validity then"),
    CheckName.QR_READ: ("二维码可识读", "QR code readable"),
    CheckName.QR_MATCHES_DOCUMENT: ("二维码与证照一致", "QR code matches the certificate"),
    CheckName.QR_SIGNATURE: ("二维码由发证机关签名", "QR code signed by the issuer"),
    CheckName.PRESENTATION_READ: ("出示码可识读", "Presentation readable"),
    CheckName.PRESENTATION_FRESH: ("出示码在有效时间内", "Presentation not expired"),
    CheckName.PRESENTATION_CLAIMS: ("出示信息属于该证照", "Shown fields belong to the certificate"),
    CheckName.PRESENTATION_HOLDER: ("由持证人本人出示", "Shown by the certificate's holder"),
    CheckName.PRESENTATION_NONCE: ("出示码未被重复使用", "Presentation not replayed"),
    CheckName.ANCHOR_ISSUER: ("发证机关已在联盟登记", "Issuer registered in the consortium"),
    CheckName.ANCHOR_INCLUDED: ("已在区块链登记", "Recorded on the ledger"),
    CheckName.SEAL_REGISTERED: ("印章已在链上登记", "Seal registered on the ledger"),
    CheckName.SEAL_STATUS: ("印章证书及其 CA 当时未被吊销", "Seal and its CA not revoked then"),
    CheckName.STATUS_NOT_REVOKED: ("撤销状态", "Revocation status"),
    CheckName.STATUS_VALIDITY: ("在有效期内", "Within its validity period"),
    CheckName.RECOGNITION: ("本省认可该省签发的此类证照", "Recognised in this province"),
}


def label(name: CheckName, lang: str = "zh") -> str:
    """A check's name in plain words for people (the dotted name stays in the data)."""
    zh, en = _LABELS[name]
    return en if lang == "en" else zh
