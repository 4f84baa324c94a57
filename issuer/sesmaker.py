"""Making a department's electronic seal (``SES_Seal``, GB/T 38540 §7): the province's
seal-making certificate signs the seal's information — its picture, validity and the seal
certificates allowed to use it — so a seal cannot be redrawn or lent to another key."""

from __future__ import annotations

from datetime import UTC, datetime

from issuer.sm2pki import Sm2Issued
from issuer.stamp import STAMP_MM, stamp_picture
from ledger import ses, sm2

__all__ = ["VENDOR_ID", "make_seal"]

VENDOR_ID = "ecert"
"""``SES_Header.Vid``: who made the seal."""


def make_seal(
    maker: Sm2Issued,
    signer: Sm2Issued,
    *,
    es_id: str,
    name: str,
    valid_start: datetime,
    valid_end: datetime,
    now: datetime | None = None,
    picture: bytes | None = None,
) -> ses.SesSeal:
    """A seal that only ``signer``'s certificate may sign with, made (signed) by ``maker``."""
    info = ses.SesSealInfo(
        {
            "header": {"id": "ES", "version": ses.SES_VERSION, "vid": VENDOR_ID},
            "es_id": es_id,
            "property": {
                "type": ses.SEAL_TYPE_ORGANISATION,
                "name": name,
                "cert_list_type": ses.CERT_LIST_CERTIFICATES,
                "cert_list": ses.CertInfoList([signer.der]),
                "create_date": _utc(now or datetime.now(UTC)),
                "valid_start": _utc(valid_start),
                "valid_end": _utc(valid_end),
            },
            "picture": {
                "type": "PNG",
                "data": picture if picture is not None else stamp_picture(name),
                "width": STAMP_MM,
                "height": STAMP_MM,
            },
        }
    )
    return ses.SesSeal(
        {
            "eseal_info": info,
            "cert": maker.der,
            "sign_alg_id": sm2.SM3_WITH_SM2,
            "signed_value": sm2.sign(maker.key, info.dump()),
        }
    )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)
