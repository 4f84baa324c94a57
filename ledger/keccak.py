"""Keccak-256 (Ethereum's hash), the one function every shared format hashes with.

safe-pysha3's C implementation is about eight times faster per call than eth-hash's default
(pycryptodome) backend, which matters on the verifier's hot path (a QR verification hashes a
leaf and a Merkle path); eth-hash remains the fallback and the reference in the tests."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["keccak256"]


def _pick() -> Callable[[bytes], bytes]:
    try:
        import sha3  # noqa: PLC0415  (optional C extension)
    except ImportError:  # pragma: no cover - the fallback is eth-hash's own choice
        from eth_hash.auto import keccak  # noqa: PLC0415

        return keccak

    def keccak256(data: bytes) -> bytes:
        return sha3.keccak_256(data).digest()  # type: ignore[no-any-return]

    return keccak256


keccak256: Callable[[bytes], bytes] = _pick()
"""``keccak256(data)``: the 32-byte Keccak-256 digest (not NIST SHA3-256)."""
