"""The canonical binary encoding of registry snapshot tables (format 3 of the trust bundle):
one byte string per content, so a digest of it is a digest of the content.

A *section* is a set of tables (``ledger.index.SNAPSHOT_COLUMNS``, every table, in schema
order); an encoding holds one section (a full snapshot) or two (a delta: rows removed, rows
added) behind one shared string table:

    encoding  := strings section{n}
    strings   := uvarint count, ints(byte lengths), UTF-8 bytes of each string, concatenated
    section   := uvarint table count, table*
    table     := bytes name, uvarint column count, one type byte per column, uvarint row count,
                 column*      (column by column: the rows' values of one column, then the next)
    column    := ints(values)                          INTEGER ("I"; "i" if nullable)
               | ints(string indexes)                  TEXT    ("T"; "t" if nullable)
               | uvarint 0, ints(byte lengths), data   BLOB    ("B"), lengths differ
               | uvarint L+1, data                     BLOB, every value L bytes long
    ints      := width byte (1, 2, 4 or 8), count × width bytes, unsigned little-endian
    bytes     := uvarint length, that many bytes; uvarint: LEB128, 7 bits a byte

Canonical rules, each checked when decoding (a violation is ``EncodingRefused``):
- uvarints are minimal; ``ints`` use the smallest width that holds their largest value (1 for
  none); a nullable column stores 0 for NULL and value + 1 otherwise; integers are 0 to 2^63-1
  (SQLite's range, negative numbers do not occur in the index);
- strings are listed once each, in increasing byte order, and every one is used; a TEXT cell
  is the index of its string;
- a BLOB column whose values all have one length uses the fixed form (an empty one the
  variable form);
- rows are in SQLite's ``ORDER BY`` every column (what ``RegistryIndex.export_tables`` gives):
  NULL first, integers by value, text and blobs by bytes;
- the tables are exactly the schema's, with its column types;
- in a delta, no row is both removed and added.

Everything read is bounded before it is allocated: a length or count is checked against the
bytes that are left, so an encoding never makes the decoder hold more than a small multiple
of its own size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import accumulate, pairwise
from typing import Any

from ledger.bundle_primitives import (
    MAX_INT,
    EncodingRefused,
    ints,
    read_bytes,
    read_ints,
    read_uvarint,
    uvarint,
)
from ledger.index import SNAPSHOT_COLUMNS, Column

__all__ = [
    "EncodingRefused",
    "Tables",
    "decode_sections",
    "encode_sections",
    "read_bytes",
    "read_uvarint",
    "uvarint",
]

Tables = Mapping[str, Sequence[Sequence[Any]]]
"""Table name → rows, each a sequence of cells in column order (int, str, bytes or None)."""

_KINDS = {("INTEGER", False): "I", ("INTEGER", True): "i", ("TEXT", False): "T"}
_KINDS |= {("TEXT", True): "t", ("BLOB", False): "B"}


def _type_codes() -> dict[str, bytes]:
    codes: dict[str, bytes] = {}
    for table, columns in SNAPSHOT_COLUMNS.items():
        kinds = [_KINDS.get((c.kind, c.nullable)) for c in columns]
        if None in kinds:
            raise RuntimeError(f"{table}: a column type the bundle encoding has no form for")
        codes[table] = "".join(k for k in kinds if k).encode("ascii")
    return codes


_TYPE_CODES = _type_codes()


# ---------------------------------------------------------------------------- encoding


def _checked_column(table: str, column: Column, values: Sequence[Any]) -> None:
    kind = {"INTEGER": int, "TEXT": str, "BLOB": bytes}[column.kind]
    # exact types: a bool is no integer here, a bytearray no blob
    types = set(map(type, values))
    allowed = {kind, type(None)} if column.nullable else {kind}
    if not types <= allowed:
        wrong = next(iter(types - allowed))
        raise EncodingRefused(f"{table}.{column.name}: {wrong.__name__} in a {kind.__name__}")
    if kind is int and values:
        present = [v for v in values if v is not None] if column.nullable else values
        if present and not 0 <= min(present) <= max(present) <= MAX_INT:
            raise EncodingRefused(f"{table}.{column.name}: integers are 0 to 2^63-1 here")


def encode_sections(sections: Sequence[Tables]) -> bytes:
    """The canonical encoding of ``sections`` (each: every snapshot table, rows in any order;
    missing tables count as empty). ``EncodingRefused`` if a value does not fit its column."""
    for tables in sections:
        unknown = set(tables) - set(SNAPSHOT_COLUMNS)
        if unknown:
            raise EncodingRefused(f"tables the index does not have: {sorted(unknown)}")
    transposed: list[dict[str, list[tuple[Any, ...]]]] = []
    pool: set[str] = set()
    for tables in sections:
        by_table: dict[str, list[tuple[Any, ...]]] = {}
        for table, columns in SNAPSHOT_COLUMNS.items():
            rows = tables.get(table, ())
            if any(len(r) != len(columns) for r in rows):
                raise EncodingRefused(f"{table}: rows of {len(columns)} cells expected")
            cells = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
            for column, values in zip(columns, cells, strict=True):
                _checked_column(table, column, values)
                if column.kind == "TEXT":
                    pool.update(v for v in values if v is not None)
            by_table[table] = cells
        transposed.append(by_table)
    strings = sorted(pool)  # code-point order is UTF-8 byte order
    try:
        encoded = [s.encode("utf-8") for s in strings]
    except UnicodeEncodeError as exc:
        raise EncodingRefused(f"text that is not Unicode: {exc}") from exc
    position = {s: i for i, s in enumerate(strings)}
    out = [uvarint(len(strings)), ints([len(e) for e in encoded]), *encoded]
    for by_table in transposed:
        out.append(uvarint(len(SNAPSHOT_COLUMNS)))
        for table, columns in SNAPSHOT_COLUMNS.items():
            out.append(_table(table, columns, by_table[table], position))
    return b"".join(out)


def _codes(column: Column, values: Sequence[Any], position: Mapping[str, int]) -> list[Any]:
    """Per cell, what orders rows and is written: the integer or string index (+1 if
    nullable, 0 for NULL) or the blob itself."""
    if column.kind == "BLOB":
        return list(values)
    if column.kind == "TEXT":
        if column.nullable:
            return [0 if v is None else position[v] + 1 for v in values]
        return [position[v] for v in values]
    if column.nullable:
        return [0 if v is None else v + 1 for v in values]
    return list(values)


def _table(
    table: str,
    columns: Sequence[Column],
    cells: Sequence[Sequence[Any]],
    position: Mapping[str, int],
) -> bytes:
    codes = [_codes(c, v, position) for c, v in zip(columns, cells, strict=True)]
    rows = sorted(zip(*codes, strict=True)) if codes and codes[0] else []
    count = len(rows)
    name = table.encode("ascii")
    out = [uvarint(len(name)), name, uvarint(len(columns)), _TYPE_CODES[table], uvarint(count)]
    for i, column in enumerate(columns):
        values = [r[i] for r in rows]
        if column.kind != "BLOB":
            out.append(ints(values))
            continue
        lengths = {len(v) for v in values}
        if len(lengths) == 1:
            out.append(uvarint(lengths.pop() + 1))
        else:
            out += [uvarint(0), ints([len(v) for v in values])]
        out.append(b"".join(values))
    return b"".join(out)


# ---------------------------------------------------------------------------- decoding


def decode_sections(data: bytes, count: int) -> list[dict[str, list[tuple[Any, ...]]]]:
    """The ``count`` sections of a canonical encoding; ``EncodingRefused`` for anything that is
    not exactly what ``encode_sections`` writes."""
    strings, used, pos = _read_strings(data)
    sections: list[dict[str, list[tuple[Any, ...]]]] = []
    keys: list[dict[str, list[tuple[Any, ...]]]] = []
    for _ in range(count):
        tables: dict[str, list[tuple[Any, ...]]] = {}
        section_keys: dict[str, list[tuple[Any, ...]]] = {}
        tables_count, pos = read_uvarint(data, pos)
        if tables_count != len(SNAPSHOT_COLUMNS):
            raise EncodingRefused(f"{tables_count} tables; the index has {len(SNAPSHOT_COLUMNS)}")
        for table, columns in SNAPSHOT_COLUMNS.items():
            rows, row_keys, pos = _read_table(data, pos, table, columns, strings, used)
            tables[table] = rows
            section_keys[table] = row_keys
        sections.append(tables)
        keys.append(section_keys)
    if pos != len(data):
        raise EncodingRefused(f"{len(data) - pos:,} bytes after the tables")
    if len(used) != len(strings):
        raise EncodingRefused("a string is listed that no cell uses")
    if count == 2:
        for table in SNAPSHOT_COLUMNS:
            if set(keys[0][table]) & set(keys[1][table]):
                raise EncodingRefused(f"{table}: a row both removed and added")
    return sections


def _read_strings(data: bytes) -> tuple[list[str], set[int], int]:
    count, pos = read_uvarint(data, 0)
    if count > len(data) - pos:
        raise EncodingRefused(f"{count:,} strings announced in {len(data):,} bytes")
    lengths, pos = read_ints(data, pos, count)
    offsets = list(accumulate(lengths, initial=pos))
    if offsets[-1] > len(data):
        raise EncodingRefused("the strings run past the end")
    raw = [data[a:b] for a, b in pairwise(offsets)]
    if any(a >= b for a, b in pairwise(raw)):
        raise EncodingRefused("strings are not listed once each in increasing order")
    try:
        strings = [r.decode("utf-8") for r in raw]
    except UnicodeDecodeError as exc:
        raise EncodingRefused(f"a string is not UTF-8: {exc}") from exc
    return strings, set(), offsets[-1]


def _read_table(
    data: bytes,
    pos: int,
    table: str,
    columns: Sequence[Column],
    strings: Sequence[str],
    used: set[int],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    size, pos = read_uvarint(data, pos)
    name, pos = read_bytes(data, pos, size)
    if name != table.encode("ascii"):
        raise EncodingRefused(f"table {name[:40]!r} where the index has {table}")
    width, pos = read_uvarint(data, pos)
    types, pos = read_bytes(data, pos, width)
    if types != _TYPE_CODES[table]:
        raise EncodingRefused(
            f"{table}: columns {types[:40]!r}, the index has {_TYPE_CODES[table]!r}"
        )
    count, pos = read_uvarint(data, pos)
    if count > len(data) - pos:
        raise EncodingRefused(f"{table}: {count:,} rows announced, {len(data) - pos:,} bytes left")
    codes: list[list[Any]] = []
    values: list[list[Any]] = []
    for column in columns:
        if column.kind == "BLOB":
            blobs, pos = _read_blobs(data, pos, count, table)
            codes.append(blobs)
            values.append(blobs)
            continue
        numbers, pos = read_ints(data, pos, count)
        codes.append(numbers)
        if column.kind == "INTEGER":
            if not column.nullable and numbers and max(numbers) > MAX_INT:
                raise EncodingRefused(f"{table}.{column.name}: an integer above 2^63-1")
            values.append(
                [None if c == 0 else c - 1 for c in numbers] if column.nullable else numbers
            )
            continue
        top = max(numbers, default=-1) - column.nullable
        if top >= len(strings):
            raise EncodingRefused(f"{table}.{column.name}: string {top} of {len(strings)}")
        if column.nullable:
            used.update(c - 1 for c in numbers if c)
            values.append([None if c == 0 else strings[c - 1] for c in numbers])
        else:
            used.update(numbers)
            values.append([strings[c] for c in numbers])
    keys = list(zip(*codes, strict=True)) if count else []
    if keys != sorted(keys):  # timsort: one pass over rows that are in order
        raise EncodingRefused(f"{table}: rows are not in order")
    rows = list(zip(*values, strict=True)) if count else []
    return rows, keys, pos


def _read_blobs(data: bytes, pos: int, count: int, table: str) -> tuple[list[bytes], int]:
    fixed, pos = read_uvarint(data, pos)
    if fixed:
        size = fixed - 1
        if count == 0:
            raise EncodingRefused(f"{table}: an empty blob column in the fixed form")
        raw, pos = read_bytes(data, pos, count * size)
        return [raw[i : i + size] for i in range(0, count * size, size)] if size else [
            b""
        ] * count, pos
    lengths, pos = read_ints(data, pos, count)
    if count and len(set(lengths)) == 1:
        raise EncodingRefused(f"{table}: blobs of one length not in the fixed form")
    raw, pos = read_bytes(data, pos, sum(lengths))
    offsets = list(accumulate(lengths, initial=0))
    return [raw[a:b] for a, b in pairwise(offsets)], pos
