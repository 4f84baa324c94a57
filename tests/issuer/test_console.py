"""The console's security as an attacker or a careless client meets it, over plain HTTP against
the real issuer process: CSRF on every form, the login form's own nonce and size limit, other
departments' certificates and uploads 404, search scoped to the department, files neither
UTF-8 nor GBK refused with "save as UTF-8", and no personal data in the service's log."""

from __future__ import annotations

import random
import re

import httpx
import pytest

from issuer.samples import sample_record
from tests.issuer.department_site import DepartmentSite

pytestmark = pytest.mark.anvil


def _login(site: DepartmentSite, token: str) -> httpx.Client:
    client = httpx.Client(base_url=site.issuer.url, timeout=30, headers={"Accept": "text/html"})
    form = client.get("/console/login")
    nonce = re.search(r'name="login_nonce" value="([^"]+)"', form.text)
    assert nonce is not None
    answer = client.post("/console/login", data={"token": token, "login_nonce": nonce.group(1)})
    assert answer.status_code == 303, answer.text
    return client


def _csrf(client: httpx.Client, path: str = "/console/certificates") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def _csv(rows: list[dict[str, str]]) -> str:
    keys = list(rows[0])
    return "\n".join([",".join(keys), *(",".join(r[k] for k in keys) for r in rows)]) + "\n"


def test_forms_need_their_csrf_token_and_login_needs_its_nonce(site: DepartmentSite) -> None:
    client = _login(site, site.tokens["zj"])
    search = client.post("/console/certificates", data={"holder": "x", "csrf": "forged"})
    assert search.status_code == 403
    assert "页面已过期" in search.text
    assert client.post("/console/certificates", data={"holder": "x"}).status_code == 403
    ok = client.post("/console/certificates", data={"holder": "x", "csrf": _csrf(client)})
    assert ok.status_code == 200
    assert "default-src 'none'" in ok.headers["content-security-policy"]
    assert ok.headers["cache-control"] == "no-store"
    # Another department's CSRF token does not work with this session.
    other = _login(site, site.tokens["gd"])
    stolen = _csrf(other)
    assert client.post("/console/logout", data={"csrf": stolen}).status_code == 403
    # A login posted from elsewhere (no nonce cookie) is refused, and so is a big body.
    fresh = httpx.Client(base_url=site.issuer.url, timeout=10)
    forged = fresh.post("/console/login", data={"token": site.tokens["zj"], "login_nonce": "x"})
    assert forged.status_code == 403
    assert "ecert_console" not in forged.headers.get("set-cookie", "")
    huge = fresh.post("/console/login", content=b"token=" + b"a" * 10_000)
    assert huge.status_code == 413
    # Without a session a body is not even read, and pages lead to the login.
    assert fresh.post("/console/certificates", data={"holder": "x"}).status_code == 401
    assert fresh.get("/console/audit").headers["location"] == "/console/login"
    out = client.post("/console/logout", data={"csrf": _csrf(client)})
    assert out.status_code == 303
    assert 'ecert_console=""' in out.headers["set-cookie"]


def test_another_departments_certificates_and_uploads_are_404_and_never_found(
    site: DepartmentSite,
) -> None:
    zj = _login(site, site.tokens["zj"])
    rows = [sample_record("BUSINESS_LICENCE", random.Random(seed)) for seed in (70, 71)]
    rows[0]["name"] = "宁波独一无二示范有限公司"
    sent = zj.post(
        "/console/upload",
        data={"csrf": _csrf(zj), "cert_type": "BUSINESS_LICENCE"},
        files={"file": ("scope.csv", _csv(rows).encode(), "text/csv")},
    )
    assert sent.status_code == 303, sent.text
    upload_path = sent.headers["location"]
    page = zj.get(upload_path).text
    assert "受理 2 份" in page
    found = zj.post("/console/certificates", data={"holder": "独一无二", "csrf": _csrf(zj)}).text
    number = re.search(r'href="/console/certificates/([0-9A-Z]+)"', found)
    assert number is not None
    gd = _login(site, site.tokens["gd"])
    estate = _login(site, site.tokens["zj-estate"])  # same department, another type
    for who in (gd, estate):
        for path in (
            f"/console/certificates/{number.group(1)}",
            f"/console/certificates/{number.group(1)}/pdf",
            f"/console/certificates/{number.group(1)}/proof",
            "/console/certificates/2026BL99999999",
            upload_path,
            f"{upload_path}/progress",
        ):
            assert who.get(path).status_code == 404, path
        revoke = who.post(
            f"/console/certificates/{number.group(1)}/revoke",
            data={"csrf": _csrf(who), "reason": "3", "confirm": "yes"},
        )
        assert revoke.status_code == 404
        result = who.post("/console/certificates", data={"holder": "独一无二", "csrf": _csrf(who)})
        assert "独一无二" not in result.text.replace('value="独一无二"', "")
        assert "没有找到证照" in result.text


def test_an_unreadable_file_is_refused_asking_for_utf8(site: DepartmentSite) -> None:
    zj = _login(site, site.tokens["zj"])
    utf16 = _csv([sample_record("BUSINESS_LICENCE", random.Random(80))]).encode("utf-16")
    answer = zj.post(
        "/console/upload",
        data={"csrf": _csrf(zj), "cert_type": "BUSINESS_LICENCE"},
        files={"file": ("wps.csv", utf16, "text/csv")},
    )
    assert answer.status_code == 400
    assert "请另存为 UTF-8" in answer.text
    assert "save the file as UTF-8" in answer.text
    scripted = zj.post(
        "/console/upload",
        data={"csrf": _csrf(zj), "cert_type": "BUSINESS_LICENCE"},
        files={"file": ("wps.csv", utf16, "text/csv")},
        headers={"X-Console-Upload": "1"},
    )
    assert scripted.status_code == 400
    assert "请另存为 UTF-8" in scripted.json()["error"]
    wrong_type = zj.post(
        "/console/upload",
        data={"csrf": _csrf(zj), "cert_type": "BIRTH_MEDICAL"},
        files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert wrong_type.status_code == 400
    assert "Traceback" not in wrong_type.text


def test_the_service_log_holds_no_names_or_tokens(site: DepartmentSite) -> None:
    log = site.issuer.log.read_text(encoding="utf-8", errors="replace")
    for secret in (*site.tokens.values(), "独一无二", "千岛湖"):
        assert secret not in log
