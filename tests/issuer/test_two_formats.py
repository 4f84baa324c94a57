"""One record, two documents: a department with an SM2 seal issues each certificate as a PDF and
an OFD by default, one version-3 leaf binding both (anchored once); ``formats`` chooses the PDF
or the OFD alone; a department without an SM2 seal cannot be asked for an OFD. The API takes
``formats`` and serves ``GET …/{no}/ofd``. In-process chain, SQLite."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.api import create_app
from issuer.formats import BOTH, Format, parse_formats
from issuer.pipeline import FormatUnavailable, Pipeline, PipelineError
from issuer.store import open_store
from issuer.tokens import create_token
from ledger.digest import sealed_revision_digest
from ledger.leaf import NO_DOCUMENT, CertificateLeaf
from ledger.ofdseal import verify_ofd_seals
from ledger.proofrecord import ProofRecord
from tests.conftest import World
from tests.issuer.conftest import SamplePki, SampleSm2, department, licences


def _pipeline(world: World, pki: SamplePki, tmp_path: Path, sm2: SampleSm2 | None) -> Pipeline:
    dept = department(world, pki)
    if sm2 is not None:
        dept = replace(dept, ofd_sealer=sm2.sealer)
    return Pipeline(
        open_store(f"sqlite:///{tmp_path / 'issuer.sqlite'}"),
        [dept],
        world.registry,
        batch_size=8,
        batch_window=timedelta(0),
        permit_ttl=timedelta(0),
    )


@pytest.fixture
def both(world: World, pki: SamplePki, sm2_pki: SampleSm2, tmp_path: Path) -> Iterator[Pipeline]:
    pipeline = _pipeline(world, pki, tmp_path, sm2_pki)
    yield pipeline
    pipeline.sessions.kw["bind"].dispose()


def _issued(pipeline: Pipeline, count: int, **kwargs: Any) -> list[str]:
    results = pipeline.submit("ZJ-AMR", licences(count, start=kwargs.pop("start", 0)), **kwargs)
    counts = pipeline.run_once(force_batches=True)
    assert counts.anchored_certificates == count, counts
    return [r.certificate_id or "" for r in results]


def test_formats_are_parsed_in_one_order() -> None:
    assert parse_formats("ofd, PDF") == BOTH
    assert parse_formats(["ofd"]) == (Format.OFD,)
    with pytest.raises(ValueError, match="unknown format"):
        parse_formats("pdf,docx")
    with pytest.raises(ValueError, match="at least one"):
        parse_formats(" , ")


def test_both_documents_by_default_under_one_anchored_leaf(both: Pipeline, world: World) -> None:
    numbers = _issued(both, 3)
    for number in numbers:
        view = both.certificate("ZJ-AMR", number)
        assert view["formats"] == ["pdf", "ofd"]
        pdf, ofd = both.pdf("ZJ-AMR", number), both.ofd("ZJ-AMR", number)
        assert verify_ofd_seals(ofd).intact
        record = ProofRecord.from_json(both.public_proof("ZJ-AMR", number))
        assert record.leaf_version == 3
        assert record.ofd_digest == hashlib.sha256(ofd).digest()
        signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
        assert record.document_digest == sealed_revision_digest(pdf, signature.byte_range)
        # the leaf recomputed from the two files and the record's values is the anchored one
        leaf = CertificateLeaf(
            issuer_id="ZJ-AMR",
            cert_type="BUSINESS_LICENCE",
            certificate_id=number,
            claims_commitment=record.claims_commitment,
            document_digest=sealed_revision_digest(pdf, signature.byte_range),
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            version=3,
            ofd_digest=hashlib.sha256(ofd).digest(),
        )
        assert leaf.hash().hex() == view["proof"]["leaf"]
        proof = record.merkle_proof()
        assert world.registry.verify_inclusion(proof.root, proof.leaf, list(proof.siblings))
        assert "OFD SM2" in view["progress"][1]["detail"]


def test_pdf_alone_or_ofd_alone(both: Pipeline) -> None:
    (pdf_only,) = _issued(both, 1, formats=(Format.PDF,))
    record = ProofRecord.from_json(both.public_proof("ZJ-AMR", pdf_only))
    assert (record.leaf_version, record.ofd_digest) == (2, None)
    with pytest.raises(PipelineError, match="without OFD"):
        both.ofd("ZJ-AMR", pdf_only)
    (ofd_only,) = _issued(both, 1, formats=(Format.OFD,), start=1)
    record = ProofRecord.from_json(both.public_proof("ZJ-AMR", ofd_only))
    assert (record.leaf_version, record.document_digest) == (3, NO_DOCUMENT)
    assert record.ofd_digest == hashlib.sha256(both.ofd("ZJ-AMR", ofd_only)).digest()
    with pytest.raises(PipelineError, match="without PDF"):
        both.pdf("ZJ-AMR", ofd_only)


def test_no_ofd_without_an_sm2_seal(world: World, pki: SamplePki, tmp_path: Path) -> None:
    pipeline = _pipeline(world, pki, tmp_path, None)
    with pytest.raises(FormatUnavailable, match="no SM2 seal"):
        pipeline.submit("ZJ-AMR", licences(1), formats=BOTH)
    (number,) = _issued(pipeline, 1)
    assert pipeline.certificate("ZJ-AMR", number)["formats"] == ["pdf"]
    pipeline.sessions.kw["bind"].dispose()


def test_the_api_takes_formats_and_serves_the_ofd(both: Pipeline) -> None:
    token = create_token(both.sessions, "ZJ-AMR", ["BUSINESS_LICENCE"], "tests")
    headers = {"Authorization": f"Bearer {token}"}
    item = licences(1, start=7)[0]
    body = {
        "reference": item.reference,
        "cert_type": item.cert_type,
        "claims": dict(item.record),
        "valid_until": str(item.valid_until),
    }

    async def calls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(both, worker_interval=None))
        async with httpx.AsyncClient(transport=transport, base_url="http://issuer") as client:
            bad = await client.post(
                "/api/v1/certificates",
                json={"certificates": [body], "formats": ["ofd", "docx"]},
                headers=headers,
            )
            sent = await client.post(
                "/api/v1/certificates",
                json={"certificates": [body], "formats": ["ofd"]},
                headers=headers,
            )
            number = sent.json()["results"][0]["certificate_id"]
            early = await client.get(f"/api/v1/certificates/{number}/ofd", headers=headers)
            await asyncio.to_thread(both.run_once, force_batches=True)
            got = await client.get(f"/api/v1/certificates/{number}/ofd", headers=headers)
            pdf = await client.get(f"/api/v1/certificates/{number}/pdf", headers=headers)
            view = await client.get(f"/api/v1/certificates/{number}", headers=headers)
            return [bad, sent, early, got, pdf, view]

    bad, sent, early, got, pdf, view = asyncio.run(calls())
    assert bad.status_code == 422
    assert sent.status_code == 202, sent.text
    assert early.status_code == 409
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/ofd"
    assert verify_ofd_seals(got.content).intact
    assert pdf.status_code == 409
    assert view.json()["formats"] == ["ofd"]
