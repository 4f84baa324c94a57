"""The reference implementation of ``ledger.bls``: the same operations through py-ecc (pure
Python, ~0.2 s a signature, ~0.5 s an aggregate verification). Nothing on a request path uses
it; the tests sign with one implementation and verify with the other, both ways, so the fast
backend's wire format stays exactly the IETF draft's (G2ProofOfPossession)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from eth_typing import BLSPubkey, BLSSignature
from py_ecc.bls.ciphersuites import G2ProofOfPossession as Scheme

__all__ = [
    "KEY_SIZE",
    "SIGNATURE_SIZE",
    "aggregate",
    "fast_aggregate_verify",
    "new_secret",
    "prove_possession",
    "public_key",
    "secret_from_bytes",
    "secret_to_bytes",
    "sign",
    "verified_keys",
    "verify_possession",
]

KEY_SIZE = 48
SIGNATURE_SIZE = 96


def new_secret() -> int:
    """A fresh secret key from the operating system's randomness."""
    return int(Scheme.KeyGen(os.urandom(32)))


def secret_to_bytes(secret: int) -> bytes:
    return secret.to_bytes(32, "big")


def secret_from_bytes(raw: bytes) -> int:
    if len(raw) != 32 or int.from_bytes(raw, "big") == 0:
        raise ValueError("a BLS secret key is 32 non-zero bytes")
    return int.from_bytes(raw, "big")


def public_key(secret: int) -> bytes:
    return bytes(Scheme.SkToPk(secret))


def prove_possession(secret: int) -> bytes:
    return bytes(Scheme.PopProve(secret))


def sign(secret: int, message: bytes) -> bytes:
    return bytes(Scheme.Sign(secret, message))


def aggregate(signatures: Sequence[bytes]) -> bytes:
    if not signatures:
        raise ValueError("nothing to aggregate")
    return bytes(Scheme.Aggregate([BLSSignature(s) for s in signatures]))


def verify_possession(key: bytes, proof: bytes) -> bool:
    if len(key) != KEY_SIZE or len(proof) != SIGNATURE_SIZE:
        return False
    try:
        return bool(Scheme.PopVerify(BLSPubkey(key), BLSSignature(proof)))
    except Exception:  # py-ecc raises assorted errors for points off the curve
        return False


def fast_aggregate_verify(keys: Iterable[bytes], message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` aggregates signatures over ``message`` by exactly ``keys`` (whose
    possession must already have been proved)."""
    keys = list(keys)
    if not keys or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        typed = [BLSPubkey(k) for k in keys]
        return bool(Scheme.FastAggregateVerify(typed, message, BLSSignature(signature)))
    except Exception:  # malformed points
        return False


def verified_keys(published: Mapping[str, tuple[bytes, bytes]]) -> dict[str, bytes]:
    """The keys (by province) whose proof of possession verifies; the others are dropped."""
    return {code: key for code, (key, proof) in published.items() if verify_possession(key, proof)}
