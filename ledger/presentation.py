"""Holder presentations: a citizen shows chosen fields of a certificate from a phone, as a QR code
that stops working after a few minutes.

A presentation carries what a verifier needs without asking anyone but the chain — so neither
the issuer nor its proof directory learns where it was shown:

- the certificate's public leaf values (issuer, type, number, validity, claims commitment,
  document digest) and its batch root with the Merkle path, as in a public proof record;
- the disclosed claims, each with its salt and its path to the claims commitment — always
  including ``holder_key``, the holder's account committed at issuance;
- an expiry and, when the verifier offered one, its nonce;
- the holder's EIP-191 signature over all of it.

Encoding: a compact binary layout (length-prefixed text, raw hashes), base64url, behind the
``ECP1.`` tag that tells it apart from a certificate's own QR code. Layout version 2 carries one
byte after the version: the certificate's leaf version (``ledger.leaf``); for a version-3 leaf
the OFD's digest follows the PDF's (the leaf binds both). Presentations live for minutes, so
older layouts are simply refused."""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ledger.claims import ClaimsCommitment, DisclosedClaim
from ledger.errors import LedgerError
from ledger.leaf import LEAF_VERSION_TWO_DOCUMENTS, LEAF_VERSIONS
from ledger.personal_sign import SignatureError, checksum_address, recover_signer
from ledger.proofrecord import ProofRecord

__all__ = [
    "HOLDER_CLAIM",
    "PREFIX",
    "Presentation",
    "PresentationError",
    "build_presentation",
    "holder_claim_value",
    "is_presentation",
]

PREFIX = "ECP1."
HOLDER_CLAIM = "holder_key"
"""The claim committing a certificate to its holder's account (no personal data)."""
_DOMAIN = b"ecert-presentation-v1"
_VERSION = 2
_HASH = 32


class PresentationError(LedgerError, ValueError):
    """Not a well-formed presentation."""


def holder_claim_value(address: str) -> str:
    """The ``holder_key`` claim for an account: its EIP-55 text."""
    text = address.removeprefix("0x")
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise PresentationError(f"{address!r} is not an account address") from exc
    if len(raw) != 20:
        raise PresentationError(f"{address!r} is not an account address")
    return checksum_address(raw)


def is_presentation(text: str) -> bool:
    return text.strip().startswith(PREFIX)


def _seconds(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.astimezone(UTC).timestamp())


def _time(seconds: int) -> datetime | None:
    return None if seconds == 0 else datetime.fromtimestamp(seconds, UTC)


def _prefixed(raw: bytes, width: int = 1) -> bytes:
    """``raw`` behind its length in ``width`` bytes."""
    if len(raw) >= 1 << (8 * width):
        raise PresentationError(f"field too long: {raw[:20]!r}…")
    return len(raw).to_bytes(width, "big") + raw


def _text(value: str, width: int = 1) -> bytes:
    return _prefixed(value.encode("utf-8"), width)


def _hashes(values: tuple[bytes, ...]) -> bytes:
    if len(values) > 255 or any(len(v) != _HASH for v in values):
        raise PresentationError("a Merkle path is at most 255 hashes of 32 bytes")
    return bytes([len(values)]) + b"".join(values)


