"""The EVM target on a real node: anvil started with ``--hardfork london`` really runs London
rules (the default build, which uses PUSH0, cannot be deployed there), and the London build
deploys and answers on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from ledger.artifact import load_registry_artifact
from ledger.chain import Chain
from ledger.errors import TransactionRejected
from ledger.node import AnvilNode, free_port
from ledger.registry import Registry

pytestmark = pytest.mark.anvil


def test_a_london_chain_refuses_cancun_code_and_runs_the_london_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = AnvilNode(tmp_path / "chain", port=free_port(), hardfork="london", persist=False)
    node.start()
    try:
        chain = Chain.connect(node.rpc_url)
        admin = Account.create()
        chain.fund(admin.address, 10**20)
        cancun = load_registry_artifact("cancun")
        # anvil refuses it while estimating: PUSH0 is not a London opcode.
        with pytest.raises(TransactionRejected, match="NotActivated"):
            chain.deploy(cancun.abi, cancun.bytecode, admin, admin.address)
        london = load_registry_artifact("london")
        address, _ = chain.deploy(london.abi, london.bytecode, admin, admin.address)
        code = chain.w3.eth.get_code(address)
        assert code.hex().removeprefix("0x") == london.deployed_bytecode.removeprefix("0x")
        registry = Registry(chain, address)
        assert registry.admin() == admin.address
        # Deploying the default build there says which EVM rules it needs.
        monkeypatch.setenv("ECERT_EVM", "cancun")
        with pytest.raises(TransactionRejected, match=r"built for cancun.*ECERT_EVM=london"):
            Registry.deploy(chain, admin)
    finally:
        node.stop()


def test_funding_tops_up_and_leaves_a_funded_account_alone(anvil: AnvilNode) -> None:
    """What lets ``ecert network init`` run on a chain that cannot mint (Besu): accounts the
    genesis funded are not funded again."""
    chain = Chain.connect(anvil.rpc_url)
    account = Account.create().address
    chain.fund(account, 10**20)
    assert chain.w3.eth.get_balance(account) == 10**20
    chain.fund(account, 10**19)  # holds enough: the node is not asked
    assert chain.w3.eth.get_balance(account) == 10**20
    chain.fund(account, 3 * 10**20)
    assert chain.w3.eth.get_balance(account) == 3 * 10**20
