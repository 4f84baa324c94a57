"""The OFD certificate: a well-formed GB/T 33190 package whose every reference resolves, whose
page holds the PDF's text at the PDF's positions in an embedded font that has every glyph, and
whose QR path objects — rasterised here from the XML alone — decode with zxing-cpp."""

from __future__ import annotations

import ctypes
import io
import json
import re
import zipfile
from collections.abc import Iterator
from xml.etree.ElementTree import Element

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from eth_account.signers.local import LocalAccount
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw

from issuer.ofd import write_ofd
from issuer.render import CertificateDocument, render_certificate
from ledger.ofd import NS, OfdPackage, q, resolve
from tests.issuer.conftest import SampleSm2, make_document

PAGE = "Doc_0/Pages/Page_0/Content.xml"
PT_PER_MM = 72 / 25.4


@pytest.fixture(scope="module")
def doc(chain_account: LocalAccount) -> CertificateDocument:
    return make_document(chain_account)


@pytest.fixture(scope="module")
def ofd(doc: CertificateDocument, sm2_pki: SampleSm2) -> bytes:
    return write_ofd(doc, sm2_pki.sealer)


@pytest.fixture(scope="module")
def package(ofd: bytes) -> OfdPackage:
    return OfdPackage.from_zip(ofd)


def _all(root: Element, tag: str) -> Iterator[Element]:
    return root.iter(q(tag))


def test_package_is_well_formed_and_every_reference_resolves(
    ofd: bytes, package: OfdPackage
) -> None:
    assert zipfile.ZipFile(io.BytesIO(ofd)).testzip() is None
    for path in package:
        if path.endswith(".xml"):
            assert package.xml(path).tag.startswith(f"{{{NS}}}"), path
    body = package.xml("OFD.xml").find(q("DocBody"))
    assert body is not None
    document_path = resolve("OFD.xml", body.findtext(q("DocRoot"), ""))
    referenced = {"OFD.xml", document_path}
    document = package.xml(document_path)
    for tag in ("PublicRes", "DocumentRes", "Attachments"):
        referenced.add(resolve(document_path, document.findtext(f".//{q(tag)}", "")))
    referenced |= {resolve(document_path, p.get("BaseLoc", "")) for p in _all(document, "Page")}
    for res_tag in ("PublicRes", "DocumentRes"):
        res_path = resolve(document_path, document.findtext(f".//{q(res_tag)}", ""))
        res = package.xml(res_path)
        base = resolve(res_path, res.get("BaseLoc", "")) + "/"
        referenced |= {resolve(base, f.text or "") for f in _all(res, "FontFile")}
    attachments_path = resolve(document_path, document.findtext(q("Attachments"), ""))
    referenced |= {
        resolve(attachments_path, f.text or "")
        for f in _all(package.xml(attachments_path), "FileLoc")
    }
    signatures_path = resolve("OFD.xml", body.findtext(q("Signatures"), ""))
    referenced.add(signatures_path)
    for entry in _all(package.xml(signatures_path), "Signature"):
        signature_path = resolve(signatures_path, entry.get("BaseLoc", ""))
        referenced.add(signature_path)
        referenced.add(
            resolve(signature_path, package.xml(signature_path).findtext(q("SignedValue"), ""))
        )
    assert referenced == set(package), "every file is referenced and every reference exists"

    ids = [
        e.get("ID")
        for path in package
        if path.endswith(".xml")
        for e in package.xml(path).iter()
        if e.get("ID") and not e.tag.endswith("}Signature") and not e.tag.endswith("}StampAnnot")
    ]
    assert len(ids) == len(set(ids))
    assert int(document.findtext(f".//{q('MaxUnitID')}", "0")) == max(int(i) for i in ids if i)


def _text_lines(package: OfdPackage) -> list[tuple[float, float, float, str]]:
    """(x, baseline, size, text) in millimetres for every text object of the page."""
    lines = []
    for obj in _all(package.xml(PAGE), "TextObject"):
        x, y, _, _ = (float(v) for v in obj.get("Boundary", "").split())
        for code in obj.iter(q("TextCode")):
            lines.append(
                (
                    x + float(code.get("X", "0")),
                    y + float(code.get("Y", "0")),
                    float(obj.get("Size", "0")),
                    code.text or "",
                )
            )
    return lines


