"""The picture of a department's e-seal as GB/T 38540 carries it in ``SES_ESPictrueInfo``: a
red round seal (the department's name along the rim, a star, 电子证照专用章) drawn as a PNG
with a transparent background, the way the PDF certificate draws its seal mark."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

from ledger.fonts import cjk_font_path

__all__ = ["STAMP_MM", "stamp_picture"]

STAMP_MM = 42
"""Width and height of the seal on paper (the PDF's mark has a 2.1 cm radius)."""
_PX_PER_MM = 12  # about 300 dpi
_RED = (209, 18, 18, 255)


def stamp_picture(department: str) -> bytes:
    """The seal picture as PNG bytes."""
    size = STAMP_MM * _PX_PER_MM
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre, radius = size / 2, size / 2 - 4
    ring = 2.2 * 25.4 / 72 * _PX_PER_MM  # the PDF mark's 2.2 pt line
    draw.ellipse(
        (centre - radius, centre - radius, centre + radius, centre + radius),
        outline=_RED,
        width=max(1, round(ring)),
    )
    star = []
    for i in range(10):
        r = (5.5 if i % 2 == 0 else 2.2) * _PX_PER_MM
        angle = math.pi / 2 + i * math.pi / 5
        star.append((centre + r * math.cos(angle), centre - r * math.sin(angle)))
    draw.polygon(star, fill=_RED)
    path = str(cjk_font_path())
    points = 11 if len(department) <= 12 else 9
    rim = ImageFont.truetype(path, round(points * 25.4 / 72 * _PX_PER_MM), index=0)
    span = math.radians(min(220, 19 * len(department)))
    for i, char in enumerate(department):
        angle = math.pi / 2 + span / 2 - span * (i + 0.5) / len(department)
        side = round(rim.size * 2)
        glyph = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((rim.size, rim.size), char, font=rim, fill=_RED, anchor="mm")
        glyph = glyph.rotate(math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        at = radius - 4.5 * _PX_PER_MM
        x, y = centre + at * math.cos(angle), centre - at * math.sin(angle)
        image.alpha_composite(glyph, (round(x - rim.size), round(y - rim.size)))
    small = ImageFont.truetype(path, round(8 * 25.4 / 72 * _PX_PER_MM), index=0)
    draw.text(
        (centre, centre + 10.5 * _PX_PER_MM), "电子证照专用章", font=small, fill=_RED, anchor="mm"
    )
    out = io.BytesIO()
    # Eight palette colours keep the anti-aliased edges and cut the PNG from 43 to 12 KB.
    palette = image.quantize(colors=8, method=Image.Quantize.FASTOCTREE)
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()
