"""Holder presentations: a citizen shows chosen fields of a certificate from a phone, as a QR code
that stops working after a few minutes.

A presentation carries what a verifier needs without asking anyone but the chain — so neither
the issuer nor its proof directory learns where it was shown — and nothing it can recompute:

- the certificate's public leaf values (issuer, type, number, validity, document digest(s)) and
  the Merkle path of its leaf in its batch; the verifier recomputes the claims commitment from
  the shown claims, the leaf from it, and the batch root from the path (then asks the chain);
- the shown claims (value and salt each) with their positions among the certificate's claims
  and one *multiproof* for all of them (``ledger.merkle.process_multiproof``), always including
  the ``holder_key`` claim — whose value is not written: it is the account the signature
  recovers, a per-certificate account (``ledger.holderkey``), so two certificates of one holder
  share no key;
- two 4-byte check values, which prove nothing (the anchor does) but let a verifier say what is
  wrong: the first bytes of the claims commitment (a changed or borrowed field:
  ``CLAIM_NOT_IN_CERTIFICATE``) and of the holder's account (another key: ``HOLDER_MISMATCH``);
- an expiry and, when the verifier offered one, its nonce;
- the holder's 64-byte signature (EIP-191 over all of the above, EIP-2098 compact form).

Layout 3 (one version byte first), as text: ``ECP2.`` then the bytes in QR alphanumeric text
(``ledger.qrtext``). Texts are length-prefixed (``_put_text``: identifiers packed three
characters in two bytes, Chinese in UTF-16 when shorter); the type and the fields are written as
their positions in the catalogue (``ledger.catalogue``), so its order of types and of each type's
fields is part of the layout (append, never reorder). Presentations live for minutes, so the
layouts before (``ECP1.``, base64url: every field with its own path, the holder's account in
every presentation) are refused with ``PresentationOutdated``."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ledger.catalogue import catalogue
from ledger.claims import ClaimsCommitment, claim_leaf
from ledger.errors import LedgerError, MerkleError
from ledger.holderkey import holder_account_for
from ledger.leaf import LEAF_VERSION_TWO_DOCUMENTS, LEAF_VERSIONS, CertificateLeaf
from ledger.merkle import multiproof_size, process_multiproof, process_proof
from ledger.personal_sign import (
    SignatureError,
    checksum_address,
    compact_signature,
    expand_signature,
    recover_signer,
)
from ledger.proofrecord import ProofRecord
from ledger.qrtext import QrTextError, from_qr_text, to_qr_text

__all__ = [
    "HOLDER_CLAIM",
    "LAYOUT",
    "PREFIX",
    "HolderBinding",
    "Presentation",
    "PresentationError",
    "PresentationOutdated",
    "ShownClaim",
    "build_presentation",
    "holder_claim_value",
    "is_presentation",
]

PREFIX = "ECP2."
OLD_PREFIX = "ECP1."
"""Layouts 1 and 2 (base64url), refused."""
LAYOUT = 3
HOLDER_CLAIM = "holder_key"
"""The claim committing a certificate to its holder's account (no personal data)."""
_DOMAIN = b"ecert-presentation-v3"
_HASH = 32
_SALT = 16
_CHECK = 4
_HOLDER_CODE = 0xFF
_PACKED = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-._/"
_PACKED_VALUE = {c: i for i, c in enumerate(_PACKED)}
_KIND_PACKED, _KIND_UTF8, _KIND_UTF16 = 0, 1, 2


class PresentationError(LedgerError, ValueError):
    """Not a well-formed presentation."""


class PresentationOutdated(PresentationError):
    """A presentation in a layout verifiers no longer accept (made by an older wallet)."""


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
    """Whether ``text`` is meant as a presentation (the old layouts included: they are
    refused as such, with their reason)."""
    return text.strip().startswith((PREFIX, OLD_PREFIX))


def _seconds(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.astimezone(UTC).timestamp())


def _time(seconds: int) -> datetime | None:
    return None if seconds == 0 else datetime.fromtimestamp(seconds, UTC)


# ---------------------------------------------------------------------- texts


