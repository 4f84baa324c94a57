"""Registry index across a reorganisation, on anvil: the cost of undoing one.

A registry with ``--anchors`` anchored batches (one transaction each) is indexed; the node is
then put back one transaction (``evm_snapshot`` / ``evm_revert``) and grows another block.
Timed: the sync that finds the last block both chains hold, undoes the rest and replays the
state from the journal, with the node reads it made. Baseline (same run): what the index did
before it could undo (and still does when it cannot): emptying itself and rebuilding from the
deployment block, re-reading every event from the node. The two results are checked equal.

Then the replay alone, which grows with the journal, not with the depth of the
reorganisation: ``--journal`` synthetic anchors added to the journal of a scratch copy, and one
undo timed (no node reads per event).

Target: undoing is at least 5x faster than the rebuild and reads at most 20 blocks.
Run: ``python bench/index_reorg.py`` (``--anchors``, ``--journal``).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ledger.chain import Chain
from ledger.index import RegistryIndex
from ledger.index_events import EventDecoder
from ledger.node import AnvilNode, free_port

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import World, build_world


def _index(world: World, path: Path) -> RegistryIndex:
    return RegistryIndex(
        path, registry_address=world.registry.address, start_block=world.deployed.block_number
    )


class _Counted:
    """Counts the blocks a sync asks the node for."""

    def __init__(self, chain: Chain) -> None:
        self.chain, self.asked, self._block = chain, 0, chain.block

    def __enter__(self) -> _Counted:
        def block(number: Any) -> Any:
            self.asked += 1
            return self._block(number)

        self.chain.block = block  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: object) -> None:
        self.chain.block = self._block  # type: ignore[method-assign]


def _rpc(chain: Chain, method: str, params: list[Any]) -> Any:
    return chain.w3.provider.make_request(method, params)["result"]  # type: ignore[arg-type]


def _grow_journal(path: Path, extra: int) -> None:
    """``extra`` more anchors in the journal, in the first block that has one (so an undo of
    the newest block keeps them all and replays them)."""
    with sqlite3.connect(path) as db:
        block, tx_hash, args = db.execute(
            "SELECT block, tx_hash, args FROM journal WHERE event = 'RootAnchored' "
            "ORDER BY block LIMIT 1"
        ).fetchone()
        template = json.loads(args)
        rows = []
        for i in range(extra):
            template["root"] = "0x" + os.urandom(32).hex()
            rows.append((block, 10_000 + i, tx_hash, "RootAnchored", json.dumps(template)))
        db.executemany("INSERT INTO journal VALUES (?, ?, ?, ?, ?)", rows)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--anchors", type=int, default=300)
    parser.add_argument("--journal", type=int, default=100_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        node = AnvilNode(work / "chain", port=free_port())
        node.start()
        try:
            chain = Chain.connect(node.rpc_url)
            world = build_world(chain)
            for _ in range(options.anchors):
                world.registry.anchor(world.issuer, os.urandom(32), 16, "BUSINESS_LICENCE")
            index = _index(world, work / "index.sqlite")
            index.sync(world.registry)
            snapshot = _rpc(chain, "evm_snapshot", [])
            world.registry.suspend_issuer(world.zj, "ZJ-AMR")
            index.sync(world.registry)
            assert _rpc(chain, "evm_revert", [snapshot])
            chain.forget_nonces()
            world.registry.suspend_issuer(world.gd, "GD-HOSP")
            events = index.event_count()

            with _Counted(chain) as undo_reads:
                started = time.perf_counter()
                undone = index.sync(world.registry)
                undo_s = time.perf_counter() - started
            assert undone.kept_block is not None
            assert undone.events_undone == 1
            with _Counted(chain) as rebuild_reads:
                started = time.perf_counter()
                rebuilt = _index(world, work / "rebuilt.sqlite")
                rebuilt.sync(world.registry)
                rebuild_s = time.perf_counter() - started
            assert index.export_tables() == rebuilt.export_tables()
            index.close()
            rebuilt.close()
        finally:
            node.stop()

        print(f"index of {events:,} events; the newest block replaced by another")
        print(f"  undo + replay:      {undo_s * 1000:8.1f} ms, {undo_reads.asked:4d} blocks read")
        print(
            f"  rebuild from node:  {rebuild_s * 1000:8.1f} ms, {rebuild_reads.asked:4d} blocks "
            "read (baseline)"
        )

        # The replay alone at a larger journal: one undo on a scratch copy, no node needed
        # beyond the blocks the search reads (the chain is gone; the undo is timed directly).
        big = work / "index.sqlite"
        _grow_journal(big, options.journal)
        grown = _index(world, big)
        last = grown.freshness().block
        kept = int(grown._all("SELECT MAX(block) FROM blocks WHERE block < ?", (last,))[0][0])
        decoder = EventDecoder(world.registry)
        started = time.perf_counter()
        grown._undo_after(kept, decoder, expected_last=last)
        replay_s = time.perf_counter() - started
        replayed = grown.event_count()
        grown.close()
        print(
            f"  replay of {replayed:,} journal events: {replay_s:6.2f} s "
            f"({replay_s / replayed * 1e6:.1f} µs per event)"
        )

    ok = rebuild_s >= 5 * undo_s and undo_reads.asked <= 20
    print(
        f"{'PASS' if ok else 'FAIL'}: undo {rebuild_s / undo_s:.1f}x faster than the rebuild "
        f"(target ≥ 5x), {undo_reads.asked} blocks read (target ≤ 20)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
