"""A Hyperledger Besu QBFT genesis for the consortium chain, in Besu's documented format
(besu.hyperledger.org, "Configure QBFT consensus" and "Genesis file items"): the ``qbft``
block timing, the EVM milestone the registry was compiled for, a zero base fee, and the
initial validators in ``extraData``.

``extraData`` is ``RLP([32-byte vanity, [validator addresses], no vote, round 0, no seals])``
(block header validator selection); "no vote" is an empty list and round 0 the empty string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from web3 import Web3

from ledger.errors import LedgerError
from ledger.evm import EVM_TARGETS
from ledger.rlp import decode, encode, to_int

__all__ = [
    "BFT_MIX_HASH",
    "MILESTONES",
    "ExtraData",
    "QbftTiming",
    "decode_extra_data",
    "encode_extra_data",
    "genesis",
]

BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
"""The mixHash Besu's docs require of an IBFT 2.0 / QBFT genesis ("Istanbul block
identification")."""

MILESTONES: Mapping[str, Mapping[str, int]] = {
    "london": {"berlinBlock": 0, "londonBlock": 0},
    "paris": {"berlinBlock": 0, "londonBlock": 0, "mergeNetSplitBlock": 0},
    "shanghai": {"berlinBlock": 0, "londonBlock": 0, "shanghaiTime": 0},
    "cancun": {"berlinBlock": 0, "londonBlock": 0, "shanghaiTime": 0, "cancunTime": 0},
}
"""Genesis ``config`` milestones per EVM target, all active from the first block, none later
than the target (Besu's key names; Shanghai and Cancun are scheduled by timestamp)."""

_VANITY = bytes(32)
_FUNDED = hex(10**24)
"""What each known account is given in the genesis: gas is free on this chain, but ecert's
set-up tops accounts up (``Chain.fund``) and must find them funded already."""


@dataclass(frozen=True, slots=True)
class QbftTiming:
    """The genesis ``config.qbft`` block (Besu's key names, in seconds and blocks)."""

    blockperiodseconds: int = 2
    """Time between blocks."""
    requesttimeoutseconds: int = 4
    """Round timeout before a round change; Besu's docs suggest twice the block period."""
    epochlength: int = 30_000
    """Blocks after which pending validator votes are discarded."""

    def __post_init__(self) -> None:
        if self.blockperiodseconds < 1 or self.epochlength < 1:
            raise LedgerError("the block period and epoch length must be at least 1")
        if self.requesttimeoutseconds <= self.blockperiodseconds:
            raise LedgerError("the request timeout must be longer than the block period")


@dataclass(frozen=True, slots=True)
class ExtraData:
    """A decoded QBFT ``extraData``."""

    vanity: bytes
    validators: list[str]
    """Checksummed validator addresses, in the order stored."""
    vote: list[object]
    round: int
    seals: list[bytes]


def _address(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise LedgerError(f"not a 20-byte address: {address}")
    return raw


def encode_extra_data(validators: Sequence[str]) -> str:
    """The genesis ``extraData`` naming ``validators`` in the order given (as Besu's ``rlp
    encode --type=QBFT_EXTRA_DATA`` does; ``genesis`` sorts them), as 0x-hex."""
    if not validators:
        raise LedgerError("a QBFT chain needs at least one validator")
    addresses = [_address(v) for v in validators]
    if len(set(addresses)) != len(addresses):
        raise LedgerError("a validator is listed twice")
    return "0x" + encode([_VANITY, addresses, [], 0, []]).hex()


def decode_extra_data(extra_data: str) -> ExtraData:
    """Read a QBFT ``extraData`` back; ``LedgerError`` unless it has the five QBFT fields."""
    try:
        raw = bytes.fromhex(extra_data.removeprefix("0x"))
    except ValueError as exc:
        raise LedgerError("QBFT extraData is not hex") from exc
    item = decode(raw)
    if not isinstance(item, list) or len(item) != 5:
        raise LedgerError("QBFT extraData is a list of five items")
    vanity, validators, vote, round_, seals = item
    if not isinstance(vanity, bytes) or len(vanity) != 32:
        raise LedgerError("QBFT extraData starts with 32 bytes of vanity")
    if not isinstance(validators, list):
        raise LedgerError("QBFT validators are a list of 20-byte addresses")
    addresses = [v for v in validators if isinstance(v, bytes) and len(v) == 20]
    if len(addresses) != len(validators):
        raise LedgerError("QBFT validators are a list of 20-byte addresses")
    if not isinstance(vote, list) or not isinstance(seals, list):
        raise LedgerError("QBFT vote and seals are lists")
    return ExtraData(
        vanity=vanity,
        validators=[Web3.to_checksum_address(v) for v in addresses],
        vote=list(vote),
        round=to_int(round_),
        seals=[bytes(s) for s in seals if isinstance(s, bytes)],
    )


def genesis(
    *,
    chain_id: int,
    evm: str,
    validators: Sequence[str],
    funded: Sequence[str] = (),
    timing: QbftTiming | None = None,
) -> dict[str, object]:
    """A QBFT genesis for a free-gas chain running ``evm`` rules with these initial
    validators; ``funded`` accounts get a balance (see ``_FUNDED``)."""
    if evm not in EVM_TARGETS:
        raise LedgerError(f"EVM target {evm!r}: choose one of {', '.join(EVM_TARGETS)}")
    timing = timing or QbftTiming()
    return {
        "config": {
            "chainId": chain_id,
            **MILESTONES[evm],
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": timing.blockperiodseconds,
                "epochlength": timing.epochlength,
                "requesttimeoutseconds": timing.requesttimeoutseconds,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": "0x1fffffffffffff",
        "difficulty": "0x1",
        "mixHash": BFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "alloc": {a.removeprefix("0x").lower(): {"balance": _FUNDED} for a in sorted(funded)},
        "extraData": encode_extra_data(sorted(validators, key=_address)),
    }
