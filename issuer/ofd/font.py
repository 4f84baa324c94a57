"""The font an OFD certificate embeds: the certificate's CJK font (``ledger.fonts``) cut down
to the characters one certificate uses, as a TrueType file readers load from the package.

fontTools' own subsetter takes about 250 ms per call on WenQuanYi's 30,000 glyphs, most of it
re-reading the whole font; this keeps the face open once per process and builds each subset
from the glyphs needed (their composite components included). Simple glyphs are copied as the
font stores them (compiled bytes, bounds included) rather than decoded and encoded again, which
was most of the remaining time; ``maxp`` and the ``head`` box are the whole face's, which bound
any subset of it.
"""

from __future__ import annotations

import io
import threading
from functools import cache

from fontTools.fontBuilder import FontBuilder
from fontTools.ttLib import TTFont, newTable

from ledger.fonts import cjk_font_path

__all__ = ["EmbeddedFont", "embedded_font"]

_MAXP_FIELDS = (
    "maxPoints",
    "maxContours",
    "maxCompositePoints",
    "maxCompositeContours",
    "maxZones",
    "maxTwilightPoints",
    "maxStorage",
    "maxFunctionDefs",
    "maxInstructionDefs",
    "maxStackElements",
    "maxSizeOfInstructions",
    "maxComponentElements",
    "maxComponentDepth",
)


class EmbeddedFont:
    """One face of the CJK font, opened once; subsets and advance widths from it."""

    def __init__(self, font: TTFont) -> None:
        self._font = font
        self._cmap: dict[int, str] = font.getBestCmap()
        self._lock = threading.Lock()
        self.units_per_em: int = font["head"].unitsPerEm
        names = font["name"]
        self.family: str = str(names.getDebugName(1) or "CJK")
        self.full_name: str = str(names.getDebugName(4) or self.family)

    def advance(self, char: str) -> float:
        """Advance width of ``char`` in ems (0.5 for a character the font lacks)."""
        name = self._cmap.get(ord(char))
        if name is None:
            return 0.5
        width: int = self._font["hmtx"][name][0]
        return width / self.units_per_em

    def subset(self, text: str) -> bytes:
        """A TrueType font with the glyphs of ``text`` only (and ``.notdef``)."""
        with self._lock:  # fontTools decompiles glyphs lazily, in place
            return self._subset(text)

    def _subset(self, text: str) -> bytes:
        font, glyf = self._font, self._font["glyf"]
        stored = glyf.glyphs  # as read from the file: compact, each glyph its compiled bytes
        mapping = {ord(c): self._cmap[ord(c)] for c in set(text) if ord(c) in self._cmap}
        needed = set(mapping.values())
        pending = list(needed)
        while pending:
            glyph = stored[pending.pop()]
            if glyph.isComposite():
                for component in glyph.getComponentNames(glyf):
                    if component not in needed:
                        needed.add(component)
                        pending.append(component)
        order = [".notdef", *sorted(needed - {".notdef"}, key=font.getGlyphID)]
        builder = FontBuilder(self.units_per_em, isTTF=True)
        builder.font.recalcBBoxes = False  # the glyphs' own bounds are kept (see above)
        builder.setupGlyphOrder(order)
        builder.setupCharacterMap(mapping)
        table = newTable("glyf")
        # A composite names its components by glyph index, which differs in the subset: it is
        # decoded (``glyf[name]``) so that it is encoded again with the new indices.
        table.glyphs = {n: glyf[n] if stored[n].isComposite() else stored[n] for n in order}
        table.glyphOrder = order
        builder.font["loca"] = newTable("loca")
        builder.font["glyf"] = table
        source_maxp, maxp = font["maxp"], builder.font["maxp"]
        for field in _MAXP_FIELDS:
            setattr(maxp, field, getattr(source_maxp, field))
        maxp.tableVersion = source_maxp.tableVersion
        head = builder.font["head"]
        for field in ("xMin", "yMin", "xMax", "yMax"):
            setattr(head, field, getattr(font["head"], field))
        builder.setupHorizontalMetrics({name: font["hmtx"][name] for name in order})
        hhea, os2 = font["hhea"], font["OS/2"]
        builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent)
        builder.setupNameTable(
            {"familyName": self.family, "styleName": "Regular", "fullName": self.full_name}
        )
        builder.setupOS2(
            sTypoAscender=os2.sTypoAscender,
            sTypoDescender=os2.sTypoDescender,
            usWinAscent=os2.usWinAscent,
            usWinDescent=os2.usWinDescent,
            fsType=0,  # installable embedding, as the font's licence (GPL + font exception) allows
        )
        builder.setupPost()
        out = io.BytesIO()
        builder.save(out)
        return out.getvalue()


@cache
def embedded_font() -> EmbeddedFont:
    """The process's open CJK face (about 170 ms the first time)."""
    return EmbeddedFont(TTFont(str(cjk_font_path()), fontNumber=0, lazy=True))
