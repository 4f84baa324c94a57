"""The certificate page as data — text lines, frames, the QR code and where the seal goes — in
PDF points from the bottom-left corner, computed the way ``issuer.render`` draws the PDF (same
positions, sizes and colours; long values wrapped by reportlab's own CJK line breaking), so
the OFD page matches the PDF. ``tests/issuer/test_ofd.py`` compares both pages' text
positions, so a change to one that the other does not follow fails there.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph

from issuer.render import GOLD, INK, QR_SIZE, CertificateDocument, _zh_date, qr_matrix
from ledger.fonts import register_cjk_font

__all__ = ["Frame", "PageLayout", "TextLine", "layout_page"]

RGB = tuple[int, int, int]
GREY = (89, 89, 102)


def _rgb(color: object) -> RGB:
    red, green, blue = (round(255 * float(getattr(color, c))) for c in ("red", "green", "blue"))
    return (red, green, blue)


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text: its left end on the baseline, in points."""

    x: float
    baseline: float
    size: float
    text: str
    color: RGB


@dataclass(frozen=True, slots=True)
class Frame:
    """A stroked rectangle (the gold page borders)."""

    x: float
    y: float
    width: float
    height: float
    line_width: float
    color: RGB


@dataclass(frozen=True, slots=True)
class PageLayout:
    width: float
    height: float
    frames: tuple[Frame, ...]
    lines: tuple[TextLine, ...]
    qr: tuple[tuple[bool, ...], ...]
    """QR modules, True for dark (without the quiet zone)."""
    qr_box: tuple[float, float, float]
    """x, y (bottom-left) and side of the QR square including a 4-module quiet zone."""
    seal_centre: tuple[float, float]

    @property
    def text(self) -> str:
        return "".join(line.text for line in self.lines)


def _paragraph_lines(text: str, style: ParagraphStyle, width: float) -> list[str]:
    paragraph = Paragraph(text, style)
    paragraph.wrap(width, A4[1])
    lines = paragraph.blPara.lines
    if paragraph.blPara.kind == 0:
        return ["".join(words) for _, words in lines]
    return ["".join(frag.text for frag in line.words) for line in lines]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def layout_page(doc: CertificateDocument) -> PageLayout:
    font = register_cjk_font()
    width, height = A4
    ink, gold = _rgb(INK), _rgb(GOLD)
    lines: list[TextLine] = []

    def left(x: float, y: float, size: float, text: str, color: RGB = ink) -> None:
        lines.append(TextLine(x, y, size, text, color))

    def centred(x: float, y: float, size: float, text: str) -> None:
        left(x - stringWidth(text, font, size) / 2, y, size, text)

    centred(width / 2, height - 4.2 * cm, 34, doc.spec.name_zh)
    centred(width / 2, height - 5.0 * cm, 13, doc.spec.name_en.upper())
    left(2.4 * cm, height - 6.2 * cm, 10.5, f"证书编号 No.  {doc.certificate_id}")

    value_style = ParagraphStyle("value", fontName=font, fontSize=13, leading=17, wordWrap="CJK")
    y = height - 7.4 * cm
    label_x, value_x, value_width = 2.4 * cm, 7.4 * cm, width - 9.8 * cm
    for field in doc.spec.fields:
        value = doc.claims.get(field.key)
        if value is None:
            continue
        # The label is one paragraph of two lines (11 pt Chinese, 8 pt English), 14 pt apart.
        left(label_x, y - 11, 11, field.label_zh)
        left(label_x, y - 11 - 14, 8, field.label_en)
        values = _paragraph_lines(_escape(value), value_style, value_width)
        for i, text in enumerate(values):
            left(value_x, y - 13 - 17 * i, 13, text)
        y -= max(28, 17 * len(values)) + 0.45 * cm

    validity = (
        f"{_zh_date(doc.valid_from)} 至 {_zh_date(doc.valid_until)}"
        if doc.valid_until
        else "长期 / permanent"
    )
    left(label_x, 7.4 * cm, 11, f"有效期限 Validity：{validity}")
    left(label_x, 6.6 * cm, 11, f"发证机关 Issued by：{doc.issuer_name}")
    left(label_x, 5.8 * cm, 11, f"发证日期 Date of issue：{_zh_date(doc.issued_at)}")
    qr_x, qr_y = width - 2.4 * cm - QR_SIZE, 2.3 * cm
    centred(qr_x + QR_SIZE / 2, qr_y - 0.45 * cm, 9, "扫码核验 Scan to verify")
    left(
        label_x,
        3.2 * cm,
        8.5,
        f"{doc.province_name} · 本证照加盖发证机关电子印章，其摘要已登记于电子证照联盟链。",
        GREY,
    )
    left(
        label_x,
        2.7 * cm,
        8.5,
        "Sealed with the issuer's e-seal; its digest is anchored on the consortium ledger.",
        GREY,
    )
    frames = (
        Frame(1.2 * cm, 1.2 * cm, width - 2.4 * cm, height - 2.4 * cm, 3, gold),
        Frame(1.45 * cm, 1.45 * cm, width - 2.9 * cm, height - 2.9 * cm, 0.8, gold),
    )
    return PageLayout(
        width=width,
        height=height,
        frames=frames,
        lines=tuple(lines),
        qr=tuple(tuple(row) for row in qr_matrix(doc.qr_text)),
        qr_box=(qr_x, qr_y, QR_SIZE),
        seal_centre=(10.6 * cm, 5.5 * cm),
    )
