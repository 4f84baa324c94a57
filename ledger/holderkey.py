"""Per-certificate holder keys: one key in the holder's wallet, a different account in every
certificate, so presentations of two certificates cannot be linked through a key.

The holder gives issuers one *holder key*: the compressed secp256k1 public key ``P`` of the
wallet's key ``k`` (``ecert wallet new`` prints it: ``0x02…`` or ``0x03…``, 33 bytes). At
issuance the issuer commits, as the certificate's ``holder_key`` claim, the account of

    P_c = P + t·G,   t = HMAC-SHA256(claims_secret, DOMAIN ‖ P) mod n

where ``claims_secret`` is the certificate's own claims secret (``ledger.claims``: 32 random bytes
drawn for it, embedded in its documents for the holder, never shown in a presentation). The
holder's device derives the matching private key ``k + t`` from its key and the certificate's
secret; nothing but ``P`` ever leaves it.

What this gives: every certificate binds a different account, and a verifier cannot tell that
two of them belong to one person — relating ``P + t₁·G`` to ``P + t₂·G`` takes ``t₁`` and ``t₂``,
so both certificates' secrets (a verifier handed one certificate's PDF learns one ``t``, hence
``P``, and still cannot test another certificate's account against it). Issuers know ``P``, as
they know the holder's name. A key given as an account address (``0x`` + 40 hex, what wallets
printed before) is committed as it is: every certificate of that holder then binds the same
account (linkable), and the wallet still presents them."""

from __future__ import annotations

import hashlib
import hmac

from coincurve import PrivateKey, PublicKey
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.errors import LedgerError
from ledger.keccak import keccak256
from ledger.personal_sign import checksum_address

__all__ = [
    "DOMAIN",
    "HolderKeyError",
    "certificate_holder_account",
    "certificate_holder_address",
    "check_holder_key",
    "holder_account_for",
    "holder_public_key",
]

DOMAIN = b"ecert-holder-key/1"
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class HolderKeyError(LedgerError, ValueError):
    """Not a holder key (a compressed public key, or an account address)."""


def holder_public_key(wallet: LocalAccount) -> str:
    """The holder key to give issuers: ``0x`` + the wallet key's 33-byte compressed public key."""
    return "0x" + PrivateKey(bytes(wallet.key)).public_key.format(compressed=True).hex()


def _raw(holder_key: str) -> bytes:
    try:
        raw = bytes.fromhex(holder_key.removeprefix("0x"))
    except (AttributeError, ValueError) as exc:
        raise HolderKeyError(f"{holder_key!r} is not a holder key (0x… hex)") from exc
    if len(raw) == 33:
        try:
            PublicKey(raw)
        except Exception as exc:  # coincurve raises ValueError or its own error
            raise HolderKeyError("the holder key is not a point of secp256k1") from exc
        return raw
    if len(raw) == 20:
        return raw
    raise HolderKeyError(
        f"{holder_key!r} is neither a holder key (33-byte public key from 'ecert wallet new') "
        "nor an account (20 bytes)"
    )


def check_holder_key(holder_key: str) -> None:
    """``HolderKeyError`` unless ``holder_key`` is a compressed public key or an address."""
    _raw(holder_key)


def _tweak(point: bytes, claims_secret: bytes) -> bytes:
    if len(claims_secret) != 32:
        raise HolderKeyError("a claims secret is 32 bytes")
    digest = hmac.new(claims_secret, DOMAIN + point, hashlib.sha256).digest()
    value = int.from_bytes(digest, "big") % _N
    if value == 0:  # probability 2^-256
        raise HolderKeyError("this claims secret gives no key; draw another")
    return value.to_bytes(32, "big")


def _address(key: PublicKey) -> str:
    return checksum_address(keccak256(key.format(compressed=False)[1:])[-20:])


def certificate_holder_address(holder_key: str, claims_secret: bytes) -> str:
    """The issuer's side: the account a certificate with ``claims_secret`` commits for the
    holder key (an address given instead is committed as it is)."""
    raw = _raw(holder_key)
    if len(raw) == 20:
        return checksum_address(raw)
    return _address(PublicKey(raw).add(_tweak(raw, claims_secret)))


def certificate_holder_account(wallet: LocalAccount, claims_secret: bytes) -> LocalAccount:
    """The device's side: the key of the account ``certificate_holder_address`` gives for this
    wallet's holder key and the certificate's claims secret."""
    key = PrivateKey(bytes(wallet.key))
    point = key.public_key.format(compressed=True)
    derived: LocalAccount = Account.from_key(key.add(_tweak(point, claims_secret)).secret)
    return derived


def holder_account_for(
    wallet: LocalAccount, holder_claim: str, claims_secret: bytes
) -> LocalAccount | None:
    """The key this wallet signs for a certificate whose ``holder_key`` claim is
    ``holder_claim``: the per-certificate one, or the wallet key itself for a certificate issued
    to its bare account; ``None`` when the certificate is not this wallet's."""
    derived = certificate_holder_account(wallet, claims_secret)
    if derived.address == holder_claim:
        return derived
    if wallet.address == holder_claim:
        return wallet
    return None
