"""Several JSON-RPC nodes of one chain behind one web3 provider, tried in the order given (the
province's own nodes first, then other provinces'): a node that cannot be reached costs one
failed request and a cool-off, not an outage.

What counts as "down" is what translates to ``NodeUnavailable`` for a single node: no
connection, a timeout, an HTTP error status (a gateway's 502), a reply that is not JSON-RPC. A
JSON-RPC error reply (a revert, "nonce too low") is an answer, never a reason to ask elsewhere.
When every node is down, the last node's own failure is raised (or its malformed reply returned),
so a single URL behaves exactly as a plain ``HTTPProvider`` did.

``prefer_fresh`` asks every node for its head: a node further behind the best head seen than
``max_lag`` blocks is skipped until the next choice, for ``retry_after`` seconds at most (a
restarted node still syncing would otherwise answer from the past). It is only used with two
nodes or more.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import requests
from web3 import HTTPProvider
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from ledger.errors import LedgerError, NodeUnavailable

__all__ = ["RPC_ENV", "EndpointState", "FailoverProvider", "RpcUrls", "rpc_urls"]

log = logging.getLogger("ecert.ledger.failover")

RpcUrls: TypeAlias = str | Sequence[str]
"""One node's URL, several separated by commas, or a list of either."""

RPC_ENV = "ECERT_RPC_URL"
"""The environment variable that names the node(s) over any configuration's, for every command
and each verifier worker process."""

_DOWN = (
    requests.exceptions.RequestException,
    ConnectionError,
    TimeoutError,
    ValueError,  # the reply is not JSON (an HTML maintenance page) or not UTF-8
    RecursionError,  # JSON nested too deep to decode
)


def rpc_urls(value: RpcUrls) -> tuple[str, ...]:
    """The node URLs in ``value``, in order, without blanks or repeats: ``"a"``, ``"a,b"``,
    ``"a b"``, ``["a", "b"]`` and ``["a,b"]`` all work (commas and white space separate; a URL
    with a literal comma is written ``%2C``)."""
    parts = [value] if isinstance(value, str) else list(value)
    urls: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise LedgerError(f"an RPC URL must be a string, not {type(part).__name__}")
        for url in re.split(r"[,\s]+", part):
            if url and url not in urls:
                urls.append(url)
    if not urls:
        raise LedgerError("no RPC URL given")
    return tuple(urls)


@dataclass(frozen=True, slots=True)
class EndpointState:
    """One node as the provider last saw it."""

    url: str
    active: bool
    """Requests go here first."""
    down: bool
    """It failed lately and is skipped until its cool-off ends."""
    stale: bool
    """It answered, but its head was too far behind the best seen at the last choice (skipped
    until the next choice or its cool-off ends)."""
    head: int | None
    """Its block number at the last choice (``None``: not asked or did not answer)."""
    last_error: str | None


def _is_reply(response: Any) -> bool:
    return isinstance(response, dict) and ("result" in response or "error" in response)


