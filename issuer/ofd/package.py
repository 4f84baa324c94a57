"""An OFD certificate package (GB/T 33190-2016): the entry file ``OFD.xml``, one document
``Doc_0`` with its common data, public resources (the embedded font, the colour space),
document resources (the frames' drawing parameters), one page and the claims JSON as an
attachment — the same data the PDF carries as ``ecert-claims.json``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from itertools import count

from issuer.ofd.font import embedded_font
from issuer.ofd.layout import layout_page
from issuer.ofd.page import page_content
from issuer.ofd.xmlbuild import child, document, mm, number, root
from issuer.render import ATTACHMENT_NAME, CertificateDocument
from ledger.ofd import OfdPackage

__all__ = ["DOC", "SIGNATURES", "PageInfo", "build_package"]

DOC = "Doc_0"
SIGNATURES = f"{DOC}/Signs/Signatures.xml"
PAGE = f"{DOC}/Pages/Page_0/Content.xml"
_DOC_ID_NAMESPACE = uuid.UUID("2f6c2b52-6a63-4f5e-9a55-6563657274a1")


class PageInfo:
    """Where the seal goes: the page's ID and the stamp's box in millimetres."""

    def __init__(self, page_id: str, stamp_box: tuple[float, float, float, float]) -> None:
        self.page_id = page_id
        self.stamp_box = stamp_box


def _claims(doc: CertificateDocument) -> bytes:
    return json.dumps(doc.attachment(), ensure_ascii=False, sort_keys=True).encode()


def build_package(doc: CertificateDocument, *, stamp_mm: float) -> tuple[OfdPackage, PageInfo]:
    """The unsealed package (its ``OFD.xml`` already names ``Signatures.xml``, which the
    sealer adds) and where the stamp goes."""
    layout = layout_page(doc)
    font = embedded_font()
    ids = count(1)
    color_space, font_id, draw_param = (str(next(ids)) for _ in range(3))
    page_id = str(next(ids))
    content = page_content(layout, font_id, ids, font, draw_param=draw_param)
    attachment_id = str(next(ids))
    claims = _claims(doc)

    ofd = root("OFD", Version="1.0", DocType="OFD")
    body = child(ofd, "DocBody")
    info = child(body, "DocInfo")
    doc_id = uuid.uuid5(_DOC_ID_NAMESPACE, f"{doc.issuer_id}/{doc.certificate_id}")
    child(info, "DocID", doc_id.hex)
    child(info, "Title", f"{doc.spec.name_zh} {doc.certificate_id}")
    child(info, "Author", doc.issuer_name)
    child(info, "Subject", f"{doc.spec.name_zh} / {doc.spec.name_en}")
    child(info, "CreationDate", doc.issued_at.astimezone(UTC).date().isoformat())
    child(info, "Creator", "ecert")
    custom = child(info, "CustomDatas")
    for name, value in (
        ("certificateId", doc.certificate_id),
        ("certType", doc.spec.code),
        ("issuerId", doc.issuer_id),
        ("claimsCommitment", doc.claims_commitment.hex()),
    ):
        child(custom, "CustomData", value, Name=name)
    child(body, "DocRoot", f"{DOC}/Document.xml")
    child(body, "Signatures", SIGNATURES)

    document_xml = root("Document")
    common = child(document_xml, "CommonData")
    child(common, "MaxUnitID", attachment_id)
    area = child(common, "PageArea")
    child(area, "PhysicalBox", f"0 0 {number(mm(layout.width))} {number(mm(layout.height))}")
    child(common, "PublicRes", "PublicRes.xml")
    child(common, "DocumentRes", "DocumentRes.xml")
    child(common, "DefaultCS", color_space)
    pages = child(document_xml, "Pages")
    child(pages, "Page", ID=page_id, BaseLoc="Pages/Page_0/Content.xml")
    child(document_xml, "Attachments", "Attachs/Attachments.xml")

    public = root("Res", BaseLoc="Res")
    spaces = child(public, "ColorSpaces")
    child(spaces, "ColorSpace", ID=color_space, Type="RGB", BitsPerComponent="8")
    fonts = child(public, "Fonts")
    font_xml = child(fonts, "Font", ID=font_id, FontName=font.full_name, FamilyName=font.family)
    child(font_xml, "FontFile", f"font_{font_id}.ttf")

    resources = root("Res", BaseLoc="Res")
    params = child(resources, "DrawParams")
    frame = layout.frames[0]
    param = child(params, "DrawParam", ID=draw_param, LineWidth=number(mm(frame.line_width)))
    child(param, "StrokeColor", Value=" ".join(str(c) for c in frame.color))

    attachments = root("Attachments")
    item = child(
        attachments,
        "Attachment",
        ID=attachment_id,
        Name=ATTACHMENT_NAME,
        Format="json",
        CreationDate=doc.issued_at.astimezone(UTC).isoformat(timespec="seconds"),
        Size=number(len(claims) / 1024),
        Visible="false",
        Usage="data",
    )
    child(item, "FileLoc", ATTACHMENT_NAME)

    cx, cy = layout.seal_centre
    stamp_box = (mm(cx) - stamp_mm / 2, mm(layout.height - cy) - stamp_mm / 2, stamp_mm, stamp_mm)
    files = {
        "OFD.xml": document(ofd),
        f"{DOC}/Document.xml": document(document_xml),
        f"{DOC}/PublicRes.xml": document(public),
        f"{DOC}/DocumentRes.xml": document(resources),
        f"{DOC}/Res/font_{font_id}.ttf": font.subset(layout.text),
        PAGE: content,
        f"{DOC}/Attachs/Attachments.xml": document(attachments),
        f"{DOC}/Attachs/{ATTACHMENT_NAME}": claims,
    }
    return OfdPackage(files), PageInfo(page_id, stamp_box)
