"""Offline verification from a signed trust bundle, on a real anvil node that is stopped: genuine
certificates stay VALID with the offline notice, one revoked before the bundle is INVALID, one
anchored after it is INDETERMINATE, and with the node back the verifier returns to live data."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from issuer.site import bundle_secret
from ledger.bundle import SignedBundle, TrustBundle, aggregate_signatures, sign_bundle
from ledger.index import RegistryIndex
from tests.verifier.conftest import ZJ_MARKET, Network
from verifier.config import VerifierConfig, build_verifier
from verifier.pages import result_page
from verifier.reasons import ReasonCode
from verifier.result import Verdict

pytestmark = pytest.mark.anvil


def _bundle(network: Network, out: Path) -> SignedBundle:
    """What the provinces do: snapshot the registry, each sign, aggregate."""
    config = VerifierConfig.load(network.config_path)
    index = RegistryIndex(out.parent / "bundler.sqlite", registry_address=config.registry_address)
    index.sync(network.site.registry())
    chain_id = index.chain_id()
    assert chain_id is not None
    bundle = TrustBundle.from_index(index, chain_id)
    index.close()
    partials = [
        sign_bundle(bundle, code, bundle_secret(network.site.keys, code)) for code in ("GD", "ZJ")
    ]
    signed = aggregate_signatures(bundle, partials)
    signed.save(out)
    return signed


def test_offline_answers_from_the_bundle_and_returns_to_live_data(
    network: Network, tmp_path: Path
) -> None:
    signed = _bundle(network, tmp_path / "bundle.json")
    later = network.issue_one("after-the-bundle")
    config = replace(
        VerifierConfig.load(network.config_path),
        index_dir=str(tmp_path / "verifier"),
        trust_bundles=[str(tmp_path / "bundle.json")],
        max_stale_seconds=1.0,
    )
    verifier = build_verifier(config, network.config_path, region="ZJ")
    bundles = verifier.chain.bundles
    assert bundles is not None
    assert bundles.bundle is not None, bundles.problems
    assert bundles.bundle.bundle.digest() == signed.bundle.digest()
    assert verifier.verify_pdf(network.pdf(later)).verdict is Verdict.VALID  # live

    network.node.stop()
    try:
        verifier.chain.refresh(force=True)
        assert not verifier.chain.node_up
        time.sleep(1.3)  # the index's data is now older than max_stale_seconds
        good = verifier.verify_pdf(network.pdf(network.good))
        assert good.verdict is Verdict.VALID, good.to_json("en")
        assert good.freshness.offline is True
        assert good.freshness.source == "bundle"
        assert good.freshness.block == signed.bundle.block
        page = result_page(good, "zh")
        assert 'id="offline"' in page
        assert "离线核验" in page
        assert "Offline" in result_page(good, "en")

        qr = network.pipeline.certificate(ZJ_MARKET, network.good)["qr"]
        assert verifier.verify_qr_text(qr).verdict is Verdict.VALID

        revoked = verifier.verify_pdf(network.pdf(network.revoked))
        assert revoked.verdict is Verdict.INVALID
        assert ReasonCode.REVOKED in {c.reason for c in revoked.failures()}

        after = verifier.verify_pdf(network.pdf(later))
        assert after.verdict is Verdict.INDETERMINATE, after.to_json("en")
        assert ReasonCode.CHAIN_UNAVAILABLE in {c.reason for c in after.failures()}
        assert (
            verifier.verify_qr_text(network.pipeline.certificate(ZJ_MARKET, later)["qr"]).verdict
            is Verdict.INDETERMINATE
        )
    finally:
        network.node.start()

    assert verifier.chain.refresh(force=True)
    back = verifier.verify_pdf(network.pdf(later))
    assert back.verdict is Verdict.VALID
    assert back.freshness.offline is False
    assert back.freshness.source == "index"


def test_without_a_bundle_or_with_a_refused_one_offline_is_indeterminate(
    network: Network, tmp_path: Path
) -> None:
    signed = _bundle(network, tmp_path / "bundle.json")
    # Signed by ZJ alone: 1 of 2 provinces is not more than two thirds.
    lonely = aggregate_signatures(
        signed.bundle,
        [sign_bundle(signed.bundle, "ZJ", bundle_secret(network.site.keys, "ZJ"))],
    )
    lonely.save(tmp_path / "lonely.json")
    config = replace(
        VerifierConfig.load(network.config_path),
        index_dir=str(tmp_path / "verifier"),
        trust_bundles=[str(tmp_path / "lonely.json")],
        max_stale_seconds=0.0,
    )
    verifier = build_verifier(config, network.config_path, region="ZJ")
    bundles = verifier.chain.bundles
    assert bundles is not None
    assert bundles.bundle is None
    assert "QUORUM" in bundles.problems[str(tmp_path / "lonely.json")]
    network.node.stop()
    try:
        verifier.chain.refresh(force=True)
        report = verifier.verify_pdf(network.pdf(network.good))
        assert report.verdict is Verdict.INDETERMINATE
        assert report.freshness.offline is False
    finally:
        network.node.start()
