"""The verifier's trust bundles: fetched from peer provinces (their verifiers' ``/api/v1/bundle``
or a file), each verified once against the province keys and the province list this verifier
learnt from the registry, the newest accepted one kept on disk and loaded into its own index —
what the verifier answers from when no node can be reached.

Holding a bundle, the verifier asks a peer only for what changed since (``?since=<identity>``):
the peer answers a delta from that state, or the full bundle when it cannot. A delta is
verified like a full bundle (same registry, signers, quorum, signature, no replay) and must
start from exactly the state held; it is then applied to the index in one transaction that
commits only if the result is the state the signers signed. A delta that does not fit (another
base, changes that do not give the signed state) makes the verifier fetch the full bundle from
that peer instead. Files may hold deltas too (a chain of them, in order, catches up a verifier
that was away). Earlier accepted bundles are kept (``verifier.bundle_history``) so that this
verifier can answer its own peers' ``?since=`` in turn.

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
    DeltaBundle,
    Refusal,
    SignedBundle,
    apply_delta,
    verify_bundle,
)
from ledger.index import RegistryIndex
from verifier.bundle_history import BundleHistory, Served
from verifier.fetch import FetchFailed, PeerFetcher

__all__ = ["BundleStore", "check_bundle"]

_ACCEPTED = "trust-bundle.ecb"
_ACCEPTED_BEFORE = "trust-bundle.json"
"""Where the accepted bundle was kept in format 2 (read if there is no format-3 file yet)."""
_INDEX = "trust-bundle-index.sqlite"
_HISTORY = "trust-bundle-history"
_FALL_BACK = {Refusal.BASE, Refusal.DELTA, Refusal.FORMAT}
"""A delta refused for these is the peer's mistake or malice about deltas: the full bundle is
asked for instead (a bundle refused for its signers or its age would be refused again)."""


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
        raise BundleRejected(Refusal.NO_KEYS, "the registry was never read: no keys to check with")
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
        history: int = 8,
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
        self.history = BundleHistory(directory / _HISTORY, keep=history)
        """Earlier accepted bundles, to answer peers' deltas from."""
        self._load_accepted()

    # ------------------------------------------------------------------ state

    def _load_accepted(self) -> None:
        path = self.directory / _ACCEPTED
        if not path.is_file():
            path = self.directory / _ACCEPTED_BEFORE
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
        """Make ``signed`` (verified) the bundle answered from: a full bundle loaded into a
        fresh index, a delta applied to the index held (``BundleRejected`` if it does not give
        the state signed; the index is then unchanged)."""
        bundle = signed.bundle
        if isinstance(bundle, DeltaBundle):
            if self.index is None:  # verify_bundle refuses a delta when nothing is held
                raise BundleRejected(Refusal.BASE, "a delta, and no bundle held to apply it to")
            signed = SignedBundle(apply_delta(bundle, self.index), signed.signers, signed.signature)
            index = self.index
        else:
            index = RegistryIndex(self.directory / _INDEX, registry_address=bundle.registry)
            bundle.load_into(index)
        if save:
            if self.bundle is not None:
                self.history.keep_earlier(self.bundle)
            signed.save(self.directory / _ACCEPTED)
        previous, self.index, self.bundle = self.index, index, signed
        self._checked.add(signed.bundle.identity())
        if previous is not None and previous is not index:
            previous.close()

    def serve(self, since: bytes | None) -> Served | None:
        """What to answer a peer asking for this verifier's bundle (``since``: the identity of
        the state the peer holds), or None before any bundle was accepted."""
        signed = self.bundle
        return None if signed is None else self.history.answer(signed, since)

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
            "digest": signed.bundle.identity().hex() if signed else None,
            "problems": dict(self.problems),
        }

    # ------------------------------------------------------------------ fetching

    def _verify(self, signed: SignedBundle) -> None:
        held = self.bundle.bundle if self.bundle else None
        newest = (held.block, held.identity()) if held else None
        check_bundle(signed, self.live, quorum=self.quorum, newest_seen=newest)

    @staticmethod
    def _is_peer(source: str) -> bool:
        return source.startswith(("http://", "https://"))

    def _fetch(self, source: str, *, since: bytes | None = None) -> SignedBundle:
        if self._is_peer(source):
            url = source
            if since is not None:
                url += ("&" if "?" in source else "?") + f"since={since.hex()}"
            try:
                fetched = self._fetcher.get(url, max_bytes=MAX_BUNDLE_BYTES, deadline=self.timeout)
            except FetchFailed as exc:
                raise BundleRejected(Refusal.UNAVAILABLE, str(exc)) from exc
            if fetched.status != 200:
                raise BundleRejected(Refusal.UNAVAILABLE, f"{source} answered {fetched.status}")
            return SignedBundle.parse(fetched.body, source=f"the bundle from {source}")
        path = Path(source)
        if not path.is_absolute():
            path = self.directory / path
        return SignedBundle.load(path)

    def _take(self, signed: SignedBundle) -> bool:
        """Verify ``signed`` and install it if it is newer than the bundle held; whether it
        was installed. ``BundleRejected`` if refused."""
        identity = signed.bundle.identity()
        current = self.bundle.bundle.block if self.bundle else -1
        if identity in self._checked and signed.bundle.block <= current:
            return False  # seen already: nothing new
        self._verify(signed)
        if signed.bundle.block <= current:
            return False
        self._install(signed, save=True)
        return True

    def _refresh_from(self, source: str) -> bool:
        since = self.bundle.bundle.identity() if self.bundle and self._is_peer(source) else None
        try:
            return self._take(self._fetch(source, since=since))
        except BundleRejected as exc:
            if since is None or exc.reason not in _FALL_BACK:
                raise
        return self._take(self._fetch(source))  # the full bundle, from the same peer

    def refresh(self) -> bool:
        """Look at every source; take the newest bundle that verifies. Returns whether a newer
        bundle was accepted. Never raises: each source's problem is kept in ``problems``."""
        accepted = False
        with self._lock:
            for source in self.sources:
                try:
                    accepted = self._refresh_from(source) or accepted
                except BundleRejected as exc:
                    self.problems[source] = f"{exc.reason}: {exc}"
                    continue
                except Exception as exc:  # a hostile or broken peer never stops the others
                    self.problems[source] = f"UNREADABLE: {type(exc).__name__}"
                    continue
                self.problems.pop(source, None)
        return accepted

    def close(self) -> None:
        self._fetcher.close()
        if self.index is not None:
            self.index.close()
