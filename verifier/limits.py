"""How much of each input the verifier reads, in one place (the README's "Limits" table). Beyond
a document limit the input is refused as evidence (it is not one of our certificates: INVALID
``DOCUMENT_MALFORMED``); beyond a photo limit it cannot be read (ERROR, or 413 from the API)."""

from __future__ import annotations

__all__ = [
    "MAX_API_JSON_BYTES",
    "MAX_ATTACHMENT_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_JSON_DEPTH",
    "MAX_PAGES",
    "MAX_PAGE_SIDE_PT",
    "MAX_PDF_BYTES",
    "MAX_PROOF_BYTES",
]

_KIB, _MIB = 1024, 1024 * 1024

# files
MAX_PDF_BYTES = 10 * _MIB
MAX_IMAGE_BYTES = 15 * _MIB
MAX_PAGES = 20
"""Our certificates have one or two pages."""
MAX_PAGE_SIDE_PT = 1250.0
"""Of the first page (the one whose QR code is read): A3 is 842 × 1191 pt; at 200 dpi this is
at most 3,472 × 3,472 pixels."""
MAX_IMAGE_PIXELS = 40_000_000
"""A 48-megapixel phone photo is 8000 × 6000 (most phones save 12 MP, 4000 × 3000); read from
the image's header before anything is decoded."""

# JSON
MAX_JSON_DEPTH = 32
"""Nesting of arrays and objects; our formats nest at most 5 deep."""
MAX_ATTACHMENT_BYTES = 256 * _KIB
"""``ecert-claims.json`` inside a certificate (ours are 1-3 KB)."""
MAX_PROOF_BYTES = 256 * _KIB
"""A proof record (a batch of a million certificates gives a ~2 KB record)."""
# trust bundles: ledger.bundle.MAX_BUNDLE_BYTES (64 MiB) and MAX_BUNDLE_DEPTH (16)
MAX_API_JSON_BYTES = 64 * _KIB
"""A JSON body of ``POST /api/v1/verify`` (its longest field is a 4,000-character
presentation)."""
