"""Fixtures that start a real anvil node on 127.0.0.1 and stop it afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.node import AnvilNode, free_port


@pytest.fixture
def anvil(tmp_path: Path) -> Iterator[AnvilNode]:
    node = AnvilNode(tmp_path / "chain", port=free_port())
    node.start()
    try:
        yield node
    finally:
        node.stop()
