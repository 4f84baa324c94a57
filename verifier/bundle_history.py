"""What a verifier answers peers asking for its trust bundle (``GET /api/v1/bundle``,
``?since=<identity>``): the full bundle it holds, or the delta to it from an earlier state it
accepted — the earlier full bundles it keeps on disk for that, the newest few.

A delta carries the signature of the bundle it leads to (the provinces sign the checkpoint,
whatever the kind), so serving one takes nothing from the provinces: any verifier that held
the base can compute it. Answers are computed once per (current bundle, base) and kept, gzip
form beside, until a newer bundle is accepted."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from pathlib import Path

from ledger.bundle import BundleRejected, DeltaBundle, SignedBundle, TrustBundle

__all__ = ["BUNDLE_MEDIA_TYPE", "BundleHistory", "Served"]

BUNDLE_MEDIA_TYPE = "application/vnd.ecert.trust-bundle"

_CACHED_ANSWERS = 16


@dataclass(frozen=True, slots=True)
class Served:
    """One answer to a peer."""

    kind: str
    """``full`` or ``delta``."""
    body: bytes
    """The signed bundle's bytes (format 3; a format-2 bundle as its JSON)."""
    gzipped: bytes
    """The same, gzip-compressed."""


class BundleHistory:
    """Earlier accepted full bundles, in ``directory`` as ``<block>-<identity>.ecb``, the
    newest ``keep`` of them; and the answers made from them."""

    def __init__(self, directory: Path, *, keep: int = 8) -> None:
        self.directory = directory
        self.keep = keep
        self._lock = threading.Lock()
        self._answers: dict[tuple[bytes, bytes | None], Served] = {}

    def _path(self, signed: SignedBundle) -> Path:
        bundle = signed.bundle
        return self.directory / f"{bundle.block:012d}-{bundle.identity().hex()}.ecb"

    def keep_earlier(self, signed: SignedBundle) -> None:
        """Keep ``signed`` (a full bundle being replaced by a newer one) to answer deltas from;
        forget the oldest beyond ``keep``."""
        if self.keep <= 0 or signed.is_delta:
            return
        signed.save(self._path(signed))
        for old in sorted(self.directory.glob("*.ecb"))[: -self.keep]:
            old.unlink(missing_ok=True)
        with self._lock:
            self._answers.clear()

    def _earlier(self, identity: bytes) -> SignedBundle | None:
        found = list(self.directory.glob(f"*-{identity.hex()}.ecb"))
        if not found:
            return None
        try:
            earlier = SignedBundle.load(found[0])
        except BundleRejected:
            return None
        return None if earlier.is_delta or earlier.bundle.identity() != identity else earlier

    def answer(self, current: SignedBundle, since: bytes | None) -> Served:
        """The delta from the state ``since`` names to ``current`` if that state is kept here
        (and ``current`` is of format 3, whose signature a delta can carry); ``current`` itself
        otherwise."""
        key = (current.bundle.identity(), since)
        with self._lock:
            served = self._answers.get(key)
        if served is not None:
            return served
        served = self._make(current, since)
        with self._lock:
            if len(self._answers) >= _CACHED_ANSWERS:
                self._answers.pop(next(iter(self._answers)))
            self._answers[key] = served
        return served

    def _make(self, current: SignedBundle, since: bytes | None) -> Served:
        target = current.bundle
        if since is not None and isinstance(target, TrustBundle):
            # since == current: an empty delta says "nothing new" in a few hundred bytes
            base = current if since == target.identity() else self._earlier(since)
            if (
                base is not None
                and not isinstance(base.bundle, DeltaBundle)
                and base.bundle.block <= target.block
            ):
                delta = DeltaBundle.between(base.bundle, target)
                body = SignedBundle(delta, current.signers, current.signature).encode()
                return Served("delta", body, gzip.compress(body, 6))
        body = current.encode()
        return Served("full", body, gzip.compress(body, 6))
