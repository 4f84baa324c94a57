"""The issuer API's answers as a department's system sees them, through ``ecert serve issuer``
as its own process: 202 / 207 / 422 per-record results, unknown types, expiring and revoked
tokens, proof files where the verifier reads them (API and ``ecert issue`` alike), and the
catalogue in the OpenAPI document."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from issuer.samples import sample_record
from issuer.store import ApiToken, open_store
from issuer.tokens import TokenError, create_token, list_tokens
from tests.issuer.department_site import ZJ_MARKET, DepartmentSite

pytestmark = pytest.mark.anvil


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _licence(reference: str, seed: int, **changes: Any) -> dict[str, Any]:
    until = (datetime.now(UTC) + timedelta(days=3650)).date().isoformat()
    item = {
        "reference": reference,
        "cert_type": "BUSINESS_LICENCE",
        "claims": sample_record("BUSINESS_LICENCE", random.Random(seed)),
        "valid_until": until,
    }
    item.update(changes)
    return item


def _post(site: DepartmentSite, items: list[dict[str, Any]], token: str = "zj") -> httpx.Response:
    return httpx.post(
        f"{site.issuer.url}/api/v1/certificates",
        json={"certificates": items},
        headers=_auth(site.tokens.get(token, token)),
        timeout=30,
    )


def _wait_for_file(path: Path, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.2)
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _ecert(site: DepartmentSite, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **site.env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_all_some_or_no_records_accepted_answer_202_207_422(site: DepartmentSite) -> None:
    good = _post(site, [_licence("sem-1", 1), _licence("sem-2", 2)])
    assert good.status_code == 202, good.text
    assert good.json()["accepted"] == 2

    bad_uscc = _licence("sem-bad", 3)
    bad_uscc["claims"]["uscc"] = "91330106MA00000000"
    mixed = _post(site, [_licence("sem-3", 4), bad_uscc])
    assert mixed.status_code == 207, mixed.text
    body = mixed.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    refused = body["results"][1]
    assert refused["certificate_id"] is None
    assert [e["field"] for e in refused["errors"]] == ["uscc"]

    missing = _licence("sem-missing", 5)
    del missing["claims"]["name"]
    none = _post(site, [bad_uscc, missing])
    assert none.status_code == 422, none.text
    body = none.json()
    assert body["accepted"] == 0
    assert "no record was accepted" in body["detail"]
    named = {(r["reference"], e["field"]) for r in body["results"] for e in r["errors"]}
    assert named == {("sem-bad", "uscc"), ("sem-missing", "name")}

    again = _post(site, [_licence("sem-1", 1)])  # a repeated reference: the first answer
    assert again.status_code == 202
    assert again.json()["results"][0]["duplicate"] is True


def test_an_unknown_type_is_named_as_such_not_as_a_token_refusal(site: DepartmentSite) -> None:
    unknown = _post(site, [_licence("sem-unknown", 6, cert_type="FISHING_PERMIT")])
    assert unknown.status_code == 422, unknown.text
    (error,) = unknown.json()["results"][0]["errors"]
    assert error["field"] == "cert_type"
    assert "unknown certificate type 'FISHING_PERMIT'" in error["message"]
    assert "BUSINESS_LICENCE" in error["message"]  # the known ones are listed
    mixed = _post(
        site, [_licence("sem-unknown-2", 7, cert_type="FISHING_PERMIT"), _licence("sem-4", 8)]
    )
    assert mixed.status_code == 207
    outside = _post(site, [_licence("sem-5", 9)], token="zj-estate")  # a known type, not its own
    assert outside.status_code == 403
    assert "token not allowed to issue BUSINESS_LICENCE" in outside.json()["detail"]


def test_tokens_expire_and_are_listed_and_revoked_from_the_command_line(
    site: DepartmentSite,
) -> None:
    sessions = open_store(site.db_url)
    soon = create_token(
        sessions,
        ZJ_MARKET,
        ["BUSINESS_LICENCE"],
        "temp",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    url = f"{site.issuer.url}/api/v1/certificates/2026BL99999999"
    assert httpx.get(url, headers=_auth(soon)).status_code == 404  # authenticated: no such one
    with sessions() as session:  # an hour passes
        session.execute(
            update(ApiToken)
            .where(ApiToken.label == "temp")
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    assert httpx.get(url, headers=_auth(soon)).status_code == 401
    assert _post(site, [_licence("sem-exp", 10)], token=soon).status_code == 401

    made = _ecert(
        site, "token", "create", "--issuer", ZJ_MARKET, "--types", "BUSINESS_LICENCE",
        "--label", "batch-job", "--expires", "30d",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert httpx.get(url, headers=_auth(token)).status_code == 404
    listed = _ecert(site, "token", "list", "--issuer", ZJ_MARKET)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split("│")[2].strip(): line for line in listed.stdout.splitlines() if "│" in line}
    assert "active" in lines["batch-job"]
    assert (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d") in lines["batch-job"]
    assert "expired" in lines["temp"]
    assert token not in listed.stdout
    revoked = _ecert(site, "token", "revoke", "--issuer", ZJ_MARKET, "--label", "batch-job")
    assert revoked.returncode == 0, revoked.stderr
    assert httpx.get(url, headers=_auth(token)).status_code == 401
    assert [t.state() for t in list_tokens(sessions, ZJ_MARKET) if t.label == "batch-job"] == [
        "revoked"
    ]
    with pytest.raises(TokenError, match="future"):
        create_token(
            sessions,
            ZJ_MARKET,
            ["BUSINESS_LICENCE"],
            "x",
            expires_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    with pytest.raises(TokenError, match="unknown certificate type"):
        create_token(sessions, ZJ_MARKET, ["FISHING_PERMIT"], "y")


def test_proof_files_land_where_the_verifier_reads_them_for_api_and_cli(
    site: DepartmentSite, tmp_path: Path
) -> None:
    (result,) = _post(site, [_licence("proof-api", 11)]).json()["results"]
    number = result["certificate_id"]
    record = _wait_for_file(site.home / "proofs" / ZJ_MARKET / f"{number}.json")
    public = httpx.get(f"{site.issuer.url}/api/v1/proofs/{ZJ_MARKET}/{number}").json()
    assert record == public
    assert "claims" not in record

    rows = [sample_record("BUSINESS_LICENCE", random.Random(seed)) for seed in (12, 13)]
    data = tmp_path / "cli.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    issued = _ecert(
        site, "issue", "--issuer", ZJ_MARKET, "--type", "BUSINESS_LICENCE", "--data", str(data),
        "--out", str(tmp_path / "out"), "--workers", "1",
    )  # fmt: skip
    assert issued.returncode == 0, issued.stdout + issued.stderr
    numbers = sorted(p.stem for p in (tmp_path / "out").glob("*.pdf"))
    assert len(numbers) == 2
    for cli_number in numbers:
        _wait_for_file(site.home / "proofs" / ZJ_MARKET / f"{cli_number}.json")
    # The verifier finds them with nobody copying anything: VALID, not NOT_ANCHORED.
    for pdf in (tmp_path / "out").glob("*.pdf"):
        checked = _ecert(site, "verify", str(pdf), "--region", "ZJ", "--json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["verdict"] == "VALID"


def test_the_openapi_document_lists_claim_keys_and_an_example_per_type(
    site: DepartmentSite,
) -> None:
    schema = httpx.get(f"{site.issuer.url}/openapi.json").json()
    components = schema["components"]["schemas"]
    licence = components["Claims_BUSINESS_LICENCE"]
    assert set(licence["properties"]) >= {"uscc", "name", "legal_representative"}
    assert "uscc" in licence["required"]
    assert licence["properties"]["uscc"]["title"] == "统一社会信用代码"
    assert "personal data" in licence["properties"]["legal_representative"]["description"]
    for code in ("BUSINESS_LICENCE", "DEGREE_CERT", "BIRTH_MEDICAL", "REAL_ESTATE"):
        assert f"Claims_{code}" in components
    post = schema["paths"]["/api/v1/certificates"]["post"]
    examples = post["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {"BUSINESS_LICENCE", "DEGREE_CERT", "BIRTH_MEDICAL", "REAL_ESTATE"}
    assert set(post["responses"]) >= {"202", "207", "422"}
    # Each example is a real submission the service accepts (issued to the right department).
    example = examples["BUSINESS_LICENCE"]["value"]
    answer = _post(site, example["certificates"])
    assert answer.status_code == 202, answer.text
