"""The bounded JSON reader: the nesting pre-scan agrees with the real depth of any JSON document
(strings full of brackets, quotes and backslashes included), refuses one level past the limit
before the parser runs, and every way of not being JSON is one ``JsonRefused``."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.jsonread import JsonRefused, nesting_depth_exceeds, read_json, read_json_file


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_TRICKY = st.text(alphabet='[]{}"\\/ab\u4e2d\n\t', max_size=8)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY, _containers, max_leaves=40
)


@settings(max_examples=400, deadline=None)
@given(value=_JSON, ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
def test_the_pre_scan_agrees_with_the_real_depth(
    value: Any, ascii_only: bool, indent: int | None
) -> None:
    data = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode("utf-8")
    depth = _depth(value)
    assert not nesting_depth_exceeds(data, depth)
    if depth:
        assert nesting_depth_exceeds(data, depth - 1)
    assert read_json(data, max_bytes=len(data), max_depth=max(depth, 1)) == value


def _nested(depth: int, kind: str) -> bytes:
    if kind == "arrays":
        return b"[" * depth + b"]" * depth
    if kind == "objects":
        return b'{"a":' * depth + b"1" + b"}" * depth
    pairs, odd = divmod(depth, 2)  # alternating: [{"a": [{"a": ...
    return b'[{"a":' * pairs + b"[" * odd + b"1" * (not odd) + b"]" * odd + b"}]" * pairs


@pytest.mark.parametrize("kind", ["arrays", "objects", "mixed"])
def test_one_level_too_deep_is_refused_before_parsing(kind: str) -> None:
    assert _depth(json.loads(_nested(32, kind))) == 32
    read_json(_nested(32, kind), max_bytes=10_000)
    with pytest.raises(JsonRefused, match="nested deeper than 32"):
        read_json(_nested(33, kind), max_bytes=10_000)


def test_the_recursion_bomb_is_refused_in_any_thread_whatever_the_recursion_limit() -> None:
    """py-ecc raises the limit to 100,000; at that limit ``json.loads`` of this document
    overflows a thread's C stack and kills the process. The reader never gets that far."""
    bomb = b"[" * 200_000
    outcome: list[BaseException | None] = []
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:

        def read() -> None:
            try:
                read_json(bomb, max_bytes=len(bomb))
            except JsonRefused as exc:
                outcome.append(exc)
            else:
                outcome.append(None)

        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
    finally:
        sys.setrecursionlimit(previous)
    assert isinstance(outcome[0], JsonRefused)


def test_brackets_inside_strings_do_not_count() -> None:
    doc = json.dumps({"a": "[" * 10_000, "b": '\\"[[[[' * 1000, "c": "\\" * 7 + "[" * 99}).encode()
    assert read_json(doc, max_bytes=len(doc), max_depth=1)["a"] == "[" * 10_000


def test_escaped_quotes_cannot_hide_brackets() -> None:
    """``"\\"`` ends no string: the brackets after it are inside the string, and the ones
    after its real end are counted."""
    doc = b'["\\"[[[[[[", ' + b"[" * 40 + b"]" * 40 + b"]"
    with pytest.raises(JsonRefused, match="nested deeper"):
        read_json(doc, max_bytes=len(doc))
    assert read_json(b'["\\\\", [[1]]]', max_bytes=100, max_depth=3) == ["\\", [[1]]]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"[" * 10, "nested deeper"),  # unbalanced, shallow: still refused (no parser needed)
        (b"]]]", "not valid JSON"),
        (b"[1, 2", "nested deeper"),
        (b"{'a': 1}", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"1" * 5000, "not valid JSON"),  # an integer beyond Python's 4,300-digit limit
        (b"", "not valid JSON"),
        (b'{"a": NaN', "nested deeper"),
    ],
)
def test_every_way_of_not_being_json_is_one_error(data: bytes, says: str) -> None:
    with pytest.raises(JsonRefused, match=says):
        read_json(data, max_bytes=10_000)


def test_size_limit_before_anything_else(tmp_path: Path) -> None:
    with pytest.raises(JsonRefused, match="larger than 10 bytes"):
        read_json(b"[" + b"1," * 10 + b"1]", max_bytes=10, what="document")
    path = tmp_path / "big.json"
    path.write_bytes(b'"' + b"x" * 5_000_000 + b'"')
    with pytest.raises(JsonRefused, match="larger than 1,000 bytes"):
        read_json_file(path, max_bytes=1000)
    with pytest.raises(FileNotFoundError):
        read_json_file(tmp_path / "missing.json", max_bytes=1000)


def test_the_recursion_limit_py_ecc_raises_is_put_back_wherever_we_run(tmp_path: Path) -> None:
    """In the verifier's own process and threads, in a spawned worker process (``ecert serve
    verifier --workers N``), and in a render process (which never imports py-ecc)."""
    script = (
        "import sys, threading, multiprocessing as mp\n"
        "import py_ecc, cli.main, verifier.service\n"
        "from verifier import pixels\n"
        "seen = [sys.getrecursionlimit()]\n"
        "t = threading.Thread(target=lambda: seen.append(sys.getrecursionlimit()))\n"
        "t.start(); t.join()\n"
        "print(*seen)\n"
    )
    worker = (
        "import multiprocessing as mp, sys\n"
        "def limit(q):\n"
        "    import verifier.service\n"
        "    q.put(sys.getrecursionlimit())\n"
        "if __name__ == '__main__':\n"
        "    q = mp.get_context('spawn').Queue()\n"
        "    p = mp.get_context('spawn').Process(target=limit, args=(q,)); p.start()\n"
        "    print(q.get(timeout=60)); p.join()\n"
    )
    root = Path(__file__).resolve().parents[2]
    here = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=True
    )
    assert here.stdout.split() == ["1000", "1000"], here.stderr
    spawned = tmp_path / "worker.py"  # spawn needs a file for __main__
    spawned.write_text(worker)
    out = subprocess.run(
        [sys.executable, str(spawned)], capture_output=True, text=True, cwd=root, check=True
    )
    assert out.stdout.split() == ["1000"], out.stderr
    render = subprocess.run(
        [sys.executable, "-c", "import sys, verifier.pixels; print(sys.getrecursionlimit())"],
        capture_output=True,
        text=True,
        cwd=root,
        check=True,
    )
    assert render.stdout.split() == ["1000"]
    assert (
        "py_ecc"
        not in subprocess.run(
            [sys.executable, "-c", "import sys, verifier.pixels; print(sorted(sys.modules))"],
            capture_output=True,
            text=True,
            cwd=root,
            check=True,
        ).stdout
    )
