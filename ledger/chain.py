"""A connection to a chain through one node or several (failing over between them, see
``ledger.failover``), and transactions signed locally by our own accounts.

Works the same against anvil or a Hardhat node (local), Besu (production) and web3's in-process
eth-tester chain (fast unit tests). Every transport failure becomes
:class:`~ledger.errors.NodeUnavailable`; every revert, on any backend, a decoded
:class:`~ledger.errors.RegistryRefused`.

A transaction is signed once and only those bytes are ever sent again: through whichever node
answers when the one it went to fails, and again while waiting for its receipt if another node
now answers (the first may have died before passing it on). The same signed bytes are mined at
most once; a nonce is re-read from the node that now answers.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import requests
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    BadFunctionCallOutput,
    BadResponseFormat,
    MismatchedABI,
    ProviderConnectionError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
    Web3ValidationError,
)
from web3.types import BlockIdentifier, TxParams, TxReceipt, Wei

from ledger.errors import LedgerError, NodeUnavailable, RegistryRefused, TransactionRejected
from ledger.failover import EndpointState, FailoverProvider, RpcUrls, rpc_urls
from ledger.records import TxResult
from ledger.revert import refusal_from_exception

__all__ = ["Chain", "translate_errors"]

_RECEIPT_TIMEOUT_S = 60.0


_OURS = tuple(
    str(Path(__file__).resolve().parent.parent / pkg)
    for pkg in ("ledger", "issuer", "verifier", "cli")
)


def _raised_by_a_library(exc: BaseException) -> bool:
    """Whether the innermost frame of ``exc`` is outside our packages: a ValueError from web3's
    result formatters means the node answered garbage, one from our code is a bug."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return not tb.tb_frame.f_code.co_filename.startswith(_OURS)


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Translate third-party exceptions raised while talking to the node into ours.

    "Could not ask" — the node unreachable or timing out, an HTTP error status (a proxy's 502),
    a reply that is not JSON-RPC or not what the method returns, JSON nested too deep — is
    ``NodeUnavailable``; a revert is ``RegistryRefused``; a transaction the node refused,
    ``TransactionRejected``."""
    try:
        yield
    except LedgerError:
        raise
    except (
        requests.exceptions.RequestException,
        ProviderConnectionError,
        ConnectionError,
        TimeoutError,
    ) as exc:
        raise NodeUnavailable(f"{what}: node unreachable ({type(exc).__name__})") from exc
    except TimeExhausted as exc:
        raise NodeUnavailable(f"{what}: no receipt in time") from exc
    except (BadResponseFormat, BadFunctionCallOutput, json.JSONDecodeError, RecursionError) as exc:
        raise NodeUnavailable(f"{what}: malformed reply ({type(exc).__name__})") from exc
    except Exception as exc:
        refusal = refusal_from_exception(exc)
        if refusal is not None:
            raise refusal from exc
        if isinstance(exc, Web3RPCError):
            raise TransactionRejected(f"{what}: {exc}") from exc
        if isinstance(exc, Web3ValidationError | MismatchedABI):
            raise LedgerError(f"{what}: arguments do not fit the contract: {exc}") from exc
        if isinstance(
            exc, ValueError | TypeError | KeyError | AttributeError | OverflowError
        ) and _raised_by_a_library(exc):
            raise NodeUnavailable(f"{what}: malformed reply ({type(exc).__name__})") from exc
        raise


class Chain:
    """A chain connection (one node or several) plus per-account nonce bookkeeping
    (thread-safe)."""

    def __init__(self, w3: Web3, *, description: str) -> None:
        self.w3 = w3
        self.description = description
        self._lock = threading.Lock()
        self._nonces: dict[str, int] = {}
        self._nonce_switches = 0
        self._cached_chain_id: int | None = None

    @classmethod
    def connect(cls, rpc_url: RpcUrls, *, timeout: float = 10.0) -> Chain:
        """Connect by JSON-RPC URL, or several of one chain (``"a,b"`` or ``["a", "b"]``, the
        province's own nodes first). Nothing is sent until the first call."""
        urls = rpc_urls(rpc_url)
        return cls(Web3(FailoverProvider(urls, timeout=timeout)), description=", ".join(urls))

    @property
    def rpc_urls(self) -> tuple[str, ...]:
        """The nodes this connection uses, in order (none for the in-process chain)."""
        provider = self.w3.provider
        return provider.urls if isinstance(provider, FailoverProvider) else ()

    def endpoints(self) -> list[EndpointState]:
        """Each node as last seen."""
        provider = self.w3.provider
        return provider.states() if isinstance(provider, FailoverProvider) else []

    def prefer_fresh(self, max_lag_blocks: int = 2) -> None:
        """With several nodes: ask each for its head and skip those more than
        ``max_lag_blocks`` behind the best seen (``NodeUnavailable`` if all that answer are)."""
        provider = self.w3.provider
        if isinstance(provider, FailoverProvider):
            with translate_errors("block numbers"):
                provider.prefer_fresh(max_lag_blocks)

    def _switches(self) -> int:
        provider = self.w3.provider
        return provider.switches if isinstance(provider, FailoverProvider) else 0

    @classmethod
    def in_process(cls) -> Chain:
        """A fresh in-process eth-tester chain (needs the ``dev`` extra); for unit tests."""
        try:
            from web3.providers.eth_tester import EthereumTesterProvider  # noqa: PLC0415
        except ImportError as exc:  # pragma: no cover - depends on installed extras
            raise LedgerError("eth-tester is not installed (pip install ecert[dev])") from exc
        return cls(Web3(EthereumTesterProvider()), description="eth-tester (in-process)")

    # ------------------------------------------------------------------ reads

    @property
    def chain_id(self) -> int:
        with translate_errors("chain id"):
            return int(self.w3.eth.chain_id)

    def block_number(self) -> int:
        with translate_errors("block number"):
            return int(self.w3.eth.block_number)

    def block(self, number: BlockIdentifier) -> Any:
        with translate_errors(f"block {number!r}"):
            return self.w3.eth.get_block(number)

    def is_reachable(self) -> bool:
        try:
            self.block_number()
        except NodeUnavailable:
            return False
        return True

    def call(self, fn: ContractFunction, *, block: BlockIdentifier = "latest") -> Any:
        """Run a view function."""
        with translate_errors(fn.fn_name):
            return fn.call(block_identifier=block)

    # ------------------------------------------------------------------ writes

    def fund(self, address: str, wei: int, *, funder: LocalAccount | None = None) -> None:
        """Give ``address`` a balance: ``wei`` sent from ``funder`` if given; else, from the dev
        node, enough that it holds at least ``wei``. A node that cannot mint (a consortium's
        Besu) is not asked when the account holds enough already (its genesis ``alloc``) or
        when gas costs nothing there (``eth_gasPrice`` 0: Besu with a zero base fee and
        ``min-gas-price=0``)."""
        with translate_errors("fund"):
            if funder is not None:
                self._send({"to": address, "value": wei}, funder)
            elif self.description.startswith("eth-tester"):
                source = self.w3.eth.accounts[0]
                tx_hash = self.w3.eth.send_transaction(
                    {"from": source, "to": Web3.to_checksum_address(address), "value": Wei(wei)}
                )
                self.w3.eth.wait_for_transaction_receipt(tx_hash)
            else:
                balance = self.w3.eth.get_balance(Web3.to_checksum_address(address))
                if balance >= wei or self.w3.eth.gas_price == 0:
                    return
                response = self.w3.provider.make_request(
                    "anvil_setBalance",  # type: ignore[arg-type]
                    [address, hex(wei)],
                )
                if "error" in response:
                    raise TransactionRejected(f"node cannot fund accounts: {response['error']}")

    def transact(self, fn: ContractFunction, sender: LocalAccount) -> TxResult:
        """Estimate, sign, send and wait for ``fn``; a revert raises ``RegistryRefused``."""
        with translate_errors(fn.fn_name):
            tx = {"to": fn.address, "data": fn._encode_transaction_data(), "value": 0}
            return self._send(tx, sender)

    def deploy(
        self, abi: list[dict[str, Any]], bytecode: str, sender: LocalAccount, *args: Any
    ) -> tuple[str, TxResult]:
        """Deploy a contract; returns its address and the receipt summary."""
        with translate_errors("deploy"):
            factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
            tx = {"data": factory.constructor(*args).data_in_transaction, "value": 0}
            result = self._send(tx, sender)
            receipt = self.w3.eth.get_transaction_receipt(HexBytes(result.tx_hash))
            return str(receipt["contractAddress"]), result

    def _send(self, tx: dict[str, Any], sender: LocalAccount) -> TxResult:
        tx.setdefault("chainId", self._chain_id())
        if "gas" not in tx:
            # Estimation runs the call first, so a refusal surfaces here with its revert data.
            estimate = self.w3.eth.estimate_gas({**tx, "from": sender.address})  # type: ignore[typeddict-item]
            tx["gas"] = estimate + estimate // 5
        if "maxFeePerGas" not in tx and "gasPrice" not in tx:
            tx["gasPrice"] = self.w3.eth.gas_price
        with self._lock:
            if self._switches() != self._nonce_switches:  # another node answers now
                self._nonces.clear()
            tx["nonce"] = self._next_nonce(sender.address)
            self._nonce_switches = self._switches()
            signed = sender.sign_transaction(tx)
            try:
                tx_hash = self._broadcast(signed.raw_transaction, bytes(signed.hash))
            except Exception:
                self._nonces.pop(sender.address, None)  # re-read from the node next time
                raise
            self._nonces[sender.address] = tx["nonce"] + 1
        try:
            receipt = self._await_receipt(tx_hash, signed.raw_transaction)
        except Exception:
            # Mined meanwhile, still pending or dropped: the node's pending count knows which.
            with self._lock:
                self._nonces.pop(sender.address, None)
            raise
        if receipt["status"] != 1:
            raise self._explain_failure(tx, sender, int(receipt["blockNumber"]))
        return TxResult(
            tx_hash=bytes(tx_hash),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
        )

    def _broadcast(self, raw: bytes, tx_hash: bytes) -> HexBytes:
        """Send signed bytes. Refused by a node that already holds them (the node they went to
        took them, then failed before answering, and this one heard of them): that is sent."""
        try:
            return HexBytes(self.w3.eth.send_raw_transaction(raw))
        except Web3RPCError as refused:
            try:
                self.w3.eth.get_transaction(HexBytes(tx_hash))
            except TransactionNotFound:
                raise refused from None
            return HexBytes(tx_hash)

    def _await_receipt(self, tx_hash: HexBytes, raw: bytes) -> TxReceipt:
        deadline = time.monotonic() + _RECEIPT_TIMEOUT_S
        switches = self._switches()
        while True:
            with contextlib.suppress(TransactionNotFound):
                return self.w3.eth.get_transaction_receipt(tx_hash)
            if self._switches() != switches:
                # Another node answers now; it may never have heard of the transaction.
                switches = self._switches()
                with contextlib.suppress(Web3RPCError):  # "already known", "nonce too low"
                    self.w3.eth.send_raw_transaction(raw)
            if time.monotonic() > deadline:
                raise TimeExhausted(f"no receipt for 0x{tx_hash.hex()} in {_RECEIPT_TIMEOUT_S} s")
            time.sleep(0.02)

    def _chain_id(self) -> int:
        if self._cached_chain_id is None:
            self._cached_chain_id = int(self.w3.eth.chain_id)
        return self._cached_chain_id

    def forget_nonces(self) -> None:
        """Re-read nonces from the node (after a snapshot revert or an external transaction)."""
        with self._lock:
            self._nonces.clear()

    def _next_nonce(self, address: str) -> int:
        if address not in self._nonces:
            self._nonces[address] = int(
                self.w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending")
            )
        return self._nonces[address]

    def _explain_failure(self, tx: dict[str, Any], sender: LocalAccount, block: int) -> LedgerError:
        """A transaction was mined but failed: replay it as a call to learn why."""
        replay = cast(TxParams, {k: tx[k] for k in ("to", "data", "value") if k in tx})
        replay["from"] = sender.address
        try:
            self.w3.eth.call(replay, block_identifier=block - 1)
        except Exception as exc:
            refusal = refusal_from_exception(exc)
            if refusal is not None:
                return refusal
        return RegistryRefused("Unknown", {"note": "transaction failed without revert data"})
