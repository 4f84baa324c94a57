"""Quorum reads: what the index read from the primary node stands only if enough of the other
provinces' nodes have that very block. A node that is behind, down or on another chain does not
confirm; a disagreement is reported, never resolved by picking a side."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.chain import Chain
from ledger.errors import LedgerError
from ledger.index import RegistryIndex

__all__ = ["cross_check"]


def cross_check(
    index: RegistryIndex, witnesses: Sequence[Chain], *, read_quorum: int, max_lag_blocks: int
) -> str | None:
    """``None`` if at least ``read_quorum`` nodes (the primary counts as one) have the indexed
    block with the same hash; otherwise why not, node by node."""
    fresh = index.freshness()
    meta_hash = index.block_hash()
    if fresh.block < 0 or meta_hash is None:
        return None
    confirmed, views = 1, []
    for witness in witnesses:
        try:
            head = witness.block_number()
            if head < fresh.block:
                views.append(f"{witness.description}: behind block {fresh.block}")
                continue
            # The index stays ``confirmations`` blocks behind the primary's head on purpose.
            if head > fresh.block + index.confirmations + max_lag_blocks:
                views.append(
                    f"{witness.description}: at block {head}, the primary's index only at "
                    f"{fresh.block} (missing blocks?)"
                )
                continue
            seen = bytes(witness.block(fresh.block)["hash"]).hex()
        except LedgerError as exc:
            views.append(f"{witness.description}: unreachable ({exc})")
            continue
        if seen == meta_hash:
            confirmed += 1
        else:
            views.append(f"{witness.description}: block {fresh.block} is 0x{seen[:16]}…")
    if confirmed >= read_quorum:
        return None
    return (
        f"{confirmed} of {1 + len(witnesses)} nodes confirm block {fresh.block} "
        f"(0x{meta_hash[:16]}…), {read_quorum} needed; " + "; ".join(views)
    )
