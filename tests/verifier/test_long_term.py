"""Certificates that verify for their whole life. Ten-year business licences sealed B-B and
B-LT (the province's real timestamp service on 127.0.0.1 timestamps them and publishes the CRLs
they embed), anchored on a real anvil node, then:

- verified with the verifier's clock moved forward by Debian's ``faketime`` (+1 year; +3, the
  seal certificate expired; +5, the TSA's expired; +9; and after the licence's own end), from
  the PDF and from the QR code alike: VALID until the licence ends, then INVALID EXPIRED;
- extended to B-LTA with ``ecert seal extend`` (validation data and a document timestamp added
  after the seal): still VALID, and poppler's ``pdfsig`` still calls the seal valid; anything
  else added after it is still INVALID.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.pipeline import Pipeline, Submission
from issuer.samples import department_id, sample_record
from issuer.site import DepartmentConfig, ProvinceConfig, Site, bootstrap_network, bundle_secret
from issuer.store import open_store
from ledger.bundle import TrustBundle, aggregate_signatures, sign_bundle
from ledger.chain import Chain
from ledger.node import AnvilNode, free_port
from tests.conftest import TEST_ONLY_SCRYPT_N
from tests.integration.servers import ServiceProcess
from tests.verifier.forge import incremental_update
from verifier.config import VerifierConfig, build_verifier
from verifier.pages import result_page
from verifier.result import Verdict

pytestmark = pytest.mark.anvil

PASSWORD = "long-term test password"
PLAIN = department_id("330000", "MB0000071")
STAMPED = department_id("330000", "MB0000072")
LICENCE_DAYS = 3650 - 3


@dataclass
class Life:
    home: Path
    config: Path
    pipeline: Pipeline
    numbers: dict[str, str]
    """Seal level (``B-B``, ``B-LT``) → certificate number."""
    issuers: dict[str, str]
    tsa: ServiceProcess

    def pdf(self, level: str) -> bytes:
        return self.pipeline.pdf(self.issuers[level], self.numbers[level])

    def qr(self, level: str) -> str:
        return str(self.pipeline.certificate(self.issuers[level], self.numbers[level])["qr"])


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    home = tmp_path_factory.mktemp("life")
    node = AnvilNode(home / "chain", port=free_port())
    node.start()
    tsa = None
    try:
        bootstrap_network(
            home,
            PASSWORD,
            Chain.connect(node.rpc_url),
            [ProvinceConfig("ZJ", "浙江省", "https://zj.verify.ecert.example")],
            [
                DepartmentConfig(PLAIN, "浙江省市场监督管理局", "ZJ", ["BUSINESS_LICENCE"]),
                DepartmentConfig(STAMPED, "杭州市市场监督管理局", "ZJ", ["BUSINESS_LICENCE"]),
            ],
            scrypt_n=TEST_ONLY_SCRYPT_N,
        )
        tsa = ServiceProcess(
            "tsa",
            ["--province", "ZJ"],
            {"ECERT_HOME": str(home), "ECERT_KEY_PASSWORD": PASSWORD},
            home / "tsa.log",
        ).start()
        site = Site(home, PASSWORD)
        pipeline = Pipeline(
            open_store(f"sqlite:///{home / 'issuer.sqlite'}"),
            [site.department(PLAIN), site.department(STAMPED, timestamp_url=tsa.url + "/")],
            site.registry(),
            batch_size=8,
        )
        until = (datetime.now(UTC) + timedelta(days=LICENCE_DAYS)).date()
        issuers = {"B-B": PLAIN, "B-LT": STAMPED}
        numbers = {}
        for level, issuer_id in issuers.items():
            record = sample_record("BUSINESS_LICENCE", random.Random(level))
            (result,) = pipeline.submit(
                issuer_id, [Submission(level, "BUSINESS_LICENCE", record, until)]
            )
            numbers[level] = result.certificate_id or ""
        pipeline.seal_pending()
        pipeline.close_batches(force=True)
        pipeline.anchor_pending()
        for level, issuer_id in issuers.items():
            folder = home / "proofs" / issuer_id
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{numbers[level]}.json").write_text(
                json.dumps(pipeline.public_proof(issuer_id, numbers[level]))
            )
        site.pki.export_roots(home / "roots.pem")
        deployment = site.network.deployment
        VerifierConfig(
            rpc_url=node.rpc_url,
            registry_address=deployment.registry_address,
            deploy_block=deployment.deploy_block,
            trust_roots="roots.pem",
            proof_directories={"*": "proofs"},
        ).save(home / "verifier.json")
        yield Life(home, home / "verifier.json", pipeline, numbers, issuers, tsa)
    finally:
        if tsa is not None:
            tsa.stop()
        node.stop()


def test_b_lt_seal_carries_its_validation_data(life: Life, tmp_path: Path) -> None:
    reader = PdfFileReader(io.BytesIO(life.pdf("B-LT")))
    dss = reader.root["/DSS"]
    assert len(dss["/CRLs"]) >= 2  # the province CA's and the root's, from the TSA service
    assert len(dss["/Certs"]) >= 2
    view = life.pipeline.certificate(life.issuers["B-LT"], life.numbers["B-LT"])
    assert "B-LT" in json.dumps(view, ensure_ascii=False)
    assert "/DSS" not in PdfFileReader(io.BytesIO(life.pdf("B-B"))).root
    report = build_verifier(VerifierConfig.load(life.config), life.config, region="ZJ").verify_pdf(
        life.pdf("B-LT")
    )
    assert report.verdict is Verdict.VALID, [c.to_json("en") for c in report.failures()]
    stamp = report.check("seal.timestamp")
    assert stamp is not None
    assert stamp.data["time"]
    # The page says when the seal was judged: the earlier of its timestamp and the anchor (in
    # this test they fall within the same second), for a B-B seal the anchor's block.
    stamped = result_page(report, "zh")
    assert "盖章时间戳为" in stamped or "盖章并上链于" in stamped
    plain = build_verifier(VerifierConfig.load(life.config), life.config, region="ZJ")
    page = result_page(plain.verify_pdf(life.pdf("B-B")), "zh")
    assert "盖章并上链于" in page
    assert "印章证书当时有效" in page


_VERIFY_ALL = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from verifier.config import VerifierConfig, build_verifier
    config = Path(sys.argv[1])
    verifier = build_verifier(VerifierConfig.load(config), config, region="ZJ")
    out = {}
    for label, kind, value in json.loads(sys.argv[2]):
        report = (
            verifier.verify_pdf(Path(value).read_bytes()) if kind == "pdf"
            else verifier.verify_qr_text(value)
        )
        trusted = report.check("seal.trusted")
        out[label] = {
            "offline": report.freshness.offline,
            "verdict": report.verdict.value,
            "reasons": sorted({c.reason.value for c in report.failures() if c.reason}),
            "judged_at": trusted.data.get("judged_at") if trusted else None,
        }
    print(json.dumps(out))
    """
)


