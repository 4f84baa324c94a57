"""Today's presentation encoding (layout 2, ``ECP1.`` + base64url, as main made it before
layout 3), kept here only so ``bench/presentation.py`` can print its size beside the new one in
the same run. Verifiers refuse it (``PRESENTATION_OUTDATED``); nothing else uses this."""

from __future__ import annotations

import base64
import struct
from datetime import UTC, datetime

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ledger.claims import ClaimsCommitment
from ledger.presentation import HOLDER_CLAIM
from ledger.proofrecord import ProofRecord

__all__ = ["encode_layout2"]


def _seconds(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.astimezone(UTC).timestamp())


def _prefixed(raw: bytes, width: int = 1) -> bytes:
    return len(raw).to_bytes(width, "big") + raw


def _text(value: str, width: int = 1) -> bytes:
    return _prefixed(value.encode("utf-8"), width)


def _hashes(values: tuple[bytes, ...]) -> bytes:
    return bytes([len(values)]) + b"".join(values)


def encode_layout2(
    record: ProofRecord,
    claims: dict[str, str],
    claims_secret: bytes,
    fields: list[str],
    signer: LocalAccount,
    *,
    expires_at: datetime,
    nonce: bytes = b"",
) -> str:
    """The ``ECP1.`` text main's wallet made for these fields (the holder claim first)."""
    chosen = [HOLDER_CLAIM, *(f for f in fields if f != HOLDER_CLAIM)]
    disclosed = ClaimsCommitment(claims, claims_secret).disclose(chosen)
    parts = [
        bytes([2, record.leaf_version]),
        _text(record.issuer_id),
        _text(record.cert_type),
        _text(record.certificate_id),
        struct.pack(">II", _seconds(record.valid_from), _seconds(record.valid_until)),
        record.claims_commitment,
        record.document_digest,
        record.ofd_digest or b"",
        record.root,
        _hashes(record.siblings),
        bytes([len(disclosed)]),
    ]
    for claim in disclosed:
        parts += [_text(claim.key), _text(claim.value, 2), claim.salt, _hashes(claim.siblings)]
    parts += [struct.pack(">I", _seconds(expires_at)), _prefixed(nonce)]
    body = b"".join(parts)
    message = encode_defunct(primitive=b"ecert-presentation-v1" + body)
    raw = body + bytes(signer.sign_message(message).signature)
    return "ECP1." + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
