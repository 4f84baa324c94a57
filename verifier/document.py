"""Reading a certificate PDF the way the verifier needs it: the embedded claims (the
``ecert-claims.json`` attachment inside the sealed revision) and the QR code actually printed on
the page, decoded from a render of the page as a camera would see it; and the QR codes in a
photo. Pixel work runs in the render processes of ``verifier.renderpool`` (memory limit,
deadline); the attachment goes through the bounded JSON reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from ledger.jsonread import JsonRefused, read_json
from verifier.errors import DocumentMalformed, InputRefused
from verifier.limits import MAX_ATTACHMENT_BYTES, MAX_IMAGE_BYTES, MAX_JSON_DEPTH
from verifier.renderpool import RenderFailed, Unreadable, default_pool

__all__ = [
    "MAX_IMAGE_BYTES",
    "EmbeddedClaims",
    "page_qr_text",
    "read_embedded_claims",
    "read_image_qr",
]

ATTACHMENT_NAME = "ecert-claims.json"


@dataclass(frozen=True)
class EmbeddedClaims:
    raw: dict[str, Any]

    @property
    def claims(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in dict(self.raw.get("claims") or {}).items()}


def _attachment(reader: PdfFileReader) -> Any:
    """The claims attachment's stream, or ``None`` if the file has none."""
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        for i in range(0, len(names) - 1, 2):
            if str(names[i]) == ATTACHMENT_NAME:
                return names[i + 1].get_object()["/EF"]["/F"].get_object()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, PdfError):
        return None
    return None


def read_embedded_claims(reader: PdfFileReader) -> EmbeddedClaims | None:
    """The claims attachment, or ``None`` if the file has none; ``DocumentMalformed`` if it has
    one that cannot be read (undecodable, too large, not JSON, nested too deep, not an object).
    The stream is decoded within the reader's decode limits."""
    stream = _attachment(reader)
    if stream is None:
        return None
    try:
        data = stream.data
        raw = read_json(
            data,
            max_bytes=MAX_ATTACHMENT_BYTES,
            max_depth=MAX_JSON_DEPTH,
            what=f"the {ATTACHMENT_NAME} attachment",
        )
    except JsonRefused as exc:
        raise DocumentMalformed(str(exc)) from exc
    except (PdfError, ValueError, TypeError, AttributeError, KeyError) as exc:
        raise DocumentMalformed(
            f"the {ATTACHMENT_NAME} attachment cannot be decoded: {type(exc).__name__}"
        ) from exc
    if not isinstance(raw, dict):
        raise DocumentMalformed(f"the {ATTACHMENT_NAME} attachment is not a JSON object")
    return EmbeddedClaims(raw)


def page_qr_text(pdf: bytes) -> list[str]:
    """QR codes printed on the first page (rendered at 72 dpi, then 200 dpi read thoroughly).
    ``InputRefused``: too many pages or a page too large to be ours; ``RenderFailed``: could
    not render (out of time or memory, crashed)."""
    return default_pool().page_qr(pdf)


def image_refusal(data: bytes) -> str | None:
    """Why a photo is refused before anything is decoded (too large, too many pixels by its
    header), or ``None``."""
    if len(data) > MAX_IMAGE_BYTES:
        return f"image larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB"
    try:
        default_pool().check_image(data)
    except InputRefused as exc:
        return str(exc)
    except RenderFailed:
        return None  # could not even look: the decode will say so
    return None


def read_image_qr(data: bytes) -> tuple[tuple[str, ...], str | None]:
    """The QR texts in a photo or scan, or why it could not be read (never raises: a decoder
    that fails is reported as a problem, so the answer is "take it again", not "not valid")."""
    if len(data) > MAX_IMAGE_BYTES:
        return (), f"image larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB"
    try:
        return tuple(default_pool().image_qr(data)), None
    except InputRefused as exc:
        return (), str(exc)
    except Unreadable as exc:
        return (), f"not a readable image: {exc}"
    except RenderFailed as exc:  # out of time or memory, crashed: "could not read"
        return (), f"the image could not be decoded: {exc}"
