"""Genuine certificates verify VALID from all three inputs; each forgery is INVALID with the
expected reason; a stopped node gives INDETERMINATE. Real anvil node, real pyHanko seals, real
renders decoded by zxing-cpp."""

from __future__ import annotations

import io
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from issuer.pki import issue_province_ca, issue_root, issue_seal
from issuer.render import render_certificate
from issuer.samples import sample_record
from issuer.seal import Sealer
from issuer.sealing import SealJob, document_for
from tests.verifier.conftest import GD_HOSPITAL, ZJ_MARKET, Network
from tests.verifier.forge import incremental_update
from verifier import plans
from verifier.reasons import ReasonCode
from verifier.result import Status, Verdict, VerificationReport

pytestmark = pytest.mark.anvil


def _reason(report: VerificationReport) -> set[str]:
    return {c.reason.value for c in report.failures() if c.reason}


def _assert_invalid(report: VerificationReport, reason: ReasonCode) -> None:
    assert report.verdict is Verdict.INVALID, report.to_json("en")
    assert reason.value in _reason(report), report.to_json("en")


def test_genuine_certificate_is_valid_from_pdf_png_and_qr_text(
    network: Network, tmp_path: Path
) -> None:
    verifier = network.verifier()
    pdf = network.pdf(network.good)
    report = verifier.verify_pdf(pdf)
    assert report.verdict is Verdict.VALID, [c.to_json("en") for c in report.failures()]
    assert {c.name for c in report.checks} >= {
        "seal.intact",
        "seal.unmodified",
        "seal.trusted",
        "seal.key_usage",
        "seal.registered",
        "document.claims",
        "qr.matches_document",
        "qr.signature",
        "anchor.included",
        "anchor.issuer",
        "status.not_revoked",
        "status.validity",
        "recognition",
    }
    assert report.certificate.fields[0].label_zh == "统一社会信用代码"
    source = tmp_path / "c.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
    )
    image = verifier.verify_image((tmp_path / "page.png").read_bytes())
    assert image.verdict is Verdict.VALID, image.to_json("en")
    qr = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    assert verifier.verify_qr_text(qr).verdict is Verdict.VALID
    assert verifier.verify_id(ZJ_MARKET, network.good).verdict is Verdict.VALID


def _job(number: str, seed: int, cert_type: str = "BUSINESS_LICENCE") -> SealJob:
    now = datetime.now(UTC).replace(microsecond=0)
    from ledger.catalogue import validate  # noqa: PLC0415

    record = validate(cert_type, sample_record(cert_type, random.Random(seed)))
    return SealJob(
        0,
        ZJ_MARKET,
        cert_type,
        number,
        record,
        b"\x05" * 32,
        now,
        now,
        now + timedelta(days=365),
    )


