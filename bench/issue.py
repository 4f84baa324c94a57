"""Throughput of the full issuing pipeline against naive baselines, and peak memory at 10,000.

ecert: records submitted durably (SQLite), rendered and sealed in 2 worker processes (keys
loaded once, CMS size reserved, attachment + XMP + signature in one incremental update),
grouped into Merkle batches and anchored on a real anvil node; timed from the first submit
until every certificate is ANCHORED.

Baselines (same run, same records, same machine), each record in turn, no storage, no chain:
- naive: render the way a straightforward implementation does (the ``qrcode`` package, one
  rectangle per dark QR module, pikepdf adding the attachment and XMP afterwards), then load
  pyHanko's ``SimpleSigner`` from the encrypted key files and sign with no size hint;
- same renderer: our renderer, then ``SimpleSigner`` loaded and signing as above.

Both formats (same run, same records): the same pipeline issuing each certificate as the PAdES
PDF *and* the OFD sealed with the department's SM2 e-seal (GB/T 33190 / 38540), one version-3
leaf binding both, beside the PDF alone.

Target (issuer issue): ecert >= 4x the naive baseline, in certificates per second.
Run: ``python bench/issue.py`` (``--count N``; ``--memory-count 0`` skips the 10,000 run).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pikepdf
import qrcode
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from qrcode.constants import ERROR_CORRECT_M

from issuer import render as render_module
from issuer.formats import BOTH, PDF_ONLY, Format
from issuer.pipeline import Pipeline, Submission
from issuer.render import ATTACHMENT_NAME, RenderedCertificate, render_certificate
from issuer.samples import department_id, sample_record
from issuer.seal import Sealer
from issuer.sealing import SealingPool, SealJob, document_for
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network
from issuer.store import open_store
from ledger.catalogue import validate
from ledger.chain import Chain
from ledger.node import AnvilNode, free_port

PASSWORD = "benchmark password only"
ISSUER = department_id("330000", "MB0000011")


def _records(count: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [sample_record("BUSINESS_LICENCE", rng) for _ in range(count)]


def _naive_qr(canvas: Any, text: str, x: float, y: float, size: float) -> None:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    module = size / len(matrix)
    for row, line in enumerate(matrix):
        for col, dark in enumerate(line):
            if dark:
                canvas.rect(
                    x + col * module,
                    y + size - (row + 1) * module,
                    module,
                    module,
                    stroke=0,
                    fill=1,
                )


def _naive_embed(rendered: RenderedCertificate) -> bytes:
    with pikepdf.open(io.BytesIO(rendered.page)) as pdf:
        pdf.attachments[ATTACHMENT_NAME] = pikepdf.AttachedFileSpec(
            pdf, rendered.attachment, mime_type="application/json", filename=ATTACHMENT_NAME
        )
        pdf.Root.Metadata = pdf.make_stream(rendered.xmp)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def baseline(site: Site, records: list[dict[str, str]], *, naive_render: bool) -> float:
    dept = site.department(ISSUER)
    pki = site.home / "pki"
    now = datetime.now(UTC).replace(microsecond=0)
    fast_qr = render_module._draw_qr
    if naive_render:
        render_module._draw_qr = _naive_qr
    try:
        start = time.perf_counter()
        for n, record in enumerate(records):
            job = SealJob(
                n,
                ISSUER,
                "BUSINESS_LICENCE",
                f"2026BL{n:08d}",
                validate("BUSINESS_LICENCE", record),
                bytes(32),
                now,
                now,
                now + timedelta(days=3650),
            )
            rendered = render_certificate(document_for(dept, job))
            signer = signers.SimpleSigner.load(
                str(pki / "departments" / ISSUER / "seal-1.key.pem"),
                str(pki / "departments" / ISSUER / "seal-1.cert.pem"),
                ca_chain_files=(
                    str(pki / "provinces" / "ZJ" / "ca.cert.pem"),
                    str(pki / "root.cert.pem"),
                ),
                key_passphrase=PASSWORD.encode(),
            )
            assert signer is not None
            writer = (
                IncrementalPdfFileWriter(io.BytesIO(_naive_embed(rendered)))
                if naive_render
                else Sealer._writer(rendered)
            )
            signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Seal"), signer=signer)
        return time.perf_counter() - start
    finally:
        render_module._draw_qr = fast_qr


def ours(
    site: Site,
    db: Path,
    records: list[dict[str, str]],
    prefix: str,
    formats: tuple[Format, ...] = PDF_ONLY,
) -> float:
    until = (datetime.now(UTC) + timedelta(days=3650)).date()
    with SealingPool(site.home, PASSWORD, workers=2) as pool:
        pipeline = Pipeline(
            open_store(f"sqlite:///{db}"),
            [site.department(ISSUER)],
            site.registry(),
            batch_size=256,
            sealing_pool=pool,
            formats=formats,
        )
        pool.warm_up()  # worker processes started and keys loaded before the clock
        start = time.perf_counter()
        for i in range(0, len(records), 500):
            pipeline.submit(
                ISSUER,
                [
                    Submission(f"{prefix}-{i + k}", "BUSINESS_LICENCE", record, until)
                    for k, record in enumerate(records[i : i + 500])
                ],
            )
        anchored = 0
        while anchored < len(records):
            sealed = pipeline.seal_pending(limit=128)
            pipeline.close_batches(force=sealed == 0)  # input exhausted: close the last batch
            anchored += pipeline.anchor_pending()[1]
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--memory-count", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ecert-bench-") as tmp:
        home = Path(tmp)
        node = AnvilNode(home / "chain", port=free_port(), persist=False)
        node.start()
        try:
            bootstrap_network(
                home,
                PASSWORD,
                Chain.connect(node.rpc_url),
                [ProvinceConfig("ZJ", "浙江省", "https://zj.verify.ecert.example")],
                [DepartmentConfig(ISSUER, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"])],
                sm2_seals=True,
            )
            site = Site(home, PASSWORD)
            records = _records(args.count, 1)
            naive = baseline(site, records, naive_render=True)
            same = baseline(site, records, naive_render=False)
            mine = ours(site, home / "issuer.sqlite", records, "cmp")
            both = ours(site, home / "both.sqlite", records, "both", BOTH)
            print(f"{sys.platform}, {os.cpu_count()} cores; {args.count} business licences a run")
            for label, took in (
                (
                    "baseline, naive: qrcode + rect per module + pikepdf, SimpleSigner.load + sign",
                    naive,
                ),
                ("baseline, our renderer, SimpleSigner.load + sign", same),
                ("ecert: durable, 2 sealing processes, batched, anchored on anvil", mine),
                ("ecert, both formats: PDF + OFD (SM2 e-seal), one v3 leaf each, same", both),
            ):
                print(
                    f"  {args.count / took:6.1f} cert/s  {1000 * took / args.count:5.1f} ms each"
                    f"  {label}"
                )
            ratio = naive / mine
            verdict = "PASS" if ratio >= 4 else "FAIL"
            print(
                f"speed-up over the naive baseline {ratio:.1f}x (target >= 4x: {verdict}); "
                f"over the same-renderer baseline {same / mine:.1f}x; both formats take "
                f"{both / mine:.2f}x the time of the PDF alone"
            )
            if args.memory_count:
                took = ours(site, home / "big.sqlite", _records(args.memory_count, 2), "big")
                own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
                print(
                    f"{args.memory_count:,} certificates: {took:.0f} s "
                    f"({args.memory_count / took:.1f} cert/s); peak RSS main process "
                    f"{own:.0f} MiB, largest worker {workers:.0f} MiB; database "
                    f"{(home / 'big.sqlite').stat().st_size / 2**20:.0f} MiB"
                )
            return 0 if ratio >= 4 else 1
        finally:
            node.stop()


if __name__ == "__main__":
    raise SystemExit(main())
