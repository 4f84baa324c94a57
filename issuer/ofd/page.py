"""One OFD page (``Content.xml``, GB/T 33190 §7.7) from the certificate's page layout: text
objects in the embedded font with explicit glyph advances (so every reader places each
character where the PDF does), the gold frames and the QR code as path objects — one
rectangle per run of dark modules, vectors that stay sharp at any print resolution."""

from __future__ import annotations

from collections.abc import Iterator

from issuer.ofd.font import EmbeddedFont
from issuer.ofd.layout import RGB, PageLayout, TextLine
from issuer.ofd.xmlbuild import child, document, mm, number, root

__all__ = ["QUIET_ZONE", "page_content"]

QUIET_ZONE = 4  # modules of white margin, as scanners expect


def _color(rgb: RGB) -> str:
    return " ".join(str(c) for c in rgb)


def _box(x: float, y: float, width: float, height: float) -> str:
    return " ".join(number(v) for v in (x, y, width, height))


def delta_x(advances: list[float]) -> str:
    """``TextCode/@DeltaX`` for the gaps between glyphs, runs of one width written as
    ``g <count> <width>`` (§11.3)."""
    gaps = advances[:-1]
    parts: list[str] = []
    i = 0
    while i < len(gaps):
        j = i
        while j + 1 < len(gaps) and number(gaps[j + 1]) == number(gaps[i]):
            j += 1
        run = j - i + 1
        parts.append(f"g {run} {number(gaps[i])}" if run > 1 else number(gaps[i]))
        i = j + 1
    return " ".join(parts)


def _text(
    layer: object,
    line: TextLine,
    page_height: float,
    font_id: str,
    ids: Iterator[int],
    font: EmbeddedFont,
) -> None:
    size = mm(line.size)
    advances = [font.advance(c) * size for c in line.text]
    top = mm(page_height - line.baseline) - size
    text = child(
        layer,  # type: ignore[arg-type]
        "TextObject",
        ID=str(next(ids)),
        Boundary=_box(mm(line.x), top, sum(advances), size * 1.3),
        Font=font_id,
        Size=number(size),
    )
    child(text, "FillColor", Value=_color(line.color))
    attributes = {"X": "0", "Y": number(size)}
    if len(line.text) > 1:
        attributes["DeltaX"] = delta_x(advances)
    child(text, "TextCode", line.text, **attributes)


def _qr_runs(matrix: tuple[tuple[bool, ...], ...]) -> str:
    runs: list[str] = []
    for row, line in enumerate(matrix):
        col = 0
        while col < len(line):
            if line[col]:
                start = col
                while col < len(line) and line[col]:
                    col += 1
                x0, x1, y0, y1 = (
                    start + QUIET_ZONE,
                    col + QUIET_ZONE,
                    row + QUIET_ZONE,
                    row + 1 + QUIET_ZONE,
                )
                runs.append(f"M {x0} {y0} L {x1} {y0} L {x1} {y1} L {x0} {y1} C")
            col += 1
    return " ".join(runs)


def page_content(
    layout: PageLayout,
    font_id: str,
    ids: Iterator[int],
    font: EmbeddedFont,
    *,
    draw_param: str | None = None,
) -> bytes:
    """``Content.xml`` of the certificate page; ``ids`` hands out the objects' IDs."""
    page = root("Page")
    area = child(page, "Area")
    child(area, "PhysicalBox", _box(0, 0, mm(layout.width), mm(layout.height)))
    content = child(page, "Content")
    layer = child(content, "Layer", ID=str(next(ids)), Type="Body")

    for frame in layout.frames:
        half = frame.line_width / 2
        x, y = mm(frame.x - half), mm(layout.height - frame.y - frame.height - half)
        w, h = mm(frame.width + frame.line_width), mm(frame.height + frame.line_width)
        inset, lw = mm(half), mm(frame.line_width)
        path = child(
            layer,
            "PathObject",
            ID=str(next(ids)),
            Boundary=_box(x, y, w, h),
            LineWidth=number(lw),
            Stroke="true",
            Fill="false",
            **({"DrawParam": draw_param} if draw_param else {}),
        )
        child(path, "StrokeColor", Value=_color(frame.color))
        a, b, c, d = (number(v) for v in (inset, inset, w - inset, h - inset))
        child(path, "AbbreviatedData", f"M {a} {b} L {c} {b} L {c} {d} L {a} {d} C")

    for line in layout.lines:
        _text(layer, line, layout.height, font_id, ids, font)

    qr_x, qr_y, side = layout.qr_box
    box = _box(mm(qr_x), mm(layout.height - qr_y - side), mm(side), mm(side))
    modules = len(layout.qr) + 2 * QUIET_ZONE
    background = child(
        layer, "PathObject", ID=str(next(ids)), Boundary=box, Stroke="false", Fill="true"
    )
    child(background, "FillColor", Value="255 255 255")
    edge = number(mm(side))
    child(background, "AbbreviatedData", f"M 0 0 L {edge} 0 L {edge} {edge} L 0 {edge} C")
    scale = number(mm(side) / modules)
    qr = child(
        layer,
        "PathObject",
        ID=str(next(ids)),
        Boundary=box,
        CTM=f"{scale} 0 0 {scale} 0 0",
        Stroke="false",
        Fill="true",
    )
    child(qr, "FillColor", Value="0 0 0")
    child(qr, "AbbreviatedData", _qr_runs(layout.qr))
    return document(page)