@dataclass(frozen=True)
class Presentation:
    record: ProofRecord
    """The certificate's public leaf values and batch proof."""
    claims: tuple[DisclosedClaim, ...]
    expires_at: datetime
    nonce: bytes = b""
    signature: bytes = field(default=b"", repr=False)

    # ------------------------------------------------------------------ signing

    def body(self) -> bytes:
        r = self.record
        two_documents = r.leaf_version >= LEAF_VERSION_TWO_DOCUMENTS
        if two_documents != (r.ofd_digest is not None and len(r.ofd_digest) == _HASH):
            raise PresentationError("a version-3 leaf carries an OFD digest, earlier ones none")
        parts = [
            bytes([_VERSION, r.leaf_version]),
            _text(r.issuer_id),
            _text(r.cert_type),
            _text(r.certificate_id),
            struct.pack(">II", _seconds(r.valid_from), _seconds(r.valid_until)),
            r.claims_commitment,
            r.document_digest,
            r.ofd_digest or b"",
            r.root,
            _hashes(r.siblings),
            bytes([len(self.claims)]),
        ]
        for claim in self.claims:
            if len(claim.salt) != 16:
                raise PresentationError("a claim salt is 16 bytes")
            parts += [_text(claim.key), _text(claim.value, 2), claim.salt, _hashes(claim.siblings)]
        if len(self.nonce) > 32:
            raise PresentationError("a nonce is at most 32 bytes")
        parts += [struct.pack(">I", _seconds(self.expires_at)), _prefixed(self.nonce)]
        return b"".join(parts)

    def signed_by(self, holder: LocalAccount) -> Presentation:
        message = encode_defunct(primitive=_DOMAIN + self.body())
        return replace(self, signature=bytes(holder.sign_message(message).signature))

    def signer(self) -> str:
        try:
            return recover_signer(_DOMAIN + self.body(), self.signature)
        except SignatureError as exc:
            raise PresentationError("the holder's signature is malformed") from exc

    def holder_claim(self) -> DisclosedClaim | None:
        return next((c for c in self.claims if c.key == HOLDER_CLAIM), None)

    # ------------------------------------------------------------------ text

    def encode(self) -> str:
        if len(self.signature) != 65:
            raise PresentationError("sign the presentation before encoding it")
        raw = self.body() + self.signature
        return PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, text: str) -> Presentation:
        text = text.strip()
        if not text.startswith(PREFIX):
            raise PresentationError("not a presentation")
        encoded = text[len(PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise PresentationError("the presentation is not base64url") from exc
        try:
            return _Reader(raw).presentation()
        except (IndexError, struct.error, UnicodeDecodeError, ValueError) as exc:
            raise PresentationError(f"the presentation is malformed: {exc}") from exc


class _Reader:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.at = 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.raw):
            raise ValueError("truncated")
        chunk = self.raw[self.at : self.at + n]
        self.at += n
        return chunk

    def text(self, width: int = 1) -> str:
        return self.take(int.from_bytes(self.take(width), "big")).decode("utf-8")

    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self.take(_HASH) for _ in range(self.take(1)[0]))

    def presentation(self) -> Presentation:
        if self.take(1)[0] != _VERSION:
            raise ValueError("unknown presentation version")
        leaf_version = self.take(1)[0]
        if leaf_version not in LEAF_VERSIONS:
            raise ValueError(f"unknown leaf version {leaf_version}")
        issuer_id, cert_type, certificate_id = self.text(), self.text(), self.text()
        valid_from, valid_until = struct.unpack(">II", self.take(8))
        commitment, digest = self.take(_HASH), self.take(_HASH)
        ofd = self.take(_HASH) if leaf_version >= LEAF_VERSION_TWO_DOCUMENTS else None
        root = self.take(_HASH)
        siblings = self.hashes()
        claims = []
        for _ in range(self.take(1)[0]):
            key, value = self.text(), self.text(2)
            claims.append(DisclosedClaim(key, value, self.take(16), self.hashes()))
        (expires,) = struct.unpack(">I", self.take(4))
        nonce = self.take(self.take(1)[0])
        signature = self.take(65)
        if self.at != len(self.raw):
            raise ValueError("trailing bytes")
        start = _time(valid_from)
        if start is None:
            raise ValueError("no validity start")
        record = ProofRecord(
            issuer_id=issuer_id,
            cert_type=cert_type,
            certificate_id=certificate_id,
            claims_commitment=commitment,
            document_digest=digest,
            valid_from=start,
            valid_until=_time(valid_until),
            root=root,
            siblings=siblings,
            index=0,
            block=0,
            leaf_version=leaf_version,
            ofd_digest=ofd,
        )
        expires_at = _time(expires)
        if expires_at is None:
            raise ValueError("no expiry")
        return Presentation(record, tuple(claims), expires_at, nonce, signature)


def build_presentation(
    record: ProofRecord,
    claims: dict[str, str],
    claims_secret: bytes,
    fields: list[str],
    holder: LocalAccount,
    *,
    expires_at: datetime,
    nonce: bytes = b"",
) -> Presentation:
    """What a holder's wallet does: disclose ``fields`` (and always ``holder_key``) from the
    certificate's claims, bind them to the public ``record``, add expiry and nonce, sign."""
    commitment = ClaimsCommitment(claims, claims_secret)
    if commitment.root != record.claims_commitment:
        raise PresentationError("these claims are not the ones the proof record commits to")
    if HOLDER_CLAIM not in claims:
        raise PresentationError("this certificate was issued without a holder key")
    if claims[HOLDER_CLAIM] != holder_claim_value(holder.address):
        raise PresentationError("this wallet's key is not the certificate's holder key")
    unknown = sorted(set(fields) - set(claims))
    if unknown:
        raise PresentationError(f"the certificate has no fields {unknown}")
    chosen = [HOLDER_CLAIM, *(f for f in fields if f != HOLDER_CLAIM)]
    unsigned = Presentation(record, tuple(commitment.disclose(chosen)), expires_at, nonce)
    return unsigned.signed_by(holder)
