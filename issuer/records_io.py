"""Reading records to issue from a department's CSV or JSONL export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from issuer.pipeline import Submission
from ledger.errors import LedgerError

__all__ = ["RecordFileError", "read_records"]

_RESERVED = {"reference", "valid_until"}


class RecordFileError(LedgerError):
    """A records file that cannot be read at all (bad encoding, broken JSON line…)."""


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


def read_records(path: Path, cert_type: str) -> Iterator[Submission]:
    """Yield one submission per CSV row or JSONL line; the reference defaults to file:line so a
    re-run of the same file issues nothing twice."""
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            with path.open(encoding="utf-8") as fh:
                for number, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise RecordFileError(f"{path.name}:{number}: not valid JSON") from exc
                    if not isinstance(row, dict):
                        raise RecordFileError(f"{path.name}:{number}: expected a JSON object")
                    yield _submission(cert_type, row, f"{path.name}:{number}")
        else:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                for number, row in enumerate(csv.DictReader(fh), start=2):
                    yield _submission(cert_type, dict(row), f"{path.name}:{number}")
    except UnicodeDecodeError as exc:
        raise RecordFileError(f"{path.name} is not UTF-8 text") from exc
    except OSError as exc:
        raise RecordFileError(f"cannot read {path}: {exc.strerror}") from exc
