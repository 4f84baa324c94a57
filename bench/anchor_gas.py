"""Gas per anchored certificate when a batch is anchored as one Merkle root.

Ours: for batches of 1, 16, 1,024 and 65,536 certificates, build the batch's ``MerkleTree`` from
real ``CertificateLeaf`` hashes and anchor its root with ``Registry.anchor`` on a fresh local
anvil node; gas is the anchor transaction's ``gasUsed`` (21,000 intrinsic gas included).
Baseline (same run, same node): the naive approach — every certificate's leaf hash anchored by
its own transaction (one ``anchor`` per leaf, i.e. batch size 1), done for the 1,024
certificates of the 1,024 batch.

Target: at most 60 gas per certificate at 1,024 (exit code 1 otherwise).
Run: ``python bench/anchor_gas.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain import Chain
from ledger.leaf import CertificateLeaf
from ledger.merkle import MerkleTree
from ledger.node import AnvilNode, free_port
from ledger.registry import Registry

ISSUER = "11330000MB0000011M"
CERT_TYPE = "BUSINESS_LICENCE"
BATCH_SIZES = (1, 16, 1_024, 65_536)
NAIVE_SIZE = 1_024
TARGET_SIZE, TARGET_GAS = 1_024, 60


def leaf_hashes(count: int, prefix: str) -> list[bytes]:
    """``count`` distinct certificate leaves, hashed exactly as the issuer hashes them."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        CertificateLeaf(
            issuer_id=ISSUER,
            cert_type=CERT_TYPE,
            certificate_id=f"{prefix}{n:08d}",
            claims_commitment=os.urandom(32),
            document_digest=os.urandom(32),
            valid_from=start,
            valid_until=start + timedelta(days=3650),
        ).hash()
        for n in range(count)
    ]


def setup(chain: Chain) -> tuple[Registry, LocalAccount]:
    """Registry with one province and one issuer allowed to anchor ``CERT_TYPE``."""
    admin, authority, issuer = (Account.create() for _ in range(3))
    for account in (admin, authority, issuer):
        chain.fund(account.address, 10**20)
    registry, _ = Registry.deploy(chain, admin)
    registry.admit_province(admin, "ZJ", "浙江省", authority.address)
    registry.register_issuer(
        authority,
        province="ZJ",
        issuer_id=ISSUER,
        account=issuer.address,
        name="浙江省市场监督管理局",
        seal_cert_fingerprint=os.urandom(32),
        ca_fingerprint=os.urandom(32),
        cert_types=[CERT_TYPE],
    )
    return registry, issuer


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ecert-bench-gas-") as tmp:
        node = AnvilNode(Path(tmp) / "chain", port=free_port(), persist=False)
        node.start()
        try:
            registry, issuer = setup(Chain.connect(node.rpc_url))
            print(f"machine: {sys.platform}, {os.cpu_count()} cores; anvil {node.rpc_url}")
            print("leaves: real CertificateLeaf hashes at every size")
            trees = []
            for size in BATCH_SIZES:
                t0 = time.perf_counter()
                leaves = leaf_hashes(size, f"B{size}-")
                t1 = time.perf_counter()
                tree = MerkleTree(leaves)
                trees.append((size, leaves, tree, t1 - t0, time.perf_counter() - t1))

            # Baseline: the 1,024 certificates of the 1,024 batch, one anchor tx each.
            naive_leaves = next(leaves for size, leaves, *_ in trees if size == NAIVE_SIZE)
            t0 = time.perf_counter()
            naive_gas = [
                registry.anchor(issuer, leaf, 1, CERT_TYPE).gas_used for leaf in naive_leaves
            ]
            took = time.perf_counter() - t0
            naive = sum(naive_gas) / len(naive_gas)
            print(
                f"baseline (naive, one anchor tx per certificate), {len(naive_gas):,} "
                f"certificates: {sum(naive_gas):,} gas in {len(naive_gas):,} txs = "
                f"{naive:,.0f} gas / cert (min {min(naive_gas):,}, max {max(naive_gas):,}); "
                f"{took:.1f} s wall"
            )
            print()
            print(
                f"{'batch':>7} {'leaf hashing':>13} {'tree build':>11} "
                f"{'anchor tx gas':>14} {'gas / cert':>11} {'vs naive':>10}"
            )
            per_cert: dict[int, float] = {}
            for size, _leaves, tree, hashing, build in trees:
                gas = registry.anchor(issuer, tree.root, size, CERT_TYPE).gas_used
                per_cert[size] = gas / size
                print(
                    f"{size:>7,} {1000 * hashing:>10.1f} ms {1000 * build:>8.1f} ms "
                    f"{gas:>14,} {gas / size:>11,.2f} {naive * size / gas:>9,.0f}x"
                )
            ok = per_cert[TARGET_SIZE] <= TARGET_GAS
            print()
            print(
                f"target: <= {TARGET_GAS} gas / certificate at {TARGET_SIZE:,}: "
                f"{per_cert[TARGET_SIZE]:.2f} -> {'PASS' if ok else 'FAIL'}"
            )
            return 0 if ok else 1
        finally:
            node.stop()


if __name__ == "__main__":
    raise SystemExit(main())
