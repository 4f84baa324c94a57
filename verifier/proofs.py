"""Where a verifier gets a certificate's public proof record: each province's proof directory,
over HTTP (the issuer service's ``/api/v1/proofs/…``) or from a folder of JSON files (offline
copies, demos). Records never change once anchored, so they are cached.

A directory is a peer, not trusted: an HTTP fetch has a total deadline and a size limit
(``verifier.fetch``), a record is read with the bounded JSON reader (size and nesting depth),
and anything wrong is ``ProofUnavailable`` (could not check: ERROR, never INVALID)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError, MerkleError
from ledger.jsonread import JsonRefused, read_json, read_json_file
from ledger.proofrecord import ProofRecord
from verifier.errors import WouldBlock
from verifier.fetch import FetchFailed, PeerFetcher
from verifier.limits import MAX_JSON_DEPTH, MAX_PROOF_BYTES

__all__ = ["ProofDirectory", "ProofUnavailable"]

_ID_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


class ProofUnavailable(LedgerError):
    """The proof directory could not be asked (down, timing out, or not configured)."""


class ProofDirectory:
    """Proof directories by issuing province: ``{"ZJ": "http://…", "JS": "/path/to/proofs"}``.
    ``"*"`` serves any province not listed."""

    def __init__(
        self, sources: Mapping[str, str], *, timeout: float = 3.0, cache_size: int = 100_000
    ) -> None:
        self.sources = dict(sources)
        self.timeout = timeout
        """Seconds an HTTP fetch may take in all, however the directory answers."""
        self._fetcher = PeerFetcher(connect_timeout=timeout)
        self._cache: OrderedDict[tuple[str, str], ProofRecord] = OrderedDict()
        self._lock = threading.Lock()
        self._cache_size = cache_size

    def close(self) -> None:
        self._fetcher.close()

    def fetch(
        self, province: str, issuer_id: str, certificate_id: str, *, local_only: bool = False
    ) -> ProofRecord | None:
        """The record, or ``None`` if the directory says it has none (never anchored).
        ``local_only``: raise ``WouldBlock`` instead of asking a directory over HTTP."""
        if not (set(issuer_id) <= _ID_SAFE and set(certificate_id) <= _ID_SAFE):
            return None
        key = (issuer_id, certificate_id)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        source = self.sources.get(province) or self.sources.get("*")
        if source is None:
            raise ProofUnavailable(f"no proof directory configured for province {province}")
        if local_only and source.startswith(("http://", "https://")):
            raise WouldBlock(f"proof of {issuer_id}/{certificate_id} is not cached")
        raw = self._fetch_raw(source, issuer_id, certificate_id)
        if raw is None:
            return None
        try:
            record = ProofRecord.from_json(raw)
        except MerkleError as exc:
            raise ProofUnavailable(f"proof directory answered garbage: {exc}") from exc
        with self._lock:
            self._cache[key] = record
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return record

    def _fetch_raw(self, source: str, issuer_id: str, certificate_id: str) -> Any:
        what = f"proof of {issuer_id}/{certificate_id}"
        if source.startswith(("http://", "https://")):
            url = f"{source.rstrip('/')}/api/v1/proofs/{issuer_id}/{certificate_id}"
            try:
                fetched = self._fetcher.get(url, max_bytes=MAX_PROOF_BYTES, deadline=self.timeout)
            except FetchFailed as exc:
                raise ProofUnavailable(f"proof directory {source}: {exc}") from exc
            if fetched.status == 404:
                return None
            if fetched.status != 200:
                raise ProofUnavailable(f"proof directory {source} answered {fetched.status}")
            try:
                return read_json(
                    fetched.body, max_bytes=MAX_PROOF_BYTES, max_depth=MAX_JSON_DEPTH, what=what
                )
            except JsonRefused as exc:
                raise ProofUnavailable(f"proof directory {source} answered garbage: {exc}") from exc
        path = Path(source) / issuer_id / f"{certificate_id}.json"
        try:
            return read_json_file(
                path, max_bytes=MAX_PROOF_BYTES, max_depth=MAX_JSON_DEPTH, what=what
            )
        except FileNotFoundError:
            return None
        except (OSError, JsonRefused) as exc:
            raise ProofUnavailable(f"cannot read {path}: {exc}") from exc
