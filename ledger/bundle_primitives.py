"""The primitives of the trust bundle's binary encoding (``ledger.bundle_codec``): minimal
LEB128 numbers, length-checked byte strings, and integer arrays in the narrowest of four fixed
widths — each refused when read if it is not the one way of writing its value."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence

from ledger.errors import LedgerError

__all__ = [
    "MAX_INT",
    "EncodingRefused",
    "ints",
    "read_bytes",
    "read_ints",
    "read_uvarint",
    "uvarint",
]

MAX_INT = 2**63 - 1
_WIDTHS = {1: "B", 2: "H", 4: "I", 8: "Q"}
for _width, _code in _WIDTHS.items():
    assert array(_code).itemsize == _width, "array type sizes differ on this platform"
_BIG_ENDIAN = sys.byteorder == "big"


class EncodingRefused(LedgerError, ValueError):
    """Not a canonical encoding of snapshot tables (or tables that cannot be encoded)."""


def uvarint(value: int) -> bytes:
    if not 0 <= value <= MAX_INT:
        raise EncodingRefused(f"{value} is outside 0 to 2^63-1")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_uvarint(data: bytes, pos: int) -> tuple[int, int]:
    """The uvarint at ``pos`` and the position after it."""
    value = shift = 0
    for i in range(pos, min(pos + 9, len(data))):
        byte = data[i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and i > pos:
                raise EncodingRefused("a number is not minimally encoded")
            return value, i + 1
        shift += 7
    raise EncodingRefused("a number runs past the end or past 2^63")


def read_bytes(data: bytes, pos: int, size: int) -> tuple[bytes, int]:
    if size < 0 or pos + size > len(data):
        raise EncodingRefused(f"{size:,} bytes announced, {len(data) - pos:,} left")
    return data[pos : pos + size], pos + size


def ints(values: Sequence[int]) -> bytes:
    top = max(values, default=0)
    width = 1 if top < 2**8 else 2 if top < 2**16 else 4 if top < 2**32 else 8
    try:
        packed = array(_WIDTHS[width], values)
    except (OverflowError, TypeError) as exc:
        raise EncodingRefused(f"not an integer from 0 to 2^64-1: {exc}") from exc
    if _BIG_ENDIAN:
        packed.byteswap()
    return bytes([width]) + packed.tobytes()


def read_ints(data: bytes, pos: int, count: int) -> tuple[list[int], int]:
    if pos >= len(data):
        raise EncodingRefused("integers announced past the end")
    width = data[pos]
    if width not in _WIDTHS:
        raise EncodingRefused(f"integer width {width} is not 1, 2, 4 or 8")
    raw, pos = read_bytes(data, pos + 1, count * width)
    packed = array(_WIDTHS[width])
    packed.frombytes(raw)
    if _BIG_ENDIAN:
        packed.byteswap()
    top = max(packed, default=0)
    if width > 1 and top < 2 ** (4 * width):
        raise EncodingRefused(f"integers up to {top} written {width} bytes wide")
    if top > MAX_INT + 1:
        raise EncodingRefused("an integer above 2^63")
    return packed.tolist(), pos