def _pack(text: str) -> bytes:
    """Three characters of ``_PACKED`` in two bytes (40³ < 2¹⁶), one or two left over in one
    or two bytes."""
    digits = [_PACKED_VALUE[c] for c in text]
    out = bytearray()
    for at in range(0, len(digits) - 2, 3):
        out += ((digits[at] * 40 + digits[at + 1]) * 40 + digits[at + 2]).to_bytes(2, "big")
    rest = digits[len(digits) - len(digits) % 3 :]
    if len(rest) == 1:
        out.append(rest[0])
    elif len(rest) == 2:
        out += (rest[0] * 40 + rest[1]).to_bytes(2, "big")
    return bytes(out)


def _packed_size(chars: int) -> int:
    return 2 * (chars // 3) + (0, 1, 2)[chars % 3]


def _unpack(raw: bytes, chars: int) -> str:
    out: list[str] = []
    for at in range(0, 2 * (chars // 3), 2):
        value = int.from_bytes(raw[at : at + 2], "big")
        if value >= 40**3:
            raise ValueError("packed text out of range")
        out += _PACKED[value // 1600], _PACKED[value // 40 % 40], _PACKED[value % 40]
    tail = raw[2 * (chars // 3) :]
    value = int.from_bytes(tail, "big") if tail else 0
    if chars % 3 == 1:
        if value >= 40:
            raise ValueError("packed text out of range")
        out.append(_PACKED[value])
    elif chars % 3 == 2:
        if value >= 1600:
            raise ValueError("packed text out of range")
        out += _PACKED[value // 40], _PACKED[value % 40]
    return "".join(out)


def _put_text(value: str) -> bytes:
    """A header byte (kind in the top two bits, length in the low six; 63: a two-byte length
    follows) and the text: packed if it can be, else the shorter of UTF-8 and UTF-16."""
    if all(c in _PACKED_VALUE for c in value):
        kind, length, payload = _KIND_PACKED, len(value), _pack(value)
    else:
        utf8, utf16 = value.encode("utf-8"), value.encode("utf-16-be")
        kind, payload = (_KIND_UTF16, utf16) if len(utf16) < len(utf8) else (_KIND_UTF8, utf8)
        length = len(payload)
    if length < 63:
        return bytes([kind << 6 | length]) + payload
    if length > 0xFFFF:
        raise PresentationError(f"text too long: {value[:20]!r}…")
    return bytes([kind << 6 | 63]) + length.to_bytes(2, "big") + payload


# ---------------------------------------------------------------------- the layout


@dataclass(frozen=True)
class ShownClaim:
    """One shown field: what its leaf among the certificate's claims is made of."""

    position: int
    """Its leaf's position among the certificate's claims (in key order)."""
    key: str
    value: str
    salt: bytes


@dataclass(frozen=True)
class HolderBinding:
    """The ``holder_key`` claim, shown without its value (the signature's account is it)."""

    position: int
    salt: bytes
    check: bytes
    """The first 4 bytes of the per-certificate account (a diagnosis, not a proof)."""


@dataclass(frozen=True)
class Presentation:
    leaf_version: int
    issuer_id: str
    cert_type: str
    certificate_id: str
    valid_from: datetime
    valid_until: datetime | None
    document_digest: bytes
    ofd_digest: bytes | None
    """Both documents' digests for a version-3 leaf (as in its proof record), else ``None``."""
    batch_path: tuple[bytes, ...]
    """The leaf's Merkle path in its anchored batch (the root is recomputed)."""
    claims_check: bytes
    """The first 4 bytes of the certificate's claims commitment (a diagnosis, not a proof)."""
    claim_count: int
    """How many claims the certificate has (the claims tree's size)."""
    fields: tuple[ShownClaim, ...]
    holder: HolderBinding | None
    claim_hashes: tuple[bytes, ...]
    """The claims multiproof: the nodes the shown leaves need, level by level."""
    expires_at: datetime
    nonce: bytes = b""
    signature: bytes = field(default=b"", repr=False)
    """64 bytes, EIP-2098."""

    # ------------------------------------------------------------------ what it says

    @property
    def disclosed(self) -> dict[str, str]:
        """The shown fields by key (the holder key is not one)."""
        return {c.key: c.value for c in self.fields}

    @cached_property
    def _signer(self) -> str | PresentationError:
        try:
            return recover_signer(_DOMAIN + self.body(), expand_signature(self.signature))
        except SignatureError:
            return PresentationError("the holder's signature is malformed")

    def signer(self) -> str:
        """The account that signed it; ``PresentationError`` for a malformed signature."""
        found = self._signer
        if isinstance(found, PresentationError):
            raise found
        return found

    def claims_commitment(self) -> bytes:
        """The claims commitment the shown claims and the multiproof lead to (the holder claim
        with the signer's account as its value); ``PresentationError`` if they cannot be
        combined."""
        leaves = {c.position: claim_leaf(c.salt, c.key, c.value) for c in self.fields}
        if self.holder is not None:
            value = holder_claim_value(self.signer())
            leaves[self.holder.position] = claim_leaf(self.holder.salt, HOLDER_CLAIM, value)
        try:
            return process_multiproof(self.claim_count, leaves, self.claim_hashes)
        except MerkleError as exc:
            raise PresentationError(f"the claims proof is malformed: {exc}") from exc

    def record(self, commitment: bytes) -> ProofRecord:
        """The certificate's proof record, as this presentation and ``commitment`` make it
        (the batch root recomputed from the leaf and its path)."""
        leaf = CertificateLeaf(
            issuer_id=self.issuer_id,
            cert_type=self.cert_type,
            certificate_id=self.certificate_id,
            claims_commitment=commitment,
            document_digest=self.document_digest,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            version=self.leaf_version,
            ofd_digest=self.ofd_digest,
        )
        try:
            root = process_proof(leaf.hash(), self.batch_path)
        except MerkleError as exc:
            raise PresentationError(f"the batch proof is malformed: {exc}") from exc
        return ProofRecord(
            issuer_id=self.issuer_id,
            cert_type=self.cert_type,
            certificate_id=self.certificate_id,
            claims_commitment=commitment,
            document_digest=self.document_digest,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            root=root,
            siblings=self.batch_path,
            index=0,
            block=0,
            leaf_version=self.leaf_version,
            ofd_digest=self.ofd_digest,
        )

    # ------------------------------------------------------------------ bytes

    def _type_code(self) -> bytes:
        types = list(catalogue())
        if self.cert_type in types:
            return bytes([types.index(self.cert_type) + 1])
        return b"\0" + _put_text(self.cert_type)

    def _key_code(self, key: str) -> bytes:
        spec = catalogue().get(self.cert_type)
        keys = [f.key for f in spec.fields] if spec else []
        if key in keys and keys.index(key) + 1 < _HOLDER_CODE:
            return bytes([keys.index(key) + 1])
        return b"\0" + _put_text(key)

    def body(self) -> bytes:
        """Everything but the signature: what the holder signs."""
        two_documents = self.leaf_version >= LEAF_VERSION_TWO_DOCUMENTS
        if two_documents != (self.ofd_digest is not None):
            raise PresentationError("a version-3 leaf carries an OFD digest, earlier ones none")
        if len(self.nonce) > 32:
            raise PresentationError("a nonce is at most 32 bytes")
        if len(self.claims_check) != _CHECK or len(self.batch_path) > 255:
            raise PresentationError("a claims check is 4 bytes; a batch path at most 255 hashes")
        if not 1 <= self.claim_count <= 255:
            raise PresentationError("a certificate has 1 to 255 claims")
        shown: dict[int, bytes] = {}
        for claim in self.fields:
            if claim.key == HOLDER_CLAIM or len(claim.salt) != _SALT:
                raise PresentationError("a field is not the holder key and has a 16-byte salt")
            shown[claim.position] = (
                self._key_code(claim.key) + _put_text(claim.value) + bytes(claim.salt)
            )
        if self.holder is not None:
            if len(self.holder.salt) != _SALT or len(self.holder.check) != _CHECK:
                raise PresentationError("the holder claim has a 16-byte salt and 4-byte check")
            shown[self.holder.position] = (
                bytes([_HOLDER_CODE]) + bytes(self.holder.check) + bytes(self.holder.salt)
            )
        if len(shown) != len(self.fields) + (self.holder is not None) or not all(
            0 <= p < self.claim_count for p in shown
        ):
            raise PresentationError("claims at distinct positions within the certificate's")
        bitmap = bytearray((self.claim_count + 7) // 8)
        for p in shown:
            bitmap[p // 8] |= 0x80 >> (p % 8)
        digests = self.document_digest + (self.ofd_digest or b"")
        hashes = (*self.batch_path, *self.claim_hashes)
        if len(digests) != _HASH * (1 + two_documents) or any(len(h) != _HASH for h in hashes):
            raise PresentationError("digests and hashes are 32 bytes")
        parts = [
            bytes([LAYOUT, self.leaf_version]),
            _put_text(self.issuer_id),
            self._type_code(),
            _put_text(self.certificate_id),
            struct.pack(">II", _seconds(self.valid_from), _seconds(self.valid_until)),
            bytes(self.claims_check),
            digests,
            bytes([len(self.batch_path)]),
            *self.batch_path,
            bytes([self.claim_count]),
            bytes(bitmap),
            *(shown[p] for p in sorted(shown)),
            *self.claim_hashes,
            struct.pack(">I", _seconds(self.expires_at)),
            bytes([len(self.nonce)]),
            self.nonce,
        ]
        return b"".join(parts)

    def signed_by(self, holder: LocalAccount) -> Presentation:
        message = encode_defunct(primitive=_DOMAIN + self.body())
        signature = bytes(holder.sign_message(message).signature)
        return replace(self, signature=compact_signature(signature))

    def raw(self) -> bytes:
        if len(self.signature) != 64:
            raise PresentationError("sign the presentation before encoding it")
        return self.body() + self.signature

    def encode(self) -> str:
        return PREFIX + to_qr_text(self.raw())

    @classmethod
    def decode(cls, text: str) -> Presentation:
        text = text.strip()
        if text.startswith(OLD_PREFIX):
            raise PresentationOutdated(
                "this presentation is in an older layout (ECP1) that verifiers no longer "
                "accept; the holder should update the wallet and show a new one"
            )
        if not text.startswith(PREFIX):
            raise PresentationError("not a presentation")
        try:
            raw = from_qr_text(text[len(PREFIX) :])
        except QrTextError as exc:
            raise PresentationError(f"the presentation text is damaged: {exc}") from exc
        return cls.from_raw(raw)

    @classmethod
    def from_raw(cls, raw: bytes) -> Presentation:
        try:
            return _Reader(raw).presentation()
        except PresentationError:
            raise
        except (IndexError, KeyError, struct.error, UnicodeDecodeError, ValueError) as exc:
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

    def byte(self) -> int:
        return self.take(1)[0]

    def text(self) -> str:
        head = self.byte()
        kind, length = head >> 6, head & 63
        if length == 63:
            length = int.from_bytes(self.take(2), "big")
        if kind == _KIND_PACKED:
            return _unpack(self.take(_packed_size(length)), length)
        if kind == _KIND_UTF8:
            return self.take(length).decode("utf-8")
        if kind == _KIND_UTF16:
            return self.take(length).decode("utf-16-be")
        raise ValueError(f"unknown text kind {kind}")

    def hashes(self, n: int) -> tuple[bytes, ...]:
        return tuple(self.take(_HASH) for _ in range(n))

    def presentation(self) -> Presentation:
        layout = self.byte()
        if 1 <= layout < LAYOUT:
            raise PresentationOutdated(f"presentation layout {layout} is no longer accepted")
        if layout != LAYOUT:
            raise ValueError(f"unknown presentation layout {layout}")
        leaf_version = self.byte()
        if leaf_version not in LEAF_VERSIONS:
            raise ValueError(f"unknown leaf version {leaf_version}")
        issuer_id = self.text()
        type_code = self.byte()
        cert_type = self.text() if type_code == 0 else list(catalogue())[type_code - 1]
        spec = catalogue().get(cert_type)
        keys = [f.key for f in spec.fields] if spec else []
        certificate_id = self.text()
        valid_from, valid_until = struct.unpack(">II", self.take(8))
        claims_check = self.take(_CHECK)
        document = self.take(_HASH)
        ofd = self.take(_HASH) if leaf_version >= LEAF_VERSION_TWO_DOCUMENTS else None
        batch_path = self.hashes(self.byte())
        count = self.byte()
        bitmap = self.take((count + 7) // 8)
        positions = [p for p in range(len(bitmap) * 8) if bitmap[p // 8] & 0x80 >> (p % 8)]
        if not positions or positions[-1] >= count:
            raise ValueError("no claims shown, or one beyond the certificate's")
        fields: list[ShownClaim] = []
        holder: HolderBinding | None = None
        for position in positions:
            code = self.byte()
            if code == _HOLDER_CODE:
                if holder is not None:
                    raise ValueError("two holder claims")
                check = self.take(_CHECK)
                holder = HolderBinding(position, self.take(_SALT), check)
                continue
            key = self.text() if code == 0 else keys[code - 1]
            if key == HOLDER_CLAIM or key in {c.key for c in fields}:
                raise ValueError(f"field {key!r} shown twice or as a field")
            fields.append(ShownClaim(position, key, self.text(), self.take(_SALT)))
        claim_hashes = self.hashes(multiproof_size(count, positions))
        (expires,) = struct.unpack(">I", self.take(4))
        nonce = self.take(self.byte())
        signature = self.take(64)
        if self.at != len(self.raw):
            raise ValueError("trailing bytes")
        start, expires_at = _time(valid_from), _time(expires)
        if start is None or expires_at is None:
            raise ValueError("no validity start or no expiry")
        CertificateLeaf(  # identifiers a leaf can hold, dates in order (the commitment comes later)
            issuer_id, cert_type, certificate_id, bytes(_HASH), document, start, _time(valid_until),
            leaf_version, ofd,
        ).encoded()  # fmt: skip
        return Presentation(
            leaf_version=leaf_version,
            issuer_id=issuer_id,
            cert_type=cert_type,
            certificate_id=certificate_id,
            valid_from=start,
            valid_until=_time(valid_until),
            document_digest=document,
            ofd_digest=ofd,
            batch_path=batch_path,
            claims_check=claims_check,
            claim_count=count,
            fields=tuple(fields),
            holder=holder,
            claim_hashes=claim_hashes,
            expires_at=expires_at,
            nonce=nonce,
            signature=signature,
        )


def build_presentation(
    record: ProofRecord,
    claims: dict[str, str],
    claims_secret: bytes,
    fields: list[str],
    wallet: LocalAccount,
    *,
    expires_at: datetime,
    nonce: bytes = b"",
) -> Presentation:
    """What a holder's wallet does: disclose ``fields`` (and always the holder claim) from the
    certificate's claims, bind them to the public ``record``, add expiry and nonce, and sign
    with the certificate's own key, derived from the ``wallet`` key (``ledger.holderkey``)."""
    commitment = ClaimsCommitment(claims, claims_secret)
    if commitment.root != record.claims_commitment:
        raise PresentationError("these claims are not the ones the proof record commits to")
    if HOLDER_CLAIM not in claims:
        raise PresentationError("this certificate was issued without a holder key")
    signer = holder_account_for(wallet, claims[HOLDER_CLAIM], claims_secret)
    if signer is None:
        raise PresentationError("this wallet's key is not the certificate's holder key")
    unknown = sorted(set(fields) - set(claims))
    if unknown:
        raise PresentationError(f"the certificate has no fields {unknown}")
    chosen = [HOLDER_CLAIM, *dict.fromkeys(f for f in fields if f != HOLDER_CLAIM)]
    holder_at = commitment.position(HOLDER_CLAIM)
    account = bytes.fromhex(claims[HOLDER_CLAIM][2:])
    unsigned = Presentation(
        leaf_version=record.leaf_version,
        issuer_id=record.issuer_id,
        cert_type=record.cert_type,
        certificate_id=record.certificate_id,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        document_digest=record.document_digest,
        ofd_digest=record.ofd_digest,
        batch_path=record.siblings,
        claims_check=record.claims_commitment[:_CHECK],
        claim_count=commitment.size,
        fields=tuple(
            ShownClaim(commitment.position(k), k, claims[k], commitment.salt(k))
            for k in sorted(chosen[1:], key=commitment.position)
        ),
        holder=HolderBinding(holder_at, commitment.salt(HOLDER_CLAIM), account[:_CHECK]),
        claim_hashes=commitment.multiproof(sorted(chosen, key=commitment.position)),
        expires_at=expires_at,
        nonce=nonce,
    )
    return unsigned.signed_by(signer)
