"""Reading records to issue from a department's CSV or JSONL export: UTF-8 (with or without a
byte-order mark), or GB18030 / GBK as many office programs here save CSV files by default.

``read_records`` (``ecert issue``) stops at the first line it cannot read; ``parse_records``
(the department console) reads every line it can and reports the others by line number."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from issuer.pipeline import Submission
from ledger.errors import LedgerError

__all__ = [
    "SAVE_AS_UTF8",
    "ParsedRecords",
    "RecordFileError",
    "RowProblem",
    "decode_records",
    "parse_records",
    "read_records",
]

_RESERVED = {"reference", "valid_until"}
SAVE_AS_UTF8 = "请另存为 UTF-8 后再上传 / save the file as UTF-8 and try again"


class RecordFileError(LedgerError):
    """A records file that cannot be read at all (bad encoding, broken JSON line…)."""


@dataclass(frozen=True)
class RowProblem:
    """A line of a records file that could not be made into a record."""

    row: int
    """Line number in the file (a CSV's header is line 1)."""
    reference: str
    field: str
    message: str


@dataclass(frozen=True)
class ParsedRecords:
    encoding: str
    """``utf-8`` or ``gb18030`` (which GBK is a part of)."""
    submissions: list[tuple[int, Submission]]
    """Line number and record, in file order."""
    problems: list[RowProblem]


def decode_records(data: bytes, name: str) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (a BOM is dropped), else GB18030/GBK; a file
    that is neither is refused, asking for UTF-8."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise RecordFileError(
            f"{name} is neither UTF-8 nor GBK/GB18030 text. {SAVE_AS_UTF8}"
        ) from exc
    if "\x00" in text:  # UTF-16 and binary files decode as GB18030 too, with NULs
        raise RecordFileError(f"{name} is not a text file in UTF-8 or GBK. {SAVE_AS_UTF8}")
    return text, "gb18030"


def _submission(cert_type: str, row: dict[str, object], default_reference: str) -> Submission:
    reference = str(row.get("reference") or default_reference)
    until_raw = row.get("valid_until")
    until: date | None = None
    if until_raw not in (None, ""):
        try:
            until = date.fromisoformat(str(until_raw))
        except ValueError as exc:
            raise RecordFileError(
                f"{reference}: valid_until {until_raw!r} is not YYYY-MM-DD"
            ) from exc
    record = {k: v for k, v in row.items() if k not in _RESERVED and v not in (None, "")}
    return Submission(reference, cert_type, record, until)


def _is_jsonl(name: str) -> bool:
    return name.lower().endswith((".jsonl", ".ndjson"))


def _rows(text: str, name: str) -> Iterator[tuple[int, dict[str, object] | str]]:
    """``(line, row)`` for each record, or ``(line, why)`` for a line that is not one."""
    if _is_jsonl(name):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                yield number, "not valid JSON"
                continue
            if not isinstance(row, dict):
                yield number, "expected a JSON object"
                continue
            yield number, row
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for row in reader:
        number = reader.line_num
        if None in row:
            yield number, "more values than the header has columns"
            continue
        yield number, {k: v for k, v in row.items() if k is not None}


def parse_records(data: bytes, name: str, cert_type: str) -> ParsedRecords:
    """Every record of a CSV or JSONL file; lines that are not records become problems. The
    reference defaults to ``name:line`` so uploading the same file again issues nothing
    twice. Raises ``RecordFileError`` only for a file that is not text at all."""
    text, encoding = decode_records(data, name)
    submissions: list[tuple[int, Submission]] = []
    problems: list[RowProblem] = []
    for number, row in _rows(text, name):
        default = f"{name}:{number}"
        if isinstance(row, str):
            problems.append(RowProblem(number, default, "line", row))
            continue
        try:
            submissions.append((number, _submission(cert_type, row, default)))
        except RecordFileError:
            problems.append(
                RowProblem(number, str(row.get("reference") or default), "valid_until",
                           "must be a date written YYYY-MM-DD")
            )  # fmt: skip
    return ParsedRecords(encoding, submissions, problems)


def read_records(path: Path, cert_type: str) -> Iterator[Submission]:
    """Yield one submission per CSV row or JSONL line; the reference defaults to file:line so a
    re-run of the same file issues nothing twice."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordFileError(f"cannot read {path}: {exc.strerror}") from exc
    text, _encoding = decode_records(data, path.name)
    for number, row in _rows(text, path.name):
        if isinstance(row, str):
            raise RecordFileError(f"{path.name}:{number}: {row}")
        yield _submission(cert_type, row, f"{path.name}:{number}")
