"""An OFD certificate (written and SM2-sealed by the issuer's own writer) anchored on the fake
registry under a version-3 leaf, for fast unit tests of the OFD plan without a chain."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from eth_account import Account

from issuer.ofd import write_ofd
from issuer.render import CertificateDocument
from ledger.leaf import CertificateLeaf
from ledger.merkle import MerkleTree
from ledger.ofd import OfdPackage
from ledger.proofrecord import ProofRecord
from ledger.qrpayload import decode_qr_text
from ledger.records import Anchor, Issuer, IssuerStatus, Province, SealCertificate
from tests.issuer.conftest import SampleSm2, make_document
from tests.verifier.fake import SEAL, SEAL_CA, FakeProofs, FakeRegistry
from verifier.context import Context
from verifier.nonces import NonceBook
from verifier.sm2trust import Sm2TrustList

OFD_ISSUER = "11330000002482000X"
"""The issuer of ``tests.issuer.conftest.make_document``, named by its SM2 seal certificate."""


@dataclass
class IssuedOfd:
    registry: FakeRegistry
    proofs: FakeProofs
    sm2: SampleSm2
    ofd: bytes
    record: ProofRecord
    qr_text: str
    now: datetime
    doc: CertificateDocument

    @property
    def package(self) -> OfdPackage:
        return OfdPackage.from_zip(self.ofd)

    def context(self, **changes: object) -> Context:
        values: dict[str, object] = {
            "region": "ZJ",
            "registry": self.registry,
            "proofs": self.proofs,
            "trust_roots": (),
            "nonces": NonceBook(),
            "now": self.now,
            "sm2_trust": Sm2TrustList([self.sm2.root.cert, self.sm2.zj.cert]),
        }
        values.update(changes)
        return Context(**values)  # type: ignore[arg-type]

    def anchored_at(self, moment: datetime) -> IssuedOfd:
        """The same certificate, its batch anchored at ``moment``."""
        registry = replace(self.registry, anchors=dict(self.registry.anchors))
        key = (OFD_ISSUER, self.record.root)
        registry.anchors[key] = replace(registry.anchors[key], timestamp=moment)
        return replace(self, registry=registry)


def issued_ofd(sm2: SampleSm2, *, pdf_too: bool = True) -> IssuedOfd:
    """A business licence written as an OFD (and a random PDF digest beside it), in a batch of
    three, anchored a minute after sealing."""
    account = Account.create()
    doc = make_document(account)
    ofd = write_ofd(doc, sm2.sealer)
    now = datetime.now(UTC).replace(microsecond=0)
    leaves = [
        CertificateLeaf(
            issuer_id=OFD_ISSUER,
            cert_type="BUSINESS_LICENCE",
            certificate_id=doc.certificate_id if i == 1 else f"2026BL9{i:07d}",
            claims_commitment=doc.claims_commitment if i == 1 else os.urandom(32),
            document_digest=os.urandom(32) if pdf_too or i != 1 else bytes(32),
            valid_from=doc.valid_from,
            valid_until=doc.valid_until,
            version=3,
            ofd_digest=hashlib.sha256(ofd).digest() if i == 1 else os.urandom(32),
        )
        for i in range(3)
    ]
    tree = MerkleTree([leaf.hash() for leaf in leaves])
    mine = leaves[1]
    record = ProofRecord(
        issuer_id=OFD_ISSUER,
        cert_type="BUSINESS_LICENCE",
        certificate_id=mine.certificate_id,
        claims_commitment=mine.claims_commitment,
        document_digest=mine.document_digest,
        valid_from=mine.valid_from,
        valid_until=mine.valid_until,
        root=tree.root,
        siblings=tree.proof(1).siblings,
        index=1,
        block=5,
        leaf_version=3,
        ofd_digest=mine.ofd_digest,
    )
    anchored = now + timedelta(minutes=1)
    registry = FakeRegistry(
        issuers={
            OFD_ISSUER: Issuer(
                OFD_ISSUER,
                "ZJ",
                "浙江省市场监督管理局",
                account.address,
                IssuerStatus.ACTIVE,
                SEAL,
                2,
                ("BUSINESS_LICENCE",),
            )
        },
        provinces={"ZJ": Province("ZJ", "浙江省", "0x" + "11" * 20, 1)},
        anchors={
            (OFD_ISSUER, tree.root): Anchor(
                tree.root, OFD_ISSUER, "BUSINESS_LICENCE", 3, 5, anchored
            )
        },
        accounts={OFD_ISSUER: frozenset({account.address.lower()})},
        seals={SEAL: SealCertificate(SEAL, OFD_ISSUER, SEAL_CA, 2, None)},
    )
    proofs = FakeProofs({(OFD_ISSUER, mine.certificate_id): record})
    assert decode_qr_text(doc.qr_text).certificate_id == doc.certificate_id
    later = anchored + timedelta(hours=1)
    return IssuedOfd(registry, proofs, sm2, ofd, record, doc.qr_text, later, doc)
