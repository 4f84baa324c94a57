"""Where a verifier gets a certificate's public proof record: each province's proof directory,
over HTTP (the issuer service's ``/api/v1/proofs/…``) or from a folder of JSON files (offline
copies, demos). Records never change once anchored, so they are cached."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from ledger.errors import LedgerError, MerkleError
from ledger.proofrecord import ProofRecord
from verifier.errors import WouldBlock

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
        self._client = httpx.Client(timeout=timeout)
        self._cache: OrderedDict[tuple[str, str], ProofRecord] = OrderedDict()
        self._lock = threading.Lock()
        self._cache_size = cache_size

    def close(self) -> None:
        self._client.close()

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
        if source.startswith(("http://", "https://")):
            url = f"{source.rstrip('/')}/api/v1/proofs/{issuer_id}/{certificate_id}"
            try:
                response = self._client.get(url)
            except httpx.HTTPError as exc:
                raise ProofUnavailable(f"proof directory {source} unreachable") from exc
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise ProofUnavailable(f"proof directory {source} answered {response.status_code}")
            try:
                return response.json()
            except (ValueError, RecursionError) as exc:
                raise ProofUnavailable("proof directory answered garbage") from exc
        path = Path(source) / issuer_id / f"{certificate_id}.json"
        try:
            return json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as exc:
            raise ProofUnavailable(f"cannot read {path}") from exc
