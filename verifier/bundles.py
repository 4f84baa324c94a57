"""The verifier's trust bundles: fetched from peer provinces (their verifiers' ``/api/v1/bundle``
or a file), each verified once against the province keys and the province list this verifier
learnt from the registry, the newest accepted one kept on disk and loaded into its own index —
what the verifier answers from when no node can be reached.

py-ecc verifies an aggregate signature in about half a second, so a bundle is verified once
when it arrives (and once when the service starts, since a file on disk could have been
swapped), never per request.

A peer is not trusted to behave: a fetch has a total deadline and a size limit
(``verifier.fetch``), the bundle is read with the bounded JSON reader, and whatever goes wrong
with one source is that source's problem (``problems``, in ``/healthz``), never the others'."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from ledger import bls
from ledger.bundle import (
    DEFAULT_QUORUM,
    MAX_BUNDLE_BYTES,
    BundleRejected,
    SignedBundle,
    verify_bundle,
)
from ledger.index import RegistryIndex
from verifier.fetch import FetchFailed, PeerFetcher

__all__ = ["BundleStore", "check_bundle"]

_ACCEPTED = "trust-bundle.json"
_INDEX = "trust-bundle-index.sqlite"


def check_bundle(
    signed: SignedBundle,
    live: RegistryIndex,
    *,
    quorum: Fraction = DEFAULT_QUORUM,
    newest_seen: tuple[int, bytes] | None = None,
) -> None:
    """``verify_bundle`` against what the verifier learnt from the registry itself: its chain,
    the province list and the province keys whose proof of possession holds."""
    chain_id = live.chain_id()
    if chain_id is None:
        raise BundleRejected("NO_KEYS", "the registry was never read: no keys to check with")
    verify_bundle(
        signed,
        registry=live.registry_address,
        chain_id=chain_id,
        provinces=[p.code for p in live.provinces()],
        keys=bls.verified_keys(live.bundle_keys()),
        quorum=quorum,
        newest_seen=newest_seen,
    )


class BundleStore:
    def __init__(
        self,
        directory: Path,
        sources: Sequence[str],
        live: RegistryIndex,
        *,
        quorum: Fraction = DEFAULT_QUORUM,
        max_age: float = 30 * 86_400.0,
        timeout: float = 20.0,
    ) -> None:
        self.directory = directory
        self.sources = list(sources)
        self.live = live
        self.quorum = quorum
        self.max_age = max_age
        self.timeout = timeout
        """Seconds a fetch from a peer may take in all, however the peer answers."""
        self._fetcher = PeerFetcher()
        self.bundle: SignedBundle | None = None
        self.index: RegistryIndex | None = None
        self.problems: dict[str, str] = {}
        """Source → why its last bundle was not taken (for /healthz and logs)."""
        self._lock = threading.Lock()
        self._checked: set[bytes] = set()
        self._load_accepted()

    # ------------------------------------------------------------------ state

    def _load_accepted(self) -> None:
        path = self.directory / _ACCEPTED
        if not path.is_file():
            return
        try:
            signed = SignedBundle.load(path)
            self._verify(signed)
        except BundleRejected as exc:
            self.problems[str(path)] = f"{exc.reason}: {exc}"
            return
        self._install(signed, save=False)

    def _install(self, signed: SignedBundle, *, save: bool) -> None:
        if save:
            signed.save(self.directory / _ACCEPTED)
        index = RegistryIndex(self.directory / _INDEX, registry_address=signed.bundle.registry)
        signed.bundle.load_into(index)
        previous, self.index, self.bundle = self.index, index, signed
        self._checked.add(signed.bundle.digest())
        if previous is not None and previous is not index:
            previous.close()

    def age(self) -> float | None:
        """Seconds since the accepted bundle's block."""
        if self.bundle is None:
            return None
        return time.time() - self.bundle.bundle.block_time

    def current(self) -> RegistryIndex | None:
        """The accepted bundle's index if it is recent enough to answer from."""
        age = self.age()
        return self.index if age is not None and age <= self.max_age else None

    def describe(self) -> dict[str, Any]:
        signed = self.bundle
        return {
            "block": signed.bundle.block if signed else None,
            "block_time": signed.bundle.as_of.isoformat() if signed else None,
            "signers": list(signed.signers) if signed else [],
            "problems": dict(self.problems),
        }

    # ------------------------------------------------------------------ fetching

    def _verify(self, signed: SignedBundle) -> None:
        newest = (self.bundle.bundle.block, self.bundle.bundle.digest()) if self.bundle else None
        check_bundle(signed, self.live, quorum=self.quorum, newest_seen=newest)

    def _fetch(self, source: str) -> SignedBundle:
        if source.startswith(("http://", "https://")):
            try:
                fetched = self._fetcher.get(
                    source, max_bytes=MAX_BUNDLE_BYTES, deadline=self.timeout
                )
            except FetchFailed as exc:
                raise BundleRejected("UNAVAILABLE", str(exc)) from exc
            if fetched.status != 200:
                raise BundleRejected("UNAVAILABLE", f"{source} answered {fetched.status}")
            return SignedBundle.parse(fetched.body, source=f"the bundle from {source}")
        path = Path(source)
        if not path.is_absolute():
            path = self.directory / path
        return SignedBundle.load(path)

    def refresh(self) -> bool:
        """Look at every source; take the newest bundle that verifies. Returns whether a newer
        bundle was accepted. Never raises: each source's problem is kept in ``problems``."""
        accepted = False
        with self._lock:
            for source in self.sources:
                try:
                    signed = self._fetch(source)
                    digest = signed.bundle.digest()
                    current = self.bundle.bundle.block if self.bundle else -1
                    if digest in self._checked and signed.bundle.block <= current:
                        self.problems.pop(source, None)
                        continue
                    self._verify(signed)
                except BundleRejected as exc:
                    self.problems[source] = f"{exc.reason}: {exc}"
                    continue
                except Exception as exc:  # a hostile or broken peer never stops the others
                    self.problems[source] = f"UNREADABLE: {type(exc).__name__}"
                    continue
                self.problems.pop(source, None)
                if self.bundle is None or signed.bundle.block > self.bundle.bundle.block:
                    self._install(signed, save=True)
                    accepted = True
        return accepted

    def close(self) -> None:
        self._fetcher.close()
        if self.index is not None:
            self.index.close()
