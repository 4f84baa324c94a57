"""The electronic seal and seal-signature structures of GB/T 38540-2020 (安全电子签章密码技术
规范, version 4), as asn1crypto types: defined once for the issuer, which writes them, and the
verifier, which reads them.

The module follows the standard's ASN.1 (field names in ``snake_case``)::

    SES_Seal      ::= SEQUENCE { esealInfo SES_SealInfo, cert OCTET STRING,
                                 signAlgID OBJECT IDENTIFIER, signedValue BIT STRING }
    SES_SealInfo  ::= SEQUENCE { header SES_Header, esID IA5String,
                                 property SES_ESPropertyInfo, picture SES_ESPictrueInfo,
                                 extDatas ExtensionDatas OPTIONAL }
    SES_Header    ::= SEQUENCE { ID IA5String ("ES"), version INTEGER (4), Vid IA5String }
    SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String, certListType INTEGER,
                                 certList SES_CertList, createDate GeneralizedTime,
                                 validStart GeneralizedTime, validEnd GeneralizedTime }
    SES_CertList  ::= CHOICE { certs CertInfoList, certDigestList CertDigestList }
    SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING,
                                 width INTEGER, height INTEGER }          -- millimetres
    SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING,
                                 signatureAlgID OBJECT IDENTIFIER, signature BIT STRING,
                                 timeStamp [0] EXPLICIT BIT STRING OPTIONAL }
    TBS_Sign      ::= SEQUENCE { version INTEGER (4), eseal SES_Seal,
                                 timeInfo GeneralizedTime, dataHash BIT STRING,
                                 propertyInfo IA5String,
                                 extDatas [0] EXPLICIT ExtensionDatas OPTIONAL }

``SES_CertList``'s two alternatives are both untagged ``SEQUENCE OF``, told apart only by
``certListType`` (1: certificates, 2: digests), so ``cert_list`` is kept as ``Any`` and read
with ``SesPropertyInfo.certificates()``. Signatures (``signedValue``, ``signature``) hold the
DER SM2 signature (see ``ledger.sm2``).
"""

from __future__ import annotations

from asn1crypto import core

__all__ = [
    "CERT_LIST_CERTIFICATES",
    "SEAL_TYPE_ORGANISATION",
    "SES_VERSION",
    "CertDigestList",
    "CertInfoList",
    "ExtensionData",
    "ExtensionDatas",
    "SesHeader",
    "SesPictureInfo",
    "SesPropertyInfo",
    "SesSeal",
    "SesSealInfo",
    "SesSignature",
    "TbsSign",
]

SES_VERSION = 4
SEAL_TYPE_ORGANISATION = 1
"""``SES_ESPropertyInfo.type``: 1 an organisation's seal (单位印章), 2 a person's."""
CERT_LIST_CERTIFICATES = 1
"""``certListType``: 1 the signers' certificates themselves, 2 their digests."""


class ExtensionData(core.Sequence):
    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtensionData


class SesHeader(core.Sequence):
    _fields = [
        ("id", core.IA5String),
        ("version", core.Integer),
        ("vid", core.IA5String),
    ]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):
    _fields = [("type", core.PrintableString), ("value", core.OctetString)]


class CertDigestList(core.SequenceOf):
    _child_spec = CertDigestObj


class SesPropertyInfo(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", core.Any),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]

    def certificates(self) -> list[bytes]:
        """The DER certificates of the signers this seal belongs to (``certListType`` 1);
        ``ValueError`` for a digest list, which this implementation does not issue."""
        if self["cert_list_type"].native != CERT_LIST_CERTIFICATES:
            raise ValueError("the seal lists certificate digests, not certificates")
        return [bytes(c.native) for c in self["cert_list"].parse(CertInfoList)]


class SesPictureInfo(core.Sequence):
    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SesSealInfo(core.Sequence):
    _fields = [
        ("header", SesHeader),
        ("es_id", core.IA5String),
        ("property", SesPropertyInfo),
        ("picture", SesPictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SesSeal(core.Sequence):
    _fields = [
        ("eseal_info", SesSealInfo),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class TbsSign(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SesSeal),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SesSignature(core.Sequence):
    _fields = [
        ("to_sign", TbsSign),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]
