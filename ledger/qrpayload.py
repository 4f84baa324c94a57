"""The QR code on a certificate: a compact payload signed by the issuing department's chain key,
carried in a URL to the verifier page. Defined once here for the issuer and the verifier.

Binary layout (version 1), then base64url without padding::

    0x01 | len|issuer id | len|certificate type | len|certificate number
         | claims commitment (32) | valid from (uint32 s) | valid until (uint32 s, 0 = none)
         | signature (65: r, s, v — EIP-191 over "ecert-qr-v1" + the bytes before it)

The claims commitment binds the QR to the document's content: a QR pasted onto another
certificate no longer matches that certificate's claims. The signature lets a verifier tell,
even offline from a trust bundle, which registered issuer account vouched for it. The whole URL
is at most 250 bytes so it stays a small, robust QR (error correction M).
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ledger.codes import cert_type_to_bytes, issuer_id_to_bytes
from ledger.errors import InvalidIdentifier, LedgerError
from ledger.personal_sign import SignatureError, recover_signer

__all__ = ["MAX_QR_BYTES", "QrPayload", "QrPayloadError", "decode_qr_text"]

VERSION = 1
MAX_QR_BYTES = 250
_DOMAIN = b"ecert-qr-v1"
_SIGNATURE = 65
_PATH_MARKER = "/v/"


class QrPayloadError(LedgerError, ValueError):
    """A QR text that is not a well-formed, correctly signed ecert payload."""


def _seconds(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.astimezone(UTC).timestamp())


def _field(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 64:
        raise QrPayloadError("a QR text field is at most 64 bytes")
    return bytes([len(raw)]) + raw


@dataclass(frozen=True, slots=True)
class QrPayload:
    """What a certificate's QR says."""

    issuer_id: str
    cert_type: str
    certificate_id: str
    claims_commitment: bytes
    valid_from: datetime
    valid_until: datetime | None
    signature: bytes = b""
    """65-byte signature by the issuer's chain account; empty until signed."""

    def body(self) -> bytes:
        """The signed bytes (everything but the signature)."""
        try:
            issuer_id_to_bytes(self.issuer_id)
            cert_type_to_bytes(self.cert_type)
        except InvalidIdentifier as exc:
            raise QrPayloadError(str(exc)) from exc
        if len(self.claims_commitment) != 32:
            raise QrPayloadError("the claims commitment must be 32 bytes")
        return (
            bytes([VERSION])
            + _field(self.issuer_id)
            + _field(self.cert_type)
            + _field(self.certificate_id)
            + self.claims_commitment
            + struct.pack(">II", _seconds(self.valid_from), _seconds(self.valid_until))
        )

    def signed_by(self, account: LocalAccount) -> QrPayload:
        message = encode_defunct(primitive=_DOMAIN + self.body())
        signature = bytes(account.sign_message(message).signature)
        return QrPayload(
            self.issuer_id,
            self.cert_type,
            self.certificate_id,
            self.claims_commitment,
            self.valid_from,
            self.valid_until,
            signature,
        )

    def signer(self) -> str:
        """The checksummed account that signed this payload."""
        if len(self.signature) != _SIGNATURE:
            raise QrPayloadError("the QR payload is not signed")
        try:
            return recover_signer(_DOMAIN + self.body(), self.signature)
        except SignatureError as exc:
            raise QrPayloadError("the QR signature is malformed") from exc

    def encode(self) -> str:
        """Base64url text of the signed payload."""
        if len(self.signature) != _SIGNATURE:
            raise QrPayloadError("sign the payload before encoding it")
        return base64.urlsafe_b64encode(self.body() + self.signature).rstrip(b"=").decode("ascii")

    def url(self, verifier_base: str) -> str:
        """The QR text: ``<verifier_base>/v/<payload>``; refuses to exceed ``MAX_QR_BYTES``."""
        text = verifier_base.rstrip("/") + _PATH_MARKER + self.encode()
        if len(text.encode("utf-8")) > MAX_QR_BYTES:
            raise QrPayloadError(f"QR text is {len(text)} bytes, more than {MAX_QR_BYTES}")
        return text

    @classmethod
    def decode(cls, encoded: str) -> QrPayload:
        """Parse base64url payload text (no signature check: see ``signer``)."""
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise QrPayloadError("the QR payload is not base64url") from exc
        if not raw or raw[0] != VERSION:
            raise QrPayloadError("unknown QR payload version")
        position = 1
        fields: list[str] = []
        try:
            for _ in range(3):
                size = raw[position]
                fields.append(raw[position + 1 : position + 1 + size].decode("utf-8"))
                if len(fields[-1].encode("utf-8")) != size:
                    raise QrPayloadError("the QR payload is truncated")
                position += 1 + size
        except (IndexError, UnicodeDecodeError) as exc:
            raise QrPayloadError("the QR payload is truncated or garbled") from exc
        rest = raw[position:]
        if len(rest) != 32 + 8 + _SIGNATURE:
            raise QrPayloadError("the QR payload has the wrong length")
        start, until = struct.unpack(">II", rest[32:40])
        payload = cls(
            issuer_id=fields[0],
            cert_type=fields[1],
            certificate_id=fields[2],
            claims_commitment=rest[:32],
            valid_from=datetime.fromtimestamp(start, tz=UTC),
            valid_until=datetime.fromtimestamp(until, tz=UTC) if until else None,
            signature=rest[40:],
        )
        payload.body()  # validates the identifiers
        return payload


def decode_qr_text(text: str) -> QrPayload:
    """Accept the whole QR URL or the bare payload, as a scanner or a person may paste it."""
    text = text.strip()
    if len(text) > 4 * MAX_QR_BYTES:
        raise QrPayloadError("the QR text is far too long")
    if "://" in text:
        path = urlsplit(text).path
        if _PATH_MARKER not in path:
            raise QrPayloadError("this URL is not an ecert verification link")
        text = path.rsplit(_PATH_MARKER, 1)[1]
    return QrPayload.decode(text)
