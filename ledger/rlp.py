"""Recursive Length Prefix (RLP), the serialisation of the Ethereum yellow paper (appendix B):
an item is a byte string or a list of items. Our own small codec, for the QBFT genesis
``extraData`` of the Besu kit; ``decode`` accepts only canonical encodings (shortest length
prefixes, single bytes below 0x80 unwrapped) and exactly one item.

Integers are encoded as their big-endian bytes without leading zeros (0 is the empty string);
decoding returns bytes, so ``to_int`` reads an integer back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

from ledger.errors import RlpError

__all__ = ["Item", "Value", "decode", "encode", "to_int"]

Value = Union[bytes, int, Sequence["Value"]]  # noqa: UP007 - a recursive alias needs Union here
"""What ``encode`` takes: bytes, a non-negative int, or a (nested) list of them."""
Item = Union[bytes, list["Item"]]  # noqa: UP007
"""What ``decode`` returns: bytes or a (nested) list of bytes."""


def _length_prefix(length: int, short: int, long: int) -> bytes:
    if length < 56:
        return bytes([short + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([long + len(size)]) + size


def encode(value: Value) -> bytes:
    """The RLP encoding of ``value``."""
    if isinstance(value, bool):
        raise RlpError("RLP has no booleans: pass 0 or 1")
    if isinstance(value, int):
        if value < 0:
            raise RlpError("RLP integers are non-negative")
        value = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if isinstance(value, bytes | bytearray):
        if len(value) == 1 and value[0] < 0x80:
            return bytes(value)
        return _length_prefix(len(value), 0x80, 0xB7) + bytes(value)
    if isinstance(value, str):
        raise RlpError("RLP encodes bytes, not text: encode the string first")
    payload = b"".join(encode(item) for item in value)
    return _length_prefix(len(payload), 0xC0, 0xF7) + payload


def _read_length(data: bytes, at: int, size: int) -> int:
    raw = data[at : at + size]
    if len(raw) < size:
        raise RlpError("truncated length")
    if raw[0] == 0:
        raise RlpError("length with a leading zero byte")
    length = int.from_bytes(raw, "big")
    if length < 56:
        raise RlpError("long form used for a length below 56")
    return length


def _item(data: bytes, at: int) -> tuple[Item, int]:
    """The item starting at ``at`` and the offset just after it."""
    if at >= len(data):
        raise RlpError("truncated input")
    first = data[at]
    if first < 0x80:
        return data[at : at + 1], at + 1
    if first < 0xC0:
        if first <= 0xB7:
            start, length = at + 1, first - 0x80
        else:
            start = at + 1 + (first - 0xB7)
            length = _read_length(data, at + 1, first - 0xB7)
        end = start + length
        if end > len(data):
            raise RlpError("string runs past the end")
        if length == 1 and data[start] < 0x80:
            raise RlpError("a single byte below 0x80 must not be wrapped")
        return data[start:end], end
    if first <= 0xF7:
        start, length = at + 1, first - 0xC0
    else:
        start = at + 1 + (first - 0xF7)
        length = _read_length(data, at + 1, first - 0xF7)
    end = start + length
    if end > len(data):
        raise RlpError("list runs past the end")
    items: list[Item] = []
    position = start
    while position < end:
        item, position = _item(data, position)
        items.append(item)
    if position != end:
        raise RlpError("list items run past the list's length")
    return items, end


def decode(data: bytes) -> Item:
    """The one item ``data`` encodes; ``RlpError`` for anything else (trailing bytes too)."""
    item, end = _item(bytes(data), 0)
    if end != len(data):
        raise RlpError(f"{len(data) - end} bytes after the item")
    return item


def to_int(item: Item) -> int:
    """A decoded byte string read as an RLP integer (no leading zeros allowed)."""
    if not isinstance(item, bytes):
        raise RlpError("expected a byte string, got a list")
    if item[:1] == b"\x00":
        raise RlpError("integer with a leading zero byte")
    return int.from_bytes(item, "big")
