"""A registry view without a chain, for fast unit tests of the checks and the runner: every
fact is a field to set, every read can be made to fail. Certificates are made with the real
formats (leaf, Merkle tree, QR payload signed by a real account)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.codes import RevocationReason
from ledger.leaf import CertificateLeaf
from ledger.merkle import MerkleTree
from ledger.proofrecord import ProofRecord
from ledger.qrpayload import QrPayload
from ledger.records import (
    Anchor,
    CaDistrust,
    Issuer,
    IssuerStatus,
    Province,
    Revocation,
    SealCertificate,
    SealRevocation,
)
from verifier.context import Context
from verifier.nonces import NonceBook
from verifier.views import DataSource, FreshnessView

ISSUER = "ZJ-AMR"
NOW = datetime(2027, 3, 1, tzinfo=UTC)
SEAL = b"\1" * 32
"""The issuer's seal certificate fingerprint (registered at block 2)."""
SEAL_CA = b"\2" * 32
"""The fingerprint of the province CA that issued it."""


@dataclass
class FakeRegistry:
    issuers: dict[str, Issuer] = field(default_factory=dict)
    provinces: dict[str, Province] = field(default_factory=dict)
    anchors: dict[tuple[str, bytes], Anchor] = field(default_factory=dict)
    """By (issuer, root), as the registry keys them."""
    seals: dict[bytes, SealCertificate] = field(default_factory=dict)
    root_revocations: dict[tuple[str, bytes], Revocation] = field(default_factory=dict)
    leaf_revocations: dict[tuple[str, bytes, bytes], Revocation] = field(default_factory=dict)
    recognitions: set[tuple[str, str, str]] = field(default_factory=set)
    seal_revocations: dict[bytes, SealRevocation] = field(default_factory=dict)
    ca_distrusts: dict[bytes, CaDistrust] = field(default_factory=dict)
    accounts: dict[str, frozenset[str]] = field(default_factory=dict)
    fresh: bool = True
    disagreement: str | None = None
    fail_with: Exception | None = None
    """Raised by every read (a node or library failing mid-verification)."""

    def _read(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def usable(self) -> bool:
        return self.fresh and self.disagreement is None

    def freshness(self) -> FreshnessView:
        return FreshnessView(
            block=7,
            block_time=NOW.isoformat(),
            synced_at=NOW.isoformat(),
            age_seconds=1.0 if self.fresh else 999.0,
            node="up" if self.fresh else "down",
            source=DataSource.INDEX if self.usable() else DataSource.NONE,
            offline=False,
            disagreement=self.disagreement,
        )

    def issuer(self, issuer_id: str) -> Issuer | None:
        self._read()
        return self.issuers.get(issuer_id)

    def province(self, code: str) -> Province | None:
        self._read()
        return self.provinces.get(code)

    def issuer_accounts(self, issuer_id: str) -> frozenset[str]:
        self._read()
        return self.accounts.get(issuer_id, frozenset())

    def anchor_of(self, issuer_id: str, root: bytes, *, local_only: bool = False) -> Anchor | None:
        self._read()
        return self.anchors.get((issuer_id, root))

    def seal_certificate(self, fingerprint: bytes) -> SealCertificate | None:
        self._read()
        return self.seals.get(fingerprint)

    def seal_certificate_at(self, issuer_id: str, block: int) -> SealCertificate | None:
        self._read()
        return next(
            (s for s in self.seals.values() if s.issuer_id == issuer_id and s.current_at(block)),
            None,
        )

    def seal_revocation(self, fingerprint: bytes) -> SealRevocation | None:
        self._read()
        return self.seal_revocations.get(fingerprint)

    def ca_distrust(self, fingerprint: bytes) -> CaDistrust | None:
        self._read()
        return self.ca_distrusts.get(fingerprint)

    def root_revocation(self, issuer_id: str, root: bytes) -> Revocation | None:
        self._read()
        return self.root_revocations.get((issuer_id, root))

    def certificate_revocation(self, issuer_id: str, root: bytes, leaf: bytes) -> Revocation | None:
        self._read()
        return self.leaf_revocations.get((issuer_id, root, leaf))

    def is_recognised(self, verifying: str, issuing: str, cert_type: str) -> bool:
        self._read()
        return verifying == issuing or (verifying, issuing, cert_type) in self.recognitions


@dataclass
class FakeProofs:
    records: dict[tuple[str, str], ProofRecord] = field(default_factory=dict)
    fail_with: Exception | None = None

    def fetch(
        self, province: str, issuer_id: str, certificate_id: str, *, local_only: bool = False
    ) -> ProofRecord | None:
        if self.fail_with is not None:
            raise self.fail_with
        return self.records.get((issuer_id, certificate_id))


@dataclass
class Issued:
    """One certificate in a batch of four, anchored on the fake registry, with its QR."""

    registry: FakeRegistry
    proofs: FakeProofs
    account: LocalAccount
    record: ProofRecord
    qr: QrPayload

    def context(self, region: str = "ZJ", **changes: object) -> Context:
        values: dict[str, object] = {
            "region": region,
            "registry": self.registry,
            "proofs": self.proofs,
            "trust_roots": (),
            "nonces": NonceBook(),
            "now": NOW,
        }
        values.update(changes)
        return Context(**values)  # type: ignore[arg-type]


def issued(*, cert_type: str = "BUSINESS_LICENCE", days: int = 365) -> Issued:
    account = Account.create()
    start = NOW - timedelta(days=30)
    leaves = [
        CertificateLeaf(
            issuer_id=ISSUER,
            cert_type=cert_type,
            certificate_id=f"2027BL{i:08d}",
            claims_commitment=os.urandom(32),
            document_digest=os.urandom(32),
            valid_from=start,
            valid_until=start + timedelta(days=days),
        )
        for i in range(4)
    ]
    tree = MerkleTree([leaf.hash() for leaf in leaves])
    mine = leaves[1]
    proof = tree.proof(1)
    record = ProofRecord(
        issuer_id=ISSUER,
        cert_type=cert_type,
        certificate_id=mine.certificate_id,
        claims_commitment=mine.claims_commitment,
        document_digest=mine.document_digest,
        valid_from=mine.valid_from,
        valid_until=mine.valid_until,
        root=tree.root,
        siblings=proof.siblings,
        index=1,
        block=5,
        leaf_version=mine.version,
    )
    qr = QrPayload(
        ISSUER,
        cert_type,
        mine.certificate_id,
        mine.claims_commitment,
        mine.valid_from,
        mine.valid_until,
    ).signed_by(account)
    registry = FakeRegistry(
        issuers={
            ISSUER: Issuer(
                ISSUER,
                "ZJ",
                "浙江省市场监督管理局",
                account.address,
                IssuerStatus.ACTIVE,
                SEAL,
                2,
                (cert_type,),
            )
        },
        provinces={"ZJ": Province("ZJ", "浙江省", "0x" + "11" * 20, 1)},
        anchors={(ISSUER, tree.root): Anchor(tree.root, ISSUER, cert_type, 4, 5, start)},
        accounts={ISSUER: frozenset({account.address.lower()})},
        seals={SEAL: SealCertificate(SEAL, ISSUER, SEAL_CA, 2, None)},
    )
    proofs = FakeProofs({(ISSUER, mine.certificate_id): record})
    return Issued(registry, proofs, account, record, qr)


def revoked_leaf(item: Issued) -> None:
    leaf = item.record.leaf().hash()
    item.registry.leaf_revocations[(ISSUER, item.record.root, leaf)] = Revocation(
        RevocationReason.KEY_COMPROMISE, 9, NOW
    )
