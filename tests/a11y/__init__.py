"""Accessibility and offline checks for the browser tests: axe-core (pinned in this folder's
package.json, installed by ``make setup``) injected from node_modules, never from a CDN; and a
route that lets a page reach 127.0.0.1 only, recording whatever else it tried."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Route

__all__ = ["AXE", "axe_violations", "only_loopback"]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Every axe-core violation on the page as it is now (all rules axe runs by default:
    WCAG 2.x A/AA and best practices). The page's context must bypass CSP to take the
    script."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} missing: run make setup (npm ci in tests/a11y)")
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(_RUN)
    return found


def only_loopback(context: BrowserContext) -> list[str]:
    """Abort every request the context makes to a host other than 127.0.0.1; returns the list
    the aborted URLs are added to."""
    refused: list[str] = []

    def route(r: Route) -> None:
        url = r.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            r.continue_()
        else:
            refused.append(url)
            r.abort()

    context.route("**/*", route)
    return refused
