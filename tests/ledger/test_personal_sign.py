from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.personal_sign import SignatureError, checksum_address, recover_signer

KEYS = st.integers(1, 2**255).map(lambda n: n.to_bytes(32, "big"))


@settings(max_examples=40, deadline=None)
@given(KEYS, st.binary(max_size=200))
def test_recover_signer_agrees_with_eth_account(key: bytes, message: bytes) -> None:
    account = Account.from_key(key)
    signature = bytes(account.sign_message(encode_defunct(primitive=message)).signature)
    assert recover_signer(message, signature) == account.address
    assert recover_signer(message, signature) == Account.recover_message(
        encode_defunct(primitive=message), signature=signature
    )
    # v as 0/1 is accepted too; another message recovers another account.
    assert recover_signer(message, signature[:64] + bytes([signature[64] - 27])) == account.address
    assert recover_signer(message + b"!", signature) != account.address


@given(st.binary(min_size=20, max_size=20))
def test_checksum_address_is_eip55(raw: bytes) -> None:
    assert checksum_address(raw) == to_checksum_address(raw)


@pytest.mark.parametrize(
    "signature",
    [
        b"",
        b"\x01" * 64,
        b"\x00" * 65,
        b"\x01" * 64 + b"\x05",
        b"\xff" * 64 + b"\x1b",
    ],
)
def test_malformed_signatures_raise_signature_error(signature: bytes) -> None:
    with pytest.raises(SignatureError):
        recover_signer(b"message", signature)
