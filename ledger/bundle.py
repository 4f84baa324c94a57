"""Trust bundles: the registry's state at one block, signed by the provinces, for verifiers that
cannot reach a node — whole (a *full* bundle) or as what changed since an earlier one (a
*delta*).

What the provinces sign is a **checkpoint**: registry, chain, block (number, hash, time) and
the SHA-256 of the state — everything a verifier's registry index holds (provinces and their
bundle keys, issuers with their accounts, seal certificates with their CAs and types, seal
revocations and CA distrusts with their effective times, anchored roots keyed by issuer and
root, revocations, recognition agreements), encoded canonically (``ledger.bundle_codec``). Each
province authority signs the checkpoint's digest with its BLS key; the signatures aggregate
into one. A full bundle carries the state itself; a delta carries the checkpoint it leads to,
the digest and block of the bundle it applies to (its *base*), and the rows removed and added
per table. Both carry the same signature: one signed checkpoint serves a full bundle and a
delta from any base, so any verifier that holds two states can serve the delta between them.

A verifier accepts a bundle only if it is for its registry, every signer is a province whose
key (with proof of possession) it knows, the signers are more than the quorum share of all
provinces (default: more than two thirds), the aggregate signature verifies, and it is not
older than the newest one it accepted (``STALE``) nor another state for the same block
(``EQUIVOCATION``). A delta must also start from exactly the state the verifier holds
(``BASE``) and, applied to it, give exactly the state the checkpoint names (``DELTA``): it is
applied in one transaction that hashes the result and rolls back unless it matches.

Files and peers carry format 3, binary (``MAGIC``; ``SignedBundle.encode``); ``body()`` and
``ecert bundle show`` give the JSON form for people. Format 2 bundles (canonical JSON, the
format before) are still read and verified as they were signed (``LegacyBundle``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from fractions import Fraction

from ledger import bls
from ledger.bundle_checkpoint import (
    DEFAULT_QUORUM,
    FORMAT,
    JSON_FORMAT,
    MAGIC,
    MAX_BUNDLE_BYTES,
    MAX_BUNDLE_DEPTH,
    BundleRejected,
    Checkpoint,
    Refusal,
)
from ledger.bundle_delta import DeltaBundle, apply_delta, chain_deltas
from ledger.bundle_full import TrustBundle
from ledger.bundle_legacy import LegacyBundle
from ledger.bundle_wire import AnyBundle, PartialSignature, SignedBundle

__all__ = [
    "DEFAULT_QUORUM",
    "FORMAT",
    "JSON_FORMAT",
    "MAGIC",
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_DEPTH",
    "AnyBundle",
    "BundleRejected",
    "Checkpoint",
    "DeltaBundle",
    "LegacyBundle",
    "PartialSignature",
    "Refusal",
    "SignedBundle",
    "TrustBundle",
    "aggregate_signatures",
    "apply_delta",
    "chain_deltas",
    "sign_bundle",
    "verify_bundle",
]


def sign_bundle(bundle: AnyBundle, province: str, secret: int) -> PartialSignature:
    """``province``'s signature over ``bundle`` (a delta's is its checkpoint's: the same as
    the full bundle of that state would get)."""
    return PartialSignature(province, bundle.digest(), bls.sign(secret, bundle.message()))


def aggregate_signatures(bundle: AnyBundle, partials: Sequence[PartialSignature]) -> SignedBundle:
    """One signature from the provinces' partial signatures (one per province; each must be
    over this bundle's digest)."""
    digest = bundle.digest()
    chosen: dict[str, bytes] = {}
    for partial in partials:
        if partial.digest != digest:
            raise BundleRejected(
                Refusal.SIGNATURE,
                f"{partial.province} signed another bundle ({partial.digest.hex()})",
            )
        chosen.setdefault(partial.province, partial.signature)
    signers = tuple(sorted(chosen))
    return SignedBundle(bundle, signers, bls.aggregate([chosen[s] for s in signers]))


def verify_bundle(
    signed: SignedBundle,
    *,
    registry: str,
    chain_id: int,
    provinces: Collection[str],
    keys: Mapping[str, bytes],
    quorum: Fraction = DEFAULT_QUORUM,
    newest_seen: tuple[int, bytes] | None = None,
) -> None:
    """Accept ``signed`` or raise ``BundleRejected``.

    ``provinces``: every province of the consortium as this verifier knows it; ``keys``:
    province → BLS key whose proof of possession this verifier checked; ``newest_seen``: block
    and identity of the newest bundle accepted before, the state this verifier holds (a bundle
    for an older block is a replay, another state for the same block an equivocation; a delta
    must start from it). A delta's changes are checked when it is applied (``apply_delta``)."""
    bundle = signed.bundle
    if bundle.registry.lower() != registry.lower() or bundle.chain_id != chain_id:
        raise BundleRejected(
            Refusal.REGISTRY, f"bundle is for registry {bundle.registry} on chain {bundle.chain_id}"
        )
    signers = signed.signers
    if len(set(signers)) != len(signers) or list(signers) != sorted(signers):
        raise BundleRejected(Refusal.FORMAT, "signers must be listed once each, sorted")
    strangers = [s for s in signers if s not in keys or s not in provinces]
    if strangers:
        raise BundleRejected(
            Refusal.UNKNOWN_SIGNER, f"not province authorities with a known key: {strangers}"
        )
    total = len(set(provinces))
    if total == 0 or Fraction(len(signers), total) <= quorum:
        raise BundleRejected(
            Refusal.QUORUM,
            f"signed by {len(signers)} of {total} provinces; more than {quorum} are needed",
        )
    identity = bundle.identity()
    if newest_seen is not None:
        seen_block, seen_identity = newest_seen
        if bundle.block < seen_block:
            raise BundleRejected(
                Refusal.STALE,
                f"bundle is as of block {bundle.block}, older than {seen_block} seen",
            )
        if bundle.block == seen_block and identity != seen_identity:
            raise BundleRejected(
                Refusal.EQUIVOCATION,
                f"another bundle for block {bundle.block} was accepted before",
            )
    if isinstance(bundle, DeltaBundle):
        base = (bundle.base_block, bundle.base_digest)
        if newest_seen is None or (identity != newest_seen[1] and base != newest_seen):
            held = "nothing" if newest_seen is None else f"block {newest_seen[0]}"
            raise BundleRejected(
                Refusal.BASE,
                f"a delta from block {bundle.base_block} ({bundle.base_digest.hex()[:16]}…); "
                f"this verifier holds {held}",
            )
    if len(signed.signature) != bls.SIGNATURE_SIZE or not bls.fast_aggregate_verify(
        [keys[s] for s in signers], bundle.message(), signed.signature
    ):
        raise BundleRejected(Refusal.SIGNATURE, "the aggregate signature does not verify")
