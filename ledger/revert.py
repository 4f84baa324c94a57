"""Turn a revert from any backend into one :class:`~ledger.errors.RegistryRefused`.

anvil and Hardhat 3 raise web3's ``ContractCustomError`` with the revert data, Hardhat 2 and
some RPC paths ``ContractLogicError``, eth-tester a ``TransactionFailed`` whose message embeds
the raw bytes. All of them are decoded here against the registry ABI, so callers see the same
error name and arguments whatever node they talk to.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from hexbytes import HexBytes
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError

from ledger.artifact import load_registry_artifact
from ledger.errors import RegistryRefused
from ledger.keccak import keccak256

__all__ = ["decode_revert", "refusal_from_exception"]

_ERROR_STRING = keccak256(b"Error(string)")[:4]
_PANIC = keccak256(b"Panic(uint256)")[:4]
_BYTES_LITERAL = re.compile(r"(b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\")")
_HEX_DATA = re.compile(r"0x[0-9a-fA-F]{8,}")


def _type_of(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_type_of(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


@cache
def _selectors() -> dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    table: dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
    for entry in load_registry_artifact().abi:
        if entry.get("type") != "error":
            continue
        types = tuple(_type_of(p) for p in entry["inputs"])
        names = tuple(str(p["name"]) or f"arg{i}" for i, p in enumerate(entry["inputs"]))
        signature = f"{entry['name']}({','.join(types)})"
        table[keccak256(signature.encode())[:4]] = (str(entry["name"]), types, names)
    return table


def _normalise(value: object) -> object:
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_normalise(v) for v in value]
    return value


def decode_revert(data: bytes) -> RegistryRefused:
    """Decode revert data (selector + ABI-encoded arguments)."""
    data = bytes(data)
    selector, body = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING:
            (message,) = decode(["string"], body)
            return RegistryRefused("Error", {"message": message}, data)
        if selector == _PANIC:
            (code,) = decode(["uint256"], body)
            return RegistryRefused("Panic", {"code": code}, data)
        known = _selectors().get(selector)
        if known is not None:
            name, types, names = known
            values = decode(list(types), body)
            return RegistryRefused(
                name, dict(zip(names, map(_normalise, values), strict=True)), data
            )
    except DecodingError:
        pass
    return RegistryRefused("Unknown", {}, data)


def _data_from_message(message: str) -> bytes | None:
    literal = _BYTES_LITERAL.search(message)
    if literal:
        try:
            value = ast.literal_eval(literal.group(1))
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, bytes):
            return value
    hex_data = _HEX_DATA.search(message)
    if hex_data:
        return bytes(HexBytes(hex_data.group(0)))
    return None


def refusal_from_exception(exc: BaseException) -> RegistryRefused | None:
    """The decoded refusal carried by ``exc``, or ``None`` if ``exc`` is not a revert."""
    if isinstance(exc, ContractPanicError | ContractCustomError | ContractLogicError):
        raw = exc.data
        if isinstance(raw, str) and raw.startswith("0x"):
            return decode_revert(bytes(HexBytes(raw)))
        if isinstance(raw, bytes | bytearray):
            return decode_revert(bytes(raw))
        found = _data_from_message(str(exc))
        if found is not None:
            return decode_revert(found)
        return RegistryRefused("Error", {"message": str(exc)})
    if _is_eth_tester_failure(exc):
        found = _data_from_message(str(exc))
        if found is not None and len(found) >= 4:
            return decode_revert(found)
        return RegistryRefused("Error", {"message": str(exc)})
    return None


def _is_eth_tester_failure(exc: BaseException) -> bool:
    # eth-tester is a test-only dependency: recognise its exception without importing it.
    kind = type(exc)
    return kind.__name__ == "TransactionFailed" and kind.__module__.startswith("eth_tester")
