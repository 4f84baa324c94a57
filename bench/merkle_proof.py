"""Merkle inclusion proofs: proof size and verification time against batch size.

Ours: for batches of 1, 16, 1,024, 65,536, 262,144 and 1,048,576 leaves, the proof of a leaf
(number of sibling hashes, bytes) and the time to check it — Python ``verify_proof``
(median / p99 over 5,000 proofs of random leaves) and the registry contract's own
``verifyInclusion`` through ``eth_call`` on a fresh local anvil node (median over 50 calls via
``Registry.verify_inclusion``, JSON-RPC round trip included; "raw" is the same call ABI-encoded
and sent as bare JSON-RPC, without web3's call machinery, to separate it from node time).
Baseline (same run, same leaves): without a tree a verifier needs the batch's whole leaf list
and scans it for the leaf (``leaf in leaves``); median / p99 over random members, as many as
fit in 2 s per size.

Leaves are real ``CertificateLeaf`` hashes up to 65,536; above that, random 32-byte values
(keccak outputs look the same, and a proof's shape depends only on the leaf count) because
hashing a million ``CertificateLeaf`` objects alone takes ~40 s here. The 1,048,576 batch is
skipped, with the reason printed, if its build would not fit in memory or in 30 s.

Target: a proof stays logarithmic — ceil(log2 n) siblings, i.e. 20 (640 bytes) at 1,048,576
leaves — and Python verification p99 stays under 1 ms at every size (exit code 1 otherwise).
Run: ``python bench/merkle_proof.py``.
"""

from __future__ import annotations

import math
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from eth_account import Account
from web3.types import RPCEndpoint

from ledger.chain import Chain
from ledger.leaf import CertificateLeaf
from ledger.merkle import MerkleProof, MerkleTree, verify_proof
from ledger.node import AnvilNode, free_port
from ledger.registry import Registry

SIZES = (1, 16, 1_024, 65_536, 262_144, 1_048_576)
REAL_LEAVES_UP_TO = 65_536
PY_PROOFS = 5_000
CONTRACT_CALLS = 50
NAIVE_BUDGET_S = 2.0
MAX_BUILD_S = 30.0
TARGET_VERIFY_MS = 1.0

T = TypeVar("T")


def leaves_for(size: int) -> list[bytes]:
    if size > REAL_LEAVES_UP_TO:
        return [os.urandom(32) for _ in range(size)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        CertificateLeaf(
            issuer_id="11330000MB0000011M",
            cert_type="BUSINESS_LICENCE",
            certificate_id=f"2026BL{n:08d}",
            claims_commitment=os.urandom(32),
            document_digest=os.urandom(32),
            valid_from=start,
        ).hash()
        for n in range(size)
    ]


def timed_us(check: Callable[[T], bool], items: Sequence[T]) -> list[float]:
    """Sorted microseconds per ``check(item)``, each timed alone; every check must pass."""
    out = []
    for item in items:
        t0 = time.perf_counter_ns()
        ok = check(item)
        out.append((time.perf_counter_ns() - t0) / 1000)
        assert ok, "a valid proof was rejected"
    return sorted(out)


def raw_eth_call(registry: Registry, proof: MerkleProof) -> bool:
    """The same ``verifyInclusion`` eth_call sent as bare JSON-RPC (no web3 call machinery)."""
    data = registry.contract.encode_abi(
        "verifyInclusion", args=[proof.root, proof.leaf, list(proof.siblings)]
    )
    reply = registry.chain.w3.provider.make_request(
        RPCEndpoint("eth_call"), [{"to": registry.address, "data": data}, "latest"]
    )
    return int(reply["result"], 16) == 1


def naive_scan(leaves: list[bytes], rng: random.Random) -> list[float]:
    """Sorted microseconds per ``leaf in leaves`` for random members, within NAIVE_BUDGET_S."""
    out: list[float] = []
    deadline = time.perf_counter() + NAIVE_BUDGET_S
    while len(out) < PY_PROOFS and (len(out) < 20 or time.perf_counter() < deadline):
        query = bytes(bytearray(leaves[rng.randrange(len(leaves))]))  # a copy, as received
        t0 = time.perf_counter_ns()
        found = query in leaves
        out.append((time.perf_counter_ns() - t0) / 1000)
        assert found
    return sorted(out)


