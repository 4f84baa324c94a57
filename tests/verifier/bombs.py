"""Hostile files for the verifier, made the way an attacker would: small on the wire, costly to
parse, render or decode. Each is a few KB to a few hundred KB."""

from __future__ import annotations

import io
import json
import struct
import zlib
from typing import Any

import pikepdf

__all__ = [
    "ATTACHMENT",
    "deep_json",
    "heavy_image_pdf",
    "huge_page_pdf",
    "many_pages_pdf",
    "pdf_with_attachment",
    "png_of",
]

ATTACHMENT = "ecert-claims.json"
A4 = (595.0, 842.0)


def deep_json(depth: int = 200_000) -> bytes:
    """``[[[[…`` unclosed: the recursion bomb (a parser that recurses overflows)."""
    return b"[" * depth


def _document(page_size: tuple[float, float], attachment: bytes | None) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=page_size)
    if attachment is not None:
        spec = pikepdf.AttachedFileSpec(pdf, attachment, mime_type="application/json")
        pdf.attachments[ATTACHMENT] = spec
    return pdf


def _saved(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    return out.getvalue()


def pdf_with_attachment(attachment: bytes, page_size: tuple[float, float] = A4) -> bytes:
    return _saved(_document(page_size, attachment))


def claims_bytes(raw: dict[str, Any]) -> bytes:
    return json.dumps(raw, ensure_ascii=False).encode("utf-8")


def huge_page_pdf(claims: dict[str, Any], side: float = 14_400.0) -> bytes:
    """A 14400×14400 pt page (200 in a side, the most PDF allows) with a self-consistent claims
    attachment, so the verifier goes on to render the page for its QR code: at 200 dpi that
    is 40,000 × 40,000 pixels."""
    return _saved(_document((side, side), claims_bytes(claims)))


def many_pages_pdf(claims: dict[str, Any], pages: int = 5_000) -> bytes:
    pdf = _document(A4, claims_bytes(claims))
    for _ in range(pages - 1):
        pdf.add_blank_page(page_size=A4)
    return _saved(pdf)


def heavy_image_pdf(claims: dict[str, Any], pixels: int = 20_000) -> bytes:
    """An A4 page (within every size limit) drawing one ``pixels``² grey image whose Flate
    stream is ~1,000× smaller than the image: a renderer decodes the whole image first
    (400 MB at 20,000²)."""
    pdf = _document(A4, claims_bytes(claims))
    compressor = zlib.compressobj(9)
    row = b"\x00" * pixels
    chunks = [compressor.compress(row) for _ in range(pixels)]
    chunks.append(compressor.flush())
    image = pikepdf.Stream(pdf, b"".join(chunks))
    image.Type = pikepdf.Name.XObject
    image.Subtype = pikepdf.Name.Image
    image.Width = pixels
    image.Height = pixels
    image.ColorSpace = pikepdf.Name.DeviceGray
    image.BitsPerComponent = 8
    image.Filter = pikepdf.Name.FlateDecode
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)  # the image stream is already compressed
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of(width: int, height: int, *, colour: bool = True) -> bytes:
    """A black PNG written row by row (never held decoded here): 12000×12000 RGB is ~420 KB on
    the wire and 432 MB once decoded; ``colour=False`` gives 1 bit per pixel (30000×30000 in
    ~110 KB), for sizes only a header check should ever see."""
    depth, kind, row_bytes = (8, 2, 3 * width) if colour else (1, 0, (width + 7) // 8)
    header = struct.pack(">IIBBBBB", width, height, depth, kind, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + row_bytes)  # filter byte 0, then black pixels
    idat = [compressor.compress(row) for _ in range(height)]
    idat.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(idat))
        + _chunk(b"IEND", b"")
    )
