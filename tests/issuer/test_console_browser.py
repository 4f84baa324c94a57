"""The department console and the issuer's /docs in a real browser (Debian's headless Chromium
via Playwright) on a phone-sized screen, with every request outside 127.0.0.1 refused: a clerk
logs in, uploads 500 licences, watches them get sealed and anchored, finds one by its holder's
name, revokes it, and the verifier's page says REVOKED. axe-core checks every page."""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from issuer.samples import sample_record
from tests.a11y import axe_violations, only_loopback
from tests.issuer.department_site import DepartmentSite
from tests.verifier.browser import (
    PHONE,
    launched_chromium,
    near,
    parse_rgb,
    pixel_share,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.anvil

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect

UNIQUE = "杭州千岛湖示范茶业有限公司"
ROWS = 500


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched_chromium()


@pytest.fixture
def phone(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A phone-sized page that may reach 127.0.0.1 only (the list says what else it tried);
    fails the test on a script error or a dialog. CSP is bypassed only so that axe-core can
    be injected."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
        locale="zh-CN", timezone_id="Asia/Shanghai", bypass_csp=True,
    )  # fmt: skip
    context.set_default_timeout(20_000)
    refused = only_loopback(context)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    yield page, refused
    context.close()
    assert not problems, problems


def _accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], violations


def _looks_right_on_a_phone(page: Page, shot: Path) -> None:
    """No sideways scrolling, large type, and the dark department banner really drawn."""
    assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
    size = page.eval_on_selector("body", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 20
    page.screenshot(path=str(shot))
    header = page.locator("header")
    if header.count():
        box = header.bounding_box()
        assert box is not None
        colour = parse_rgb(
            page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor")
        )
        area = (box["x"], box["y"], box["width"], box["height"])
        assert pixel_share(shot, area, near(colour)) >= 0.5


def _batch_file(path: Path) -> None:
    rng = random.Random(500)
    rows = [sample_record("BUSINESS_LICENCE", rng) for _ in range(ROWS)]
    rows[137]["name"] = UNIQUE
    bad = dict(rows[0], uscc="91330106MA00000000")  # a wrong check character
    late = dict(rows[1])
    del late["address"]
    with path.open("w", encoding="gb18030", newline="") as fh:  # as office software saves it
        writer = csv.DictWriter(fh, fieldnames=[*rows[0], "reference"])
        writer.writeheader()
        for i, row in enumerate([*rows[:250], bad, *rows[250:], late]):
            writer.writerow({**row, "reference": f"BATCH-{i:04d}"})


def test_docs_render_with_no_network(phone: tuple[Page, list[str]], site: DepartmentSite) -> None:
    page, refused = phone
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{site.issuer.url}/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/certificates" in " ".join(paths)
    assert len(paths) >= 5
    assert refused == []  # Swagger UI asked for nothing outside
    page.goto(f"{site.issuer.url}/redoc")
    expect(page.get_by_text("/api/v1/proofs/{issuer_id}/{certificate_id}").first).to_be_attached()
    # ReDoc's bundle links its "powered by" badge from its CDN; refused, the page still renders.
    assert set(refused) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}


def test_a_clerk_uploads_500_finds_one_by_name_revokes_it_and_the_verifier_says_revoked(
    phone: tuple[Page, list[str]], site: DepartmentSite, tmp_path: Path
) -> None:
    page, refused = phone
    batch = tmp_path / "营业执照-12月.csv"
    _batch_file(batch)

    page.goto(f"{site.issuer.url}/console")
    page.wait_for_url("**/console/login")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    _accessible(page)
    _looks_right_on_a_phone(page, tmp_path / "login.png")
    page.get_by_label("部门令牌").fill("ecert_wrong")
    page.locator("#login").click()
    expect(page.locator("#login-error")).to_contain_text("令牌不对")
    _accessible(page)
    page.get_by_label("部门令牌").fill(site.tokens["zj"])
    page.locator("#login").click()
    page.wait_for_url("**/console/certificates")
    cookie = next(c for c in page.context.cookies() if c["name"] == "ecert_console")
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
    _accessible(page)
    _looks_right_on_a_phone(page, tmp_path / "list.png")

    page.get_by_role("link", name="批量上传").click()
    page.wait_for_url("**/console/upload")
    _accessible(page)
    _looks_right_on_a_phone(page, tmp_path / "upload.png")
    page.get_by_label("证照类型").select_option("BUSINESS_LICENCE")
    page.get_by_label("数据文件").set_input_files(batch)
    started = time.monotonic()
    page.locator("#upload").click()
    page.wait_for_url("**/console/uploads/*", timeout=60_000)
    accepted_after = time.monotonic() - started
    expect(page.locator("#summary")).to_contain_text(f"受理 {ROWS} 份，退回 2 行")
    expect(page.locator("#summary")).to_contain_text("GBK")
    errors = page.locator("#row-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("uscc")
    expect(errors.nth(1)).to_contain_text("住所")
    expect(page.locator("#p-sealed")).to_be_visible()
    _accessible(page)
    _looks_right_on_a_phone(page, tmp_path / "progress.png")
    expect(page.locator("#progress")).to_have_attribute("data-done", "true", timeout=150_000)
    anchored_after = time.monotonic() - started
    expect(page.locator("#t-anchored")).to_have_text(f"{ROWS} / {ROWS}")
    expect(page.locator("#state")).to_contain_text("全部签章上链完毕")
    print(f"\n500 rows: accepted {accepted_after:.1f} s, all anchored {anchored_after:.1f} s")

    page.get_by_role("link", name="证照查询").click()
    page.get_by_label("持证人名称").fill("千岛湖")
    page.locator("#search").click()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(UNIQUE)
    _accessible(page)
    rows.first.get_by_role("link").click()
    page.wait_for_url("**/console/certificates/*")
    expect(page.locator("#trail li")).to_have_count(4)  # received, sealed, batched, anchored
    expect(page.locator("#trail li").last).to_have_attribute("data-status", "ANCHORED")
    assert "UTC" not in page.locator("#trail").inner_text()  # shown in local time
    _accessible(page)
    _looks_right_on_a_phone(page, tmp_path / "certificate.png")
    with page.expect_download() as pdf:
        page.locator("#pdf").click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    with page.expect_download() as proof:
        page.locator("#proof").click()
    assert proof.value.suggested_filename.endswith(".proof.json")

    page.get_by_label("撤销原因").select_option("3")
    page.get_by_label("我确认撤销此证照").check()
    page.locator("#revoke").click()
    expect(page.locator("#message")).to_contain_text("已撤销")
    expect(page.locator("#trail li").last).to_have_attribute("data-status", "REVOKED")
    _accessible(page)

    page.get_by_role("link", name="审计记录").click()
    expect(page.locator("#audit tbody tr").first).to_contain_text("撤销")
    _accessible(page)
    _looks_right_on_a_phone(page, tmp_path / "audit.png")

    page.goto(page.url.replace("/console/audit", "/console/certificates"))
    page.get_by_label("持证人名称").fill("千岛湖")
    page.locator("#search").click()
    page.locator("#results tbody tr").first.get_by_role("link").click()
    page.locator("#verify-link").click()
    page.wait_for_url(f"{site.verifier.url}/v/**")
    deadline = time.monotonic() + 20
    while page.locator("#verdict").get_attribute("data-verdict") != "INVALID":
        assert time.monotonic() < deadline, "the verifier never saw the revocation"
        time.sleep(0.5)
        page.reload()
    expect(page.locator('li[data-check="status.not_revoked"]')).to_contain_text("撤销")
    assert refused == []
