"""Revert data decodes to the same RegistryRefused whatever shape the backend wraps it in."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_hash.auto import keccak
from web3.exceptions import ContractCustomError, ContractLogicError

from ledger.revert import decode_revert, refusal_from_exception


def _selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


ISSUER = b"ZJ-AMR".ljust(32, b"\0")
ROOT = b"\xab" * 32
DATA = _selector("CertificateRegistryRootAlreadyAnchored(bytes32,bytes32)") + encode(
    ["bytes32", "bytes32"], [ISSUER, ROOT]
)


def test_custom_error_decodes_with_argument_names() -> None:
    refusal = decode_revert(DATA)
    assert refusal.error == "CertificateRegistryRootAlreadyAnchored"
    assert refusal.args_by_name == {"issuerId": ISSUER, "root": ROOT}


def test_new_errors_decode_too() -> None:
    fp = b"\x01" * 32
    data = _selector("CertificateRegistryEffectiveTimeNotEarlier(bytes32,uint64,uint64)") + encode(
        ["bytes32", "uint64", "uint64"], [fp, 1_800_000_000, 1_900_000_000]
    )
    refusal = decode_revert(data)
    assert (refusal.error, refusal.args_by_name) == (
        "CertificateRegistryEffectiveTimeNotEarlier",
        {"fingerprint": fp, "recordedFrom": 1_800_000_000, "requestedFrom": 1_900_000_000},
    )


def test_builtin_error_and_panic() -> None:
    message = _selector("Error(string)") + encode(["string"], ["no"])
    assert decode_revert(message).args_by_name == {"message": "no"}
    panic = decode_revert(_selector("Panic(uint256)") + encode(["uint256"], [0x11]))
    assert (panic.error, panic.args_by_name["code"]) == ("Panic", 0x11)


def test_unknown_and_truncated_data_never_raise() -> None:
    assert decode_revert(b"\x01\x02\x03\x04").error == "Unknown"
    assert decode_revert(DATA[:20]).error == "Unknown"
    assert decode_revert(b"").error == "Unknown"


def test_same_refusal_from_every_backend_shape() -> None:
    class TransactionFailed(Exception):  # the shape eth-tester raises
        pass

    TransactionFailed.__module__ = "eth_tester.exceptions"
    shapes = [
        ContractCustomError("0x" + DATA.hex(), data="0x" + DATA.hex()),  # anvil, Hardhat 3
        ContractLogicError("execution reverted", data="0x" + DATA.hex()),  # Hardhat 2
        TransactionFailed(f"execution reverted: {DATA!r}"),  # eth-tester
    ]
    decoded = [refusal_from_exception(exc) for exc in shapes]
    assert all(
        d is not None and d.error == "CertificateRegistryRootAlreadyAnchored" for d in decoded
    )
    assert refusal_from_exception(ValueError("not a revert")) is None
