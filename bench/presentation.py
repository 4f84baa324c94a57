"""Holder presentations: size (bytes, QR version) and verification time, beside today's
encoding and a certificate's own QR code (the plain QR-text verification) in the same run.

Setup (not timed): a throwaway anvil node on 127.0.0.1, one province, ``--certs`` business
licences issued to holder keys (each certificate its own account derived from its holder's
key), sealed, anchored (one batch, so a 10-level Merkle path at 1,024), their proofs in a
folder.

Measured: for 1, 2, 4 and all 8 disclosed fields of a licence (with a 16-byte verifier nonce),
in today's encoding (layout 2: ``ECP1.`` + base64url in byte mode, ``bench/presentation_v2.py``)
and in the compact one (layout 3: ``ECP2.`` + QR alphanumeric text): the binary size, the text
size and the QR version it needs (error correction L, as a phone screen shows it to a webcam);
then ``Verifier.verify_presentation`` of compact 2-field presentations per call (median / p99
over every certificate, two rounds) beside ``Verifier.verify_qr_text`` on the same
certificates' own QR texts. (Verifiers refuse layout 2 now, so it has no verification time.)
Run: ``python bench/presentation.py``.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eth_account import Account
from presentation_v2 import encode_layout2  # beside this script

from cli.holder import certificate_claims, present_from_files, presentation_qr
from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import open_store
from ledger.chain import Chain
from ledger.holderkey import certificate_holder_account, holder_public_key
from ledger.node import AnvilNode, free_port
from ledger.presentation import HOLDER_CLAIM, Presentation
from ledger.proofrecord import ProofRecord
from verifier.config import VerifierConfig, build_verifier
from verifier.result import Verdict

PASSWORD = "benchmark password only"
ISSUER = department_id("330000", "MB0000011")


def qr_version(text: str) -> str:
    try:
        return str(presentation_qr(text).version)
    except ValueError:
        return "none fits (> 40)"


def median_p99(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--certs", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ecert-present-") as tmp:
        home = Path(tmp)
        node = AnvilNode(home / "chain", port=free_port(), persist=False)
        node.start()
        try:
            config = bootstrap_network(
                home,
                PASSWORD,
                Chain.connect(node.rpc_url),
                [ProvinceConfig("ZJ", "浙江省", "https://zj.verify.ecert.example")],
                [DepartmentConfig(ISSUER, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"])],
            )
            site = Site(home, PASSWORD)
            pipeline = Pipeline(
                open_store(f"sqlite:///{home / 'issuer.sqlite'}"),
                site.departments(),
                site.registry(),
                batch_size=args.certs,
            )
            holders = [Account.create() for _ in range(args.certs)]
            until = (datetime.now(UTC) + timedelta(days=365)).date()
            rng = random.Random(3)
            results = pipeline.submit(
                ISSUER,
                [
                    Submission(
                        f"p-{n}",
                        "BUSINESS_LICENCE",
                        sample_record("BUSINESS_LICENCE", rng),
                        until,
                        holder_public_key(holders[n]),
                    )
                    for n in range(args.certs)
                ],
            )
            numbers = [r.certificate_id or "" for r in results]
            while pipeline.seal_pending(limit=64):
                pass
            pipeline.close_batches(force=True)
            pipeline.anchor_pending()
            (home / "proofs" / ISSUER).mkdir(parents=True)
            for number in numbers:
                (home / "proofs" / ISSUER / f"{number}.json").write_text(
                    json.dumps(pipeline.public_proof(ISSUER, number))
                )
            site.pki.export_roots(home / "roots.pem")
            VerifierConfig(
                rpc_url=node.rpc_url,
                registry_address=config.deployment.registry_address,
                deploy_block=config.deployment.deploy_block,
                trust_roots="roots.pem",
                proof_directories={"*": "proofs"},
            ).save(home / "verifier.json")
            verifier = build_verifier(
                VerifierConfig.load(home / "verifier.json"), home / "verifier.json", region="ZJ"
            )

            def wallet(n: int, fields: list[str], nonce: bytes = bytes(16)) -> str:
                """What the holder's wallet does (``ecert wallet present``)."""
                return present_from_files(
                    pipeline.pdf(ISSUER, numbers[n]),
                    json.dumps(pipeline.public_proof(ISSUER, numbers[n])).encode(),
                    fields,
                    holders[n],
                    lifetime=timedelta(minutes=5),
                    nonce=nonce,
                ).encode()

            def today(n: int, fields: list[str], nonce: bytes = bytes(16)) -> str:
                """The same presentation in today's encoding (layout 2)."""
                embedded = certificate_claims(pipeline.pdf(ISSUER, numbers[n]))
                secret = bytes.fromhex(str(embedded.raw["claims_secret"]))
                return encode_layout2(
                    ProofRecord.from_json(pipeline.public_proof(ISSUER, numbers[n])),
                    embedded.claims,
                    secret,
                    fields,
                    certificate_holder_account(holders[n], secret),
                    expires_at=datetime.now(UTC) + timedelta(minutes=5),
                    nonce=nonce,
                )

            def binary(text: str) -> int:
                if text.startswith("ECP1."):
                    body = text[5:]
                    return len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
                return len(Presentation.decode(text).raw())

            plain = [str(pipeline.certificate(ISSUER, n)["qr"]) for n in numbers]
            embedded0 = certificate_claims(pipeline.pdf(ISSUER, numbers[0]))
            every = [k for k in embedded0.claims if k != HOLDER_CLAIM]
            print(f"{args.certs} licences in one batch ({len(every)} fields each)")
            print(f"{'':>24} {'today: ECP1 base64url':>28}   {'compact: ECP2 alphanumeric':>28}")
            print(f"{'shown':>24} {'bytes':>7} {'text':>6} {'QR (L)':>13}   "
                  f"{'bytes':>7} {'text':>6} {'QR (L)':>13}")  # fmt: skip
            print(f"{'baseline: certificate QR':>24} {'':>7} {len(plain[0]):>6} "
                  f"{qr_version(plain[0]):>13}")  # fmt: skip
            for fields in (["name"], ["name", "uscc"], every[:4], every):
                old, new = today(0, fields), wallet(0, fields)
                print(
                    f"{len(fields):>16} field(s) {binary(old):>7} {len(old):>6} "
                    f"{qr_version(old):>13}   {binary(new):>7} {len(new):>6} "
                    f"{qr_version(new):>13}"
                )

            # Timed without a nonce (a nonce is accepted once; its check is one SQLite update).
            shown = [wallet(n, ["name", "uscc"], b"") for n in range(min(args.certs, 300))]
            timings: dict[str, list[float]] = {"presentation": [], "plain": []}
            for _round in range(2):
                for text, qr in zip(shown, plain, strict=False):
                    t0 = time.perf_counter()
                    report = verifier.verify_presentation(text)
                    t1 = time.perf_counter()
                    assert report.verdict is Verdict.VALID, report.to_json("en")
                    base = verifier.verify_qr_text(qr)
                    t2 = time.perf_counter()
                    assert base.verdict is Verdict.VALID
                    timings["presentation"].append(t1 - t0)
                    timings["plain"].append(t2 - t1)
            for label, key in (
                ("baseline: certificate QR text", "plain"),
                ("compact presentation, 2 fields", "presentation"),
            ):
                p50, p99 = median_p99(timings[key])
                print(f"{label:>30}: p50 {p50 * 1000:.2f} ms  p99 {p99 * 1000:.2f} ms")
        finally:
            node.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