def _flipped(network: Network) -> bytes:
    pdf = bytearray(network.pdf(network.good))
    pdf[len(pdf) // 3] ^= 0x01
    return bytes(pdf)


def _look_alike(network: Network) -> bytes:
    dept = network.site.department(ZJ_MARKET)
    fake_root = issue_root()
    fake_zj = issue_province_ca(fake_root, "ZJ", "浙江省")
    fake_seal = issue_seal(
        fake_zj,
        department="浙江省市场监督管理局",
        organization_id=ZJ_MARKET,
        province_name="浙江省",
    )
    assert fake_seal.cert.subject == network.site.pki.seal(ZJ_MARKET).cert.subject
    rendered = render_certificate(document_for(dept, _job(network.good, 1)))
    return Sealer(fake_seal, [fake_zj.cert, fake_root.cert], location="浙江省").seal(rendered)


def _pasted_qr(network: Network) -> bytes:
    dept = network.site.department(ZJ_MARKET)
    genuine_qr = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    document = replace(document_for(dept, _job("2026BL99999999", 7)), qr_text=genuine_qr)
    return dept.sealer.seal(render_certificate(document))


def _never_anchored(network: Network) -> bytes:
    dept = network.site.department(ZJ_MARKET)
    return dept.sealer.seal(render_certificate(document_for(dept, _job("2026BL88888888", 8))))


def _wrong_type(network: Network) -> bytes:
    """The department seals a type it may not issue itself (its pipeline refuses to): the
    registry never let it anchor one."""
    dept = network.site.department(ZJ_MARKET)
    job = _job("2026RE77777777", 3, "REAL_ESTATE")
    return dept.sealer.seal(render_certificate(document_for(dept, job)))


FORGERIES: dict[str, tuple[Callable[[Network], bytes], str, ReasonCode]] = {
    "flipped byte": (_flipped, "ZJ", ReasonCode.SEAL_BROKEN),
    "overlaid text": (
        lambda n: incremental_update(n.pdf(n.good), "text"),
        "ZJ",
        ReasonCode.SEAL_MODIFIED,
    ),
    "annotation": (
        lambda n: incremental_update(n.pdf(n.good), "annotation"),
        "ZJ",
        ReasonCode.SEAL_MODIFIED,
    ),
    "look-alike CA": (_look_alike, "ZJ", ReasonCode.SEAL_UNTRUSTED),
    "genuine QR pasted": (_pasted_qr, "ZJ", ReasonCode.QR_MISMATCH),
    "never anchored": (_never_anchored, "ZJ", ReasonCode.NOT_ANCHORED),
    "revoked": (lambda n: n.pdf(n.revoked), "ZJ", ReasonCode.REVOKED),
    "suspended issuer": (
        lambda n: n.pdf(n.suspended_cert, GD_HOSPITAL),
        "GD",
        ReasonCode.ISSUER_SUSPENDED,
    ),
    "type not allowed": (_wrong_type, "ZJ", ReasonCode.TYPE_NOT_AUTHORISED),
}


@pytest.fixture(scope="module")
def forged(network: Network) -> dict[str, bytes]:
    return {name: make(network) for name, (make, _region, _reason) in FORGERIES.items()}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_each_forgery_is_invalid_with_its_reason(
    network: Network, forged: dict[str, bytes], name: str
) -> None:
    _make, region, reason = FORGERIES[name]
    report = network.verifier(region).verify_pdf(forged[name])
    _assert_invalid(report, reason)
    assert tuple(c.name for c in report.checks) == plans.PDF.names


def test_genuine_but_not_recognised_here_is_told_apart_from_a_forgery(network: Network) -> None:
    report = network.verifier("GD").verify_pdf(network.pdf(network.good))
    assert report.verdict is Verdict.NOT_RECOGNISED, [c.to_json("en") for c in report.failures()]
    assert [c.name for c in report.checks if c.status is Status.INVALID] == ["recognition"]
    assert _reason(report) == {ReasonCode.NOT_RECOGNISED.value}


def test_expired(network: Network) -> None:
    later = datetime.now(UTC) + timedelta(days=800)
    report = network.verifier().verify_pdf(network.pdf(network.good), now=later)
    _assert_invalid(report, ReasonCode.EXPIRED)


def test_garbage_inputs_are_invalid_not_errors(network: Network) -> None:
    verifier = network.verifier()
    _assert_invalid(verifier.verify_pdf(b"hello"), ReasonCode.NOT_A_PDF)
    _assert_invalid(verifier.verify_pdf(b"%PDF-1.7\n garbage"), ReasonCode.NOT_A_PDF)
    unreadable = verifier.verify_image(b"\x89PNG not really")  # "take it again", not a verdict
    assert unreadable.verdict is Verdict.INDETERMINATE, unreadable.to_json("en")
    assert _reason(unreadable) == {ReasonCode.QR_UNREADABLE.value}
    _assert_invalid(verifier.verify_qr_text("https://x.example/v/@@@"), ReasonCode.QR_MALFORMED)


def test_node_stopped_is_indeterminate_never_valid_or_invalid(network: Network) -> None:
    network.node.stop()
    try:
        verifier = network.verifier(max_stale_seconds=0.0)
        for report in (
            verifier.verify_pdf(network.pdf(network.good)),
            verifier.verify_qr_text(network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]),
        ):
            assert report.verdict is Verdict.INDETERMINATE, report.to_json("en")
            assert ReasonCode.CHAIN_UNAVAILABLE.value in _reason(report)
            assert report.freshness.node == "down"
        # Within the staleness allowance the index still answers, and says how old it is.
        recent = network.verifier(max_stale_seconds=3600.0)
        assert recent.verify_pdf(network.pdf(network.good)).verdict is Verdict.VALID
    finally:
        network.node.start()


def test_photo_like_images_rotated_blurred_and_jpeg(network: Network, tmp_path: Path) -> None:
    from PIL import Image, ImageFilter  # noqa: PLC0415

    source = tmp_path / "c.pdf"
    source.write_bytes(network.pdf(network.good))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
    )
    page = Image.open(tmp_path / "page.png").convert("L")
    verifier = network.verifier()
    variants = {
        "rotated 90": page.rotate(90, expand=True),
        "tilted 8 degrees": page.rotate(8, expand=True, fillcolor=255),
        "blurred": page.filter(ImageFilter.GaussianBlur(1.2)),
        "upside down": page.rotate(180),
    }
    for label, image in variants.items():
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=70)
        report = verifier.verify_image(buffer.getvalue())
        assert report.verdict is Verdict.VALID, (label, report.to_json("en"))