@pytest.mark.skipif(shutil.which("faketime") is None, reason="Debian's faketime (make installs it)")
def test_valid_for_the_whole_licence_whatever_expires_meanwhile(life: Life, tmp_path: Path) -> None:
    targets = []
    for level in ("B-B", "B-LT"):
        path = tmp_path / f"{level}.pdf"
        path.write_bytes(life.pdf(level))
        targets += [(f"{level} pdf", "pdf", str(path)), (f"{level} qr", "qr", life.qr(level))]
    years = {  # verifier clock → expected verdict and reasons, for every target
        "+365d": ("VALID", []),
        "+1100d": ("VALID", []),  # the seal certificate (3 years) has expired
        "+1830d": ("VALID", []),  # the TSA certificate (5 years) too
        "+3290d": ("VALID", []),  # year 9 of the licence
        f"+{LICENCE_DAYS + 2}d": ("INVALID", ["EXPIRED"]),  # after the licence's own end
    }
    for offset, (verdict, reasons) in years.items():
        done = subprocess.run(
            ["faketime", "-f", offset, sys.executable, "-c", _VERIFY_ALL, str(life.config),
             json.dumps(targets)],
            capture_output=True, text=True, check=False, timeout=180,
            env={"ECERT_HOME": str(life.home), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        answers = json.loads(done.stdout)
        for label, answer in answers.items():
            assert (answer["verdict"], answer["reasons"]) == (verdict, reasons), (offset, label)
            if label.endswith("pdf"):  # judged when it was anchored, not at the faked now
                assert answer["judged_at"][:4] == str(datetime.now(UTC).year), (offset, label)


@pytest.mark.parametrize("level", ["B-B", "B-LT"])
def test_extended_to_b_lta_still_verifies_and_nothing_else_may_follow(
    life: Life, tmp_path: Path, level: str
) -> None:
    source = tmp_path / "licence.pdf"
    source.write_bytes(life.pdf(level))
    extended = tmp_path / "licence-lta.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "seal", "extend", str(source), "--tsa-url",
         life.tsa.url + "/", "--province", "ZJ", "--out", str(extended)],
        capture_output=True, text=True, check=False, timeout=120,
        env={"ECERT_HOME": str(life.home), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    data = extended.read_bytes()
    reader = PdfFileReader(io.BytesIO(data))
    assert len(reader.embedded_signatures) == 2  # the seal and the document timestamp
    assert "/DSS" in reader.root
    verifier = build_verifier(VerifierConfig.load(life.config), life.config, region="ZJ")
    report = verifier.verify_pdf(data)
    assert report.verdict is Verdict.VALID, [c.to_json("en") for c in report.failures()]
    unmodified = report.check("seal.unmodified")
    assert unmodified is not None
    assert unmodified.data["coverage"] == "ENTIRE_REVISION"
    pdfsig = subprocess.run(["pdfsig", str(extended)], capture_output=True, text=True, check=False)
    first = pdfsig.stdout.split("Signature #2")[0]
    assert "Signature Validation: Signature is Valid." in first, pdfsig.stdout
    forged = verifier.verify_pdf(incremental_update(data, "annotation"))
    assert forged.verdict is Verdict.INVALID
    assert "SEAL_MODIFIED" in {c.reason.value for c in forged.failures() if c.reason}


def _cli(life: Life, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True, text=True, check=False, timeout=120,
        env={"ECERT_HOME": str(life.home), "ECERT_KEY_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def _issue(life: Life, level: str, reference: str) -> str:
    issuer_id = life.issuers[level]
    until = (datetime.now(UTC) + timedelta(days=365)).date()
    record = sample_record("BUSINESS_LICENCE", random.Random(reference))
    (result,) = life.pipeline.submit(
        issuer_id, [Submission(reference, "BUSINESS_LICENCE", record, until)]
    )
    number = result.certificate_id or ""
    life.pipeline.seal_pending()
    life.pipeline.close_batches(force=True)
    life.pipeline.anchor_pending()
    (life.home / "proofs" / issuer_id / f"{number}.json").write_text(
        json.dumps(life.pipeline.public_proof(issuer_id, number))
    )
    return number


def test_a_compromised_seal_or_ca_invalidates_only_what_was_anchored_after(
    life: Life, tmp_path: Path
) -> None:
    """Last in this module: it revokes the B-B department's seal and distrusts the province
    CA. Certificates anchored before the compromise time stay VALID, those after are INVALID,
    from the PDF, the QR code and, offline, from a trust bundle alike."""
    plain, stamped = life.issuers["B-B"], life.issuers["B-LT"]
    before = life.numbers["B-B"]
    compromised_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(1.2)
    done = _cli(
        life, "pki", "revoke-seal", "--issuer", plain, "--at", compromised_at.isoformat(),
        "--reason", "key-compromise",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    after = _issue(life, "B-B", "sealed with a stolen key")
    verifier = build_verifier(VerifierConfig.load(life.config), life.config, region="ZJ")

    def answer(issuer_id: str, number: str) -> list[tuple[str, list[str]]]:
        reports = [
            verifier.verify_pdf(life.pipeline.pdf(issuer_id, number)),
            verifier.verify_qr_text(str(life.pipeline.certificate(issuer_id, number)["qr"])),
        ]
        return [
            (r.verdict.value, sorted({c.reason.value for c in r.failures() if c.reason}))
            for r in reports
        ]

    assert answer(plain, before) == [("VALID", [])] * 2
    assert answer(plain, after) == [("INVALID", ["SEAL_REVOKED"])] * 2
    standing = verifier.verify_pdf(life.pdf("B-B")).check("seal.status")
    assert standing is not None
    assert standing.data["seal_revoked_from"] == compromised_at.isoformat()

    # The province's CA is distrusted by the consortium: the other department too.
    stamped_before = life.numbers["B-LT"]
    distrusted_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(1.2)
    done = _cli(
        life, "pki", "distrust-ca", "--province", "ZJ", "--at", distrusted_at.isoformat(),
        "--reason", "key-compromise",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    stamped_after = _issue(life, "B-LT", "sealed under a distrusted CA")
    verifier.chain.refresh(force=True)
    assert answer(stamped, stamped_before) == [("VALID", [])] * 2
    assert answer(stamped, stamped_after) == [("INVALID", ["CA_DISTRUSTED"])] * 2
    # The province's CRLs say so too (served by its timestamp service).
    from cryptography import x509  # noqa: PLC0415

    province_crl = x509.load_der_x509_crl(httpx.get(f"{life.tsa.url}/crl/ZJ.crl").content)
    root_crl = x509.load_der_x509_crl(httpx.get(f"{life.tsa.url}/crl/root.crl").content)
    assert len(list(province_crl)) == 1
    assert len(list(root_crl)) == 1

    # Offline, from a trust bundle the provinces signed after the compromise.
    site = Site(life.home, PASSWORD)
    index = verifier.chain.index
    chain_id = index.chain_id()
    assert chain_id is not None
    bundle = TrustBundle.from_index(index, chain_id)
    signed = aggregate_signatures(
        bundle, [sign_bundle(bundle, "ZJ", bundle_secret(site.keys, "ZJ"))]
    )
    signed.save(tmp_path / "bundle.json")
    county = replace(
        VerifierConfig.load(life.config),
        index_dir=str(tmp_path / "county"),
        trust_bundles=[str(tmp_path / "bundle.json")],
    )
    build_verifier(county, life.config, region="ZJ")  # learnt the province keys once, online
    offline_config = replace(county, rpc_url="http://127.0.0.1:9", max_stale_seconds=0.0)
    offline = build_verifier(offline_config, life.config, region="ZJ")
    assert offline.chain.bundles is not None
    assert offline.chain.bundles.bundle is not None, offline.chain.bundles.problems
    assert offline.chain.offline
    for number, expected in ((before, "VALID"), (after, "INVALID")):
        report = offline.verify_pdf(life.pipeline.pdf(plain, number))
        assert report.verdict.value == expected, [c.to_json("en") for c in report.failures()]
        assert report.freshness.offline


@pytest.mark.skipif(shutil.which("faketime") is None, reason="Debian's faketime (make installs it)")
def test_a_five_year_old_licence_offline_with_the_root_and_a_bundle(
    life: Life, tmp_path: Path
) -> None:
    """Five years on (the chain's clock moved forward too, so the provinces' latest bundle is
    from then), a county office with no network, the national root and that bundle: the
    licence sealed at issuance — its seal and TSA certificates long expired — is VALID from its
    PDF and its QR code."""
    five_years = 5 * 365 * 86_400
    node_rpc = VerifierConfig.load(life.config).rpc_url
    for method, params in (("evm_increaseTime", [five_years]), ("evm_mine", [])):
        reply = httpx.post(
            node_rpc, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        )
        assert "error" not in reply.json(), reply.text
    county = replace(
        VerifierConfig.load(life.config),
        trust_roots=str(life.home / "roots.pem"),  # the national root, nothing else
        proof_directories={"*": str(life.home / "proofs")},
        index_dir=str(tmp_path / "county"),
        trust_bundles=[str(tmp_path / "bundle.json")],
    )
    live = build_verifier(county, life.config, region="ZJ")
    chain_id = live.chain.index.chain_id()
    assert chain_id is not None
    bundle = TrustBundle.from_index(live.chain.index, chain_id)
    site = Site(life.home, PASSWORD)
    signed = aggregate_signatures(
        bundle, [sign_bundle(bundle, "ZJ", bundle_secret(site.keys, "ZJ"))]
    )
    signed.save(tmp_path / "bundle.json")
    offline = replace(county, rpc_url="http://127.0.0.1:9", max_stale_seconds=0.0)
    offline_path = tmp_path / "county.json"
    offline.save(offline_path)
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(life.pdf("B-LT"))
    targets = [("pdf", "pdf", str(pdf)), ("qr", "qr", life.qr("B-LT"))]
    done = subprocess.run(
        ["faketime", "-f", "+1830d", sys.executable, "-c", _VERIFY_ALL, str(offline_path),
         json.dumps(targets)],
        capture_output=True, text=True, check=False, timeout=180,
        env={"ECERT_HOME": str(life.home), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    answers = json.loads(done.stdout)
    for answer in answers.values():
        assert (answer["verdict"], answer["offline"]) == ("VALID", True), answers