def median(xs: list[float]) -> float:
    return xs[len(xs) // 2]


def p99(xs: list[float]) -> float:
    return xs[math.ceil(0.99 * len(xs)) - 1]


def size_text(n: int) -> str:
    """``32 B``, ``32 KiB``, ``2 MiB``."""
    for shift, unit in ((20, "MiB"), (10, "KiB")):
        if n >= 1 << shift:
            return f"{n / (1 << shift):g} {unit}"
    return f"{n} B"


def available_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


def main() -> int:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="ecert-bench-proof-") as tmp:
        node = AnvilNode(Path(tmp) / "chain", port=free_port(), persist=False)
        node.start()
        try:
            chain = Chain.connect(node.rpc_url)
            deployer = Account.create()
            chain.fund(deployer.address, 10**20)
            registry, _ = Registry.deploy(chain, deployer)
            print(f"machine: {sys.platform}, {os.cpu_count()} cores; anvil {node.rpc_url}")
            print(
                f"leaves: real CertificateLeaf hashes up to {REAL_LEAVES_UP_TO:,}, "
                "random 32-byte leaves above"
            )
            print(
                f"ours: Python verify_proof median / p99 over {PY_PROOFS:,} proofs; contract "
                f"verifyInclusion median of {CONTRACT_CALLS} eth_calls, via "
                "Registry.verify_inclusion and as bare JSON-RPC (raw)"
            )
            print("baseline: 'leaf in leaves' scan of the full leaf list, random members")
            print()
            print(
                f"{'leaves':>9} {'build s':>7} {'siblings':>8} {'proof B':>7} "
                f"{'py med us':>9} {'py p99 us':>9} {'eth_call ms':>11} {'raw ms':>7} | "
                f"{'naive list':>10} {'naive med us':>12} {'naive p99 us':>12} {'scans':>5}"
            )
            ok = True
            last_build, last_size = 0.0, 1
            for size in SIZES:
                projected = last_build * size / last_size
                need_mib = size * 250 / 2**20  # ~250 B a leaf: leaf list, tree levels, objects
                if size > 262_144 and (projected > MAX_BUILD_S or need_mib > available_mib() / 2):
                    print(
                        f"{size:>9,} skipped: projected build {projected:.0f} s, "
                        f"~{need_mib:.0f} MiB needed, {available_mib():.0f} MiB available"
                    )
                    break
                leaves = leaves_for(size)
                t0 = time.perf_counter()
                tree = MerkleTree(leaves)
                last_build, last_size = time.perf_counter() - t0, size

                proofs = [tree.proof(rng.randrange(size)) for _ in range(PY_PROOFS)]
                siblings = max(len(p.siblings) for p in proofs)
                py = timed_us(lambda p: verify_proof(p.root, p.leaf, p.siblings), proofs)
                calls = timed_us(
                    lambda p: registry.verify_inclusion(p.root, p.leaf, p.siblings),
                    proofs[:CONTRACT_CALLS],
                )
                raw = timed_us(lambda p: raw_eth_call(registry, p), proofs[:CONTRACT_CALLS])
                naive = naive_scan(leaves, rng)
                print(
                    f"{size:>9,} {last_build:>7.2f} {siblings:>8} {32 * siblings:>7} "
                    f"{median(py):>9.1f} {p99(py):>9.1f} {median(calls) / 1000:>11.2f} "
                    f"{median(raw) / 1000:>7.2f} | "
                    f"{size_text(32 * size):>10} {median(naive):>12.1f} "
                    f"{p99(naive):>12.1f} {len(naive):>5}"
                )
                logarithmic = siblings == math.ceil(math.log2(size))
                ok &= logarithmic and p99(py) / 1000 <= TARGET_VERIFY_MS
                del leaves, tree, proofs
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print()
            print(f"peak RSS of this process: {peak:.0f} MiB")
            print(
                f"target: ceil(log2 n) siblings and Python p99 <= {TARGET_VERIFY_MS:g} ms "
                f"at every size -> {'PASS' if ok else 'FAIL'}"
            )
            return 0 if ok else 1
        finally:
            node.stop()


if __name__ == "__main__":
    raise SystemExit(main())
