"""What ``ecert pki revoke-seal`` / ``distrust-ca`` accept as a time and a reason: a compromise
time is never guessed into a time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cli.compromise_cmd import parse_reason, parse_time
from ledger.codes import RevocationReason


def test_times_need_a_zone_and_come_back_in_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    assert parse_time("2026-12-01T08:00:00+08:00") == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_time("2026-12-01T00:00Z") == datetime(2026, 12, 1, tzinfo=UTC)
    now = datetime(2026, 12, 1, 9, 30, 15, 999, tzinfo=beijing)
    assert parse_time("now", now=now) == now.replace(microsecond=0)
    assert parse_time(" NOW ").tzinfo is not None
    for naive in ("2026-12-01T08:00:00", "2026-12-01"):
        with pytest.raises(ValueError, match="has no time zone"):
            parse_time(naive)
    for bad in ("yesterday", ""):
        with pytest.raises(ValueError, match="not an ISO 8601 time"):
            parse_time(bad)


def test_reasons_by_name_or_code() -> None:
    assert parse_reason("key-compromise") is RevocationReason.KEY_COMPROMISE
    assert parse_reason("KEY_COMPROMISE") is RevocationReason.KEY_COMPROMISE
    assert parse_reason("cessation-of-operation") is RevocationReason.CESSATION_OF_OPERATION
    assert parse_reason("7") is RevocationReason.AUTHORITY_ORDER
    for bad in ("lost-it", "0", "8", "-1", ""):
        with pytest.raises(ValueError, match="unknown reason"):
            parse_reason(bad)