class FailoverProvider(JSONBaseProvider):
    """Sends each request to the first node that answers, in the order given; nodes that failed
    lately (``retry_after`` seconds, doubling while they stay down) come last. The active node
    is the one that answered last; ``switches`` counts its changes (a nonce read from one node
    is not trusted on another)."""

    def __init__(self, urls: Sequence[str], *, timeout: float, retry_after: float = 5.0) -> None:
        super().__init__()
        self.urls = tuple(urls)
        if not self.urls:
            raise LedgerError("no RPC URL given")
        self.retry_after = retry_after
        self._nodes = [
            HTTPProvider(
                url,
                request_kwargs={"timeout": timeout},
                # No silent retries: callers decide (a verifier must say "could not check"
                # quickly; the issuer pipeline retries with its own backoff).
                exception_retry_configuration=None,
            )
            for url in self.urls
        ]
        self._lock = threading.Lock()
        self._active = 0
        self._down_until = [0.0] * len(self.urls)
        self._failures = [0] * len(self.urls)
        self._stale_until = [0.0] * len(self.urls)
        self._heads: list[int | None] = [None] * len(self.urls)
        self._errors: list[str | None] = [None] * len(self.urls)
        self._best_head = -1
        self.switches = 0

    def __str__(self) -> str:
        return f"RPC connection {', '.join(self.urls)}"

    @property
    def active_url(self) -> str:
        return self.urls[self._active]

    def _order(self) -> list[int]:
        """The order given, nodes cooling off after a failure last, stale nodes left out: the
        province's own node is asked first again once its cool-off ends."""
        now = time.monotonic()
        with self._lock:
            usable = [i for i in range(len(self.urls)) if self._stale_until[i] <= now]
            return [i for i in usable if self._down_until[i] <= now] + [
                i for i in usable if self._down_until[i] > now
            ]

    def _answered(self, index: int) -> None:
        with self._lock:
            self._down_until[index] = 0.0
            self._failures[index] = 0
            self._errors[index] = None
            if index != self._active:
                log.warning(
                    "chain node %s answers instead of %s", self.urls[index], self.active_url
                )
                self._active = index
                self.switches += 1

    def _failed(self, index: int, why: str) -> None:
        with self._lock:
            # A node that stays down is asked again less and less often (one that black-holes
            # requests costs a whole timeout each time), up to every 16 cool-offs.
            pause = self.retry_after * 2 ** min(self._failures[index], 4)
            self._failures[index] += 1
            self._down_until[index] = time.monotonic() + pause
            self._errors[index] = why
        if len(self.urls) > 1:
            log.warning("chain node %s is down: %s", self.urls[index], why)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        failure: BaseException | RPCResponse | None = None
        for index in self._order():
            try:
                response = self._nodes[index].make_request(method, params)
            except _DOWN as exc:
                self._failed(index, type(exc).__name__)
                failure = exc
                continue
            if not _is_reply(response):
                self._failed(index, "not a JSON-RPC reply")
                failure = response
                continue
            self._answered(index)
            return response
        if isinstance(failure, BaseException):
            raise failure
        if failure is not None:
            return failure  # web3 reports it as the malformed reply it is
        raise NodeUnavailable(f"{method}: every node is behind the best head seen")

    def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        failure: BaseException | None = None
        for index in self._order():
            try:
                response = self._nodes[index].make_batch_request(batch_requests)
            except _DOWN as exc:
                self._failed(index, type(exc).__name__)
                failure = exc
                continue
            self._answered(index)
            return response
        if failure is not None:
            raise failure
        raise NodeUnavailable("batch: every node is behind the best head seen")

    def _head(self, index: int) -> int:
        response = self._nodes[index].make_request(RPCEndpoint("eth_blockNumber"), [])
        if not isinstance(response, dict) or not isinstance(response.get("result"), str):
            raise ValueError("no block number in the reply")
        return int(response["result"], 16)

    def prefer_fresh(self, max_lag: int) -> None:
        """Ask every node not cooling off for its head; make the first (in the order given)
        within ``max_lag`` blocks of the best head seen the active one, and skip the rest until
        the next call. Raises ``NodeUnavailable`` if every node that answers is further behind
        (reading from the past is worse than not reading)."""
        if len(self.urls) < 2:
            return
        now = time.monotonic()
        heads: dict[int, int] = {}
        for index in range(len(self.urls)):
            if self._down_until[index] > now:
                continue
            try:
                heads[index] = self._head(index)
            except _DOWN as exc:
                self._failed(index, type(exc).__name__)
        with self._lock:
            now = time.monotonic()
            self._best_head = max([self._best_head, *heads.values()])
            fresh = [i for i, head in heads.items() if head >= self._best_head - max_lag]
            for index in range(len(self.urls)):
                self._heads[index] = heads.get(index)
                stale = index in heads and index not in fresh
                self._stale_until[index] = now + self.retry_after if stale else 0.0
            best = self._best_head
        if fresh:
            self._answered(min(fresh))
        elif heads:
            behind = ", ".join(f"{self.urls[i]} at {h}" for i, h in heads.items())
            raise NodeUnavailable(f"every node that answers is behind block {best}: {behind}")

    def states(self) -> list[EndpointState]:
        """Each node as last seen (for health pages and logs)."""
        now = time.monotonic()
        with self._lock:
            return [
                EndpointState(
                    url=url,
                    active=i == self._active,
                    down=self._down_until[i] > now,
                    stale=self._stale_until[i] > now,
                    head=self._heads[i],
                    last_error=self._errors[i],
                )
                for i, url in enumerate(self.urls)
            ]