def test_page_with_two_certificates_qr_codes_is_a_mismatch_and_stray_codes_are_ignored(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the decoder reads off the page: a stray short code beside the genuine QR changes
    nothing; a second certificate's QR on the same page is a mismatch."""
    import verifier.checks.qr as qr_checks  # noqa: PLC0415

    verifier = network.verifier()
    pdf = network.pdf(network.good)
    genuine = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    other = network.pipeline.certificate(ZJ_MARKET, network.revoked)["qr"]

    monkeypatch.setattr(qr_checks, "page_qr_text", lambda _pdf: ["083002", genuine])
    assert verifier.verify_pdf(pdf).verdict is Verdict.VALID

    monkeypatch.setattr(qr_checks, "page_qr_text", lambda _pdf: [genuine, other])
    report = verifier.verify_pdf(pdf)
    _assert_invalid(report, ReasonCode.QR_MISMATCH)
    check = report.check("qr.matches_document")
    assert check is not None
    assert "different certificates" in check.detail

    monkeypatch.setattr(qr_checks, "page_qr_text", lambda _pdf: ["083002"])
    _assert_invalid(verifier.verify_pdf(pdf), ReasonCode.QR_MALFORMED)


def test_every_pdf_report_carries_the_same_checks_and_skips_name_their_prerequisite(
    network: Network, forged: dict[str, bytes]
) -> None:
    verifier = network.verifier()
    reports = {
        "genuine": verifier.verify_pdf(network.pdf(network.good)),
        "flipped byte": verifier.verify_pdf(forged["flipped byte"]),
        "never anchored": verifier.verify_pdf(forged["never anchored"]),
        "revoked": verifier.verify_pdf(forged["revoked"]),
        "not a PDF": verifier.verify_pdf(b"%PDF-1.7 not really"),
    }
    for label, report in reports.items():
        assert tuple(c.name for c in report.checks) == plans.PDF.names, label
        body = report.to_json("en")
        assert [c["name"] for c in body["checks"]] == [n.value for n in plans.PDF.names]
        for check in report.checks:
            if check.reason is ReasonCode.PREREQUISITE_FAILED:
                needed = report.check(check.data["needs"])
                assert needed is not None, (label, check)
                assert needed.status is not Status.VALID, (label, check)
    skipped = reports["flipped byte"].check("seal.trusted")
    assert skipped is not None
    assert (skipped.status, skipped.data["needs"]) == (Status.SKIPPED, "seal.intact")


def test_a_crash_inside_seal_validation_or_page_rendering_is_indeterminate_not_invalid(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    import verifier.checks.qr as qr_checks  # noqa: PLC0415
    import verifier.checks.seal as seal_checks  # noqa: PLC0415

    verifier = network.verifier()
    pdf = network.pdf(network.good)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a library failing in a way nobody foresaw")

    monkeypatch.setattr(seal_checks, "validate_pdf_signature", crash)
    report = verifier.verify_pdf(pdf)
    assert report.verdict is Verdict.INDETERMINATE, report.to_json("en")
    assert _reason(report) == {ReasonCode.UNEXPECTED.value}
    check = report.check("seal.intact")
    assert check is not None
    assert check.status is Status.ERROR
    monkeypatch.undo()

    monkeypatch.setattr(qr_checks, "page_qr_text", crash)
    report = verifier.verify_pdf(pdf)
    assert report.verdict is Verdict.INDETERMINATE, report.to_json("en")
    assert _reason(report) == {ReasonCode.PAGE_NOT_RENDERED.value}


def test_a_photo_with_no_readable_qr_asks_for_another_photo(
    network: Network, tmp_path: Path
) -> None:
    import zxingcpp  # noqa: PLC0415
    from PIL import Image, ImageDraw  # noqa: PLC0415

    source = tmp_path / "c.pdf"
    source.write_bytes(network.pdf(network.good))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
    )
    page = Image.open(tmp_path / "page.png").convert("RGB")
    (found,) = zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode)
    corners = [found.position.top_left, found.position.bottom_right]
    box = (
        min(p.x for p in corners) - 10,
        min(p.y for p in corners) - 10,
        max(p.x for p in corners) + 10,
        max(p.y for p in corners) + 10,
    )
    ImageDraw.Draw(page).rectangle(box, fill="white")  # the thumb over the code
    buffer = io.BytesIO()
    page.save(buffer, format="JPEG", quality=80)
    report = network.verifier().verify_image(buffer.getvalue())
    assert report.verdict is Verdict.INDETERMINATE, report.to_json("en")
    assert _reason(report) == {ReasonCode.QR_UNREADABLE.value}
    assert "请重新拍摄" in report.to_json("zh")["checks"][0]["message"]


def test_ecert_verify_never_shows_a_traceback_for_any_forgery(
    network: Network, forged: dict[str, bytes], tmp_path: Path
) -> None:
    files = {name: tmp_path / f"{i}.pdf" for i, name in enumerate(forged)}
    for name, path in files.items():
        path.write_bytes(forged[name])
    (tmp_path / "noise.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF")
    runs = [(name, str(path), FORGERIES[name][1], 1) for name, path in files.items()]
    runs += [
        ("noise", str(tmp_path / "noise.png"), "ZJ", 2),
        ("broken", str(tmp_path / "broken.pdf"), "ZJ", 1),
    ]
    for name, target, region, expected in runs:
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "verify", target, "--region", region,
             "--config", str(network.config_path)],
            capture_output=True, text=True, check=False, timeout=120,
            env={"ECERT_HOME": str(network.home), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        )  # fmt: skip
        assert done.returncode == expected, (name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr + done.stdout, name
        assert "pyhanko" not in done.stderr.lower(), (name, done.stderr)
        assert "无效" in done.stdout or expected == 2, (name, done.stdout)
