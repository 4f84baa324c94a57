"""Signed trust bundles as files and peers carry them (format 3: ``MAGIC``, a kind byte, the
checkpoint's header, the signers and their aggregate signature, then the state or the delta;
format 2 as its JSON), and the provinces' partial signatures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from ledger import bls
from ledger.bundle_checkpoint import (
    KIND_DELTA,
    KIND_FULL,
    MAGIC,
    MAX_BUNDLE_BYTES,
    MAX_BUNDLE_DEPTH,
    SIGNATURE_FORMAT,
    BundleRejected,
    Checkpoint,
    Refusal,
    address_bytes,
    hash32,
)
from ledger.bundle_codec import EncodingRefused, read_bytes, read_uvarint, uvarint
from ledger.bundle_delta import DeltaBundle
from ledger.bundle_full import TrustBundle
from ledger.bundle_legacy import LegacyBundle
from ledger.jsonread import JsonRefused, read_json

__all__ = ["AnyBundle", "PartialSignature", "SignedBundle"]

_MAX_CODE_BYTES = 32

AnyBundle = TrustBundle | DeltaBundle | LegacyBundle


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
            raise BundleRejected(Refusal.FORMAT, f"bundle signature is malformed: {exc}") from exc


@dataclass(frozen=True)
class SignedBundle:
    bundle: AnyBundle
    signers: tuple[str, ...]
    """Province codes whose signatures are aggregated, sorted (none: not signed yet)."""
    signature: bytes
    """The aggregate (empty: not signed yet)."""

    @classmethod
    def unsigned(cls, bundle: AnyBundle) -> SignedBundle:
        """``bundle`` with no signature yet (what ``ecert bundle build`` writes)."""
        return cls(bundle, (), b"")

    @property
    def is_delta(self) -> bool:
        return isinstance(self.bundle, DeltaBundle)

    def encode(self) -> bytes:
        """The bytes a file or a peer carries (format 3; a format-2 bundle as its JSON)."""
        bundle = self.bundle
        if isinstance(bundle, LegacyBundle):
            raw = {"bundle": dict(bundle.json_body), "signers": list(self.signers)}
            raw["signature"] = self.signature.hex()
            return json.dumps(raw, ensure_ascii=False).encode("utf-8")
        c = bundle.checkpoint
        parts = [
            MAGIC,
            KIND_DELTA if isinstance(bundle, DeltaBundle) else KIND_FULL,
            address_bytes(c.registry),
            uvarint(c.chain_id),
            uvarint(c.block),
            hash32(c.block_hash),
            uvarint(c.block_time),
            uvarint(len(self.signers)),
        ]
        for code in self.signers:
            raw_code = code.encode("utf-8")
            parts += [uvarint(len(raw_code)), raw_code]
        parts += [uvarint(len(self.signature)), self.signature]
        if isinstance(bundle, DeltaBundle):
            parts += [c.state, uvarint(bundle.base_block), bundle.base_digest]
            parts.append(bundle.encoded_changes)
        else:
            parts.append(bundle.state)
        return b"".join(parts)

    def to_json(self, *, rows: bool = True) -> dict[str, Any]:
        """The JSON form, for people."""
        return {
            "bundle": self.bundle.body(rows=rows),
            "signers": list(self.signers),
            "signature": self.signature.hex(),
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(self.encode())
        tmp.replace(path)

    @classmethod
    def parse(cls, data: bytes, *, source: str = "bundle") -> SignedBundle:
        """A signed (or not yet signed) bundle from the bytes of a file or a peer: format 3,
        or format 2 (JSON, size and nesting depth bounded). Nothing is decoded beyond the
        header until it is used: the state of a full bundle only after its signature has
        been checked."""
        if len(data) > MAX_BUNDLE_BYTES:
            raise BundleRejected(
                Refusal.FORMAT, f"{source} is larger than {MAX_BUNDLE_BYTES:,} bytes"
            )
        if data.startswith(MAGIC):
            try:
                return cls._parse_binary(data)
            except (EncodingRefused, ValueError) as exc:
                raise BundleRejected(Refusal.FORMAT, f"{source} is malformed: {exc}") from exc
        if not data.lstrip()[:1] == b"{":
            raise BundleRejected(Refusal.FORMAT, f"{source} is not a trust bundle")
        try:
            raw = read_json(
                data, max_bytes=MAX_BUNDLE_BYTES, max_depth=MAX_BUNDLE_DEPTH, what=source
            )
        except JsonRefused as exc:
            raise BundleRejected(Refusal.FORMAT, str(exc)) from exc
        return cls.from_json(raw)

    @classmethod
    def _parse_binary(cls, data: bytes) -> SignedBundle:
        pos = len(MAGIC)
        kind, pos = read_bytes(data, pos, 1)
        if kind not in (KIND_FULL, KIND_DELTA):
            raise EncodingRefused(f"unknown bundle kind {kind!r}")
        registry, pos = read_bytes(data, pos, 20)
        chain_id, pos = read_uvarint(data, pos)
        block, pos = read_uvarint(data, pos)
        block_hash, pos = read_bytes(data, pos, 32)
        block_time, pos = read_uvarint(data, pos)
        count, pos = read_uvarint(data, pos)
        if count > len(data) - pos:
            raise EncodingRefused(f"{count:,} signers announced")
        signers: list[str] = []
        for _ in range(count):
            size, pos = read_uvarint(data, pos)
            if size > _MAX_CODE_BYTES:
                raise EncodingRefused("a province code longer than 32 bytes")
            code, pos = read_bytes(data, pos, size)
            signers.append(code.decode("utf-8"))
        size, pos = read_uvarint(data, pos)
        if size not in (0, bls.SIGNATURE_SIZE):
            raise EncodingRefused(f"a signature of {size} bytes")
        signature, pos = read_bytes(data, pos, size)
        header = (Web3.to_checksum_address(registry), chain_id, block, block_hash.hex(), block_time)
        bundle: AnyBundle
        if kind == KIND_FULL:
            bundle = TrustBundle(*header, data[pos:])
        else:
            state, pos = read_bytes(data, pos, 32)
            base_block, pos = read_uvarint(data, pos)
            base_digest, pos = read_bytes(data, pos, 32)
            bundle = DeltaBundle(Checkpoint(*header, state), base_block, base_digest, data[pos:])
        return cls(bundle, tuple(signers), signature)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SignedBundle:
        """A format-2 signed bundle from its parsed JSON."""
        try:
            signers = raw["signers"]
            if not isinstance(signers, list) or not all(isinstance(s, str) for s in signers):
                raise TypeError("signers must be a list of province codes")
            return cls(
                LegacyBundle.from_body(raw["bundle"]),
                tuple(signers),
                bytes.fromhex(raw["signature"]),
            )
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
            raise BundleRejected(Refusal.FORMAT, f"signed bundle is malformed: {exc}") from exc

    @classmethod
    def load(cls, path: Path) -> SignedBundle:
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BUNDLE_BYTES + 1)
        except OSError as exc:
            raise BundleRejected(Refusal.FORMAT, f"cannot read bundle {path}: {exc}") from exc
        return cls.parse(data, source=f"bundle {path}")
