"""The CJK font certificates are rendered in: WenQuanYi Micro Hei from Debian's
``fonts-wqy-microhei`` (``make setup`` installs it), embedded and subsetted by reportlab.
``ECERT_CJK_FONT`` may name another TrueType font or collection."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from ledger.errors import LedgerError

__all__ = ["CJK_FONT", "cjk_font_path", "register_cjk_font"]

CJK_FONT = "ecert-cjk"
_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
)


@cache
def cjk_font_path() -> Path:
    """The font file (face 0 of a collection is the one used)."""
    override = os.environ.get("ECERT_CJK_FONT")
    paths = [Path(override)] if override else list(_CANDIDATES)
    for path in paths:
        if path.is_file():
            return path
    raise LedgerError(
        "no CJK font found: install Debian's fonts-wqy-microhei (make setup does) "
        "or set ECERT_CJK_FONT"
    )


@cache
def register_cjk_font() -> str:
    """Register the CJK font with reportlab once; returns its name."""
    pdfmetrics.registerFont(TTFont(CJK_FONT, str(cjk_font_path()), subfontIndex=0))
    return CJK_FONT
