"""The verifier's /docs and /redoc in headless Chromium with every request outside 127.0.0.1
refused: the API documentation a bank's developer opens on an offline machine still renders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.a11y import only_loopback
from tests.integration.servers import ServiceProcess
from tests.verifier.browser import launched_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.anvil

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launched_chromium()


def test_verifier_docs_render_with_no_network(browser: Browser, service: ServiceProcess) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    refused = only_loopback(context)
    page = context.new_page()
    try:
        page.goto(f"{service.url}/docs")
        expect(page.locator(".opblock-summary-path").first).to_be_visible()
        paths = " ".join(page.locator(".opblock-summary-path").all_inner_texts())
        assert "/api/v1/verify" in paths
        assert refused == []
        page.goto(f"{service.url}/redoc")
        expect(page.get_by_text("/api/v1/verify").first).to_be_attached()
        # ReDoc's "powered by" badge comes from its CDN; refused, the page still renders.
        assert set(refused) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
    finally:
        context.close()
