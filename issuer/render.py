"""A certificate as a one-page A4 PDF: Chinese first with English labels, the fields of its
type, a red round seal mark, and the QR code drawn as vector squares (sharp at any print
resolution). The claims also travel as a machine-readable JSON attachment and in XMP metadata,
so a receiving system reads data instead of retyping it."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

import zxingcpp
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from ledger.catalogue import CertTypeSpec
from ledger.fonts import register_cjk_font

__all__ = [
    "ATTACHMENT_NAME",
    "XMP_NAMESPACE",
    "CertificateDocument",
    "RenderedCertificate",
    "render_certificate",
]

ATTACHMENT_NAME = "ecert-claims.json"
XMP_NAMESPACE = "https://ecert.example/ns/certificate/1.0/"
SEAL_RED = colors.Color(0.82, 0.07, 0.07)
INK = colors.Color(0.12, 0.12, 0.16)
GOLD = colors.Color(0.62, 0.47, 0.16)
QR_SIZE = 4.0 * cm
rl_config.useA85 = 0  # binary (Flate only) streams: smaller and faster than ASCII85 on top


@dataclass(frozen=True)
class CertificateDocument:
    """Everything printed on, and embedded in, one certificate."""

    spec: CertTypeSpec
    certificate_id: str
    issuer_id: str
    issuer_name: str
    province_name: str
    claims: dict[str, str]
    claims_secret: bytes
    """Salt secret of the claims commitment (see ``ledger.claims``); embedded so the holder can
    later prove chosen fields."""
    claims_commitment: bytes
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    qr_text: str

    def attachment(self) -> dict[str, object]:
        return {
            "format": "ecert-claims/1",
            "certificate_id": self.certificate_id,
            "cert_type": self.spec.code,
            "issuer_id": self.issuer_id,
            "issuer_name": self.issuer_name,
            "province": self.province_name,
            "issued_at": self.issued_at.astimezone(UTC).isoformat(),
            "valid_from": self.valid_from.astimezone(UTC).isoformat(),
            "valid_until": self.valid_until.astimezone(UTC).isoformat()
            if self.valid_until
            else None,
            "claims": self.claims,
            "claims_secret": self.claims_secret.hex(),
            "claims_commitment": self.claims_commitment.hex(),
            "qr": self.qr_text,
        }


def _zh_date(moment: date | datetime) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日"


def qr_matrix(text: str) -> list[list[bool]]:
    """QR modules (True = dark), error correction M, encoded by zxing-cpp (C++, ~0.5 ms, with
    the standard's mask selection)."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = memoryview(code.to_image(scale=1, add_quiet_zones=False))  # type: ignore[arg-type]
    rows, cols = image.shape or (0, 0)
    raw = image.tobytes()
    return [[raw[r * cols + c] < 128 for c in range(cols)] for r in range(rows)]


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(text)
    quiet = 4  # modules of white margin, as scanners expect
    count = len(matrix) + 2 * quiet
    canvas.saveState()
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    # One unit per module and one rectangle per run of dark modules, written as integer PDF
    # operators: small, exact vectors that stay sharp at any print resolution.
    canvas.translate(x, y + size)
    canvas.scale(size / count, -size / count)
    canvas.setFillColor(colors.black)
    runs: list[str] = []
    for row, line in enumerate(matrix):
        col = 0
        while col < len(line):
            if line[col]:
                start = col
                while col < len(line) and line[col]:
                    col += 1
                runs.append(f"{start + quiet} {row + quiet} {col - start} 1 re")
            col += 1
    canvas.addLiteral("\n".join(runs) + "\nf")
    canvas.restoreState()


def _draw_seal(canvas: Canvas, font: str, cx: float, cy: float, issuer_name: str) -> None:
    radius = 2.1 * cm
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(2.2)
    canvas.circle(cx, cy, radius, stroke=1, fill=0)
    star = canvas.beginPath()
    for i in range(10):
        r = 0.55 * cm if i % 2 == 0 else 0.22 * cm
        angle = math.pi / 2 + i * math.pi / 5
        px, py = cx + r * math.cos(angle), cy + r * math.sin(angle)
        (star.moveTo if i == 0 else star.lineTo)(px, py)
    star.close()
    canvas.drawPath(star, stroke=0, fill=1)
    size = 11 if len(issuer_name) <= 12 else 9
    span = math.radians(min(220, 19 * len(issuer_name)))
    for i, char in enumerate(issuer_name):
        angle = math.pi / 2 + span / 2 - (span * (i + 0.5) / len(issuer_name))
        canvas.saveState()
        canvas.translate(
            cx + (radius - 0.45 * cm) * math.cos(angle), cy + (radius - 0.45 * cm) * math.sin(angle)
        )
        canvas.rotate(math.degrees(angle) - 90)
        canvas.setFont(font, size)
        canvas.drawCentredString(0, -size / 2.5, char)
        canvas.restoreState()
    canvas.setFont(font, 8)
    canvas.drawCentredString(cx, cy - 1.05 * cm, "电子证照专用章")
    canvas.restoreState()


def _page(doc: CertificateDocument) -> bytes:
    font = register_cjk_font()
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(f"{doc.spec.name_zh} {doc.certificate_id}")
    canvas.setAuthor(doc.issuer_name)
    canvas.setSubject(f"{doc.spec.name_zh} / {doc.spec.name_en}")
    canvas.setCreator("ecert")

    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(3)
    canvas.rect(1.2 * cm, 1.2 * cm, width - 2.4 * cm, height - 2.4 * cm)
    canvas.setLineWidth(0.8)
    canvas.rect(1.45 * cm, 1.45 * cm, width - 2.9 * cm, height - 2.9 * cm)

    canvas.setFillColor(INK)
    canvas.setFont(font, 34)
    canvas.drawCentredString(width / 2, height - 4.2 * cm, doc.spec.name_zh)
    canvas.setFont(font, 13)
    canvas.drawCentredString(width / 2, height - 5.0 * cm, doc.spec.name_en.upper())
    canvas.setFont(font, 10.5)
    canvas.drawString(2.4 * cm, height - 6.2 * cm, f"证书编号 No.  {doc.certificate_id}")

    label_style = ParagraphStyle(
        "label", fontName=font, fontSize=11, leading=14, textColor=INK, wordWrap="CJK"
    )
    value_style = ParagraphStyle(
        "value", fontName=font, fontSize=13, leading=17, textColor=INK, wordWrap="CJK"
    )
    y = height - 7.4 * cm
    label_x, value_x, value_width = 2.4 * cm, 7.4 * cm, width - 9.8 * cm
    for field in doc.spec.fields:
        value = doc.claims.get(field.key)
        if value is None:
            continue
        label = Paragraph(f"{field.label_zh}<br/><font size=8>{field.label_en}</font>", label_style)
        text = Paragraph(_escape(value), value_style)
        _, label_h = label.wrap(value_x - label_x - 0.3 * cm, height)
        _, text_h = text.wrap(value_width, height)
        row = max(label_h, text_h)
        label.drawOn(canvas, label_x, y - label_h)
        text.drawOn(canvas, value_x, y - text_h)
        y -= row + 0.45 * cm

    validity = (
        f"{_zh_date(doc.valid_from)} 至 {_zh_date(doc.valid_until)}"
        if doc.valid_until
        else "长期 / permanent"
    )
    canvas.setFont(font, 11)
    canvas.drawString(label_x, 7.4 * cm, f"有效期限 Validity：{validity}")
    canvas.drawString(label_x, 6.6 * cm, f"发证机关 Issued by：{doc.issuer_name}")
    canvas.drawString(label_x, 5.8 * cm, f"发证日期 Date of issue：{_zh_date(doc.issued_at)}")
    _draw_seal(canvas, font, 10.6 * cm, 5.5 * cm, doc.issuer_name)

    qr_x, qr_y = width - 2.4 * cm - QR_SIZE, 2.3 * cm
    _draw_qr(canvas, doc.qr_text, qr_x, qr_y, QR_SIZE)
    canvas.setFont(font, 9)
    canvas.drawCentredString(qr_x + QR_SIZE / 2, qr_y - 0.45 * cm, "扫码核验 Scan to verify")
    canvas.setFont(font, 8.5)
    canvas.setFillColor(colors.Color(0.35, 0.35, 0.4))
    canvas.drawString(
        label_x,
        3.2 * cm,
        f"{doc.province_name} · 本证照加盖发证机关电子印章，其摘要已登记于电子证照联盟链。",
    )
    canvas.drawString(
        label_x,
        2.7 * cm,
        "Sealed with the issuer's e-seal; its digest is anchored on the consortium ledger.",
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xmp(doc: CertificateDocument) -> bytes:
    def esc(text: str) -> str:
        return _escape(text).replace('"', "&quot;")

    claims = json.dumps(doc.claims, ensure_ascii=False, sort_keys=True)
    title = esc(f"{doc.spec.name_zh} {doc.certificate_id}")
    packet = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:ecert="{XMP_NAMESPACE}">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{esc(doc.issuer_name)}</rdf:li></rdf:Seq></dc:creator>
   <ecert:certificateId>{esc(doc.certificate_id)}</ecert:certificateId>
   <ecert:certType>{esc(doc.spec.code)}</ecert:certType>
   <ecert:issuerId>{esc(doc.issuer_id)}</ecert:issuerId>
   <ecert:claimsCommitment>{doc.claims_commitment.hex()}</ecert:claimsCommitment>
   <ecert:claims>{esc(claims)}</ecert:claims>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return packet.encode("utf-8")


@dataclass(frozen=True)
class RenderedCertificate:
    """The page, and the data that travels inside the sealed file with it."""

    page: bytes
    """The one-page PDF as rendered."""
    attachment: bytes
    """``ecert-claims.json``: the machine-readable claims."""
    xmp: bytes
    """XMP metadata packet (Dublin Core plus the ``ecert`` namespace)."""


def render_certificate(doc: CertificateDocument) -> RenderedCertificate:
    """Render the page and prepare its embedded data; the sealer writes both into the signed
    revision, so the attachment and metadata are covered by the seal too."""
    attachment = json.dumps(doc.attachment(), ensure_ascii=False, sort_keys=True).encode()
    return RenderedCertificate(page=_page(doc), attachment=attachment, xmp=_xmp(doc))
