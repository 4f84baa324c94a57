"""Helpers for the real-browser tests: Debian's Chromium driven by Playwright, a phone-sized
page, and reading colours back from CSS and from screenshots."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "PHONE",
    "RGB",
    "Box",
    "chromium_path",
    "is_green",
    "is_red",
    "launched_chromium",
    "near",
    "parse_rgb",
    "pixel_share",
]

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]  # x, y, width, height in CSS pixels

# Debian's package: the tests never download a browser.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A common phone screen (CSS pixels); device scale 1 keeps screenshot pixels = CSS pixels.
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    return shutil.which("chromium")


def launched_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, for a module's tests (the test is skipped without it);
    use as ``yield from launched_chromium()`` in a fixture."""
    import pytest  # noqa: PLC0415

    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def parse_rgb(css: str) -> RGB:
    """``rgb(23, 112, 58)`` or ``rgba(23, 112, 58, 1)`` as computed by the browser."""
    match = re.fullmatch(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)", css.strip())
    if match is None:
        raise ValueError(f"not a computed colour: {css!r}")
    if match.group(4) is not None and float(match.group(4)) < 1:
        raise ValueError(f"translucent colour: {css!r}")
    r, g, b = (int(match.group(i)) for i in (1, 2, 3))
    return r, g, b


def is_green(rgb: RGB) -> bool:
    r, g, b = rgb
    return g >= 80 and g - r >= 40 and g - b >= 30


def is_red(rgb: RGB) -> bool:
    r, g, b = rgb
    return r >= 120 and r - g >= 80 and r - b >= 80


def near(colour: RGB, tolerance: int = 10) -> Callable[[RGB], bool]:
    return lambda pixel: all(abs(p - c) <= tolerance for p, c in zip(pixel, colour, strict=True))


def pixel_share(png: Path, box: Box, predicate: Callable[[RGB], bool]) -> float:
    """Share of the screenshot's pixels inside ``box`` for which ``predicate`` holds."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        x, y, w, h = box
        left, top = max(0, round(x)), max(0, round(y))
        right, bottom = min(rgb.width, round(x + w)), min(rgb.height, round(y + h))
        if right <= left or bottom <= top:
            raise ValueError(f"box {box} lies outside the {rgb.width}x{rgb.height} screenshot")
        raw = rgb.crop((left, top, right, bottom)).tobytes()
    pixels = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]
    return sum(1 for p in pixels if predicate(p)) / len(pixels)
