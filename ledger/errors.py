"""Exceptions raised by the ledger package.

One root, so callers can catch everything the ledger raises::

    LedgerError
     ├── InvalidIdentifier      a province code, issuer id or type code that cannot be encoded
     ├── InvalidTime            a time without a time zone, or outside what the registry stores
     ├── MerkleError            an empty batch, an index out of range, a malformed hash
     ├── RlpError               bytes that are not one canonical RLP item
     ├── ArtifactError          the compiled contract is missing or out of date
     ├── KeystoreError          a key file that cannot be read or decrypted
     ├── NodeUnavailable        the chain node could not be reached or did not answer
     ├── TransactionRejected    the node refused a transaction before running it (nonce, funds)
     └── RegistryRefused        the registry contract refused the call (a decoded revert)

``NodeUnavailable`` ("could not ask") and ``RegistryRefused`` ("asked, and the answer was no")
are kept apart on purpose: a verifier reports the first as ERROR, never as INVALID.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ArtifactError",
    "InvalidIdentifier",
    "InvalidTime",
    "KeystoreError",
    "LedgerError",
    "MerkleError",
    "NodeUnavailable",
    "RegistryRefused",
    "RlpError",
    "TransactionRejected",
]


class LedgerError(Exception):
    """Root of every exception the ledger package raises."""


class InvalidIdentifier(LedgerError, ValueError):
    """An identifier (province code, issuer id, certificate type) is not in its allowed form."""


class InvalidTime(LedgerError, ValueError):
    """A time given to the registry is naive (no time zone) or out of its range."""


class MerkleError(LedgerError, ValueError):
    """A Merkle tree or proof cannot be built or read."""


class RlpError(LedgerError, ValueError):
    """Bytes that do not decode as exactly one canonical RLP item, or a value RLP cannot hold."""


class ArtifactError(LedgerError):
    """The compiled registry artifact is missing, malformed or out of date."""


class KeystoreError(LedgerError):
    """A key file is missing, malformed, or the password does not decrypt it."""


class NodeUnavailable(LedgerError):
    """The chain node could not be reached, timed out, or answered with a transport error."""


class TransactionRejected(LedgerError):
    """The node refused a transaction without running it (bad nonce, no funds, gas limits)."""


class RegistryRefused(LedgerError):
    """The registry contract reverted.

    ``error`` is the custom error's name (e.g. ``CertificateRegistryNotAnIssuer``), or
    ``Error``/``Panic`` for Solidity's built-in reverts, or ``Unknown`` when the revert carried
    data we cannot decode; ``args`` holds the decoded arguments by parameter name.
    """

    def __init__(self, error: str, args: Mapping[str, object] | None = None, data: bytes = b""):
        self.error = error
        self.args_by_name: dict[str, object] = dict(args or {})
        self.data = data
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in self.args_by_name.items())
        super().__init__(f"{error}({rendered})")


def _render(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
