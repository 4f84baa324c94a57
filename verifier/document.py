"""Reading a certificate PDF the way the verifier needs it: the embedded claims (the
``ecert-claims.json`` attachment inside the sealed revision) and the QR code actually printed on
the page, decoded from a render of the page (pypdfium2 + zxing-cpp), as a camera would see it."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = [
    "MAX_IMAGE_BYTES",
    "EmbeddedClaims",
    "decode_qr_image",
    "page_qr_text",
    "read_embedded_claims",
    "read_image_qr",
]

ATTACHMENT_NAME = "ecert-claims.json"
_MAX_ATTACHMENT = 256 * 1024
_MAX_IMAGE_PIXELS = 40_000_000
MAX_IMAGE_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True)
class EmbeddedClaims:
    raw: dict[str, Any]

    @property
    def claims(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in dict(self.raw.get("claims") or {}).items()}


def read_embedded_claims(reader: PdfFileReader) -> EmbeddedClaims | None:
    """The claims attachment, or ``None`` if absent or unreadable."""
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        for i in range(0, len(names) - 1, 2):
            if str(names[i]) != ATTACHMENT_NAME:
                continue
            stream = names[i + 1].get_object()["/EF"]["/F"].get_object()
            data = stream.data
            if len(data) > _MAX_ATTACHMENT:
                return None
            raw = json.loads(data.decode("utf-8"))
            return EmbeddedClaims(raw) if isinstance(raw, dict) else None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None
    return None


def decode_qr_image(image: Image.Image, *, thorough: bool = True) -> list[str]:
    """Texts of the QR codes zxing-cpp finds. ``thorough`` (photos) also tries rotated,
    inverted and downscaled views; a clean page render needs none of them."""
    if image.width * image.height > _MAX_IMAGE_PIXELS:
        image = image.copy()
        image.thumbnail((6000, 6000))
    found = zxingcpp.read_barcodes(
        image,
        formats=zxingcpp.BarcodeFormat.QRCode,  # type: ignore[arg-type]
        try_rotate=thorough,
        try_downscale=thorough,
        try_invert=thorough,
    )
    return [b.text for b in found if b.valid]


def page_qr_text(pdf: bytes) -> list[str]:
    """QR codes printed on the first page: a quick 72-dpi render read straight (about 2 ms for
    our certificates' 40 mm code), then, if nothing is found, 200 dpi read thoroughly."""
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        page = document[0]
        for dpi, thorough in ((72, False), (200, True)):
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            texts = decode_qr_image(image, thorough=thorough)
            if texts:
                return texts
        return []
    finally:
        document.close()


def read_image_qr(data: bytes) -> tuple[tuple[str, ...], str | None]:
    """The QR texts in a photo or scan, or why it could not be read (never raises: a decoder
    that fails is reported as a problem, so the answer is "take it again", not "not valid")."""
    if len(data) > MAX_IMAGE_BYTES:
        return (), "image larger than 15 MB"
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return tuple(decode_qr_image(image)), None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        return (), f"not a readable image: {type(exc).__name__}"
    except Exception as exc:  # a decoder crash is "could not read", never a verdict
        return (), f"the image could not be decoded: {type(exc).__name__}"
