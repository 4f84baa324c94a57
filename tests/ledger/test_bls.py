"""The fast BLS backend (blspy) against the reference (py-ecc): the same secret gives the same
key, proof of possession and signature bytes; each verifies what the other made — single
signatures, aggregates, proofs of possession — and both refuse the same tampering."""

from __future__ import annotations

import pytest

from ledger import bls
from ledger import bls_reference as reference

MESSAGE = b"ecert-trust-bundle/2 digest"


@pytest.fixture(scope="module")
def secrets() -> list[int]:
    # half made by each implementation: keys must not depend on who made them
    return [bls.new_secret() for _ in range(3)] + [reference.new_secret() for _ in range(2)]


def test_same_secret_same_bytes(secrets: list[int]) -> None:
    for secret in secrets:
        assert bls.public_key(secret) == reference.public_key(secret)
        assert bls.prove_possession(secret) == reference.prove_possession(secret)
        assert bls.sign(secret, MESSAGE) == reference.sign(secret, MESSAGE)
        assert bls.secret_from_bytes(bls.secret_to_bytes(secret)) == secret


def test_each_verifies_what_the_other_made(secrets: list[int]) -> None:
    keys = [bls.public_key(s) for s in secrets]
    fast_parts = [bls.sign(s, MESSAGE) for s in secrets]
    reference_parts = [reference.sign(s, MESSAGE) for s in secrets]
    assert bls.aggregate(fast_parts) == reference.aggregate(reference_parts)
    made_fast, made_slow = bls.aggregate(fast_parts), reference.aggregate(reference_parts)
    assert reference.fast_aggregate_verify(keys, MESSAGE, made_fast)
    assert bls.fast_aggregate_verify(keys, MESSAGE, made_slow)
    for secret, key in zip(secrets, keys, strict=True):
        assert bls.verify_possession(key, reference.prove_possession(secret))
        assert reference.verify_possession(key, bls.prove_possession(secret))
        assert bls.fast_aggregate_verify([key], MESSAGE, reference.sign(secret, MESSAGE))
        assert reference.fast_aggregate_verify([key], MESSAGE, bls.sign(secret, MESSAGE))


def test_both_refuse_the_same_tampering(secrets: list[int]) -> None:
    keys = [bls.public_key(s) for s in secrets]
    signature = bls.aggregate([bls.sign(s, MESSAGE) for s in secrets])
    flipped = bytes([signature[0], signature[1] ^ 1, *signature[2:]])
    cases = [
        (keys, MESSAGE + b"!", signature),  # another message
        (keys[:-1], MESSAGE, signature),  # a signer left out
        (keys, MESSAGE, flipped),  # a damaged signature
        (keys, MESSAGE, b"\0" * 96),  # not a point
        ([b"\xc0" + b"\0" * 47, *keys[1:]], MESSAGE, signature),  # the point at infinity
        ([], MESSAGE, signature),
    ]
    for key_list, message, candidate in cases:
        assert not bls.fast_aggregate_verify(key_list, message, candidate)
        assert not reference.fast_aggregate_verify(key_list, message, candidate)
    other = bls.new_secret()
    stolen = bls.prove_possession(other)
    assert not bls.verify_possession(keys[0], stolen)
    assert not reference.verify_possession(keys[0], stolen)
    with pytest.raises(ValueError, match="below the group order"):
        bls.secret_from_bytes(b"\xff" * 32)
