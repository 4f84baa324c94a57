"""Genuine certificates verify VALID from all three inputs; each forgery is INVALID with the
expected reason; a stopped node gives INDETERMINATE. Real anvil node, real pyHanko seals, real
renders decoded by zxing-cpp."""

from __future__ import annotations

import io
import random
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from issuer.pki import issue_province_ca, issue_root, issue_seal
from issuer.render import render_certificate
from issuer.samples import sample_record
from issuer.seal import Sealer
from issuer.sealing import SealJob, document_for
from tests.verifier.conftest import GD_HOSPITAL, ZJ_MARKET, Network
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
    assert report.verdict is Verdict.VALID, report.to_json("en")
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
    assert report.certificate["fields"][0]["label_zh"] == "统一社会信用代码"
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


def test_flipped_byte(network: Network) -> None:
    pdf = bytearray(network.pdf(network.good))
    pdf[len(pdf) // 3] ^= 0x01
    _assert_invalid(network.verifier().verify_pdf(bytes(pdf)), ReasonCode.SEAL_BROKEN)


def _incremental(pdf: bytes, change: str) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if change == "text":
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        overlay = writer.add_object(
            generic.StreamObject(
                stream_data=b"q 1 1 1 rg 60 430 470 40 re f Q "
                b"BT /F1 24 Tf 1 0 0 1 200 440 Tm (FORGED 999) Tj ET"
            )
        )
        contents = page["/Contents"]
        existing = (
            list(contents)
            if isinstance(contents, generic.ArrayObject)
            else [page.raw_get("/Contents")]
        )
        page[generic.NameObject("/Contents")] = generic.ArrayObject([*existing, overlay])
        writer.update_container(page)
    else:
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        annot = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(x) for x in (150, 450, 450, 520)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("改为 10000 万元"),
                generic.NameObject("/DA"): generic.pdf_string("/Helv 18 Tf 0 g"),
            }
        )
        page[generic.NameObject("/Annots")] = generic.ArrayObject([writer.add_object(annot)])
        writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_incremental_update_overlaying_text(network: Network) -> None:
    forged = _incremental(network.pdf(network.good), "text")
    _assert_invalid(network.verifier().verify_pdf(forged), ReasonCode.SEAL_MODIFIED)


def test_annotation_overlay(network: Network) -> None:
    forged = _incremental(network.pdf(network.good), "annotation")
    _assert_invalid(network.verifier().verify_pdf(forged), ReasonCode.SEAL_MODIFIED)


def _job(number: str, seed: int) -> SealJob:
    now = datetime.now(UTC).replace(microsecond=0)
    from ledger.catalogue import validate  # noqa: PLC0415

    record = validate("BUSINESS_LICENCE", sample_record("BUSINESS_LICENCE", random.Random(seed)))
    return SealJob(
        0,
        ZJ_MARKET,
        "BUSINESS_LICENCE",
        number,
        record,
        b"\x05" * 32,
        now,
        now,
        now + timedelta(days=365),
    )


def test_same_content_resealed_by_a_look_alike_ca(network: Network) -> None:
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
    forged = Sealer(fake_seal, [fake_zj.cert, fake_root.cert], location="浙江省").seal(rendered)
    report = network.verifier().verify_pdf(forged)
    _assert_invalid(report, ReasonCode.SEAL_UNTRUSTED)


def test_genuine_qr_pasted_onto_another_certificate(network: Network) -> None:
    dept = network.site.department(ZJ_MARKET)
    genuine_qr = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    document = replace(document_for(dept, _job("2026BL99999999", 7)), qr_text=genuine_qr)
    forged = dept.sealer.seal(render_certificate(document))
    _assert_invalid(network.verifier().verify_pdf(forged), ReasonCode.QR_MISMATCH)


def test_well_formed_but_never_anchored(network: Network) -> None:
    dept = network.site.department(ZJ_MARKET)
    unanchored = dept.sealer.seal(render_certificate(document_for(dept, _job("2026BL88888888", 8))))
    _assert_invalid(network.verifier().verify_pdf(unanchored), ReasonCode.NOT_ANCHORED)


def test_revoked(network: Network) -> None:
    _assert_invalid(network.verifier().verify_pdf(network.pdf(network.revoked)), ReasonCode.REVOKED)


def test_issued_by_a_suspended_issuer(network: Network) -> None:
    report = network.verifier("GD").verify_pdf(network.pdf(network.suspended_cert, GD_HOSPITAL))
    _assert_invalid(report, ReasonCode.ISSUER_SUSPENDED)


def test_a_type_the_issuer_is_not_allowed(network: Network) -> None:
    report = network.verifier().verify_pdf(network.pdf(network.wrong_type_cert))
    _assert_invalid(report, ReasonCode.TYPE_NOT_AUTHORISED)


def test_expired(network: Network) -> None:
    later = datetime.now(UTC) + timedelta(days=800)
    report = network.verifier().verify_pdf(network.pdf(network.good), now=later)
    _assert_invalid(report, ReasonCode.EXPIRED)


def test_not_recognised_in_a_province_without_an_agreement(network: Network) -> None:
    report = network.verifier("GD").verify_pdf(network.pdf(network.good))
    _assert_invalid(report, ReasonCode.NOT_RECOGNISED)
    failing = [c for c in report.checks if c.status is Status.INVALID]
    assert [c.name for c in failing] == ["recognition"]


def test_garbage_inputs_are_invalid_not_errors(network: Network) -> None:
    verifier = network.verifier()
    _assert_invalid(verifier.verify_pdf(b"hello"), ReasonCode.NOT_A_PDF)
    _assert_invalid(verifier.verify_pdf(b"%PDF-1.7\n garbage"), ReasonCode.NOT_A_PDF)
    _assert_invalid(verifier.verify_image(b"\x89PNG not really"), ReasonCode.QR_MISSING)
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
            assert report.freshness["node"] == "down"
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
    import verifier.engine as engine  # noqa: PLC0415

    verifier = network.verifier()
    pdf = network.pdf(network.good)
    genuine = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
    other = network.pipeline.certificate(ZJ_MARKET, network.revoked)["qr"]

    monkeypatch.setattr(engine, "page_qr_text", lambda _pdf: ["083002", genuine])
    assert verifier.verify_pdf(pdf).verdict is Verdict.VALID

    monkeypatch.setattr(engine, "page_qr_text", lambda _pdf: [genuine, other])
    report = verifier.verify_pdf(pdf)
    _assert_invalid(report, ReasonCode.QR_MISMATCH)
    check = report.check("qr.matches_document")
    assert check is not None
    assert "different certificates" in check.detail

    monkeypatch.setattr(engine, "page_qr_text", lambda _pdf: ["083002"])
    _assert_invalid(verifier.verify_pdf(pdf), ReasonCode.QR_MALFORMED)
