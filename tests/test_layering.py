"""Imports flow one way: cli → issuer / verifier → ledger. A bank installs only the verifier,
so the verifier must never need the issuer, and the ledger needs neither."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "ledger": {"issuer", "verifier", "cli"},
    "issuer": {"verifier", "cli"},
    "verifier": {"issuer", "cli"},
}


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules found in {package}"
    offenders = {
        str(m.relative_to(ROOT)): sorted(_imported_packages(m) & FORBIDDEN[package])
        for m in modules
    }
    assert {k: v for k, v in offenders.items() if v} == {}
