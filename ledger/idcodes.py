"""Check characters of Chinese identifier codes, so a mistyped code is caught before issuing.

- GB 32100-2015 unified social credit code (统一社会信用代码): 18 characters from a 31-symbol
  alphabet without I, O, S, V, Z; the last is a check character, modulo 31.
- GB 11643-1999 citizen identity number (公民身份号码): 17 digits and an ISO 7064 MOD 11-2 check
  character (0-9 or X); digits 7-14 are the date of birth.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = [
    "citizen_id_check_char",
    "is_valid_citizen_id",
    "is_valid_social_credit_code",
    "social_credit_check_char",
]

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_BODY = re.compile(rf"[{_USCC_ALPHABET}]{{17}}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_BODY = re.compile(r"[1-9]\d{16}")


def social_credit_check_char(body: str) -> str:
    """The check character for the first 17 characters of a social credit code."""
    if not _USCC_BODY.fullmatch(body):
        raise ValueError(
            "a social credit code body is 17 characters of 0-9 and A-Y without I O S V"
        )
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_social_credit_code(code: str) -> bool:
    """Whether ``code`` is 18 characters with a correct GB 32100 check character."""
    if len(code) != 18 or not _USCC_BODY.fullmatch(code[:17]):
        return False
    return social_credit_check_char(code[:17]) == code[17]


def citizen_id_check_char(body: str) -> str:
    """The check character for the first 17 digits of a citizen identity number."""
    if not _ID_BODY.fullmatch(body):
        raise ValueError("a citizen id body is 17 digits, the first not 0")
    total = sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_citizen_id(number: str) -> bool:
    """Whether ``number`` has a correct GB 11643 check character and a real date of birth."""
    if len(number) != 18 or not _ID_BODY.fullmatch(number[:17]):
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return citizen_id_check_char(number[:17]) == number[17].upper()
