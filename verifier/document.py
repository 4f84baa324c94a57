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
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = ["EmbeddedClaims", "decode_qr_image", "page_qr_text", "read_embedded_claims"]

ATTACHMENT_NAME = "ecert-claims.json"
_MAX_ATTACHMENT = 256 * 1024
_MAX_IMAGE_PIXELS = 40_000_000


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


def decode_qr_image(image: Image.Image) -> list[str]:
    """Texts of the QR codes zxing-cpp finds (it also tries rotated and downscaled views)."""
    if image.width * image.height > _MAX_IMAGE_PIXELS:
        image = image.copy()
        image.thumbnail((6000, 6000))
    found = zxingcpp.read_barcodes(
        image,
        formats=zxingcpp.BarcodeFormat.QRCode,  # type: ignore[arg-type]
    )
    return [b.text for b in found if b.valid]


def page_qr_text(pdf: bytes) -> list[str]:
    """QR codes printed on the first page; tries a quick 110-dpi render, then 200 dpi."""
    document = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        page = document[0]
        for dpi in (110, 200):
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            texts = decode_qr_image(image)
            if texts:
                return texts
        return []
    finally:
        document.close()
