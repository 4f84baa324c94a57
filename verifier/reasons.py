"""Stable reason codes of failed or unperformed checks, with plain Chinese and English messages.
Values never change once released; new codes may be added."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ReasonCode", "message"]


class ReasonCode(StrEnum):
    # the seal
    SEAL_MISSING = "SEAL_MISSING"
    SEAL_BROKEN = "SEAL_BROKEN"
    SEAL_MODIFIED = "SEAL_MODIFIED"
    SEAL_UNTRUSTED = "SEAL_UNTRUSTED"
    SEAL_KEY_USAGE = "SEAL_KEY_USAGE"
    SEAL_CERT_EXPIRED = "SEAL_CERT_EXPIRED"
    SEAL_NOT_REGISTERED = "SEAL_NOT_REGISTERED"
    SEAL_REVOKED = "SEAL_REVOKED"
    CA_DISTRUSTED = "CA_DISTRUSTED"
    TIMESTAMP_INVALID = "TIMESTAMP_INVALID"
    # an OFD document and its SM2 e-seal
    NOT_AN_OFD = "NOT_AN_OFD"
    OFD_MALFORMED = "OFD_MALFORMED"
    OFD_FILE_CHANGED = "OFD_FILE_CHANGED"
    OFD_FILE_MISSING = "OFD_FILE_MISSING"
    OFD_FILE_NOT_SIGNED = "OFD_FILE_NOT_SIGNED"
    OFD_REFERENCES_CHANGED = "OFD_REFERENCES_CHANGED"
    OFD_SIGNATURE_INVALID = "OFD_SIGNATURE_INVALID"
    OFD_ALGORITHM_UNSUPPORTED = "OFD_ALGORITHM_UNSUPPORTED"
    ESEAL_FORGED = "ESEAL_FORGED"
    ESEAL_NOT_SIGNERS = "ESEAL_NOT_SIGNERS"
    ESEAL_NOT_ISSUERS = "ESEAL_NOT_ISSUERS"
    ESEAL_NOT_VALID = "ESEAL_NOT_VALID"
    # the document and its QR code
    NOT_A_PDF = "NOT_A_PDF"
    DOCUMENT_NO_CLAIMS = "DOCUMENT_NO_CLAIMS"
    DOCUMENT_MALFORMED = "DOCUMENT_MALFORMED"
    CLAIMS_MISMATCH = "CLAIMS_MISMATCH"
    QR_MISSING = "QR_MISSING"
    QR_UNREADABLE = "QR_UNREADABLE"
    PAGE_NOT_RENDERED = "PAGE_NOT_RENDERED"
    QR_MALFORMED = "QR_MALFORMED"
    QR_MISMATCH = "QR_MISMATCH"
    QR_SIGNATURE_INVALID = "QR_SIGNATURE_INVALID"
    # the registry
    NOT_ANCHORED = "NOT_ANCHORED"
    PROOF_INVALID = "PROOF_INVALID"
    ANCHOR_MISMATCH = "ANCHOR_MISMATCH"
    ISSUER_UNKNOWN = "ISSUER_UNKNOWN"
    ISSUER_SUSPENDED = "ISSUER_SUSPENDED"
    TYPE_NOT_AUTHORISED = "TYPE_NOT_AUTHORISED"
    REVOKED = "REVOKED"
    BATCH_REVOKED = "BATCH_REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    NOT_RECOGNISED = "NOT_RECOGNISED"
    # holder presentations
    PRESENTATION_MALFORMED = "PRESENTATION_MALFORMED"
    PRESENTATION_OUTDATED = "PRESENTATION_OUTDATED"
    PRESENTATION_EXPIRED = "PRESENTATION_EXPIRED"
    PRESENTATION_TOO_LONG = "PRESENTATION_TOO_LONG"
    PRESENTATION_REPLAYED = "PRESENTATION_REPLAYED"
    NONCE_UNKNOWN = "NONCE_UNKNOWN"
    NONCE_REQUIRED = "NONCE_REQUIRED"
    HOLDER_NOT_BOUND = "HOLDER_NOT_BOUND"
    HOLDER_MISMATCH = "HOLDER_MISMATCH"
    CLAIM_NOT_IN_CERTIFICATE = "CLAIM_NOT_IN_CERTIFICATE"
    # could not check
    CHAIN_UNAVAILABLE = "CHAIN_UNAVAILABLE"
    NODES_DISAGREE = "NODES_DISAGREE"
    ANCHOR_UNCONFIRMED = "ANCHOR_UNCONFIRMED"
    PROOF_UNAVAILABLE = "PROOF_UNAVAILABLE"
    TRUST_LIST_MISSING = "TRUST_LIST_MISSING"
    NO_PROOF_OF_EXISTENCE = "NO_PROOF_OF_EXISTENCE"
    UNEXPECTED = "UNEXPECTED"
    # not checked
    NOT_APPLICABLE = "NOT_APPLICABLE"
    PREREQUISITE_FAILED = "PREREQUISITE_FAILED"


_MESSAGES: dict[ReasonCode, tuple[str, str]] = {
    ReasonCode.SEAL_MISSING: ("文件没有电子印章。", "The file carries no e-seal."),
    ReasonCode.SEAL_BROKEN: (
        "电子印章已损坏：文件在盖章后被改动。",
        "The e-seal is broken: the file was changed after sealing.",
    ),
    ReasonCode.SEAL_MODIFIED: (
        "盖章后文件被追加修改（如覆盖文字或批注）。",
        "Content was added after sealing (overlaid text or annotations).",
    ),
    ReasonCode.SEAL_UNTRUSTED: (
        "印章证书不是由受信任的省级 CA 签发。",
        "The seal certificate is not from a trusted province CA.",
    ),
    ReasonCode.SEAL_KEY_USAGE: (
        "印章证书不允许用于电子印章。",
        "The seal certificate is not meant for sealing documents.",
    ),
    ReasonCode.SEAL_CERT_EXPIRED: (
        "证照盖章上链时，印章证书不在有效期内。",
        "The seal certificate was not valid when the certificate was sealed and recorded.",
    ),
    ReasonCode.SEAL_REVOKED: (
        "该印章证书已被所在省份吊销，本证照在吊销生效之后才上链。",
        "The seal certificate was revoked by its province before this certificate was recorded.",
    ),
    ReasonCode.CA_DISTRUSTED: (
        "签发印章证书的省级 CA 已被联盟停止信任，本证照在此之后才上链。",
        "The province CA behind the seal was distrusted before this certificate was recorded.",
    ),
    ReasonCode.SEAL_NOT_REGISTERED: (
        "印章证书不是登记给该发证机关的。",
        "The seal certificate is not the one registered for the issuer.",
    ),
    ReasonCode.TIMESTAMP_INVALID: ("时间戳无效。", "The timestamp is not valid."),
    ReasonCode.NOT_A_PDF: ("不是有效的 PDF 文件。", "This is not a valid PDF file."),
    ReasonCode.NOT_AN_OFD: (
        "不是可读取的 OFD 文件（或超出大小限制）。",
        "This is not a readable OFD file (or it exceeds the size limits).",
    ),
    ReasonCode.OFD_MALFORMED: (
        "OFD 文件结构不符合 GB/T 33190 或无法读取。",
        "The OFD package is not structured as GB/T 33190 says, or cannot be read.",
    ),
    ReasonCode.OFD_FILE_CHANGED: (
        "OFD 中有文件在签章后被改动（SM3 校验值不符）。",
        "A file of the OFD was changed after sealing (its SM3 check value differs).",
    ),
    ReasonCode.OFD_FILE_MISSING: (
        "签章所保护的文件已从 OFD 中删除。",
        "A file the seal covers has been removed from the OFD.",
    ),
    ReasonCode.OFD_FILE_NOT_SIGNED: (
        "OFD 中有未被签章保护的文件（签章后被加入或移出签名范围）。",
        "The OFD holds a file the seal does not cover (added, or taken out of the signed list).",
    ),
    ReasonCode.OFD_REFERENCES_CHANGED: (
        "签名所保护的文件清单在签章后被改动。",
        "The list of signed files was changed after signing.",
    ),
    ReasonCode.OFD_SIGNATURE_INVALID: (
        "SM2 签名无效：不是由印章证书的密钥签署的。",
        "The SM2 signature is not valid: not made with the seal certificate's key.",
    ),
    ReasonCode.OFD_ALGORITHM_UNSUPPORTED: (
        "签章使用了不支持的算法（应为 SM2/SM3）。",
        "The seal uses an algorithm other than SM2 with SM3.",
    ),
    ReasonCode.ESEAL_FORGED: (
        "电子印章不是由制章者制作的（印章内容被改动或伪造）。",
        "The e-seal was not made by its seal maker (altered or forged).",
    ),
    ReasonCode.ESEAL_NOT_SIGNERS: (
        "签章人的证书不在该电子印章的授权列表中（冒用他人印章）。",
        "The signer's certificate is not one the e-seal lists (a borrowed seal).",
    ),
    ReasonCode.ESEAL_NOT_ISSUERS: (
        "电子印章证书不属于发证机关。",
        "The e-seal's certificate does not belong to the issuing department.",
    ),
    ReasonCode.ESEAL_NOT_VALID: (
        "签章或上链时，电子印章不在其有效期内。",
        "The e-seal was outside its validity when signed or when recorded.",
    ),
    ReasonCode.DOCUMENT_NO_CLAIMS: (
        "文件中没有可读取的证照数据。",
        "The file has no readable certificate data.",
    ),
    ReasonCode.DOCUMENT_MALFORMED: (
        "文件结构异常或超出核验限制（数据损坏、嵌套过深或页面过大），不是有效的电子证照。",
        "The file is malformed or beyond the verifier's limits (corrupt data, nested too deep, "
        "or pages too large): not a genuine certificate.",
    ),
    ReasonCode.CLAIMS_MISMATCH: (
        "证照数据与登记的摘要不符。",
        "The certificate data does not match its registered digest.",
    ),
    ReasonCode.QR_MISSING: ("页面上没有找到二维码。", "No QR code was found on the page."),
    ReasonCode.QR_UNREADABLE: (
        "未能读取二维码，请重新拍摄（对准二维码，保持清晰、光线充足）。",
        "Could not read a QR code: please take the photo again (close, sharp, well lit).",
    ),
    ReasonCode.PAGE_NOT_RENDERED: (
        "未能显示证照页面以读取其二维码，请稍后再试。",
        "The page could not be rendered to read its QR code; please try again.",
    ),
    ReasonCode.QR_MALFORMED: ("二维码内容无法识别。", "The QR code is not an ecert code."),
    ReasonCode.QR_MISMATCH: (
        "二维码与本证照内容不符。",
        "The QR code does not belong to this certificate.",
    ),
    ReasonCode.QR_SIGNATURE_INVALID: (
        "二维码不是由发证机关签发的。",
        "The QR code was not signed by the issuer.",
    ),
    ReasonCode.NOT_ANCHORED: (
        "区块链上没有该证照的登记记录。",
        "The certificate is not recorded on the ledger.",
    ),
    ReasonCode.PROOF_INVALID: (
        "登记证明与区块链记录不符。",
        "The proof does not match the ledger record.",
    ),
    ReasonCode.ANCHOR_MISMATCH: (
        "区块链记录属于其他机关或其他证照类型。",
        "The ledger record belongs to another issuer or type.",
    ),
    ReasonCode.ISSUER_UNKNOWN: ("发证机关未在联盟登记。", "The issuer is not registered."),
    ReasonCode.ISSUER_SUSPENDED: (
        "发证机关当时已被暂停发证。",
        "The issuer was suspended at the time.",
    ),
    ReasonCode.TYPE_NOT_AUTHORISED: (
        "发证机关无权签发此类证照。",
        "The issuer may not issue this type of certificate.",
    ),
    ReasonCode.REVOKED: ("该证照已被撤销。", "This certificate has been revoked."),
    ReasonCode.BATCH_REVOKED: (
        "该证照所在批次已被整体撤销。",
        "The batch of this certificate has been revoked.",
    ),
    ReasonCode.EXPIRED: ("该证照已过有效期。", "This certificate has expired."),
    ReasonCode.NOT_YET_VALID: ("该证照尚未生效。", "This certificate is not valid yet."),
    ReasonCode.NOT_RECOGNISED: (
        "本省尚未与签发省份就此类证照达成互认。",
        "This province has no recognition agreement for this type with the issuing province.",
    ),
    ReasonCode.PRESENTATION_MALFORMED: (
        "出示码无法识读或不完整。",
        "The presentation code is unreadable or incomplete.",
    ),
    ReasonCode.PRESENTATION_OUTDATED: (
        "出示码由旧版钱包生成，核验点已不再接受；请持证人更新钱包后重新出示。",
        "The presentation was made by an older wallet in a layout verifiers no longer accept; "
        "ask the holder to update the wallet and show a new one.",
    ),
    ReasonCode.PRESENTATION_EXPIRED: (
        "出示码已过期，请持证人重新出示。",
        "The presentation has expired; ask the holder to show a new one.",
    ),
    ReasonCode.PRESENTATION_TOO_LONG: (
        "出示码有效期过长，不予接受。",
        "The presentation is valid for too long to be accepted.",
    ),
    ReasonCode.PRESENTATION_REPLAYED: (
        "该出示码已被使用过（可能是截图重放）。",
        "This presentation was already used (a replayed screenshot?).",
    ),
    ReasonCode.NONCE_UNKNOWN: (
        "出示码中的核验码不是本核验点发出的，或已过期。",
        "The presentation's nonce was not issued here, or has expired.",
    ),
    ReasonCode.NONCE_REQUIRED: (
        "本核验点只接受带有其核验码的出示码，请持证人按本核验点提示重新出示。",
        "This verifier accepts only presentations made for a nonce it issued; ask the holder "
        "to show a new one.",
    ),
    ReasonCode.HOLDER_NOT_BOUND: (
        "该证照签发时未绑定持证人密钥，不能由持证人出示。",
        "This certificate was issued without a holder key and cannot be presented.",
    ),
    ReasonCode.HOLDER_MISMATCH: (
        "出示人不是该证照登记的持证人。",
        "The presentation was not signed by the certificate's holder.",
    ),
    ReasonCode.CLAIM_NOT_IN_CERTIFICATE: (
        "出示的信息与证照不符（被改动或来自其他证照）。",
        "A shown field does not belong to this certificate (altered or from another one).",
    ),
    ReasonCode.NODES_DISAGREE: (
        "各省区块链节点数据不一致，暂无法确认，请稍后再试。",
        "The provinces' ledger nodes disagree on the registry data; cannot confirm for now.",
    ),
    ReasonCode.ANCHOR_UNCONFIRMED: (
        "该证照刚刚上链，尚未得到足够的区块确认，请稍后再试。",
        "The certificate was recorded on the ledger only moments ago and is not confirmed by "
        "enough blocks yet; please try again shortly.",
    ),
    ReasonCode.CHAIN_UNAVAILABLE: (
        "暂时无法查询区块链，请稍后再试。",
        "The ledger could not be reached; please try again later.",
    ),
    ReasonCode.PROOF_UNAVAILABLE: (
        "暂时无法取得登记证明，请稍后再试。",
        "The ledger proof could not be fetched; please try again.",
    ),
    ReasonCode.NO_PROOF_OF_EXISTENCE: (
        "印章证书现已过期，且暂时无法证明证照在印章有效期内已存在（无法查询上链时间），请稍后再试。",
        "The seal certificate has expired and nothing available now proves the certificate "
        "existed while it was valid (the ledger record could not be read); try again later.",
    ),
    ReasonCode.TRUST_LIST_MISSING: (
        "核验服务缺少受信任的根证书。",
        "The verifier has no trusted root certificates.",
    ),
    ReasonCode.UNEXPECTED: (
        "核验时发生意外错误，暂无法确认，请稍后再试。",
        "An unexpected error occurred; cannot confirm for now, please try again.",
    ),
    ReasonCode.NOT_APPLICABLE: ("此项不适用。", "Not applicable."),
    ReasonCode.PREREQUISITE_FAILED: (
        "未核验：它所依赖的前一项未通过。",
        "Not checked: a check it depends on did not pass.",
    ),
}


def message(code: ReasonCode, lang: str = "zh") -> str:
    zh, en = _MESSAGES.get(code, ("", code.value))
    return en if lang == "en" else zh
