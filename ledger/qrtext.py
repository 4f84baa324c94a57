"""Bytes as text that a QR code holds in its *alphanumeric* mode (5.5 bits a character instead
of the byte mode's 8).

Base45 (RFC 9285, the EU Digital COVID Certificate's) in spirit — two bytes as three characters,
a last odd byte as two — over 41 of the QR alphanumeric characters: digits, capitals and
``+ - . / :``. The four others (space, ``$``, ``%``, ``*``) are left out so the text survives
what people do with it: trimming, pasting into a shell, a form or a URL path. 41³ ≥ 2¹⁶, so the
size is base45's: 1.5 characters a byte, about 3 % over the raw bits in the QR code (base64 in
byte mode costs 33 %). Decoding is strict: one text per byte string."""

from __future__ import annotations

import struct

from ledger.errors import LedgerError

__all__ = ["ALPHABET", "QrTextError", "from_qr_text", "to_qr_text"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+-./:"
_BASE = len(ALPHABET)
_BAD = 0xFF
_DIGITS = bytes(ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _BAD for b in range(256))


class QrTextError(LedgerError, ValueError):
    """Not text ``to_qr_text`` makes."""


def to_qr_text(raw: bytes) -> str:
    out: list[str] = []
    for at in range(0, len(raw) - 1, 2):
        value = raw[at] << 8 | raw[at + 1]
        out += (
            ALPHABET[value // (_BASE * _BASE)],
            ALPHABET[value // _BASE % _BASE],
            ALPHABET[value % _BASE],
        )
    if len(raw) % 2:
        out += ALPHABET[raw[-1] // _BASE], ALPHABET[raw[-1] % _BASE]
    return "".join(out)


def from_qr_text(text: str) -> bytes:
    """The bytes of ``to_qr_text`` output (the work done in slices and one ``struct.pack``: a
    verifier reads a thousand characters per presentation)."""
    if len(text) % 3 == 1:
        raise QrTextError("the text has a character too many or too few")
    try:
        digits = text.encode("ascii").translate(_DIGITS)
    except UnicodeEncodeError as exc:
        raise QrTextError("the text has characters the code does not use") from exc
    if _BAD in digits:
        raise QrTextError("the text has characters the code does not use")
    whole = len(digits) - len(digits) % 3
    values = [
        (a * _BASE + b) * _BASE + c
        for a, b, c in zip(digits[0:whole:3], digits[1:whole:3], digits[2:whole:3], strict=True)
    ]
    if values and max(values) > 0xFFFF:
        raise QrTextError("a group of three characters is out of range")
    out = struct.pack(f">{len(values)}H", *values)
    if whole < len(digits):
        value = digits[-2] * _BASE + digits[-1]
        if value > 0xFF:
            raise QrTextError("the last two characters are out of range")
        out += bytes([value])
    return out
