"""Trust bundles: size, build, signing and verification time for 3, 31 and 100 provinces with
10,000 issuers; and a day of national load as a full bundle beside the delta from the day
before.

For each province count, a synthetic registry index is filled (one SQLite snapshot, as a
verifier's index would hold): the provinces with their bundle keys, 10,000 issuers (two
certificate types each, registration and type history, a seal certificate, one anchored batch),
1,000 revoked certificates and 100 revoked batches, and the full recognition matrix (every
province recognising every other for all four types). Then, timed: building the bundle from
the index, its size in the binary format 3 (and gzip size, as it would travel) beside the
canonical JSON of format 2 (and its gzip), each province's BLS signature, aggregation,
``verify_bundle`` (digest + quorum + one aggregate verification) and loading the verified
bundle into a fresh index.

Baseline (same run): the same bundle signed instead with each province's secp256k1 chain key
(65-byte ECDSA signature each, checked by recovering every signer) — what a verifier would
check without aggregation; and one BLS signature verified on its own, times the signer count
(verifying each BLS signature separately).

Backend baseline (same run): the aggregate signature verified, and one signature made, with the
reference implementation (py-ecc, pure Python) instead of the fast backend (blspy) the
verifier uses.

National load (31 provinces, the 10,000 issuers, ``bench/bundle_load.py``): a year of 10^8
certificates in 1,024-leaf batches (97,820 anchors) with 0.1 % of them revoked, then one day
more (268 anchors, 274 certificate revocations, a batch revoked, three issuers registered, one
suspended, a seal rotated, a recognition withdrawn). Printed: the full bundle at the day's end
and the delta from the day before (binary, gzip, JSON form), the time to make the delta, to
verify it and to apply it to an index holding the day before — beside loading the full bundle
(the baseline, same run); the applied index is checked equal to the loaded one. Target: the
delta ≤ 100 KB.

Proofs of possession are not computed here (a PoP costs as much as a signature and is checked
once per key, not per bundle); the keys are passed to ``verify_bundle`` directly.
Run: ``python bench/bundle.py`` (``--issuers`` to change the 10,000).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bundle_load import (
    ANCHORS_A_DAY,
    REVOCATIONS_A_DAY,
    a_day_later,
    a_year_of_national_load,
    synthetic_tables,
)
from eth_account import Account
from eth_account.messages import encode_defunct

from ledger import bls, bls_reference
from ledger.bundle import (
    JSON_FORMAT,
    DeltaBundle,
    SignedBundle,
    TrustBundle,
    aggregate_signatures,
    apply_delta,
    sign_bundle,
    verify_bundle,
)
from ledger.index import RegistryIndex
from ledger.personal_sign import recover_signer

REGISTRY = "0x" + "42" * 20
CHAIN_ID = 31_337
DELTA_TARGET = 100_000


def format_2_json(bundle: TrustBundle) -> bytes:
    """The same state as the canonical JSON of format 2 (BLOB cells as hex)."""
    body = {
        "format": JSON_FORMAT,
        "registry": bundle.registry,
        "chain_id": bundle.chain_id,
        "block": bundle.block,
        "block_hash": bundle.block_hash,
        "block_time": bundle.block_time,
        "tables": {
            t: [[c.hex() if isinstance(c, bytes) else c for c in r] for r in rows]
            for t, rows in bundle.tables.items()
        },
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def measure(count: int, issuers: int, workdir: Path) -> dict[str, float]:
    provinces = [f"P{n:03d}" for n in range(count)]
    secrets = {c: n + 1_000 for n, c in enumerate(provinces)}
    keys = {c: bls.public_key(s) for c, s in secrets.items()}
    index = RegistryIndex(workdir / f"source-{count}.sqlite", registry_address=REGISTRY)
    meta = {"last_block": "60000", "last_block_hash": "ab" * 32, "last_block_time": "1790000200"}
    index.import_tables(meta, synthetic_tables(provinces, keys, issuers), datetime.now(UTC))

    t0 = time.perf_counter()
    bundle = TrustBundle.from_index(index, CHAIN_ID)
    canonical = SignedBundle.unsigned(bundle).encode()
    build = time.perf_counter() - t0
    as_json = format_2_json(bundle)
    t0 = time.perf_counter()
    partials = [sign_bundle(bundle, c, secrets[c]) for c in provinces]
    sign_each = (time.perf_counter() - t0) / count
    t0 = time.perf_counter()
    signed = aggregate_signatures(bundle, partials)
    aggregate = time.perf_counter() - t0
    received = SignedBundle.parse(signed.encode())  # as a verifier gets it: digest not known
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
    digest_again = SignedBundle.parse(canonical).bundle.message()
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
        "json": len(as_json),
        "json_gzip": len(gzip.compress(as_json, 6)),
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


def _indexed(path: Path, tables: dict, block: int) -> RegistryIndex:
    index = RegistryIndex(path, registry_address=REGISTRY)
    time_of = str(1_790_000_000 + block * 2)
    meta = {
        "last_block": str(block),
        "last_block_hash": f"{block:064x}",
        "last_block_time": time_of,
    }
    index.import_tables(meta, tables, datetime.now(UTC))
    return index


def measure_day(issuers: int, workdir: Path) -> dict[str, float]:
    """A year of national load, then a day more: the full bundle at the day's end and the delta
    from the day before."""
    provinces = [f"P{n:03d}" for n in range(31)]
    secrets = {c: n + 1_000 for n, c in enumerate(provinces)}
    keys = {c: bls.public_key(s) for c, s in secrets.items()}
    year = synthetic_tables(provinces, keys, issuers)
    block = a_year_of_national_load(year)
    day, end = a_day_later(year, block, provinces)
    before = TrustBundle.from_index(_indexed(workdir / "year.sqlite", year, block), CHAIN_ID)
    after = TrustBundle.from_index(_indexed(workdir / "day.sqlite", day, end), CHAIN_ID)
    signed = aggregate_signatures(after, [sign_bundle(after, c, secrets[c]) for c in provinces])
    full = signed.encode()

    t0 = time.perf_counter()
    made = DeltaBundle.between(before, after)
    make = time.perf_counter() - t0
    delta = SignedBundle(made, signed.signers, signed.signature).encode()
    shown = json.dumps(SignedBundle.parse(delta).to_json(), ensure_ascii=False).encode()

    held = RegistryIndex(workdir / "held.sqlite", registry_address=REGISTRY)
    before.load_into(held)
    t0 = time.perf_counter()
    received = SignedBundle.parse(delta)
    verify_bundle(
        received,
        registry=REGISTRY,
        chain_id=CHAIN_ID,
        provinces=provinces,
        keys=keys,
        newest_seen=(before.block, before.identity()),
    )
    verify = time.perf_counter() - t0
    assert isinstance(received.bundle, DeltaBundle)
    t0 = time.perf_counter()
    applied = apply_delta(received.bundle, held)
    apply = time.perf_counter() - t0
    # Baseline: the full bundle of the same day, verified and loaded into a fresh index.
    fresh = RegistryIndex(workdir / "fresh.sqlite", registry_address=REGISTRY)
    t0 = time.perf_counter()
    whole = SignedBundle.parse(full)
    verify_bundle(whole, registry=REGISTRY, chain_id=CHAIN_ID, provinces=provinces, keys=keys)
    whole.bundle.load_into(fresh)  # type: ignore[union-attr]
    load = time.perf_counter() - t0
    assert applied.identity() == after.identity()
    assert held.export_tables() == fresh.export_tables()
    as_json = format_2_json(after)
    return {
        "anchors": len(after.tables["anchors"]),
        "full": len(full),
        "full_gzip": len(gzip.compress(full, 6)),
        "full_json": len(as_json),
        "full_json_gzip": len(gzip.compress(as_json, 6)),
        "delta": len(delta),
        "delta_gzip": len(gzip.compress(delta, 6)),
        "delta_json": len(shown),
        "delta_json_gzip": len(gzip.compress(shown, 6)),
        "make": make,
        "verify": verify,
        "apply": apply,
        "load": load,
    }


def print_day(m: dict[str, float]) -> bool:
    print(
        f"\nnational load, 31 provinces: a year of 10^8 certificates in 1,024-leaf batches "
        f"({m['anchors']:,.0f} anchors at the day's end), then one day "
        f"({ANCHORS_A_DAY} anchors, {REVOCATIONS_A_DAY} certificate revocations, issuer changes)"
    )
    print(f"{'':>26} {'binary':>10} {'gzip':>10} {'JSON':>10} {'JSON gzip':>10}")
    for label, key in (
        ("full bundle (the day's end)", "full"),
        ("delta (from the day before)", "delta"),
    ):
        print(
            f"{label:>26} {m[key] / 1e3:>8.1f}KB {m[key + '_gzip'] / 1e3:>8.1f}KB "
            f"{m[key + '_json'] / 1e3:>8.1f}KB {m[key + '_json_gzip'] / 1e3:>8.1f}KB"
        )
    print(
        f"delta: made in {m['make']:.2f} s, verified in {m['verify'] * 1e3:.0f} ms, applied "
        f"(checked against the signed state) in {m['apply']:.2f} s; baseline: the full bundle "
        f"verified and loaded in {m['load']:.2f} s"
    )
    ok = m["delta"] <= DELTA_TARGET
    print(
        f"{'PASS' if ok else 'FAIL'}: the daily delta is {m['delta']:,.0f} B "
        f"(target <= {DELTA_TARGET:,} B), {m['full'] / m['delta']:.0f}x smaller than the full "
        f"bundle; binary full bundle {m['full'] / m['full_json']:.0%} of its JSON"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--issuers", type=int, default=10_000)
    parser.add_argument("--provinces", type=int, nargs="*", default=[3, 31, 100])
    args = parser.parse_args()
    print(f"{sys.platform}, {os.cpu_count()} cores; {args.issuers:,} issuers")
    header = (
        f"{'provinces':>9} {'bundle':>10} {'gzip':>9} {'JSON':>9} {'JSON gzip':>9} "
        f"{'build':>7} {'sign/prov':>9} "
        f"{'aggregate':>9} {'verify':>7} {'load':>7} | {'ECDSA sigs':>10} {'ECDSA check':>11} "
        f"{'BLS one by one':>14} | {'py-ecc verify':>13} {'py-ecc sign':>11}"
    )
    print(header)
    with tempfile.TemporaryDirectory(prefix="ecert-bundle-") as tmp:
        for count in args.provinces:
            m = measure(count, args.issuers, Path(tmp))
            print(
                f"{count:>9} {m['size'] / 1e6:>8.2f}MB {m['gzip'] / 1e6:>7.2f}MB "
                f"{m['json'] / 1e6:>7.2f}MB {m['json_gzip'] / 1e6:>7.2f}MB "
                f"{m['build']:>6.2f}s {m['sign_each'] * 1e3:>7.2f}ms {m['aggregate']:>8.3f}s "
                f"{m['verify']:>6.2f}s {m['load']:>6.2f}s | {m['ecdsa_bytes']:>8,} B "
                f"{m['ecdsa_verify']:>10.3f}s {m['bls_each_total']:>13.3f}s | "
                f"{m['reference_verify']:>12.2f}s {m['reference_sign']:>10.2f}s"
            )
        print(
            "signature size: BLS aggregate 96 B + signer list, whatever the count; "
            "baseline ECDSA 65 B per province"
        )
        ok = print_day(measure_day(args.issuers, Path(tmp)))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
