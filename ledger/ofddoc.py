"""Finding the parts of an OFD certificate (GB/T 33190 §7): from ``OFD.xml`` the document
(``DocRoot``), its pages in order, its page area and its attachments by name — the way the
issuer's writer (``issuer.ofd``) lays them out and a verifier reads them back. Reading is
through ``ledger.ofd`` (bounded); anything that does not lead where the standard says is an
``OfdError``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from xml.etree.ElementTree import Element

from ledger.ofd import OfdError, OfdPackage, q, resolve

__all__ = ["MAX_PAGES", "OfdDocument", "page_box", "read_document"]

MAX_PAGES = 20
"""A certificate is one page; more than this is not read."""


@dataclass(frozen=True, slots=True)
class OfdDocument:
    """Where one OFD document's parts are in its package."""

    document: str
    """Package path of ``Document.xml``."""
    pages: tuple[str, ...]
    """Package paths of the pages' ``Content.xml``, in document order."""
    page_area: tuple[float, float, float, float]
    """The document's default ``PhysicalBox`` (x, y, width, height, millimetres)."""
    attachments: Mapping[str, str] = field(default_factory=dict)
    """Attachment ``Name`` → package path of its file."""
    signatures: str | None = None
    """Package path of ``Signatures.xml``, if ``OFD.xml`` names one."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "attachments", MappingProxyType(dict(self.attachments)))


def _box(text: str | None, where: str) -> tuple[float, float, float, float]:
    try:
        x, y, width, height = (float(v) for v in (text or "").split())
    except ValueError as exc:
        raise OfdError(f"{where}: not a box of four numbers") from exc
    if not (0 < width <= 10_000 and 0 < height <= 10_000):
        raise OfdError(f"{where}: a page of {width} × {height} mm")
    return x, y, width, height


def page_box(
    page: Element, default: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """A page's ``PhysicalBox``: its own ``Area`` if it has one, else the document's."""
    own = page.find(f"{q('Area')}/{q('PhysicalBox')}")
    return _box(own.text, "page PhysicalBox") if own is not None else default


def _required(parent: Element, tag: str, where: str) -> str:
    text = parent.findtext(q(tag))
    if not text or not text.strip():
        raise OfdError(f"{where} has no {tag}")
    return text.strip()


def read_document(package: OfdPackage) -> OfdDocument:
    """The first (an OFD certificate's only) document of ``package``."""
    body = package.xml("OFD.xml").find(q("DocBody"))
    if body is None:
        raise OfdError("OFD.xml has no DocBody")
    document_path = resolve("OFD.xml", _required(body, "DocRoot", "DocBody"))
    signatures = body.findtext(q("Signatures"))
    document = package.xml(document_path)
    common = document.find(q("CommonData"))
    if common is None:
        raise OfdError(f"{document_path} has no CommonData")
    area = common.find(f"{q('PageArea')}/{q('PhysicalBox')}")
    if area is None:
        raise OfdError(f"{document_path} has no PageArea")
    pages_element = document.find(q("Pages"))
    entries = pages_element.findall(q("Page")) if pages_element is not None else []
    if not entries:
        raise OfdError(f"{document_path} has no pages")
    if len(entries) > MAX_PAGES:
        raise OfdError(f"{document_path} has more than {MAX_PAGES} pages")
    pages = tuple(resolve(document_path, entry.get("BaseLoc", "")) for entry in entries)
    attachments: dict[str, str] = {}
    listing = document.findtext(q("Attachments"))
    if listing and listing.strip():
        listing_path = resolve(document_path, listing)
        for item in package.xml(listing_path).findall(q("Attachment")):
            name = item.get("Name", "")
            location = item.findtext(q("FileLoc"))
            if name and location and name not in attachments:
                attachments[name] = resolve(listing_path, location)
    return OfdDocument(
        document=document_path,
        pages=pages,
        page_area=_box(area.text, f"{document_path} PageArea"),
        attachments=attachments,
        signatures=resolve("OFD.xml", signatures) if signatures and signatures.strip() else None,
    )
