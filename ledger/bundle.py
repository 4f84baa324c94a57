"""Trust bundles: a signed snapshot of the registry for verifiers that cannot reach a node.

A bundle is everything a verifier's registry index holds at one block — provinces and their
bundle keys, issuers with their accounts, seal certificates (with the CA that issued each) and
types, seal certificate revocations and CA distrusts with their effective times, anchored roots
(keyed by issuer and root), revocations, recognition agreements — with the block number, hash
and time it is as of. Each
province authority signs the bundle's digest with its BLS key; the signatures aggregate into
one. A verifier accepts a bundle only if it is for its registry, every signer is a province
whose key (with proof of possession) it knows, the signers are more than the quorum share of
all provinces (default: more than two thirds), the aggregate signature verifies, and the bundle
is not older than the newest one it has accepted (no replay).

The encoding is canonical JSON (sorted keys, no spaces, UTF-8), so every province signs the
same bytes; BLOB columns are hex. Format 2 (registry v2) added the seal and CA tables and keyed
anchors and revocations by issuer; a verifier refuses a bundle of another format."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

from ledger import bls
from ledger.errors import LedgerError
from ledger.index import RegistryIndex
from ledger.jsonread import JsonRefused, read_json, read_json_file

__all__ = [
    "DEFAULT_QUORUM",
    "FORMAT",
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_DEPTH",
    "BundleRejected",
    "PartialSignature",
    "SignedBundle",
    "TrustBundle",
    "aggregate_signatures",
    "sign_bundle",
    "verify_bundle",
]

FORMAT = "ecert-trust-bundle/2"
SIGNATURE_FORMAT = "ecert-trust-bundle-signature/1"
_DOMAIN = b"ecert-trust-bundle/2\n"
DEFAULT_QUORUM = Fraction(2, 3)
"""Signers must be strictly more than this share of all provinces."""
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_BUNDLE_DEPTH = 16
"""A signed bundle nests 5 deep (bundle → tables → table → row → cell)."""


class BundleRejected(LedgerError):
    """A bundle that must not be used; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class TrustBundle:
    registry: str
    """Address of the registry contract the snapshot is of."""
    chain_id: int
    block: int
    block_hash: str
    block_time: int
    """Unix time of ``block``."""
    tables: Mapping[str, Sequence[Sequence[Any]]] = field(repr=False)
    """Registry index tables, BLOB cells as hex."""

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "registry": self.registry,
            "chain_id": self.chain_id,
            "block": self.block,
            "block_hash": self.block_hash,
            "block_time": self.block_time,
            "tables": {k: [list(r) for r in v] for k, v in self.tables.items()},
        }

    @cached_property
    def _canonical(self) -> bytes:
        # Serialising megabytes of tables is the costly part of building, signing and checking
        # a bundle: done once per (immutable) bundle object.
        return json.dumps(
            self.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    @cached_property
    def _digest(self) -> bytes:
        return hashlib.sha256(self._canonical).digest()

    def canonical(self) -> bytes:
        return self._canonical

    def digest(self) -> bytes:
        return self._digest

    def message(self) -> bytes:
        """What each province signs: a domain tag and the digest."""
        return _DOMAIN + self.digest()

    @property
    def as_of(self) -> datetime:
        return datetime.fromtimestamp(self.block_time, UTC)

    @classmethod
    def from_index(cls, index: RegistryIndex, chain_id: int) -> TrustBundle:
        meta, tables = index.export_tables()
        if "last_block" not in meta:
            raise LedgerError("the index has not synced yet: nothing to bundle")
        blobs = index.blob_columns()
        encoded = {
            table: [
                [c.hex() if i in blobs[table] and c is not None else c for i, c in enumerate(row)]
                for row in rows
            ]
            for table, rows in tables.items()
        }
        return cls(
            registry=index.registry_address,
            chain_id=chain_id,
            block=int(meta["last_block"]),
            block_hash=meta["last_block_hash"],
            block_time=int(meta["last_block_time"]),
            tables=encoded,
        )

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> TrustBundle:
        try:
            if body["format"] != FORMAT:
                raise BundleRejected("FORMAT", f"not a trust bundle: {body['format']!r}")
            tables = body["tables"]
            if not isinstance(tables, dict) or not all(
                isinstance(rows, list) and all(isinstance(r, list) for r in rows)
                for rows in tables.values()
            ):
                raise BundleRejected("FORMAT", "bundle tables are malformed")
            return cls(
                registry=str(body["registry"]),
                chain_id=int(body["chain_id"]),
                block=int(body["block"]),
                block_hash=str(body["block_hash"]),
                block_time=int(body["block_time"]),
                tables=tables,
            )
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
            raise BundleRejected("FORMAT", f"bundle is malformed: {exc}") from exc

    def load_into(self, index: RegistryIndex) -> None:
        """Make ``index`` answer as the registry did at ``block`` (the bundle must have been
        verified first)."""
        blobs = index.blob_columns()
        try:
            rows = {
                table: [
                    [
                        bytes.fromhex(c) if i in blobs.get(table, ()) and c is not None else c
                        for i, c in enumerate(row)
                    ]
                    for row in table_rows
                ]
                for table, table_rows in self.tables.items()
            }
            index.import_tables(
                {
                    "last_block": str(self.block),
                    "last_block_hash": self.block_hash,
                    "last_block_time": str(self.block_time),
                },
                rows,
                synced_at=self.as_of,
            )
        except (ValueError, TypeError, sqlite3.Error) as exc:
            raise BundleRejected("FORMAT", f"bundle tables do not fit the index: {exc}") from exc

    def provinces(self) -> list[str]:
        return [str(row[0]) for row in self.tables.get("provinces", [])]


@dataclass(frozen=True)
class PartialSignature:
    """One province's signature over one bundle digest."""

    province: str
    digest: bytes
    signature: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "format": SIGNATURE_FORMAT,
            "province": self.province,
            "digest": self.digest.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> PartialSignature:
        try:
            if raw["format"] != SIGNATURE_FORMAT:
                raise ValueError(f"not a bundle signature: {raw['format']!r}")
            return cls(
                str(raw["province"]), bytes.fromhex(raw["digest"]), bytes.fromhex(raw["signature"])
            )
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
            raise BundleRejected("FORMAT", f"bundle signature is malformed: {exc}") from exc


@dataclass(frozen=True)
class SignedBundle:
    bundle: TrustBundle
    signers: tuple[str, ...]
    """Province codes whose signatures are aggregated, sorted."""
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle.body(),
            "signers": list(self.signers),
            "signature": self.signature.hex(),
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False), "utf-8")
        tmp.replace(path)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SignedBundle:
        try:
            signers = raw["signers"]
            if not isinstance(signers, list) or not all(isinstance(s, str) for s in signers):
                raise TypeError("signers must be a list of province codes")
            return cls(
                TrustBundle.from_body(raw["bundle"]),
                tuple(signers),
                bytes.fromhex(raw["signature"]),
            )
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
            raise BundleRejected("FORMAT", f"signed bundle is malformed: {exc}") from exc

    @classmethod
    def parse(cls, data: bytes, *, source: str = "bundle") -> SignedBundle:
        """A signed bundle from its JSON bytes (size and nesting depth bounded)."""
        try:
            raw = read_json(
                data, max_bytes=MAX_BUNDLE_BYTES, max_depth=MAX_BUNDLE_DEPTH, what=source
            )
        except JsonRefused as exc:
            raise BundleRejected("FORMAT", str(exc)) from exc
        return cls.from_json(raw)

    @classmethod
    def load(cls, path: Path) -> SignedBundle:
        try:
            raw = read_json_file(
                path, max_bytes=MAX_BUNDLE_BYTES, max_depth=MAX_BUNDLE_DEPTH, what=f"bundle {path}"
            )
        except (OSError, JsonRefused) as exc:
            raise BundleRejected("FORMAT", f"cannot read bundle {path}: {exc}") from exc
        return cls.from_json(raw)


