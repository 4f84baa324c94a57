"""Pixel work: the first page of a PDF rendered (pypdfium2) and a photo decoded (Pillow), then
read for QR codes (zxing-cpp) — within limits checked *before* anything is drawn or decoded.
It runs in the render processes of ``verifier.renderpool`` (``python -m verifier.pixels``),
which have a memory limit and a deadline; it imports nothing but the three libraries.

Beyond the limits of ``verifier.limits`` (pages, page size, pixels) it raises ``InputRefused``
before drawing or decoding: Pillow's ``Image.open`` parses the header only (``load()``
decodes), and pdfium gives the page count and size before rendering.
"""

from __future__ import annotations

import io
import json
import resource
import struct
import sys
import warnings
from typing import BinaryIO

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, UnidentifiedImageError

from verifier.errors import InputRefused
from verifier.limits import MAX_IMAGE_PIXELS, MAX_PAGE_SIDE_PT, MAX_PAGES

__all__ = ["decode_qr_image", "image_qr_texts", "image_size", "page_qr_texts", "serve"]

_DECODE_SIDE = 6000
"""Larger images are read at this size (a QR code in a photo is large; zxing downscales too)."""
_PAGE_DPI = ((72, False), (200, True))
"""A quick 72-dpi render read straight (about 2 ms for our 40 mm code), then 200 dpi read
thoroughly if nothing was found."""


def decode_qr_image(image: Image.Image, *, thorough: bool = True) -> list[str]:
    """Texts of the QR codes zxing-cpp finds. ``thorough`` (photos) also tries rotated,
    inverted and downscaled views; a clean page render needs none of them."""
    found = zxingcpp.read_barcodes(
        image,
        formats=zxingcpp.BarcodeFormat.QRCode,  # type: ignore[arg-type]
        try_rotate=thorough,
        try_downscale=thorough,
        try_invert=thorough,
    )
    return [b.text for b in found if b.valid]


def page_qr_texts(pdf: bytes) -> list[str]:
    """QR codes printed on the first page."""
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        if len(document) > MAX_PAGES:
            raise InputRefused(f"the PDF has {len(document):,} pages; at most {MAX_PAGES}")
        page = document[0]
        width, height = page.get_size()
        if max(width, height) > MAX_PAGE_SIDE_PT:
            raise InputRefused(
                f"the first page is {width:.0f} × {height:.0f} pt; "
                f"at most {MAX_PAGE_SIDE_PT:.0f} pt a side"
            )
        for dpi, thorough in _PAGE_DPI:
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            texts = decode_qr_image(image, thorough=thorough)
            if texts:
                return texts
        return []
    finally:
        document.close()


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the image's header, nothing decoded; ``InputRefused`` beyond
    ``MAX_IMAGE_PIXELS``; Pillow's errors (not an image) pass through."""
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # our check, with the size
    try:
        width, height = Image.open(io.BytesIO(data)).size
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if width * height > MAX_IMAGE_PIXELS:
        raise InputRefused(
            f"the image is {width:,} × {height:,} = {width * height:,} pixels; "
            f"at most {MAX_IMAGE_PIXELS:,}"
        )
    return width, height


def image_qr_texts(data: bytes) -> list[str]:
    """QR codes in a photo or scan, its size checked from the header first. A JPEG is decoded
    at a reduced scale if large (``draft``); anything else is made grey before it is shrunk, so
    a 40-megapixel PNG peaks at ~200 MB."""
    image_size(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image: Image.Image = Image.open(io.BytesIO(data))
        image.draft("L", (_DECODE_SIDE, _DECODE_SIDE))
        image.load()
    if image.mode != "L":
        image = image.convert("L")
    if image.width * image.height > _DECODE_SIDE * _DECODE_SIDE:
        image.thumbnail((_DECODE_SIDE, _DECODE_SIDE))
    return decode_qr_image(image)


# ---------------------------------------------------------------- the render process

_LENGTH = struct.Struct(">I")


def _sized(data: bytes) -> list[str]:
    try:
        image_size(data)
    except InputRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        pass  # only a refusal counts here; the decode will say why it cannot read the image
    return []


_JOBS = {b"P": page_qr_texts, b"I": image_qr_texts, b"S": _sized}


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def _answer(job: bytes, payload: bytes) -> dict[str, object]:
    try:
        return {"texts": _JOBS[job](payload)}
    except InputRefused as exc:
        return {"refused": str(exc)}
    except (UnidentifiedImageError, OSError, SyntaxError, pdfium.PdfiumError) as exc:
        return {"unreadable": type(exc).__name__}  # an ordinary bad file: this process is fine
    except MemoryError:
        return {"failed": "MemoryError"}
    except Exception as exc:  # pdfium, Pillow, zxing: could not be drawn or decoded
        return {"failed": type(exc).__name__}


def serve(memory_limit: int) -> None:
    """The render process: jobs on stdin (kind byte, length, payload), answers on stdout
    (length, JSON), until stdin closes."""
    if memory_limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # Pillow's own bomb check, at our limit
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = _read_exact(source, 1 + _LENGTH.size)
        if head is None:
            return
        (size,) = _LENGTH.unpack(head[1:])
        payload = _read_exact(source, size)
        if payload is None:
            return
        answer = json.dumps(_answer(head[:1], payload), ensure_ascii=False).encode("utf-8")
        sink.write(_LENGTH.pack(len(answer)) + answer)
        sink.flush()


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
