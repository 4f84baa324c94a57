"""The one JSON reader for anything that comes from outside: claims attachments, trust bundles,
proof records, API bodies. It refuses a document larger than its size limit or nested deeper
than its depth limit *before* parsing, and maps every parser failure to ``JsonRefused``.

Why a pre-scan and not just ``RecursionError``: the C parser recurses once per nesting level,
and whether that raises or overflows the C stack (killing the process) depends on the recursion
limit (py-ecc raises it to 100,000; ``ledger`` puts it back) and on the thread's stack size. The
pre-scan needs neither: it finds the nesting depth with a few passes of C-speed byte operations
(escapes removed, strings removed, everything but brackets dropped, innermost ``[]`` / ``{}``
pairs deleted once per level), so a document nested ``max_depth + 1`` deep is refused in
``max_depth`` passes, and the parser only ever sees shallow documents.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "JsonRefused",
    "nesting_depth_exceeds",
    "read_json",
    "read_json_file",
]

DEFAULT_MAX_DEPTH = 32
"""Our formats nest at most 5 deep (a bundle: body → issuers → issuer → types → …)."""

_STRING = re.compile(rb'"[^"]*"')
_KEEP = b'"[]{}'
_DROP = bytes(b for b in range(256) if b not in _KEEP)
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")


class JsonRefused(LedgerError, ValueError):
    """Not JSON we will read: too large, nested too deep, or not JSON at all."""


def nesting_depth_exceeds(data: bytes, max_depth: int) -> bool:
    """Whether ``data``, read as JSON, nests arrays and objects deeper than ``max_depth`` (or
    has brackets that do not pair up, which no parser accepts either).

    - Escapes: ``\\\\`` pairs go first, left to right, then ``\\"``; what is left of each
      string has no escaped quote, so a string is one ``"[^"]*"``, delimited exactly as a JSON
      parser delimits it (a backslash outside a string is invalid JSON: the parser stops there).
    - Everything but quotes and brackets is dropped, then the strings.
    - ``{}`` count as ``[]``: up to the first close that does not match its open (where a
      parser stops) the depth is the same.
    - Each pass deletes every innermost ``[]``; a document ``max_depth`` deep is gone after
      ``max_depth`` passes, one nested deeper is not.
    """
    if b"[" not in data and b"{" not in data:
        return False
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", data.translate(None, _DROP)).translate(_AS_SQUARE)
    for _level in range(max_depth):
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            return True  # nothing pairs up any more: unbalanced
        brackets = shorter
    return bool(brackets)


def read_json(
    data: bytes | str,
    *,
    max_bytes: int,
    max_depth: int = DEFAULT_MAX_DEPTH,
    what: str = "document",
) -> Any:
    """``data`` parsed, or ``JsonRefused`` saying why not (``what`` names it in the message).
    Text is read as UTF-8."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise JsonRefused(f"{what} is larger than {max_bytes:,} bytes")
    if nesting_depth_exceeds(raw, max_depth):
        raise JsonRefused(f"{what} is nested deeper than {max_depth} levels (or unbalanced)")
    try:
        return json.loads(raw)
    except RecursionError as exc:  # not reached after the pre-scan; kept as a second line
        raise JsonRefused(f"{what} is nested too deep") from exc
    except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError, huge ints
        raise JsonRefused(f"{what} is not valid JSON: {str(exc)[:120]}") from exc


def read_json_file(
    path: Path,
    *,
    max_bytes: int,
    max_depth: int = DEFAULT_MAX_DEPTH,
    what: str = "document",
) -> Any:
    """``read_json`` of a file, reading no more than ``max_bytes + 1`` bytes of it.
    ``OSError`` (``FileNotFoundError`` included) passes through."""
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    return read_json(data, max_bytes=max_bytes, max_depth=max_depth, what=what)
