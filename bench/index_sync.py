"""Index at scale: a verifier syncing a registry of 100,000 anchors and 10,000 issuers from its
deploy block, with the index's chunked ``eth_getLogs``.

Set-up (not timed): a throwaway anvil node (no state on disk, a large block gas limit, mining
only when told) and the registry deployed on it; 31 provinces admitted; ``--issuers`` issuers
registered by their province authorities (one certificate type each); ``--anchors`` anchors
sent from the issuers' accounts (each a random root), packed into blocks of up to
``--per-block`` transactions (200), with ``--gap`` empty blocks mined after each block (0 by
default: anvil's cost per block grows with the state, so 20 empty blocks after each made the
set-up take most of an hour at 10,000 issuers; ``--gap`` spreads the events over a longer range
to see what the chunking costs).
Accounts are impersonated on the dev node (``anvil_autoImpersonateAccount`` + ``anvil_setBalance``),
so no key signs anything here; transactions go in JSON-RPC batches of 500.

Measured: ``RegistryIndex.sync`` from the deploy block to the head into a fresh SQLite file —
wall time, events applied, JSON-RPC round trips, and the index file's size — and the events
it then holds checked against what was sent (every issuer, every anchor).
Baseline (same run, same node): one ``eth_getLogs`` for the registry over the whole range —
its time and the size of its answer — which is the least any sync must transfer (no decoding,
no block times, nothing stored).

Run: ``python bench/index_sync.py`` (about 4 min here: the set-up is most of it;
``--issuers 1000 --anchors 10000`` for a quick look).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from itertools import count
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eth_account import Account  # noqa: E402

from ledger.chain import Chain  # noqa: E402
from ledger.codes import cert_type_to_bytes, issuer_id_to_bytes, province_to_bytes  # noqa: E402
from ledger.index import RegistryIndex  # noqa: E402
from ledger.node import AnvilNode, free_port  # noqa: E402
from ledger.registry import Registry  # noqa: E402

PROVINCES = 31
CERT_TYPE = "BUSINESS_LICENCE"
BATCH = 500
_ids = count(1)


class Rpc:
    """Bare JSON-RPC over one keep-alive connection, with batches; counts round trips."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=600)
        self.trips = 0

    def call(self, method: str, *params: Any) -> Any:
        return self.batch([(method, list(params))])[0]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        body = [{"jsonrpc": "2.0", "id": next(_ids), "method": m, "params": p} for m, p in calls]
        self.trips += 1
        answers = sorted(self.client.post("/", json=body).json(), key=lambda a: a["id"])
        errors = [a["error"] for a in answers if "error" in a]
        if errors:
            raise SystemExit(f"node refused: {errors[:3]}")
        return [a["result"] for a in answers]


class Sender:
    """Impersonated accounts sending calldata, with their nonces kept here."""

    def __init__(self, rpc: Rpc, registry: str) -> None:
        self.rpc, self.registry = rpc, registry
        self.nonces: dict[str, int] = {}
        self.pending: list[tuple[str, list[Any]]] = []

    def enable(self, accounts: list[str]) -> None:
        for start in range(0, len(accounts), BATCH):
            part = accounts[start : start + BATCH]
            self.rpc.batch([("anvil_setBalance", [a, hex(10**21)]) for a in part])
            for a in part:
                self.nonces[a] = 0

    def send(self, sender: str, data: str, gas: int) -> None:
        nonce = self.nonces[sender]
        self.nonces[sender] = nonce + 1
        tx = {"from": sender, "to": self.registry, "data": data, "gas": hex(gas)}
        self.pending.append(("eth_sendTransaction", [{**tx, "nonce": hex(nonce)}]))

    def mine(self, per_block: int, gap: int) -> int:
        """Send what is pending, ``per_block`` transactions a block, then ``gap`` empty blocks
        after each; the number of transactions sent."""
        sent = len(self.pending)
        while self.pending:
            block, self.pending = self.pending[:per_block], self.pending[per_block:]
            for start in range(0, len(block), BATCH):
                self.rpc.batch(block[start : start + BATCH])
            self.rpc.call("evm_mine")
            if gap:
                self.rpc.call("anvil_mine", hex(gap))
        return sent


def _address() -> str:
    return str(Account.create().address)


