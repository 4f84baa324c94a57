"""The verifier's pages in a real browser (headless Debian Chromium via Playwright) on a phone
screen: what a person scanning a QR code or uploading a certificate actually sees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.a11y import axe_violations
from tests.integration.servers import ServiceProcess
from tests.verifier.browser import (
    PHONE,
    is_green,
    is_red,
    launched_chromium,
    near,
    parse_rgb,
    pixel_share,
)
from tests.verifier.conftest import ZJ_MARKET, Network
from verifier.reasons import ReasonCode, message

pytestmark = pytest.mark.anvil

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched_chromium()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh phone-sized page; fails the test on any script error or dialog."""
    context = browser.new_context(
        viewport={"width": PHONE["width"], "height": PHONE["height"]},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def dialog(d: Dialog) -> None:
        problems.append(f"dialog: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    yield page
    context.close()
    assert not problems, problems


def _payload(network: Network, number: str) -> str:
    qr: str = network.pipeline.certificate(ZJ_MARKET, number)["qr"]
    return qr.rsplit("/v/", 1)[1]


def _computed(page: Page, selector: str, prop: str) -> str:
    value: str = page.eval_on_selector(
        selector, "(e, p) => getComputedStyle(e).getPropertyValue(p)", prop
    )
    return value


def _fits_phone(page: Page) -> None:
    width = page.evaluate("() => [innerWidth, innerHeight]")
    assert width == [PHONE["width"], PHONE["height"]]
    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the phone screen"


def test_qr_page_of_genuine_certificate_on_a_phone(
    phone: Page, service: ServiceProcess, network: Network, tmp_path: Path
) -> None:
    response = phone.goto(f"{service.url}/v/{_payload(network, network.good)}")
    assert response is not None
    assert response.status == 200
    verdict = phone.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", "VALID")
    expect(verdict).to_contain_text("真实有效")
    expect(verdict).to_be_in_viewport()
    assert phone.evaluate("() => document.documentElement.lang") == "zh-CN"
    _fits_phone(phone)
    body_size = float(_computed(phone, "body", "font-size").removesuffix("px"))
    assert body_size >= 18
    headline = float(_computed(phone, "#verdict b", "font-size").removesuffix("px"))
    assert headline >= 32
    green = parse_rgb(_computed(phone, "#verdict", "background-color"))
    assert is_green(green), green
    # The certificate's own details are shown under the banner.
    expect(phone.locator("table")).to_contain_text(network.good)

    # What the phone actually draws: the banner area is mostly that green, with white text.
    shot = tmp_path / "genuine-zh.png"
    phone.screenshot(path=str(shot))
    box = verdict.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= PHONE["height"], "verdict not on the first screen"
    area = (box["x"], box["y"], box["width"], box["height"])
    assert pixel_share(shot, area, near(green)) >= 0.6
    assert pixel_share(shot, area, near((255, 255, 255), 40)) >= 0.02  # the words are drawn
    whole = (0, 0, PHONE["width"], PHONE["height"])
    assert pixel_share(shot, whole, is_red) < 0.001
    assert axe_violations(phone) == []

    phone.locator("a.lang").click()
    phone.wait_for_url("**/v/*?lang=en*")
    expect(verdict).to_have_attribute("data-verdict", "VALID")
    expect(verdict).to_contain_text("Genuine")
    assert phone.evaluate("() => document.documentElement.lang") == "en"
    expect(phone.locator("a.lang")).to_have_text("中文")
    assert is_green(parse_rgb(_computed(phone, "#verdict", "background-color")))
    assert axe_violations(phone) == []


def test_qr_page_of_revoked_certificate_is_red_with_the_reason(
    phone: Page, service: ServiceProcess, network: Network, tmp_path: Path
) -> None:
    response = phone.goto(f"{service.url}/v/{_payload(network, network.revoked)}")
    assert response is not None
    assert response.status == 200
    verdict = phone.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", "INVALID")
    expect(verdict).to_have_class("banner INVALID")
    expect(verdict).to_contain_text("无效")
    expect(verdict).not_to_contain_text("真实有效")
    red = parse_rgb(_computed(phone, "#verdict", "background-color"))
    assert is_red(red), red
    reason = phone.locator("li.bad", has_text=message(ReasonCode.REVOKED, "zh"))
    expect(reason).to_be_visible()
    _fits_phone(phone)
    shot = tmp_path / "revoked-zh.png"
    phone.screenshot(path=str(shot))
    box = verdict.bounding_box()
    assert box is not None
    area = (box["x"], box["y"], box["width"], box["height"])
    assert pixel_share(shot, area, near(red)) >= 0.6
    assert pixel_share(shot, area, is_green) < 0.001
    assert axe_violations(phone) == []


def test_qr_page_asks_the_visitors_province(
    phone: Page, service: ServiceProcess, network: Network
) -> None:
    """A holder in 广东 picks their province on the page a ZJ licence's QR opens: the answer is
    then for GD's recognition (no agreement here: amber, not red), with a labelled picker."""
    phone.goto(f"{service.url}/v/{_payload(network, network.good)}")
    verdict = phone.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", "VALID")
    picker = phone.get_by_label("您在哪个省份使用这份证照？")
    expect(picker).to_be_visible()
    picker.select_option("GD")
    phone.get_by_role("button", name="查看该省是否认可").click()
    phone.wait_for_url("**/v/*region=GD*")
    expect(verdict).to_have_attribute("data-verdict", "NOT_RECOGNISED")
    expect(verdict).to_contain_text("广东省尚未认可浙江省签发的营业执照")
    expect(picker).to_have_value("GD")
    amber = parse_rgb(_computed(phone, "#verdict", "background-color"))
    assert not is_red(amber), amber
    assert not is_green(amber), amber
    _fits_phone(phone)
    assert axe_violations(phone) == []
    phone.locator("a.lang").click()
    phone.wait_for_url("**/v/*lang=en*region=GD*")
    expect(phone.get_by_label("Which province will you use this certificate in?")).to_have_value(
        "GD"
    )
    expect(verdict).to_have_attribute("data-verdict", "NOT_RECOGNISED")
    assert axe_violations(phone) == []


def _submit(page: Page) -> None:
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/verify" in r.url
    ) as answer:
        page.locator("#verify").click()
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_url("**/verify?lang=zh")
    page.wait_for_load_state()


def test_upload_page_pdf_tampered_pdf_and_garbage_qr_text(
    phone: Page, service: ServiceProcess, network: Network, tmp_path: Path
) -> None:
    pdf = network.pdf(network.good)
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(pdf)
    middle = len(pdf) // 2
    signed = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert signed is not None
    a, la, b, lb = (int(g) for g in signed.groups())
    assert a <= middle < a + la or b <= middle < b + lb, "flip a byte the seal covers"
    tampered_bytes = bytearray(pdf)
    tampered_bytes[middle] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(tampered_bytes))
    verdict = phone.locator("#verdict")

    phone.goto(f"{service.url}/")
    assert phone.evaluate("() => document.documentElement.lang") == "zh-CN"
    _fits_phone(phone)
    assert axe_violations(phone) == []  # the upload page before
    phone.locator("#file").set_input_files(genuine)
    _submit(phone)
    expect(verdict).to_have_attribute("data-verdict", "VALID")
    expect(verdict).to_contain_text("真实有效")
    assert is_green(parse_rgb(_computed(phone, "#verdict", "background-color")))
    _fits_phone(phone)
    assert axe_violations(phone) == []  # and its answer

    # "Verify another" leads back to an empty form.
    phone.get_by_role("link", name="核验另一份").click()
    phone.wait_for_url("**/?lang=zh")
    expect(phone.locator("#qr_text")).to_have_value("")
    phone.locator("#file").set_input_files(tampered)
    _submit(phone)
    expect(verdict).to_have_attribute("data-verdict", "INVALID")
    expect(verdict).to_contain_text("无效")
    assert is_red(parse_rgb(_computed(phone, "#verdict", "background-color")))
    broken = phone.locator('li.bad[data-check="seal.intact"]')
    expect(broken).to_contain_text(message(ReasonCode.SEAL_BROKEN, "zh"))
    assert axe_violations(phone) == []  # a broken seal's page: claims struck through

    phone.goto(f"{service.url}/")
    garbage = "这不是二维码 <script>alert('x')</script> https://evil.example/v/%00%ZZ"
    phone.locator("#qr_text").fill(garbage)
    _submit(phone)
    expect(verdict).to_have_attribute("data-verdict", "INVALID")
    assert is_red(parse_rgb(_computed(phone, "#verdict", "background-color")))
    expect(phone.locator("li.bad", has_text=message(ReasonCode.QR_MALFORMED, "zh"))).to_be_visible()
    # the pasted text is never echoed as markup
    assert phone.locator("script", has_text="alert").count() == 0
