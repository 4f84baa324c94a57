"""A verifier's bundle store catching up with deltas: seven daily delta files applied in order, a
gap filled by a full bundle, and a peer over real HTTP on 127.0.0.1 answering ``?since=`` with
the delta from the state held (or the full bundle when it does not hold that state; a peer
whose delta does not fit makes the verifier fetch the full bundle). Whatever the path, the
store's index ends exactly as loading the full bundle of the same block would leave it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from ledger.bundle import DeltaBundle, SignedBundle
from ledger.index import RegistryIndex
from tests.conftest import World
from tests.ledger.test_bundle import _index, consortium
from tests.ledger.test_bundle_delta import _loaded, week
from verifier.bundles import BundleStore

__all__ = ["consortium", "week"]  # fixtures

Week = tuple[World, list[SignedBundle], list[SignedBundle]]


def _files(folder: Path, name: str, bundles: list[SignedBundle]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, signed in enumerate(bundles):
        path = folder / f"{name}-{n}.ecb"
        signed.save(path)
        paths.append(str(path))
    return paths


def _store(folder: Path, live: RegistryIndex, sources: list[str]) -> BundleStore:
    folder.mkdir(parents=True, exist_ok=True)
    store = BundleStore(folder, sources, live)
    store.refresh()
    return store


def test_seven_daily_delta_files_in_order_and_a_gap_filled_by_a_full_bundle(
    week: Week, tmp_path: Path
) -> None:
    world, fulls, deltas = week
    live = _index(world)
    daily = _files(tmp_path / "usb", "delta", deltas)
    (full_0, full_7) = _files(tmp_path / "usb", "full", [fulls[0], fulls[7]])
    store = _store(tmp_path / "v", live, [full_0])
    assert store.bundle is not None, store.problems
    store.sources = daily
    assert store.refresh()
    assert store.problems == {}
    assert store.bundle.bundle.identity() == fulls[7].bundle.identity()
    assert not store.bundle.is_delta  # kept as the full bundle of the state reached
    assert store.index is not None
    assert store.index.export_tables() == _loaded(world, fulls[7]).export_tables()
    store.close()
    again = BundleStore(tmp_path / "v", [], live)  # after a restart: the state reached
    assert again.bundle is not None
    assert again.bundle.bundle.identity() == fulls[7].bundle.identity()
    again.close()

    # Day 3 missed: the delta 3 → 4 does not fit day 2; the full bundle of day 7 is taken.
    gap = _store(tmp_path / "gap", live, [full_0, *daily[:2]])
    assert gap.bundle is not None
    assert gap.bundle.bundle.block == fulls[2].bundle.block
    gap.sources = [*daily[3:], full_7]
    assert gap.refresh()
    assert gap.problems[daily[3]].startswith("BASE")
    assert gap.bundle.bundle.identity() == fulls[7].bundle.identity()
    assert gap.index is not None
    assert gap.index.export_tables() == _loaded(world, fulls[7]).export_tables()
    gap.close()


class _Peer(BaseHTTPRequestHandler):
    store: BundleStore
    broken_deltas = False
    asked: list[str | None]

    def do_GET(self) -> None:
        since = parse_qs(urlparse(self.path).query).get("since", [None])[0]
        self.asked.append(since)
        served = self.store.serve(bytes.fromhex(since) if since else None)
        assert served is not None
        body = served.gzipped
        if self.broken_deltas and served.kind == "delta":
            signed = SignedBundle.parse(served.body)
            assert isinstance(signed.bundle, DeltaBundle)
            # the changes from day 1, under the base the verifier named
            wrong = DeltaBundle.between(week_fulls[1].bundle, week_fulls[7].bundle)  # type: ignore[arg-type]
            forged = DeltaBundle(signed.bundle.checkpoint, *_base(signed), wrong.encoded_changes)
            body = SignedBundle(forged, signed.signers, signed.signature).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("X-Ecert-Bundle", served.kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


week_fulls: list[SignedBundle] = []


def _base(signed: SignedBundle) -> tuple[int, bytes]:
    assert isinstance(signed.bundle, DeltaBundle)
    return signed.bundle.base_block, signed.bundle.base_digest


@pytest.fixture
def peer(week: Week, tmp_path: Path) -> Iterator[tuple[str, type[_Peer]]]:
    """A peer's store that accepted every day's full bundle in turn (so it kept days 0 to 6),
    served over HTTP."""
    world, fulls, _deltas = week
    week_fulls[:] = fulls
    store = _store(tmp_path / "peer", _index(world), [])
    for n, path in enumerate(_files(tmp_path / "peer-in", "full", fulls)):
        store.sources = [path]
        assert store.refresh(), (n, store.problems)
    handler = type("Peer", (_Peer,), {"store": store, "asked": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/bundle", handler
    finally:
        server.shutdown()
        store.close()


def test_a_peer_answers_the_delta_since_the_state_held_or_the_full_bundle(
    week: Week, peer: tuple[str, type[_Peer]], tmp_path: Path
) -> None:
    world, fulls, _deltas = week
    url, handler = peer
    live = _index(world)
    held = _files(tmp_path / "in", "full", [fulls[2]])
    store = _store(tmp_path / "v", live, held)
    store.sources = [url]
    assert store.refresh(), store.problems
    assert handler.asked == [fulls[2].bundle.identity().hex()]
    assert store.bundle is not None
    assert store.bundle.bundle.identity() == fulls[7].bundle.identity()
    assert store.index is not None
    assert store.index.export_tables() == _loaded(world, fulls[7]).export_tables()
    served = handler.store.serve(fulls[2].bundle.identity())
    assert served is not None
    assert served.kind == "delta"
    assert len(served.body) < len(fulls[7].encode())
    assert not store.refresh()  # nothing new: an empty delta, not taken again
    assert store.problems == {}
    store.close()

    # A state the peer never held: it answers the full bundle.
    unknown = handler.store.serve(b"\x01" * 32)
    assert unknown is not None
    assert unknown.kind == "full"

    # A peer whose deltas do not give the signed state: refused, the full bundle fetched.
    handler.asked.clear()
    handler.broken_deltas = True
    fallback = _store(tmp_path / "fallback", live, held)
    fallback.sources = [url]
    assert fallback.refresh(), fallback.problems
    assert handler.asked == [fulls[2].bundle.identity().hex(), None]
    assert fallback.bundle is not None
    assert fallback.bundle.bundle.identity() == fulls[7].bundle.identity()
    assert fallback.index is not None
    assert fallback.index.export_tables() == _loaded(world, fulls[7]).export_tables()
    fallback.close()
