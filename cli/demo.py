"""``ecert demo``: the main job on a real local node.

A consortium of three provinces (浙江 ZJ, 江苏 JS, 广东 GD) with its PKI, a registry, four
departments, recognition agreements; a few dozen certificates of four types issued through the
durable pipeline — validated, rendered, sealed, batched and anchored — written as PDFs and QR
images to a folder a person can open; a revocation, three refused calls, and the registry read
back from the event index. Every transaction's gas is printed at the end.

It builds in ``$ECERT_HOME`` itself (``cli.demo_home`` says what a second run does), on a chain
at 127.0.0.1:8545 kept in ``$ECERT_HOME/chain`` (``ecert chain up`` brings it back), with each
province's verifier at http://127.0.0.1:8801, 8802, 8803 (ZJ, JS, GD) — the URLs its QR codes
open and where ``ecert serve verifier --region ZJ`` listens — so every command in the README
works on it as it is.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import qrcode
import typer
from hexbytes import HexBytes
from qrcode.constants import ERROR_CORRECT_M
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from cli.demo_home import prepare_home
from cli.issuer_cmd import checkpoint_file, proof_folder
from cli.workspace import DEFAULT_CHAIN_PORT, chain_dir, home, local_verifier_url, shown
from issuer.audit import verify_audit
from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.site import (
    DepartmentConfig,
    ProvinceConfig,
    Site,
    authority_key,
    bootstrap_network,
    bundle_secret,
)
from issuer.store import Batch, open_store
from ledger.bundle import SignedBundle, TrustBundle, aggregate_signatures, sign_bundle
from ledger.catalogue import catalogue
from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.errors import KeystoreError, LedgerError, RegistryRefused
from ledger.index import RegistryIndex
from ledger.keys import password_from_env
from ledger.merkle import verify_proof
from ledger.node import AnvilNode
from ledger.registry import Registry
from verifier.config import VerifierConfig, build_verifier
from verifier.engine import Verifier
from verifier.result import Status
from verifier.verdicts import style

# Piped output (CI logs, files) gets a width that fits the tables instead of rich's 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=150)

PROVINCES = [  # each province's verifier on this machine, so a scan here opens a real page
    ProvinceConfig("ZJ", "浙江省", local_verifier_url(0)),
    ProvinceConfig("JS", "江苏省", local_verifier_url(1)),
    ProvinceConfig("GD", "广东省", local_verifier_url(2)),
]
DEPARTMENTS = [
    DepartmentConfig(
        department_id("330000", "MB0000011"), "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"]
    ),
    DepartmentConfig(
        department_id("330100", "MB0000027"), "杭州市不动产登记中心", "ZJ", ["REAL_ESTATE"]
    ),
    DepartmentConfig(department_id("320000", "MB0000035"), "南京示范大学", "JS", ["DEGREE_CERT"]),
    DepartmentConfig(
        department_id("440000", "MB0000043"), "广东省示范妇幼保健院", "GD", ["BIRTH_MEDICAL"]
    ),
]
RECOGNITIONS = [
    ("GD", "ZJ", "BUSINESS_LICENCE"),
    ("JS", "ZJ", "BUSINESS_LICENCE"),
    ("ZJ", "JS", "DEGREE_CERT"),
]
PER_DEPARTMENT = 12


def run(
    per_department: Annotated[
        int, typer.Option(min=2, help="Certificates per department (2 or more).")
    ] = PER_DEPARTMENT,
    port: Annotated[
        int, typer.Option(help="Port of the demo's chain on 127.0.0.1.")
    ] = DEFAULT_CHAIN_PORT,
) -> None:
    """Build the demo network in $ECERT_HOME on a local anvil node, end to end. A second run
    rebuilds the demo's home (keeping demo-password and wallet/); a home holding anything else
    is refused and left alone."""
    base = home()
    try:
        password = password_from_env()
    except KeystoreError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    try:
        removed = prepare_home(base)
    except LedgerError as exc:
        console.print(f"[red]演示未运行 / demo not run:[/] {exc}")
        raise typer.Exit(2) from exc
    node = AnvilNode(chain_dir(), port=port)
    console.rule("[bold]ecert 演示 / demo: 三省联盟 · 签发 · 签章 · 上链")
    if removed:
        console.print(f"重建演示网络 / rebuilding the demo network in {shown(base)}")
    if os.environ.get("ECERT_ISSUER_DB"):
        console.print(
            f"[yellow]the demo keeps its certificates in {shown(base / 'issuer.sqlite')}; "
            "commands run with ECERT_ISSUER_DB set will not see them[/]"
        )
    try:
        try:
            info = node.start()
        except LedgerError as exc:
            raise LedgerError(
                f"{exc} (a chain from 'ecert chain up' in another home? stop it with "
                "'ecert chain down' there, or run the demo with --port)"
            ) from exc
        console.print(f"链节点 / chain node: anvil {info.rpc_url} (chain id {info.chain_id})")
        first = _demo(base, Chain.connect(info.rpc_url), password, per_department)
    except LedgerError as exc:
        console.print(f"[red]演示失败 / demo failed:[/] {exc}")
        raise typer.Exit(2) from exc
    finally:
        node.stop()
        console.print(
            f"链节点已停止，状态保存在 / node stopped, state kept in {shown(node.state_file)}"
        )
    _next_steps(base, first)


def _next_steps(base: Path, first: tuple[str, str, str]) -> None:
    """The three commands to try next, as they are typed here."""
    issuer_id, number, url = first
    where = shown(base)
    console.rule("下一步 / next")
    console.print(
        "In this folder, with ecert on PATH ([bold]. .venv/bin/activate[/]) and "
        f"[bold]export ECERT_KEY_PASSWORD_FILE={where}/demo-password[/] "
        "(README: the first hour):",
        soft_wrap=True,
    )
    for command, why in (
        ("ecert chain up", "the demo's chain again, with its state"),
        (
            "ecert serve verifier --region ZJ",
            f"then open {url} (the QR code of {number})",
        ),
        (
            f"ecert verify {where}/out/{number}.pdf --region GD",
            "as a bank in 广东 would",
        ),
    ):
        console.print(f"  [bold]{command}[/]   [dim]# {why}[/]", soft_wrap=True, highlight=False)
    console.print(f"  [dim](the issuer of {number} is {issuer_id})[/]", highlight=False)


def _samples(base: Path, rng: random.Random) -> None:
    """Fresh records to issue after the demo, per type: ``<TYPE>.csv`` for ``ecert issue
    --data`` and the console's upload, ``<TYPE>.json`` a body for ``POST
    /api/v1/certificates``."""
    folder = base / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    until = (datetime.now(UTC) + timedelta(days=3650)).date().isoformat()
    for dept in DEPARTMENTS:
        cert_type = dept.cert_types[0]
        licence = cert_type == "BUSINESS_LICENCE"
        row = {"reference": f"sample-{dept.province}-1"}
        row.update(sample_record(cert_type, rng, dept.province))
        if licence:
            row["valid_until"] = until
        with (folder / f"{cert_type}.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(row))
            writer.writeheader()
            writer.writerow(row)
        body = {
            "certificates": [
                {
                    "reference": f"sample-{dept.province}-api",
                    "cert_type": cert_type,
                    "claims": sample_record(cert_type, rng, dept.province),
                    **({"valid_until": until} if licence else {}),
                }
            ]
        }
        (folder / f"{cert_type}.json").write_text(
            json.dumps(body, ensure_ascii=False, indent=1) + "\n", "utf-8"
        )


def _demo(base: Path, chain: Chain, password: str, per_department: int) -> tuple[str, str, str]:
    """The whole demo; returns the issuer, number and QR URL of its first licence."""
    console.rule("1. 联盟与 PKI / consortium, PKI, registry")
    network = bootstrap_network(
        base,
        password,
        chain,
        PROVINCES,
        DEPARTMENTS,
        recognitions=RECOGNITIONS,
        demo=True,
        sm2_seals=True,  # every department also seals OFDs (GB/T 33190) with SM2 (GB/T 38540)
    )
    site = Site(base, password)
    registry = site.registry(chain.description)
    console.print(
        f"  registry {registry.address} (block {network.deployment.deploy_block}), "
        f"root CA + {len(PROVINCES)} province CAs + {len(DEPARTMENTS)} seal certificates "
        "(and the same in SM2 for the OFD seals)"
    )
    console.print(f"  keys encrypted in {site.keys.directory} ({len(site.keys.names())} accounts)")
    for dept in DEPARTMENTS:
        console.print(
            f"  ✔ {dept.province} {dept.name} [dim]{dept.issuer_id}[/] → "
            f"{', '.join(dept.cert_types)}"
        )
    for verifying, issuing, cert_type in RECOGNITIONS:
        console.print(f"  ✔ {verifying} 互认 recognises {issuing} {cert_type}")

    console.rule("2. 签发、签章、批量上链 / issue, seal, anchor")
    pipeline = Pipeline(  # the store, audit checkpoints and proofs the commands use
        open_store(f"sqlite:///{base / 'issuer.sqlite'}"),
        site.departments(),
        registry,
        batch_size=16,
        checkpoint_file=checkpoint_file(),
        proof_folder=proof_folder(),
    )
    rng = random.Random(20261122)  # noqa: S311 - fictitious sample data, not secrets
    issued: list[tuple[str, str]] = []
    for dept in DEPARTMENTS:
        cert_type = dept.cert_types[0]
        subs = [
            Submission(
                f"demo-{dept.province}-{n}",
                cert_type,
                sample_record(cert_type, rng, dept.province),
                (datetime.now(UTC) + timedelta(days=3650)).date()
                if cert_type == "BUSINESS_LICENCE"
                else None,
            )
            for n in range(per_department)
        ]
        subs.append(
            Submission(f"demo-{dept.province}-bad", cert_type, _mistyped(cert_type, subs[0].record))
        )
        results = pipeline.submit(dept.issuer_id, subs, actor="demo")
        for result in results:
            if result.accepted:
                issued.append((dept.issuer_id, result.certificate_id or ""))
            else:
                problem = result.errors[0]
                console.print(
                    f"  ✘ {dept.name} {result.reference}: {problem.field} {problem.message}"
                )
    counts = pipeline.run_once(force_batches=True)
    console.print(
        f"  sealed {counts.sealed}, batches {counts.batched}, anchored "
        f"{counts.anchored_certificates} certificates in {counts.anchored_batches} "
        f"transactions"
    )

    out = base / "out"
    out.mkdir(parents=True, exist_ok=True)
    for issuer_id, certificate_id in issued:
        view = pipeline.certificate(issuer_id, certificate_id)
        (out / f"{certificate_id}.pdf").write_bytes(pipeline.pdf(issuer_id, certificate_id))
        (out / f"{certificate_id}.ofd").write_bytes(pipeline.ofd(issuer_id, certificate_id))
        qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
        qr.add_data(view["qr"])
        qr.make_image().save(str(out / f"{certificate_id}-qr.png"))
    console.print(
        f"  {len(issued)} certificates, each a PDF (PAdES) and an OFD (SM2 seal) under one leaf, "
        f"and QR images, in [bold]{shown(out)}[/]"
    )
    _samples(base, rng)
    _gas_table(pipeline, chain)

    console.rule("3. 证明、撤销与拒绝 / prove, revoke, refuse")
    zj_market = DEPARTMENTS[0].issuer_id
    first, second = [c for i, c in issued if i == zj_market][:2]
    proof = pipeline.certificate(zj_market, first)["proof"]
    root, leaf = bytes.fromhex(proof["root"]), bytes.fromhex(proof["leaf"])
    siblings = [bytes.fromhex(s) for s in proof["siblings"]]
    console.print(
        f"  {first}: leaf 0x{leaf.hex()[:16]}… in root 0x{root.hex()[:16]}…, "
        f"{len(siblings)} sibling hashes"
    )
    console.print(
        f"  Python verify: {verify_proof(root, leaf, siblings)}   contract "
        f"MerkleProof.verify: {registry.verify_inclusion(root, leaf, siblings)}"
    )
    pipeline.revoke(zj_market, second, RevocationReason.SUPERSEDED, actor="demo")
    console.print(f"  ✔ revoked {second} (SUPERSEDED)")
    _refusals(site, registry, root, leaf, siblings)

    console.rule("4. 从事件索引核验 / read back from the event index")
    index = RegistryIndex(
        base / "index.sqlite",
        registry_address=registry.address,
        start_block=network.deployment.deploy_block,
    )
    synced = index.sync(registry)
    console.print(
        f"  {synced.events} registry events indexed up to block {index.freshness().block}"
    )
    table = Table(title="证照状态 / certificates, as a verifier in 广东 GD would see them")
    for column in (
        "证书 certificate",
        "发证机关 issuer",
        "已锚定 anchored",
        "已撤销 revoked",
        "广东互认 GD recognises",
    ):
        table.add_column(column)
    listed: set[str] = set()
    for issuer_id, certificate_id in issued:
        if issuer_id in listed and certificate_id != second:
            continue
        listed.add(issuer_id)
        view = pipeline.certificate(issuer_id, certificate_id)
        p = view["proof"]
        anchor = index.anchor_of(issuer_id, bytes.fromhex(p["root"]))
        revocation = index.certificate_revocation(
            issuer_id, bytes.fromhex(p["root"]), bytes.fromhex(p["leaf"])
        )
        issuer = index.issuer(issuer_id)
        province = issuer.province if issuer else "?"
        table.add_row(
            certificate_id,
            issuer.name if issuer else issuer_id,
            f"block {anchor.block_number}" if anchor else "no",
            revocation.reason.name if revocation else "no",
            "yes" if anchor and index.is_recognised("GD", province, anchor.cert_type) else "no",
        )
    console.print(table)
    index.close()
    with pipeline.sessions() as session:
        entries, problems = verify_audit(session)
    console.print(
        f"  审计日志 audit log: {entries} entries, {'intact' if not problems else 'BROKEN'}"
    )
    _verify(
        base,
        site,
        pipeline,
        issued,
        network.deployment.registry_address,
        network.deployment.deploy_block,
        chain.description,
    )
    issuer_id, number = issued[0]
    return issuer_id, number, str(pipeline.certificate(issuer_id, number)["qr"])


def _mistyped(cert_type: str, record: Mapping[str, object]) -> dict[str, object]:
    """The record with its first ID code mistyped by one character (refused by its check
    character), or without its first required field."""
    bad = dict(record)
    spec = catalogue()[cert_type]
    coded = [f for f in spec.fields if f.format in ("uscc", "citizen_id", "party_id")]
    if coded:
        value = str(bad[coded[0].key])
        bad[coded[0].key] = value[:-1] + ("1" if value[-1] != "1" else "2")
    else:
        bad.pop(next(f.key for f in spec.fields if f.required))
    return bad


def _verify(
    base: Path,
    site: Site,
    pipeline: Pipeline,
    issued: list[tuple[str, str]],
    registry_address: str,
    deploy_block: int,
    rpc_url: str,
) -> None:
    console.rule("5. 核验 / verify, as each province's verifier")
    site.pki.export_roots(base / "roots.pem")
    site.sm2.export_roots(base / "sm2-roots.pem")
    report_seals: dict[str, dict[str, object]] = {}
    for province in PROVINCES:  # each province's verifier seals its reports (--report)
        cert, key, ca = site.pki.issue_verifier_seal(province.code, province.name)
        report_seals[province.code] = {
            "certificate": str(cert.relative_to(base)),
            "key": str(key.relative_to(base)),
            "chain": [str(ca.relative_to(base))],
            "location": province.name,
        }
    config = VerifierConfig(  # the proofs folder is where 'ecert issue' and the service write
        rpc_url=rpc_url,
        registry_address=registry_address,
        deploy_block=deploy_block,
        trust_roots="roots.pem",
        sm2_trust_roots="sm2-roots.pem",
        proof_directories={"*": proof_folder().name},
        public_urls={p.code: p.verifier_base for p in PROVINCES},
        report_seals=report_seals,
    )
    config.save(base / "verifier.json")
    console.print(
        f"  verifier configuration {shown(base / 'verifier.json')} (trust roots, proofs, each "
        "province's page and report seal)"
    )
    verifiers = {
        p.code: build_verifier(config, base / "verifier.json", region=p.code) for p in PROVINCES
    }
    samples = [next((i, c) for i, c in issued if i == d.issuer_id) for d in DEPARTMENTS]
    revoked = [c for i, c in issued if i == DEPARTMENTS[0].issuer_id][1]
    samples.append((DEPARTMENTS[0].issuer_id, revoked))
    table = Table(title="核验矩阵 / verification matrix (PDF): issuing → verifying province")
    table.add_column("证书 certificate")
    for province in PROVINCES:
        table.add_column(f"{province.name} {province.code}")
    for issuer_id, certificate_id in samples:
        pdf = (base / "out" / f"{certificate_id}.pdf").read_bytes()
        row = [f"{certificate_id} ({issuer_id[2:8]})"]
        for province in PROVINCES:
            report = verifiers[province.code].verify_pdf(pdf)
            reasons = ",".join(c.reason.value for c in report.failures() if c.reason)
            look = style(report.verdict)
            row.append(f"[{look.terminal}]{look.icon} {report.verdict.value}[/] {reasons}".strip())
        table.add_row(*row)
    console.print(table)
    issuer_id, certificate_id = samples[0]
    zj = verifiers["ZJ"]
    view = pipeline.certificate(issuer_id, certificate_id)
    for label, report in (
        ("PDF", zj.verify_pdf((base / "out" / f"{certificate_id}.pdf").read_bytes())),
        ("OFD", zj.verify_ofd((base / "out" / f"{certificate_id}.ofd").read_bytes())),
        ("QR image", zj.verify_image((base / "out" / f"{certificate_id}-qr.png").read_bytes())),
        ("QR text", zj.verify_qr_text(view["qr"])),
    ):
        look = style(report.verdict)
        passed = sum(c.status is Status.VALID for c in report.checks)
        console.print(
            f"  {certificate_id} from its {label}: [bold {look.terminal}]{look.icon} "
            f"{look.both()}[/] ({passed} of {len(report.checks)} checks passed)"
        )
    _trust_bundle(base, site, config, zj, (base / "out" / f"{certificate_id}.pdf").read_bytes())


def _trust_bundle(
    base: Path, site: Site, config: VerifierConfig, live: Verifier, pdf: bytes
) -> None:
    console.rule("6. 信任包 / trust bundle for offline verification")
    chain_id = live.chain.index.chain_id()
    if chain_id is None:
        raise LedgerError("the verifier's index never synced")
    bundle = TrustBundle.from_index(live.chain.index, chain_id)
    started = time.perf_counter()
    partials = [sign_bundle(bundle, p.code, bundle_secret(site.keys, p.code)) for p in PROVINCES]
    signed = aggregate_signatures(bundle, partials)
    signing = time.perf_counter() - started
    signed.save(base / "trust-bundle.ecb")
    size = len(SignedBundle.unsigned(bundle).encode())
    console.print(
        f"  bundle as of block {bundle.block}: {size:,} bytes, signed by "
        f"{', '.join(signed.signers)} in {signing:.1f} s (one 96-byte BLS signature)"
    )
    with_bundle = replace(config, trust_bundles=["trust-bundle.ecb"])
    with_bundle.save(base / "verifier.json")
    # A county office whose network is down: no node answers, the index is too old.
    offline_config = replace(with_bundle, rpc_url="http://127.0.0.1:9", max_stale_seconds=0.0)
    started = time.perf_counter()
    sync_log = logging.getLogger("ecert.verifier.sync")
    sync_log.disabled = True  # its "node unreachable" is the point of this step, not news
    try:
        offline = build_verifier(offline_config, base / "verifier.json", region="GD")
    finally:
        sync_log.disabled = False
    accepted = time.perf_counter() - started
    report = offline.verify_pdf(pdf)
    fresh = report.freshness
    console.print(
        f"  GD verifier with no node: bundle verified in {accepted:.1f} s; certificate "
        f"[bold {style(report.verdict).terminal}]{style(report.verdict).both()}[/] — offline, "
        f"data as of block {fresh.block} ({fresh.block_time})"
    )


def _gas_table(pipeline: Pipeline, chain: Chain) -> None:
    table = Table(title="上链交易 / anchor transactions")
    for column in ("batch", "issuer", "type", "certificates", "block", "gas", "gas / cert"):
        table.add_column(column, justify="right")
    with pipeline.sessions() as session:
        batches = session.scalars(select(Batch).order_by(Batch.id)).all()
    for batch in batches:
        gas = (
            int(chain.w3.eth.get_transaction_receipt(HexBytes(batch.tx_hash))["gasUsed"])
            if batch.tx_hash
            else 0
        )
        table.add_row(
            str(batch.id),
            batch.issuer_id,
            batch.cert_type,
            str(batch.leaf_count),
            str(batch.block_number),
            f"{gas:,}",
            f"{gas / batch.leaf_count:,.0f}",
        )
    console.print(table)


def _refusals(
    site: Site, registry: Registry, root: bytes, leaf: bytes, siblings: list[bytes]
) -> None:
    gd_hospital = DEPARTMENTS[3].issuer_id
    gd = site.keys.load(authority_key("GD"))
    registry.suspend_issuer(gd, gd_hospital)
    console.print(f"  ✔ GD suspends {DEPARTMENTS[3].name}")
    hospital = site.keys.load(f"issuer-{gd_hospital.lower()}")
    university = site.keys.load(f"issuer-{DEPARTMENTS[2].issuer_id.lower()}")
    zj = site.keys.load(authority_key("ZJ"))
    attempts: list[tuple[str, Callable[[], object]]] = [
        (
            "suspended hospital anchors again",
            lambda: registry.anchor(hospital, os.urandom(32), 1, "BIRTH_MEDICAL"),
        ),
        (
            "university revokes a ZJ business licence",
            lambda: registry.revoke_certificate(
                university,
                DEPARTMENTS[0].issuer_id,
                root,
                leaf,
                siblings,
                RevocationReason.UNSPECIFIED,
            ),
        ),
        (
            "ZJ authority registers an issuer in GD",
            lambda: registry.register_issuer(
                zj,
                province="GD",
                issuer_id="GD-FAKE",
                account=hospital.address,
                name="冒名",
                cert_types=[],
                seal_cert_fingerprint=os.urandom(32),
                ca_fingerprint=site.pki.province_ca_fingerprint("GD"),
            ),
        ),
    ]
    for label, attempt in attempts:
        try:
            attempt()
        except RegistryRefused as refused:
            console.print(f"  ✘ {label}: refused with [bold]{refused.error}[/]")
        else:
            raise LedgerError(f"'{label}' was not refused")
