"""EIP-191 ``personal_sign`` signatures: the one place that recovers which chain account signed a
message (QR payloads and holder presentations), and their 64-byte EIP-2098 form (the recovery
bit in the top bit of ``s``) that presentations carry.

Recovery goes straight to libsecp256k1 through coincurve with the C Keccak, about five times
cheaper than ``eth_account.Account.recover_message``; the tests check both agree."""

from __future__ import annotations

from coincurve import PublicKey

from ledger.keccak import keccak256

__all__ = [
    "SignatureError",
    "checksum_address",
    "compact_signature",
    "expand_signature",
    "personal_message_hash",
    "recover_signer",
]

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = _SECP256K1_N // 2


class SignatureError(ValueError):
    """The signature is malformed or recovers no key."""


def personal_message_hash(message: bytes) -> bytes:
    """``keccak256("\\x19Ethereum Signed Message:\\n" + len + message)``."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case text of a 20-byte address."""
    if len(raw) != 20:
        raise ValueError("an address is 20 bytes")
    lower = raw.hex()
    nibbles = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(nibbles[i], 16) >= 8 else c for i, c in enumerate(lower)
    )


def recover_signer(message: bytes, signature: bytes) -> str:
    """The checksummed account whose key made ``signature`` (r ‖ s ‖ v, v in 27/28 or 0/1)
    over ``message`` under EIP-191 version 0x45."""
    if len(signature) != 65:
        raise SignatureError("a signature is 65 bytes")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v >= 27:
        v -= 27
    if v not in (0, 1) or not (0 < r < _SECP256K1_N and 0 < s < _SECP256K1_N):
        raise SignatureError("signature values out of range")
    try:
        key = PublicKey.from_signature_and_message(
            signature[:64] + bytes([v]), personal_message_hash(message), hasher=None
        )
    except Exception as exc:  # coincurve raises ValueError or its own error for no key
        raise SignatureError("the signature recovers no key") from exc
    return checksum_address(keccak256(key.format(compressed=False)[1:])[-20:])


def compact_signature(signature: bytes) -> bytes:
    """EIP-2098: ``r ‖ s`` with the recovery bit ``v`` in the top bit of ``s`` (64 bytes). Only
    low-``s`` signatures have one (what eth-account and libsecp256k1 make)."""
    if len(signature) != 65:
        raise SignatureError("a signature is 65 bytes")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    if v not in (0, 1) or not 0 < s <= _HALF_N:
        raise SignatureError("only a low-s signature with v in 27/28 or 0/1 has a compact form")
    return signature[:32] + (s | v << 255).to_bytes(32, "big")


def expand_signature(compact: bytes) -> bytes:
    """The 65-byte ``r ‖ s ‖ v`` (v in 27/28) of an EIP-2098 signature."""
    if len(compact) != 64:
        raise SignatureError("a compact signature is 64 bytes")
    word = int.from_bytes(compact[32:], "big")
    s = word & ((1 << 255) - 1)
    return compact[:32] + s.to_bytes(32, "big") + bytes([27 + (word >> 255)])
