"""Our RLP codec against the published vectors (Ethereum wiki / yellow paper appendix B), and
against the ``rlp`` package that web3 installs (pyrlp, which we did not write) on random
nested values; non-canonical and truncated input is refused."""

from __future__ import annotations

import random

import pytest
import rlp as pyrlp

from ledger.errors import RlpError
from ledger.rlp import Value, decode, encode, to_int

LOREM = b"Lorem ipsum dolor sit amet, consectetur adipisicing elit"

VECTORS: list[tuple[Value, str]] = [
    (b"dog", "83646f67"),
    ([b"cat", b"dog"], "c88363617483646f67"),
    (b"", "80"),
    ([], "c0"),
    (0, "80"),
    (b"\x00", "00"),
    (b"\x0f", "0f"),
    (15, "0f"),
    (1024, "820400"),
    (b"\x04\x00", "820400"),
    ([[], [[]], [[], [[]]]], "c7c0c1c0c3c0c1c0"),
    (LOREM, "b838" + LOREM.hex()),
    (b"\x80", "8180"),
    (2**64, "89010000000000000000"),
]


@pytest.mark.parametrize(("value", "expected"), VECTORS)
def test_published_vectors(value: Value, expected: str) -> None:
    assert encode(value).hex() == expected


def test_long_lists_and_strings_use_the_long_form() -> None:
    long_list = [LOREM, LOREM]  # payload 2 * 58 = 116 bytes
    assert encode(long_list)[:2] == bytes([0xF8, 116])
    big = b"x" * 1024
    assert encode(big)[:3] == bytes([0xB9, 0x04, 0x00])
    assert decode(encode(big)) == big


def _random_value(rng: random.Random, depth: int = 0) -> Value:
    kind = rng.random()
    if depth > 3 or kind < 0.4:
        return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 1, 2, 20, 55, 56, 300])))
    if kind < 0.55:
        return rng.choice([0, 1, 127, 128, 255, 256, 2**63, rng.getrandbits(200)])
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def _as_pyrlp(value: Value) -> object:
    if isinstance(value, int):  # pyrlp wants a sedes for ints; as bytes they encode the same
        return value.to_bytes((value.bit_length() + 7) // 8, "big")
    if isinstance(value, bytes):
        return value
    return [_as_pyrlp(v) for v in value]


def test_same_bytes_as_pyrlp_both_ways() -> None:
    rng = random.Random(20261202)
    for _ in range(300):
        value = _random_value(rng)
        ours = encode(value)
        assert ours == pyrlp.encode(_as_pyrlp(value))
        assert decode(ours) == pyrlp.decode(ours)


def test_integers_read_back() -> None:
    for n in (0, 1, 127, 128, 1024, 2**255):
        item = decode(encode(n))
        assert isinstance(item, bytes)
        assert to_int(item) == n
    with pytest.raises(RlpError, match="leading zero"):
        to_int(b"\x00\x01")


@pytest.mark.parametrize(
    ("hex_data", "why"),
    [
        ("", "truncated"),
        ("8100", "single byte"),  # 0x00 must be encoded as itself
        ("b800", "leading zero"),  # a length written with a zero byte
        ("b837" + "61" * 0x37, "long form"),  # 55 bytes fit the short form
        ("b90001" + "00", "leading zero"),
        ("83646f", "past the end"),
        ("c883636174", "past the end"),
        ("83646f6700", "after the item"),
        ("c2826161", "past the list"),  # an item longer than its list
    ],
)
def test_non_canonical_or_broken_input_is_refused(hex_data: str, why: str) -> None:
    with pytest.raises(RlpError, match=why):
        decode(bytes.fromhex(hex_data))


def test_values_rlp_cannot_hold_are_refused() -> None:
    for bad in (-1, True, "text"):
        with pytest.raises(RlpError):
            encode(bad)  # type: ignore[arg-type]
