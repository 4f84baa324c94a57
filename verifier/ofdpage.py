"""Reading the QR code printed on an OFD certificate's page the way a camera would: the page's
path objects (GB/T 33190 §9: ``PathObject`` with ``Boundary``, ``CTM`` and ``AbbreviatedData``)
drawn into a greyscale image, then decoded with zxing-cpp as the PDF path decodes its render.

The writer draws the QR code as filled rectangles, so filled and stroked paths are what is
drawn here (``M``/``S``, ``L``, ``C``; curves ``Q``/``B`` and arcs ``A`` as straight lines to
their end points); text, images and clipping are left out: none of them carries the code. The
work is bounded — at most ``MAX_PATHS`` path objects and ``MAX_NUMBERS`` coordinates a page, an
image of at most ``MAX_SIDE_PX`` a side, shapes covering at most ``MAX_COVER`` times the page
(a page of a thousand full-page fills would otherwise take minutes), ``DEADLINE_S`` a drawing —
and anything beyond is an ``OfdError``.
"""

from __future__ import annotations

import time
from xml.etree.ElementTree import Element

from PIL import Image, ImageDraw

from ledger.ofd import OfdError, OfdPackage, q
from ledger.ofddoc import OfdDocument, page_box
from verifier.pixels import decode_qr_image

__all__ = [
    "DEADLINE_S",
    "MAX_COVER",
    "MAX_NUMBERS",
    "MAX_PATHS",
    "MAX_SIDE_PX",
    "ofd_page_qr_text",
    "rasterise_page",
]

MAX_PATHS = 5_000
MAX_NUMBERS = 400_000
MAX_SIDE_PX = 4_000
MAX_COVER = 20
"""The shapes' bounding boxes may add up to this many pages (ours: well under one)."""
DEADLINE_S = 2.0
_PASSES = ((4.0, False), (8.0, True))
"""Pixels per millimetre and whether to decode thoroughly: a quick pass (our 40 mm code is
about 2.6 px a module), then a sharper, thorough one if the quick pass finds nothing."""
_ARGS = {"M": 2, "S": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
Point = tuple[float, float]


def _floats(text: str | None, count: int, default: tuple[float, ...]) -> tuple[float, ...]:
    if not text:
        return default
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError as exc:
        raise OfdError(f"not {count} numbers: {text[:40]!r}") from exc
    if len(values) != count:
        raise OfdError(f"not {count} numbers: {text[:40]!r}")
    return values


def _grey(element: Element | None, default: int) -> int:
    """The luminance of a ``FillColor``/``StrokeColor`` (RGB 0-255; grey when one value)."""
    if element is None:
        return default
    try:
        values = [float(v) for v in element.get("Value", "").split()]
    except ValueError:
        return default
    if len(values) == 1:
        return max(0, min(255, round(values[0])))
    if len(values) >= 3:
        red, green, blue = values[:3]
        return max(0, min(255, round(0.299 * red + 0.587 * green + 0.114 * blue)))
    return default


def _subpaths(data: str, budget: list[int]) -> list[tuple[list[Point], bool]]:
    """``AbbreviatedData`` as subpaths (points in object space) and whether each is closed."""
    tokens = data.split()
    budget[0] -= len(tokens)
    if budget[0] < 0:
        raise OfdError(f"the page has more than {MAX_NUMBERS} path coordinates")
    paths: list[tuple[list[Point], bool]] = []
    current: list[Point] = []
    i = 0
    while i < len(tokens):
        op = tokens[i]
        count = _ARGS.get(op)
        if count is None or i + count >= len(tokens):
            break  # an operator we do not draw, or truncated data: stop this object here
        try:
            numbers = [float(v) for v in tokens[i + 1 : i + 1 + count]]
        except ValueError:
            break
        i += 1 + count
        if op in ("M", "S"):
            if len(current) > 1:
                paths.append((current, False))
            current = [(numbers[0], numbers[1])]
        elif op == "C":
            if len(current) > 1:
                paths.append((current, True))
            current = current[:1]
        else:  # L, and the end points of Q, B and A
            current.append((numbers[-2], numbers[-1]))
    if len(current) > 1:
        paths.append((current, False))
    return paths


def rasterise_page(
    page: Element, box: tuple[float, float, float, float], px_per_mm: float
) -> Image.Image:
    """The page's path objects drawn in greys on white, ``px_per_mm`` (capped so neither side
    exceeds ``MAX_SIDE_PX``)."""
    _, _, width, height = box
    scale = min(px_per_mm, MAX_SIDE_PX / max(width, height))
    image = Image.new("L", (max(1, round(width * scale)), max(1, round(height * scale))), 255)
    draw = ImageDraw.Draw(image)
    objects = list(page.iter(q("PathObject")))
    if len(objects) > MAX_PATHS:
        raise OfdError(f"the page has more than {MAX_PATHS} path objects")
    budget = [MAX_NUMBERS]
    cover = float(MAX_COVER * image.width * image.height)
    deadline = time.monotonic() + DEADLINE_S
    for obj in objects:
        if obj.get("Visible", "true") == "false":
            continue
        fill = obj.get("Fill", "false") == "true"
        stroke = obj.get("Stroke", "true") == "true"
        if not (fill or stroke):
            continue
        bx, by, _, _ = _floats(obj.get("Boundary"), 4, (0.0, 0.0, 0.0, 0.0))
        a, b, c, d, e, f = _floats(obj.get("CTM"), 6, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0))
        line = max(1, round(_floats(obj.get("LineWidth"), 1, (0.353,))[0] * scale))
        fill_grey = _grey(obj.find(q("FillColor")), 0)
        stroke_grey = _grey(obj.find(q("StrokeColor")), 0)
        for points, closed in _subpaths(obj.findtext(q("AbbreviatedData")) or "", budget):
            mapped = [
                ((bx + a * x + c * y + e) * scale, (by + b * x + d * y + f) * scale)
                for x, y in points
            ]
            xs, ys = [x for x, _ in mapped], [y for _, y in mapped]
            width_px = min(max(xs), image.width) - max(min(xs), 0)
            height_px = min(max(ys), image.height) - max(min(ys), 0)
            cover -= max(0.0, width_px + line) * max(0.0, height_px + line)
            if cover < 0:
                raise OfdError(f"the page's shapes cover more than {MAX_COVER} pages")
            if time.monotonic() > deadline:
                raise OfdError(f"the page takes longer than {DEADLINE_S} s to draw")
            if fill and len(mapped) > 2:
                draw.polygon(mapped, fill=fill_grey)
            if stroke:
                outline = [*mapped, mapped[0]] if closed else mapped
                draw.line(outline, fill=stroke_grey, width=line)
    return image


def ofd_page_qr_text(package: OfdPackage, document: OfdDocument) -> list[str]:
    """QR codes printed on the document's first page (the certificate's only one)."""
    page = package.xml(document.pages[0])
    box = page_box(page, document.page_area)
    for px_per_mm, thorough in _PASSES:
        texts = decode_qr_image(rasterise_page(page, box, px_per_mm), thorough=thorough)
        if texts:
            return texts
    return []