def test_text_round_trips(doc: CertificateDocument, package: OfdPackage) -> None:
    text = "".join(line[3] for line in _text_lines(package))
    compact = re.sub(r"\s", "", text)
    for key, value in doc.claims.items():
        assert re.sub(r"\s", "", value) in compact, key
    assert doc.spec.name_zh in text
    assert doc.certificate_id in text
    assert doc.issuer_name in text
    claims = json.loads(package["Doc_0/Attachs/ecert-claims.json"])
    assert claims["claims"] == doc.claims
    assert claims["claims_commitment"] == doc.claims_commitment.hex()
    assert claims == json.loads(render_certificate(doc).attachment)


def test_embedded_font_has_every_glyph(package: OfdPackage) -> None:
    fonts = [p for p in package if p.endswith(".ttf")]
    assert len(fonts) == 1
    font = TTFont(io.BytesIO(package[fonts[0]]))
    cmap = font.getBestCmap()
    used = {c for line in _text_lines(package) for c in line[3]}
    missing = {c for c in used if ord(c) not in cmap and not c.isspace()}
    assert not missing
    assert len(package[fonts[0]]) < 100_000  # a subset, not the 5 MB collection
    glyf = font["glyf"]
    assert all(glyf[cmap[ord(c)]].numberOfContours != 0 for c in "营业执照张三")


def test_text_sits_where_the_pdf_puts_it(doc: CertificateDocument, package: OfdPackage) -> None:
    pdf = pdfium.PdfDocument(render_certificate(doc).page)
    page = pdf[0]
    height = page.get_height()
    textpage = page.get_textpage()
    origins = {}
    text = textpage.get_text_range()
    x, y = ctypes.c_double(), ctypes.c_double()
    for i, char in enumerate(text):
        if pdfium_c.FPDFText_GetCharOrigin(textpage.raw, i, ctypes.byref(x), ctypes.byref(y)):
            origins.setdefault(char, []).append((x.value, height - y.value))
    checked = 0
    for lx, baseline, _, line in _text_lines(package):
        first = line[0]
        candidates = origins.get(first, [])
        point = (lx * PT_PER_MM, baseline * PT_PER_MM)
        assert any(
            abs(px - point[0]) < 0.6 and abs(py - point[1]) < 0.6 for px, py in candidates
        ), line
        checked += 1
    assert checked >= 30


def _rasterise(package: OfdPackage, px_per_mm: float) -> Image.Image:
    """Fill every filled path object of the page (M/L/C subpaths), as a reader would."""
    width, height = 210, 297
    image = Image.new("RGB", (round(width * px_per_mm), round(height * px_per_mm)), "white")
    draw = ImageDraw.Draw(image)
    for obj in _all(package.xml(PAGE), "PathObject"):
        if obj.get("Fill") != "true":
            continue
        bx, by, _, _ = (float(v) for v in obj.get("Boundary", "").split())
        a, b, c, d, e, f = (float(v) for v in obj.get("CTM", "1 0 0 1 0 0").split())
        fill = obj.find(q("FillColor"))
        color = tuple(
            int(v) for v in (fill.get("Value", "0 0 0") if fill is not None else "0 0 0").split()
        )
        tokens = (obj.findtext(q("AbbreviatedData")) or "").split()
        polygon: list[tuple[float, float]] = []
        i = 0
        while i < len(tokens):
            op = tokens[i]
            if op in ("M", "L"):
                px, py = float(tokens[i + 1]), float(tokens[i + 2])
                if op == "M":
                    polygon = []
                polygon.append(
                    (
                        (bx + a * px + c * py + e) * px_per_mm,
                        (by + b * px + d * py + f) * px_per_mm,
                    )
                )
                i += 3
            elif op == "C":
                draw.polygon(polygon, fill=color)
                i += 1
            else:
                raise AssertionError(f"unexpected path operator {op}")
    return image


def test_qr_path_objects_decode(doc: CertificateDocument, package: OfdPackage) -> None:
    image = _rasterise(package, px_per_mm=8)  # about 200 dpi
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in results] == [doc.qr_text]


def test_stamp_is_placed_where_the_pdf_seal_is(package: OfdPackage) -> None:
    signature = package.xml("Doc_0/Signs/Sign_0/Signature.xml")
    stamp = signature.find(f".//{q('StampAnnot')}")
    assert stamp is not None
    x, y, w, h = (float(v) for v in stamp.get("Boundary", "").split())
    assert (w, h) == (42, 42)
    cx, cy = (x + w / 2) * PT_PER_MM, 841.89 - (y + h / 2) * PT_PER_MM
    assert abs(cx - 10.6 * 72 / 2.54) < 0.1
    assert abs(cy - 5.5 * 72 / 2.54) < 0.1
    page_ids = [p.get("ID") for p in _all(package.xml("Doc_0/Document.xml"), "Page")]
    assert stamp.get("PageRef") in page_ids
