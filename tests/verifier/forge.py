"""Forgeries made the way a forger would: incremental updates appended after the seal."""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

__all__ = ["incremental_update"]


def incremental_update(pdf: bytes, change: str) -> bytes:
    """``pdf`` with ``text`` overlaid on the page, or an ``annotation`` changing what it says."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if change == "text":
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        overlay = writer.add_object(
            generic.StreamObject(
                stream_data=b"q 1 1 1 rg 60 430 470 40 re f Q "
                b"BT /F1 24 Tf 1 0 0 1 200 440 Tm (FORGED 999) Tj ET"
            )
        )
        contents = page["/Contents"]
        existing = (
            list(contents)
            if isinstance(contents, generic.ArrayObject)
            else [page.raw_get("/Contents")]
        )
        page[generic.NameObject("/Contents")] = generic.ArrayObject([*existing, overlay])
        writer.update_container(page)
    else:
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        annot = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(x) for x in (150, 450, 450, 520)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("改为 10000 万元"),
                generic.NameObject("/DA"): generic.pdf_string("/Helv 18 Tf 0 g"),
            }
        )
        page[generic.NameObject("/Annots")] = generic.ArrayObject([writer.add_object(annot)])
        writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
