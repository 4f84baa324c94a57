"""What failover between a chain's nodes costs, on one local anvil node.

Ours: ``Chain.connect([dead, live])``, the first node down in two ways — nothing listening
(connection refused) and a port that accepts and never answers (timeout, 1 s here) — and the
second a real anvil node. Measured: the first read (it meets the dead node, then fails over), the
reads during the dead node's cool-off (median of 50), ``prefer_fresh`` with two live nodes, and an
anchor transaction through ``[dead, live]``. Baseline (same run, same node): web3's plain
``HTTPProvider`` on the live node, and ``Chain.connect(live)``.

Target: a read meeting a refused node first takes at most 50 ms, and reads while it cools off
at most 2x the single-node median plus 0.5 ms (exit code 1 otherwise).
Run: ``python bench/failover.py``.
"""

from __future__ import annotations

import logging
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from eth_account import Account
from web3 import Web3

from ledger.chain import Chain
from ledger.node import AnvilNode, free_port
from ledger.registry import Registry


def _ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _median_ms(fn: Callable[[], object], n: int = 50) -> float:
    return statistics.median(_ms(fn) for _ in range(n))


def _row(label: str, ms: float) -> None:
    print(f"{label:42} {ms:8.2f} ms")


def main() -> None:
    logging.disable(logging.WARNING)  # the failover's own warnings: expected here
    with tempfile.TemporaryDirectory() as tmp:
        node = AnvilNode(Path(tmp), port=free_port(), persist=False)
        node.start()
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # accepts connections (the kernel does), never answers
        try:
            live = node.rpc_url
            refused = f"http://127.0.0.1:{free_port()}"
            hanging = f"http://127.0.0.1:{silent.getsockname()[1]}"
            plain = Web3(Web3.HTTPProvider(live))
            _row("eth_blockNumber, plain HTTPProvider", _median_ms(lambda: plain.eth.block_number))
            one = Chain.connect(live)
            single = _median_ms(one.block_number)
            _row("eth_blockNumber, Chain.connect(live)", single)
            figures: dict[str, tuple[float, float]] = {}
            for name, dead in (("refused", refused), ("hanging", hanging)):
                chain = Chain.connect([dead, live], timeout=1.0)
                figures[name] = (_ms(chain.block_number), _median_ms(chain.block_number))
                _row(f"[{name}, live] first read (fails over)", figures[name][0])
                _row(f"[{name}, live] reads while cooling off", figures[name][1])
            both = Chain.connect([live, live.replace("127.0.0.1", "localhost")])
            _row("prefer_fresh, two live nodes", _median_ms(both.prefer_fresh, 20))

            admin = Account.create()
            one.fund(admin.address, 10**20)
            registry, _ = Registry.deploy(one, admin)
            for label, urls, code in (
                ("[live]", [live], "SH"),
                ("[refused, live]", [refused, live], "JS"),
            ):
                via = Registry(Chain.connect(urls), registry.address)
                authority = Account.create().address
                took = _ms(
                    lambda v=via, c=code, a=authority: v.admit_province(admin, c, "测试省", a)
                )
                _row(f"a transaction through {label}", took)
        finally:
            silent.close()
            node.stop()
    first, cooling = figures["refused"]
    ok = first <= 50.0 and cooling <= 2 * single + 0.5
    print("PASS" if ok else "FAIL", f"(refused first {first:.1f} ms, cooling {cooling:.2f} ms)")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
