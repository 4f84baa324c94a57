"""Building OFD XML with the standard library: elements in the OFD namespace under the ``ofd``
prefix, serialised as UTF-8 with a declaration, numbers written short."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from ledger.ofd import NS, q

__all__ = ["child", "document", "mm", "number"]

ET.register_namespace("ofd", NS)


def number(value: float) -> str:
    """A number with at most 3 decimals and no trailing zeros (OFD's ``xs:double``)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def mm(points: float) -> float:
    return points * 25.4 / 72


def child(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, q(tag), dict(attributes))
    if text is not None:
        element.text = text
    return element


def document(root: ET.Element) -> bytes:
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data


def root(tag: str, **attributes: str) -> ET.Element:
    return ET.Element(q(tag), attributes)
