"""The verification report a bank files: one A4 page in plain Chinese (English on request) with
the verdict and why, what the certificate says, every check, how fresh the registry data was
and where it came from, and a QR code to verify the certificate again — sealed (PAdES) with the
verifying province's e-seal, so anyone can later check that this verifier said so."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ledger.errors import LedgerError
from ledger.fonts import register_cjk_font
from verifier.errors import ReportUnavailable
from verifier.names import label
from verifier.result import Status, VerificationReport
from verifier.verdicts import mark, style
from verifier.wording import data_age, headline, local_time, reason_line, region_name

__all__ = ["ReportSealer", "render_report"]

_MARGIN = 48.0
_WIDTH = A4[0] - 2 * _MARGIN
_WORDS = {
    "zh": {
        "title": "电子证照核验报告",
        "certificate": "证照信息",
        "checks": "核验项目",
        "type": "证照类型",
        "number": "证书编号",
        "issuer": "发证机关",
        "validity": "有效期",
        "forever": "长期",
        "verified": "核验时间",
        "region": "核验地",
        "data": "数据来源",
        "online": "区块链（本地索引，区块 {block}）",
        "offline": "各省共同签署的信任包（离线，区块 {block}）",
        "again": "扫码再次核验",
        "sealed": "本报告由核验机关加盖电子印章，可用 PDF 阅读器或 ecert verify 核验其印章。",
    },
    "en": {
        "title": "Certificate verification report",
        "certificate": "Certificate",
        "checks": "Checks",
        "type": "Type",
        "number": "Number",
        "issuer": "Issuer",
        "validity": "Valid",
        "forever": "permanent",
        "verified": "Verified at",
        "region": "Verified in",
        "data": "Data",
        "online": "the ledger (local index, block {block})",
        "offline": "the provinces' signed trust bundle (offline, block {block})",
        "again": "Scan to verify again",
        "sealed": "This report carries the verifier's e-seal; any PDF reader can check it.",
    },
}


class _Page:
    """A top-down writer on one page, wrapping long lines."""

    def __init__(self, canvas: Canvas, font: str) -> None:
        self.c, self.font = canvas, font
        self.y = A4[1] - _MARGIN

    def text(self, text: str, size: float = 11, colour: str = "#111111", indent: float = 0) -> None:
        self.c.setFillColor(HexColor(colour))
        self.c.setFont(self.font, size)
        width = _WIDTH - indent
        line = ""
        for char in text:
            if self.c.stringWidth(line + char, self.font, size) > width:
                self._line(line, size, indent)
                line = ""
            line += char
        self._line(line, size, indent)

    def _line(self, line: str, size: float, indent: float) -> None:
        self.c.drawString(_MARGIN + indent, self.y - size, line)
        self.y -= size * 1.45

    def gap(self, points: float = 6) -> None:
        self.y -= points


def render_report(
    report: VerificationReport, *, lang: str = "zh", verify_url: str | None = None
) -> bytes:
    """The report as an unsealed one-page PDF."""
    lang = "en" if lang == "en" else "zh"
    w = _WORDS[lang]
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(w["title"])
    page = _Page(canvas, register_cjk_font())
    page.text(w["title"], 20)
    look = style(report.verdict)
    top = page.y
    canvas.setFillColor(HexColor(look.colour))
    canvas.roundRect(_MARGIN, top - 64, _WIDTH, 60, 8, stroke=0, fill=1)
    page.y = top - 8
    page.text(f"{look.icon} {look.word(lang)}  {report.verdict.value}", 18, "#ffffff", 12)
    page.text(headline(report, lang), 10, "#ffffff", 12)
    page.y = top - 72
    cert = report.certificate
    if cert.known:
        page.text(w["certificate"], 13)
        kind = (cert.type_name_en if lang == "en" else cert.type_name_zh) or cert.cert_type
        until = (cert.valid_until or "")[:10] or w["forever"]
        rows = [
            (w["type"], kind or ""),
            (w["number"], cert.certificate_id or ""),
            (w["issuer"], cert.issuer_name or cert.issuer_id or ""),
            (w["validity"], f"{(cert.valid_from or '')[:10]} – {until}"),
        ] + [(f.label_en if lang == "en" else f.label_zh, f.value) for f in cert.fields]
        for key, value in rows:
            page.text(f"{key}：{value}" if lang == "zh" else f"{key}: {value}", 10, indent=12)
        page.gap()
    page.text(w["checks"], 13)
    for check in report.checks:
        if check.status is Status.SKIPPED:
            continue
        why = reason_line(check, lang)
        line = f"{mark(check.status).icon} {label(check.name, lang)} [{check.name.value}]"
        page.text(f"{line}{'：' if lang == 'zh' else ': '}{why}" if why else line, 9.5, indent=12)
    page.gap()
    fresh = report.freshness
    source = w["offline" if fresh.offline else "online"].format(block=fresh.block)
    now = datetime.now(UTC).isoformat()
    for key, value in (
        (w["verified"], local_time(now, lang)),
        (w["region"], region_name(report, lang)),
        (w["data"], f"{source} · {data_age(fresh.age_seconds, lang)}"),
    ):
        page.text(f"{key}：{value}" if lang == "zh" else f"{key}: {value}", 10)
    if verify_url:
        _qr(canvas, verify_url)
        canvas.setFont(page.font, 8)
        canvas.drawString(A4[0] - _MARGIN - 110, _MARGIN + 2, w["again"])
    canvas.setFillColor(HexColor("#555555"))
    canvas.setFont(page.font, 8)
    canvas.drawString(_MARGIN, _MARGIN - 20, w["sealed"])
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _qr(canvas: Canvas, url: str) -> None:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    size = 110.0
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, A4[0] - _MARGIN - size, _MARGIN + 12)


class ReportSealer:
    """Seals reports with the verifying province's e-seal (PAdES B-B). The key is unlocked on
    first use (``password`` is asked for then), so a verifier that makes no report needs no
    password."""

    def __init__(
        self,
        certificate: Path,
        key: Path,
        chain: Sequence[Path],
        password: Callable[[], str],
        location: str,
    ) -> None:
        self._paths = (certificate, key, tuple(chain))
        self._password = password
        self._location = location
        self._signer: signers.SimpleSigner | None = None

    def _load(self) -> signers.SimpleSigner:
        certificate, key, chain = self._paths
        try:
            cert = asn1_x509.Certificate.load(_der(certificate.read_bytes()))
            others = [asn1_x509.Certificate.load(_der(p.read_bytes())) for p in chain]
            private = serialization.load_pem_private_key(
                key.read_bytes(), self._password().encode("utf-8")
            )
        except (OSError, ValueError, TypeError, LedgerError) as exc:
            raise ReportUnavailable(f"cannot unlock the report seal {certificate.name}") from exc
        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return signers.SimpleSigner(
            signing_cert=cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(others),  # type: ignore[no-untyped-call]
        )

    def seal(self, pdf: bytes) -> bytes:
        if self._signer is None:
            self._signer = self._load()
        meta = signers.PdfSignatureMetadata(
            field_name="ecert-verification-report",
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
            reason="电子证照核验报告 / verification report",
            location=self._location,
        )
        out = signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)),
            meta,
            signer=self._signer,
            bytes_reserved=8_192,
        )
        return bytes(out.getvalue())


def _der(data: bytes) -> bytes:
    if pem.detect(data):
        _kind, _headers, der = pem.unarmor(data)
        return bytes(der)
    return data