def sign_bundle(bundle: TrustBundle, province: str, secret: int) -> PartialSignature:
    return PartialSignature(province, bundle.digest(), bls.sign(secret, bundle.message()))


def aggregate_signatures(bundle: TrustBundle, partials: Sequence[PartialSignature]) -> SignedBundle:
    """One signature from the provinces' partial signatures (one per province; each must be
    over this bundle's digest)."""
    digest = bundle.digest()
    chosen: dict[str, bytes] = {}
    for partial in partials:
        if partial.digest != digest:
            raise BundleRejected(
                "SIGNATURE", f"{partial.province} signed another bundle ({partial.digest.hex()})"
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
    and digest of the newest bundle accepted before (a bundle for an older block is a replay,
    another bundle for the same block an equivocation)."""
    bundle = signed.bundle
    if bundle.registry.lower() != registry.lower() or bundle.chain_id != chain_id:
        raise BundleRejected(
            "REGISTRY", f"bundle is for registry {bundle.registry} on chain {bundle.chain_id}"
        )
    signers = signed.signers
    if len(set(signers)) != len(signers) or list(signers) != sorted(signers):
        raise BundleRejected("FORMAT", "signers must be listed once each, sorted")
    strangers = [s for s in signers if s not in keys or s not in provinces]
    if strangers:
        raise BundleRejected(
            "UNKNOWN_SIGNER", f"not province authorities with a known key: {strangers}"
        )
    total = len(set(provinces))
    if total == 0 or Fraction(len(signers), total) <= quorum:
        raise BundleRejected(
            "QUORUM",
            f"signed by {len(signers)} of {total} provinces; more than {quorum} are needed",
        )
    digest = bundle.digest()
    if newest_seen is not None:
        seen_block, seen_digest = newest_seen
        if bundle.block < seen_block:
            raise BundleRejected(
                "STALE", f"bundle is as of block {bundle.block}, older than {seen_block} seen"
            )
        if bundle.block == seen_block and digest != seen_digest:
            raise BundleRejected(
                "EQUIVOCATION", f"another bundle for block {bundle.block} was accepted before"
            )
    if not bls.fast_aggregate_verify(
        [keys[s] for s in signers], bundle.message(), signed.signature
    ):
        raise BundleRejected("SIGNATURE", "the aggregate signature does not verify")