def build(rpc: Rpc, registry: Registry, issuers: int, anchors: int, per: int, gap: int) -> None:
    contract = registry.contract
    admin = str(registry.admin())
    sender = Sender(rpc, registry.address)
    rpc.call("anvil_autoImpersonateAccount", True)  # any sender (one by one scales badly)
    authorities = [_address() for _ in range(PROVINCES)]
    accounts = [_address() for _ in range(issuers)]
    sender.enable([admin, *authorities, *accounts])
    sender.nonces[admin] = int(rpc.call("eth_getTransactionCount", admin, "latest"), 16)
    codes = [f"P{n:02d}" for n in range(PROVINCES)]
    for code, authority in zip(codes, authorities, strict=True):
        data = contract.encode_abi(
            "admitProvince", args=[province_to_bytes(code), f"省份 {code}", authority]
        )
        sender.send(admin, data, 500_000)
    sender.mine(per, 0)
    for n, account in enumerate(accounts):
        province = n % PROVINCES
        data = contract.encode_abi(
            "registerIssuer",
            args=[
                province_to_bytes(codes[province]),
                issuer_id_to_bytes(f"ISSUER-{n:06d}"),
                account,
                f"示范部门 {n}",
                secrets.token_bytes(32),
                secrets.token_bytes(32),
                [cert_type_to_bytes(CERT_TYPE)],
            ],
        )
        sender.send(authorities[province], data, 600_000)
    sender.mine(per, gap)
    # anchor(bytes32,uint32,bytes16), encoded here: web3's encoder would be most of the set-up.
    head = (
        "0x"
        + contract.encode_abi("anchor", args=[bytes(32), 1024, cert_type_to_bytes(CERT_TYPE)])[2:10]
    )
    tail = (1024).to_bytes(32, "big").hex() + cert_type_to_bytes(CERT_TYPE).ljust(32, b"\0").hex()
    for n in range(anchors):
        data = head + secrets.token_bytes(32).hex() + tail
        sender.send(accounts[n % issuers], data, 150_000)
        if len(sender.pending) >= 20 * per:
            sender.mine(per, gap)
    sender.mine(per, gap)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuers", type=int, default=10_000)
    parser.add_argument("--anchors", type=int, default=100_000)
    parser.add_argument("--per-block", type=int, default=200, help="transactions a block")
    parser.add_argument("--gap", type=int, default=0, help="empty blocks after each block")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ecert-index-") as tmp:
        node = _BigBlocks(Path(tmp) / "chain", port=free_port(), persist=False)
        node.start()
        try:
            chain = Chain.connect(node.rpc_url, timeout=600)
            rpc = Rpc(node.rpc_url)
            registry, deployed = _deploy(chain, rpc)
            started = time.perf_counter()
            build(rpc, registry, args.issuers, args.anchors, args.per_block, args.gap)
            head = chain.block_number()
            print(
                f"set-up: {args.issuers:,} issuers, {args.anchors:,} anchors in blocks "
                f"{deployed:,}..{head:,} ({time.perf_counter() - started:.0f} s)"
            )
            return measure(chain, rpc, registry, deployed, head, Path(tmp), args)
        finally:
            node.stop()


class _BigBlocks(AnvilNode):
    """Anvil with a block gas limit for hundreds of transactions, mining only when told."""

    def _command(self) -> list[str]:
        return [*super()._command(), "--gas-limit", "2000000000", "--no-mining"]


def _deploy(chain: Chain, rpc: Rpc) -> tuple[Registry, int]:
    """The registry, deployed by a fresh funded account (mined at once)."""
    account = Account.create()
    rpc.call("anvil_setBalance", account.address, hex(10**21))
    rpc.call("evm_setAutomine", True)
    registry, result = Registry.deploy(chain, account)
    rpc.call("evm_setAutomine", False)
    return registry, int(result.block_number)


def measure(
    chain: Chain, rpc: Rpc, registry: Registry, deployed: int, head: int, tmp: Path, args: Any
) -> int:
    started = time.perf_counter()
    answer = rpc.client.post(
        "/",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_getLogs",
            "params": [
                {"address": registry.address, "fromBlock": hex(deployed), "toBlock": "latest"}
            ],
        },
    )
    one_call = time.perf_counter() - started
    logs = answer.json()["result"]
    counter = _CountingChain(chain)
    index = RegistryIndex(
        tmp / "index.sqlite", registry_address=registry.address, start_block=deployed
    )
    started = time.perf_counter()
    result = index.sync(Registry(counter.chain, registry.address))
    took = time.perf_counter() - started
    held_issuers = len(index.issuers())
    index.close()
    size = sum(p.stat().st_size for p in tmp.glob("index.sqlite*"))  # with any WAL left
    print(
        f"baseline, one eth_getLogs over blocks {deployed:,}..{head:,}: {one_call:.2f} s, "
        f"{len(logs):,} events, {len(answer.content) / 1e6:.1f} MB of JSON"
    )
    print(
        f"RegistryIndex.sync from block {deployed:,}: {took:.2f} s, {result.events:,} events, "
        f"{counter.calls:,} JSON-RPC calls, index {size / 1e6:.2f} MB "
        f"({took / max(one_call, 1e-9):.1f}x the one call)"
    )
    ok = result.events == len(logs) and held_issuers == args.issuers
    print("events applied = events on chain" if ok else "MISMATCH between index and chain")
    return 0 if ok else 1


class _CountingChain:
    """The chain, with every JSON-RPC request it makes counted."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.calls = 0
        provider = chain.w3.provider
        original = provider.make_request

        def counted(method: Any, params: Any) -> Any:
            self.calls += 1
            return original(method, params)

        provider.make_request = counted  # type: ignore[method-assign]
        provider._request_func_cache = (None, None)  # web3 caches the bound method: rebuild


if __name__ == "__main__":
    raise SystemExit(main())
