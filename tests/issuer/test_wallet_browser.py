"""The holder's side against a real department: a licence issued through the API to the
holder's key, ``ecert wallet present`` refusing a lifetime verifiers refuse and naming the
fields it has, the proof fetched from the issuer's public endpoint, and the wallet page in
headless Chromium (axe-core: 0 violations; countdown in local time) making a QR the verifier
service accepts."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import zxingcpp
from PIL import Image

from tests.a11y import axe_violations, only_loopback
from tests.integration.servers import ServiceProcess
from tests.issuer.department_site import ZJ_MARKET, DepartmentSite
from tests.issuer.test_api_service import _licence, _post, _wait_for_file
from tests.verifier.browser import PHONE, launched_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.anvil

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched_chromium()


def _verify(site: DepartmentSite, text: str) -> str:
    answer = httpx.post(
        f"{site.verifier.url}/api/v1/verify", json={"presentation": text}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    verdict: str = answer.json()["verdict"]
    return verdict


def test_wallet_command_and_page_for_a_licence_issued_to_the_holder(
    site: DepartmentSite, browser: Browser, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "ECERT_HOME": str(tmp_path / "phone"),
        "ECERT_KEY_PASSWORD": "the holder's passphrase",
    }
    env.pop("ECERT_ISSUER_DB", None)

    def wallet(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "wallet", *args],
            capture_output=True, text=True, check=False, timeout=60, env={**env, "COLUMNS": "4000"},
        )  # fmt: skip

    address = wallet("new").stdout.strip()
    (result,) = _post(site, [_licence("wallet-1", 90, holder_key=address)]).json()["results"]
    number = result["certificate_id"]
    _wait_for_file(site.home / "proofs" / ZJ_MARKET / f"{number}.json")
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(
        httpx.get(
            f"{site.issuer.url}/api/v1/certificates/{number}/pdf",
            headers={"Authorization": f"Bearer {site.tokens['zj']}"},
        ).content
    )

    too_long = wallet("present", str(pdf), "--fields", "name", "--ttl", "20m")
    assert too_long.returncode == 2
    assert "at most 15 minutes" in too_long.stderr
    unknown = wallet(
        "present", str(pdf), "--fields", "name,colour", "--issuer-url", site.issuer.url
    )
    assert unknown.returncode == 2
    assert "no field 'colour'" in unknown.stderr
    assert "uscc (统一社会信用代码 / Unified social credit code)" in unknown.stderr
    # No --proof: fetched from the issuer's public proof endpoint; Chinese labels as names.
    shown = wallet("present", str(pdf), "--fields", "名称,统一社会信用代码", "--ttl", "2m",
                   "--issuer-url", site.issuer.url)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "proof fetched from the issuer" in unknown.stderr  # once, then kept on the device
    assert (tmp_path / "phone" / "wallet" / "proofs" / ZJ_MARKET / f"{number}.json").is_file()
    assert "QR version" not in shown.stdout
    text = next(line for line in shown.stdout.splitlines() if line.startswith("ECP2."))
    assert _verify(site, text) == "VALID"

    page_env = {k: v for k, v in env.items() if k.startswith("ECERT_")}
    server = ServiceProcess(
        "wallet", ["--issuer-url", site.issuer.url], page_env, tmp_path / "wallet.log"
    )
    server.start()
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=1, is_mobile=True, locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )  # fmt: skip
    refused = only_loopback(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server.url)
        assert axe_violations(page) == []
        page.get_by_label("证照文件").set_input_files(pdf)  # no proof file: fetched
        page.locator("#next").click()
        page.wait_for_url("**/fields")
        assert axe_violations(page) == []
        page.get_by_label("名称").check()
        page.get_by_label("统一社会信用代码").check()
        page.get_by_label("2 分钟").check()
        page.locator("#present").click()
        page.wait_for_url("**/present")
        expect(page.locator("#left")).to_contain_text("还剩 1 分")
        assert "QR version" not in page.content()
        assert axe_violations(page) == []
        assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
        page.screenshot(path=str(tmp_path / "wallet.png"))
        image = page.locator("#qr").get_attribute("src") or ""
        qr = Image.open(io.BytesIO(base64.b64decode(image.split(",", 1)[1])))
        (found,) = zxingcpp.read_barcodes(qr)
        assert _verify(site, found.text) == "VALID"
        assert refused == []
        assert errors == []
    finally:
        context.close()
        server.stop()
