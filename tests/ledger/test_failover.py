"""Failover between the nodes of one chain, on real anvil nodes behind real HTTP front doors: reads
move on when a node is down and come back to the province's own node when it returns; a node far
behind the others is skipped; a transaction a dying node took but never passed on is mined
through the next one, as the same signed bytes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from ledger.chain import Chain
from ledger.errors import LedgerError, NodeUnavailable
from ledger.failover import FailoverProvider, rpc_urls
from ledger.node import AnvilNode, free_port
from tests.integration.proxy import FaultyProxy

pytestmark = pytest.mark.anvil


def test_the_url_forms_all_name_the_same_nodes() -> None:
    assert rpc_urls("http://a") == ("http://a",)
    assert rpc_urls(" http://a , http://b,") == ("http://a", "http://b")
    assert rpc_urls(["http://a", "http://b,http://c"]) == ("http://a", "http://b", "http://c")
    assert rpc_urls(["http://a", "http://a"]) == ("http://a",)
    assert rpc_urls("http://a http://b") == ("http://a", "http://b")  # click's env splitting
    for empty in ("", " , ", []):
        with pytest.raises(LedgerError):
            rpc_urls(empty)
    with pytest.raises(LedgerError):
        rpc_urls([8545])  # type: ignore[list-item]


def _chain(*urls: str, retry_after: float = 5.0) -> Chain:
    provider = FailoverProvider(urls, timeout=2.0, retry_after=retry_after)
    return Chain(Web3(provider), description=", ".join(urls))


@pytest.fixture
def node(tmp_path: Path) -> Iterator[AnvilNode]:
    started = AnvilNode(tmp_path / "node", port=free_port(), persist=False)
    started.start()
    yield started
    started.stop()


def test_reads_move_on_when_a_node_is_down_and_come_back_when_it_returns(
    node: AnvilNode,
) -> None:
    own, other = FaultyProxy(node.rpc_url).start(), FaultyProxy(node.rpc_url).start()
    try:
        chain = _chain(own.url, other.url, retry_after=0.3)
        assert chain.block_number() == 0
        assert (own.requests, other.requests) == (1, 0)
        own.mode = "502"
        assert chain.block_number() == 0  # answered by the other node, no error
        assert [e.url for e in chain.endpoints() if e.active] == [other.url]
        assert next(e for e in chain.endpoints() if e.url == own.url).down
        asked = own.requests
        chain.block_number()
        assert own.requests == asked  # cooling off: not asked again at once
        own.mode = "forward"
        time.sleep(0.35)
        chain.block_number()
        assert [e.url for e in chain.endpoints() if e.active] == [own.url]  # own node first
        assert chain._switches() == 2
        own.mode = other.mode = "502"
        with pytest.raises(NodeUnavailable, match="HTTPError"):
            chain.block_number()
    finally:
        own.stop()
        other.stop()


def test_a_single_url_fails_as_it_always_did(node: AnvilNode) -> None:
    proxy = FaultyProxy(node.rpc_url).start()
    try:
        chain = Chain.connect(proxy.url)
        assert chain.rpc_urls == (proxy.url,)
        for mode, error in (("502", "HTTPError"), ("not-jsonrpc", "malformed reply")):
            proxy.mode = mode
            with pytest.raises(NodeUnavailable, match=error):
                chain.block_number()
    finally:
        proxy.stop()


def test_a_node_far_behind_is_skipped_and_all_behind_is_unavailable(tmp_path: Path) -> None:
    behind = AnvilNode(tmp_path / "behind", port=free_port(), persist=False)
    ahead = AnvilNode(tmp_path / "ahead", port=free_port(), persist=False)
    behind.start()
    ahead.start()
    try:
        Chain.connect(ahead.rpc_url).w3.provider.make_request("anvil_mine", [10])  # type: ignore[arg-type]
        chain = Chain.connect([behind.rpc_url, ahead.rpc_url], timeout=2.0)
        chain.prefer_fresh(max_lag_blocks=2)
        assert chain.block_number() == 10  # read from the second node: the first is 10 behind
        stale = next(e for e in chain.endpoints() if e.url == behind.rpc_url)
        assert (stale.stale, stale.head) == (True, 0)
        Chain.connect(behind.rpc_url).w3.provider.make_request("anvil_mine", [9])  # type: ignore[arg-type]
        chain.prefer_fresh(max_lag_blocks=2)
        assert [e.url for e in chain.endpoints() if e.active] == [behind.rpc_url]  # caught up
        ahead.stop()  # the only node that had block 10 is gone: 9 is not good enough now
        with pytest.raises(NodeUnavailable, match="behind block 10"):
            chain.prefer_fresh(max_lag_blocks=0)
    finally:
        behind.stop()
        ahead.stop()


def test_a_transaction_a_dying_node_took_is_mined_through_the_next(tmp_path: Path) -> None:
    # Two separate nodes of the same chain id: the first takes transactions and never mines
    # nor passes them on, and dies right after taking one.
    dying = AnvilNode(tmp_path / "dying", port=free_port(), persist=False, mining=False)
    alive = AnvilNode(tmp_path / "alive", port=free_port(), persist=False)
    dying.start()
    alive.start()
    door = FaultyProxy(dying.rpc_url).start()
    try:
        sender = Account.create()
        for url in (dying.rpc_url, alive.rpc_url):
            Chain.connect(url).fund(sender.address, 10**18)
        door.dies_on = ("eth_sendRawTransaction", 1, False)  # its reply arrives, then it dies
        chain = Chain.connect([door.url, alive.rpc_url], timeout=2.0)
        chain.fund("0x" + "11" * 20, 1, funder=sender)
        assert door.mode == "502"
        on_alive = Chain.connect(alive.rpc_url).w3
        (mined,) = on_alive.eth.get_block("latest")["transactions"]
        # The very transaction the dying node took (it still holds it, unmined).
        assert Chain.connect(dying.rpc_url).w3.eth.get_transaction(mined)["nonce"] == 0
        chain.fund("0x" + "11" * 20, 1, funder=sender)  # its nonce re-read from this node
        assert on_alive.eth.get_transaction_count(sender.address) == 2
        assert on_alive.eth.get_balance(Web3.to_checksum_address("0x" + "11" * 20)) == 2
    finally:
        door.stop()
        dying.stop()
        alive.stop()
