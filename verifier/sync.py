"""The background syncer of a verifier service: keeps the registry index fresh (every
``interval``, backing off while syncs fail) and looks for newer trust bundles (every
``bundle_interval``), each in its own thread, so a slow bundle peer (up to its fetch deadline)
never delays the index. It never dies: every round is guarded, failures are counted in the
chain view's ``health`` and logged once per kind, and answers meanwhile follow the data's age
(``ChainView``), never a flag saying the node is up."""

from __future__ import annotations

import logging
import threading
import time

from verifier.chainview import ChainView

__all__ = ["IndexSyncer"]

log = logging.getLogger("ecert.verifier.sync")


class IndexSyncer:
    def __init__(
        self,
        chain: ChainView,
        *,
        interval: float = 1.0,
        bundle_interval: float = 60.0,
        max_backoff: float = 10.0,
    ) -> None:
        self.chain = chain
        self.interval = interval
        self.bundle_interval = bundle_interval
        self.max_backoff = max(max_backoff, interval)
        self.rounds = 0
        """Completed rounds (whatever their outcome): proof that the thread is alive."""
        self.bundle_rounds = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_bundle_check = time.monotonic()

    def delay(self) -> float:
        """Seconds until the next sync: the interval, doubled per consecutive failure up to
        ``max_backoff`` (so a node that is down is not hammered, and one that is back is
        noticed within ``max_backoff``)."""
        failures = self.chain.health.consecutive_failures
        return float(min(self.max_backoff, self.interval * 2.0 ** min(failures, 16)))

    def run_once(self) -> None:
        """One guarded round: sync the index, and the bundles when due."""
        self._index_round()
        if time.monotonic() - self._last_bundle_check >= self.bundle_interval:
            self._bundle_round()

    def _index_round(self) -> None:
        try:
            self.chain.refresh(force=True)
        except Exception as exc:  # refresh never raises; this keeps the thread alive if it did
            log.warning("registry sync round failed: %s", type(exc).__name__)
        self.rounds += 1

    def _bundle_round(self) -> None:
        self._last_bundle_check = time.monotonic()
        bundles = self.chain.bundles
        if bundles is not None:
            try:
                bundles.refresh()  # never raises either: each source's problem is kept
            except Exception as exc:
                log.warning("trust bundle refresh failed: %s", type(exc).__name__)
        self.bundle_rounds += 1

    def _index_loop(self) -> None:
        while not self._stop.wait(self.delay()):
            self._index_round()

    def _bundle_loop(self) -> None:
        while not self._stop.wait(self.bundle_interval):
            self._bundle_round()

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._index_loop, name="ecert-index-sync", daemon=True),
            threading.Thread(target=self._bundle_loop, name="ecert-bundle-sync", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)
