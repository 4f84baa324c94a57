"""Render processes (``verifier.renderpool``): real pdfium, Pillow and zxing-cpp in real child
processes. A page of ours is read in a few milliseconds; a page or photo beyond the limits is
refused before it is drawn; a job past its deadline, its memory limit, or whose process is
killed under it ends in ``RenderFailed`` with the process gone (its memory with it), and the
next job gets a fresh process."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import qrcode
from PIL import Image

from tests.verifier import bombs
from verifier.errors import InputRefused
from verifier.renderpool import RenderFailed, RenderLimits, RenderPool

TEXT = "https://zj.verify.ecert.example/v/" + "QR" * 80
MIB = 1024 * 1024


def _qr_pdf(size_pt: float = 595.0, pages: int = 1) -> bytes:
    """A page with a 40 mm QR code, as Pillow writes a PDF from an image."""
    code = qrcode.make(TEXT).get_image().convert("L")
    page = Image.new("L", (round(size_pt), round(size_pt * 842 / 595)), 255)
    page.paste(code.resize((300, 300), Image.NEAREST), (100, 100))
    out = io.BytesIO()
    page.save(out, "PDF", resolution=72.0, save_all=pages > 1, append_images=[page] * (pages - 1))
    return out.getvalue()


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def _peak(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.fixture(scope="module")
def heavy() -> bytes:
    return bombs.heavy_image_pdf({})


@pytest.fixture
def pool() -> Iterator[RenderPool]:
    pool = RenderPool(RenderLimits(processes=2, memory_bytes=256 * MIB))
    yield pool
    pool.close()


def test_a_page_is_read_in_milliseconds(pool: RenderPool) -> None:
    pdf = _qr_pdf()
    assert pool.page_qr(pdf) == [TEXT]  # starts the process
    times = []
    for _ in range(30):
        started = time.perf_counter()
        assert pool.page_qr(pdf) == [TEXT]
        times.append(time.perf_counter() - started)
    print(f"page QR through a render process: median {statistics.median(times) * 1000:.1f} ms")
    assert statistics.median(times) < 0.05


@pytest.mark.parametrize(
    ("pdf", "says"),
    [
        (bombs.pdf_with_attachment(b"{}", page_size=(14_400.0, 14_400.0)), "14400 × 14400 pt"),
        (bombs.pdf_with_attachment(b"{}", page_size=(595.0, 1300.0)), "595 × 1300 pt"),
        (_qr_pdf(pages=21), "21 pages"),
    ],
    ids=["14400pt", "taller-than-A3", "21-pages"],
)
def test_pages_beyond_the_limits_are_refused_before_drawing(
    pool: RenderPool, pdf: bytes, says: str
) -> None:
    with pytest.raises(InputRefused, match=says):
        pool.page_qr(pdf)
    assert pool.page_qr(_qr_pdf(size_pt=842.0)) == [TEXT]  # A3 wide is within them
    assert pool.failures == 0


def test_images_beyond_the_pixel_limit_are_refused_from_their_header(pool: RenderPool) -> None:
    for width, colour in ((12_000, True), (30_000, False)):
        png = bombs.png_of(width, width, colour=colour)
        started = time.perf_counter()
        with pytest.raises(InputRefused, match=f"{width:,} × {width:,}"):
            pool.check_image(png)
        with pytest.raises(InputRefused):
            pool.image_qr(png)
        assert time.perf_counter() - started < 1.0  # nothing decoded
    pool.check_image(b"not an image at all")  # not a refusal: the decode says why
    for pid in pool.pids():
        assert _peak(pid) < 100 * MIB


def test_a_job_past_its_deadline_is_killed_with_its_process(heavy: bytes) -> None:
    """A 20000² image drawn with no memory limit to stop it: killed at the deadline, the
    process (and the memory it had taken) gone; the next job gets a new process."""
    slow = RenderPool(RenderLimits(processes=1, memory_bytes=0, page_deadline_s=0.5))
    try:
        assert slow.page_qr(_qr_pdf()) == [TEXT]
        (first,) = slow.pids()
        started = time.monotonic()
        with pytest.raises(RenderFailed, match="out of time"):
            slow.page_qr(heavy)
        assert time.monotonic() - started < 1.5
        assert not _alive(first)
        assert slow.page_qr(_qr_pdf()) == [TEXT]
        assert slow.pids() != [first]
    finally:
        slow.close()


def test_a_page_beyond_the_memory_limit_stays_within_it(pool: RenderPool, heavy: bytes) -> None:
    """The image needs 400 MB; the process may have 256 MB: pdfium gives up on the image (the
    page has no QR code) or the process fails; either way it never grew past its limit."""
    with contextlib.suppress(RenderFailed):
        assert pool.page_qr(heavy) == []
    for pid in pool.pids():
        assert _peak(pid) < 256 * MIB
    assert pool.page_qr(_qr_pdf()) == [TEXT]


def test_a_render_process_killed_under_a_job(heavy: bytes) -> None:
    big = RenderPool(RenderLimits(processes=1, memory_bytes=0))
    try:
        assert big.page_qr(_qr_pdf()) == [TEXT]
        (pid,) = big.pids()
        threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()
        with pytest.raises(RenderFailed, match="SIGKILL"):
            big.page_qr(heavy)
        assert big.page_qr(_qr_pdf()) == [TEXT]
    finally:
        big.close()


def test_threads_share_the_processes(pool: RenderPool) -> None:
    pdf, results, seen = _qr_pdf(), [], set()

    def work() -> None:
        for _ in range(5):
            results.append(pool.page_qr(pdf))
            seen.update(pool.pids())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [[TEXT]] * 40
    assert len(seen) <= 2
