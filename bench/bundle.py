"""Trust bundles: size, build, signing and verification time for 3, 31 and 100 provinces with
10,000 issuers.

For each province count, a synthetic registry index is filled (one SQLite snapshot, as a
verifier's index would hold): the provinces with their bundle keys, 10,000 issuers (two
certificate types each, registration and type history, a seal certificate, one anchored batch),
1,000 revoked certificates and 100 revoked batches, and the full recognition matrix (every
province recognising every other for all four types). Then, timed: building the bundle from
the index, its canonical size (and gzip size, as it would travel), each province's BLS
signature, aggregation, ``verify_bundle`` (digest + quorum + one aggregate verification) and
loading the verified bundle into a fresh index.

Baseline (same run): the same bundle signed instead with each province's secp256k1 chain key
(65-byte ECDSA signature each, checked by recovering every signer) — what a verifier would
check without aggregation; and one BLS signature verified on its own, times the signer count
(verifying each BLS signature separately).

Backend baseline (same run): the aggregate signature verified, and one signature made, with the
reference implementation (py-ecc, pure Python) instead of the fast backend (blspy) the
verifier uses.

Proofs of possession are not computed here (a PoP costs as much as a signature and is checked
once per key, not per bundle); the keys are passed to ``verify_bundle`` directly.
Run: ``python bench/bundle.py`` (``--issuers`` to change the 10,000).
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_defunct

from ledger import bls, bls_reference
from ledger.bundle import (
    SignedBundle,
    TrustBundle,
    aggregate_signatures,
    sign_bundle,
    verify_bundle,
)
from ledger.index import RegistryIndex
from ledger.personal_sign import recover_signer

REGISTRY = "0x" + "42" * 20
CHAIN_ID = 31_337
TYPES = ["BUSINESS_LICENCE", "DEGREE_CERT", "REAL_ESTATE", "BIRTH_MEDICAL"]


def synthetic_tables(provinces: list[str], keys: dict[str, bytes], issuers: int) -> dict:
    rnd = os.urandom
    ca_fps = {c: rnd(32) for c in provinces}
    tables: dict[str, list[list[object]]] = {
        "provinces": [[c, f"Province {c}", "0x" + rnd(20).hex(), 1] for c in provinces],
        "bundle_keys": [[c, keys[c], rnd(96), 2] for c in provinces],
        "issuers": [],
        "issuer_types": [],
        "issuer_history": [],
        "seal_certs": [],
        "seal_revocations": [],
        "ca_distrusts": [],
        "anchors": [],
        "root_revocations": [],
        "leaf_revocations": [],
        "recognitions": [
            [v, i, t, 1, 3] for v in provinces for i in provinces if v != i for t in TYPES
        ],
    }
    for n in range(issuers):
        issuer_id = f"91{n:016d}"
        province = provinces[n % len(provinces)]
        account = "0x" + rnd(20).hex()
        seal = rnd(32)
        tables["issuers"].append(
            [issuer_id, province, f"Department {n}", account, "ACTIVE", seal, 10 + n]
        )
        for t in TYPES[:2]:
            tables["issuer_types"].append([issuer_id, t])
        tables["issuer_history"] += [
            [issuer_id, 10 + n, 0, "REGISTERED", account],
            [issuer_id, 10 + n, 1, "TYPE_GRANTED", TYPES[0]],
            [issuer_id, 10 + n, 2, "TYPE_GRANTED", TYPES[1]],
        ]
        tables["seal_certs"].append([seal, issuer_id, ca_fps[province], 10 + n, None])
        root = rnd(32)
        tables["anchors"].append(
            [issuer_id, root, TYPES[0], 1024, 20_000 + n, 1_790_000_000, account, rnd(32)]
        )
        if n < 100:
            tables["root_revocations"].append(
                [issuer_id, root, 1, 40_000 + n, 1_790_000_100, account]
            )
            tables["seal_revocations"].append(
                [seal, issuer_id, 1_790_000_050, 2, 40_000 + n, 1_790_000_100, account]
            )
        if n < 1000:
            tables["leaf_revocations"].append(
                [issuer_id, root, rnd(32), 4, 40_000 + n, 1_790_000_100, account]
            )
    return tables


def measure(count: int, issuers: int, workdir: Path) -> dict[str, float]:
    provinces = [f"P{n:03d}" for n in range(count)]
    secrets = {c: n + 1_000 for n, c in enumerate(provinces)}
    keys = {c: bls.public_key(s) for c, s in secrets.items()}
    index = RegistryIndex(workdir / f"source-{count}.sqlite", registry_address=REGISTRY)
    meta = {"last_block": "60000", "last_block_hash": "ab" * 32, "last_block_time": "1790000200"}
    index.import_tables(meta, synthetic_tables(provinces, keys, issuers), datetime.now(UTC))

    t0 = time.perf_counter()
    bundle = TrustBundle.from_index(index, CHAIN_ID)
    canonical = bundle.canonical()
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    partials = [sign_bundle(bundle, c, secrets[c]) for c in provinces]
    sign_each = (time.perf_counter() - t0) / count
    t0 = time.perf_counter()
    signed = aggregate_signatures(bundle, partials)
    aggregate = time.perf_counter() - t0
    received = SignedBundle.from_json(signed.to_json())  # as a verifier gets it: digest not known
    t0 = time.perf_counter()
    verify_bundle(received, registry=REGISTRY, chain_id=CHAIN_ID, provinces=provinces, keys=keys)
    verify = time.perf_counter() - t0
    t0 = time.perf_counter()
    target = RegistryIndex(workdir / f"loaded-{count}.sqlite", registry_address=REGISTRY)
    bundle.load_into(target)
    load = time.perf_counter() - t0
    assert target.issuer(f"91{0:016d}") == index.issuer(f"91{0:016d}")

    # Baseline 1: one ECDSA signature per province, every signer recovered.
    accounts = {c: Account.from_key((secrets[c]).to_bytes(32, "big")) for c in provinces}
    message = bundle.message()
    ecdsa = {
        c: bytes(a.sign_message(encode_defunct(primitive=message)).signature)
        for c, a in accounts.items()
    }
    t0 = time.perf_counter()
    digest_again = TrustBundle.from_body(bundle.body()).message()
    for c, sig in ecdsa.items():
        assert recover_signer(digest_again, sig) == accounts[c].address
    ecdsa_verify = time.perf_counter() - t0
    # Baseline 2: BLS signatures verified one by one (one measured, times the count).
    t0 = time.perf_counter()
    assert bls.fast_aggregate_verify([keys[provinces[0]]], message, partials[0].signature)
    one_bls = time.perf_counter() - t0
    # Baseline 3: the reference backend (py-ecc) on the same aggregate, and one signature.
    signers = [keys[c] for c in signed.signers]
    t0 = time.perf_counter()
    assert bls_reference.fast_aggregate_verify(signers, message, signed.signature)
    reference_verify = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert bls_reference.sign(secrets[provinces[0]], message) == partials[0].signature
    reference_sign = time.perf_counter() - t0
    return {
        "size": len(canonical),
        "gzip": len(gzip.compress(canonical, 6)),
        "build": build,
        "sign_each": sign_each,
        "aggregate": aggregate,
        "verify": verify,
        "load": load,
        "ecdsa_bytes": 65 * count,
        "ecdsa_verify": ecdsa_verify,
        "bls_each_total": one_bls * count,
        "reference_verify": reference_verify,
        "reference_sign": reference_sign,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--issuers", type=int, default=10_000)
    parser.add_argument("--provinces", type=int, nargs="*", default=[3, 31, 100])
    args = parser.parse_args()
    print(f"{sys.platform}, {os.cpu_count()} cores; {args.issuers:,} issuers")
    header = (
        f"{'provinces':>9} {'bundle':>10} {'gzip':>9} {'build':>7} {'sign/prov':>9} "
        f"{'aggregate':>9} {'verify':>7} {'load':>7} | {'ECDSA sigs':>10} {'ECDSA check':>11} "
        f"{'BLS one by one':>14} | {'py-ecc verify':>13} {'py-ecc sign':>11}"
    )
    print(header)
    with tempfile.TemporaryDirectory(prefix="ecert-bundle-") as tmp:
        for count in args.provinces:
            m = measure(count, args.issuers, Path(tmp))
            print(
                f"{count:>9} {m['size'] / 1e6:>8.2f}MB {m['gzip'] / 1e6:>7.2f}MB "
                f"{m['build']:>6.2f}s {m['sign_each'] * 1e3:>7.2f}ms {m['aggregate']:>8.3f}s "
                f"{m['verify']:>6.2f}s {m['load']:>6.2f}s | {m['ecdsa_bytes']:>8,} B "
                f"{m['ecdsa_verify']:>10.3f}s {m['bls_each_total']:>13.3f}s | "
                f"{m['reference_verify']:>12.2f}s {m['reference_sign']:>10.2f}s"
            )
    print(
        "signature size: BLS aggregate 96 B + signer list, whatever the count; "
        "baseline ECDSA 65 B per province"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
