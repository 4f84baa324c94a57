"""The OFD plan on the fake registry (no chain): a genuine OFD is VALID with every check of its
plan; the seal is judged at the certificate's time of existence; a seal of another department,
a missing SM2 trust list, a revoked department seal and an OFD its record does not bind each
get their reason. The forgery suite against a real node is ``test_ofd_verify.py``."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from issuer.ofd import OfdSealer, write_ofd
from issuer.sesmaker import make_seal
from issuer.sm2pki import issue_sm2_seal
from ledger.codes import RevocationReason
from ledger.records import SealRevocation
from tests.issuer.conftest import SampleSm2, make_sm2
from tests.verifier.fake import SEAL
from tests.verifier.ofdfake import OFD_ISSUER, IssuedOfd, issued_ofd
from verifier import plans
from verifier.evidence import Evidence
from verifier.names import CheckName as N
from verifier.reasons import ReasonCode as C
from verifier.result import Status, Verdict, VerificationReport
from verifier.runner import run


@pytest.fixture(scope="module")
def sm2() -> SampleSm2:
    return make_sm2()


@pytest.fixture(scope="module")
def item(sm2: SampleSm2) -> IssuedOfd:
    return issued_ofd(sm2)


def _verify(item: IssuedOfd, data: bytes | None = None, **context: object) -> VerificationReport:
    report = run(
        plans.OFD, Evidence(ofd=item.ofd if data is None else data), item.context(**context)
    )
    assert tuple(c.name for c in report.checks) == plans.OFD.names
    assert all(c.reason is not C.UNEXPECTED for c in report.checks), report.to_json("en")
    return report


def _status(report: VerificationReport, name: N) -> tuple[Status, C | None]:
    check = report.check(name)
    assert check is not None
    return check.status, check.reason


def test_a_genuine_ofd_is_valid_with_every_check(item: IssuedOfd) -> None:
    report = _verify(item)
    assert report.verdict is Verdict.VALID, report.to_json("en")
    assert report.input_kind.value == "ofd"
    assert _status(report, N.SEAL_REGISTERED) == (Status.SKIPPED, C.NOT_APPLICABLE)
    assert report.certificate.certificate_id == item.record.certificate_id
    assert report.certificate.fields[0].label_zh == "统一社会信用代码"
    trusted = report.check(N.SEAL_TRUSTED)
    assert trusted is not None
    assert trusted.data["existence"] == "anchor"
    assert report.certificate.qr == item.qr_text.rsplit("/", 1)[1]


def test_judged_at_the_time_of_existence(item: IssuedOfd) -> None:
    # five years on, the seal certificate (3 years) and the e-seal (1,000 days) have expired:
    # anchored while they were valid, the certificate stays valid
    later = item.now + timedelta(days=5 * 365)
    assert _verify(item, now=later).verdict is Verdict.VALID
    # anchored after the e-seal's end, before the certificate's: the e-seal was not valid then
    late = item.anchored_at(item.now + timedelta(days=1010))
    report = _verify(late, now=late.now + timedelta(days=1010))
    assert _status(report, N.OFD_ESEAL_VALIDITY) == (Status.INVALID, C.ESEAL_NOT_VALID)
    assert _status(report, N.SEAL_TRUSTED) == (Status.VALID, None)
    # anchored after the seal certificate expired too
    later_still = item.anchored_at(item.now + timedelta(days=1200))
    report = _verify(later_still, now=item.now + timedelta(days=1300))
    assert _status(report, N.SEAL_TRUSTED) == (Status.INVALID, C.SEAL_CERT_EXPIRED)
    assert report.verdict is Verdict.INVALID


def test_no_time_of_existence_and_an_expired_seal_is_indeterminate(item: IssuedOfd) -> None:
    stale = replace(item, registry=replace(item.registry, fresh=False))
    report = _verify(stale, now=item.now + timedelta(days=5 * 365))
    assert _status(report, N.ANCHOR_ISSUER) == (Status.ERROR, C.CHAIN_UNAVAILABLE)
    assert _status(report, N.SEAL_TRUSTED) == (Status.ERROR, C.NO_PROOF_OF_EXISTENCE)
    assert _status(report, N.OFD_ESEAL_VALIDITY) == (Status.ERROR, C.NO_PROOF_OF_EXISTENCE)
    assert report.verdict is Verdict.INDETERMINATE


def test_without_an_sm2_trust_list_the_seal_cannot_be_judged(item: IssuedOfd) -> None:
    report = _verify(item, sm2_trust=None)
    assert _status(report, N.SEAL_TRUSTED) == (Status.ERROR, C.TRUST_LIST_MISSING)
    assert report.verdict is Verdict.INDETERMINATE


def test_a_seal_certificate_of_another_department(sm2: SampleSm2) -> None:
    other = issue_sm2_seal(
        sm2.zj,
        department="浙江省示范局",
        organization_id="91330000MA0000001X",
        province_name="浙江省",
    )
    start = datetime.now(UTC)
    seal = make_seal(
        sm2.maker,
        other,
        es_id="other-seal-1",
        name="浙江省示范局",
        valid_start=start - timedelta(days=1),
        valid_end=start + timedelta(days=100),
    )
    borrowed = replace(sm2, seal=other, sealer=OfdSealer(other, seal))
    item = issued_ofd(borrowed)
    report = _verify(item)
    assert _status(report, N.OFD_ESEAL) == (Status.INVALID, C.ESEAL_NOT_ISSUERS)
    assert report.verdict is Verdict.INVALID


def test_a_revoked_department_seal_holds_for_the_ofd_too(item: IssuedOfd) -> None:
    anchor = next(iter(item.registry.anchors.values()))
    revoked = replace(item.registry, seal_revocations=dict(item.registry.seal_revocations))
    revoked.seal_revocations[SEAL] = SealRevocation(
        SEAL,
        OFD_ISSUER,
        anchor.timestamp - timedelta(hours=1),
        RevocationReason.KEY_COMPROMISE,
        9,
        anchor.timestamp,
    )
    report = _verify(replace(item, registry=revoked))
    assert _status(report, N.SEAL_STATUS) == (Status.INVALID, C.SEAL_REVOKED)


def test_an_ofd_its_record_does_not_bind(item: IssuedOfd, sm2: SampleSm2) -> None:
    # a second OFD of the same certificate, sealed again: a different file, not the anchored one
    again = write_ofd(item.doc, sm2.sealer)
    report = _verify(item, again)
    assert _status(report, N.ANCHOR_INCLUDED) == (Status.INVALID, C.NOT_ANCHORED)
    # a record from before OFD (leaf version 2) does not bind any OFD
    key = (OFD_ISSUER, item.record.certificate_id)
    old = replace(item.record, leaf_version=2, ofd_digest=None)
    proofs = replace(item.proofs, records={key: old})
    report = _verify(replace(item, proofs=proofs))
    check = report.check(N.ANCHOR_INCLUDED)
    assert check is not None
    assert (check.status, check.reason) == (Status.INVALID, C.NOT_ANCHORED)
    assert "without an OFD" in check.detail


def test_hostile_pages_and_reference_lists_are_bounded(item: IssuedOfd) -> None:
    package = item.package
    page = "Doc_0/Pages/Page_0/Content.xml"
    full = (
        '<ofd:PathObject ID="9" Boundary="0 0 210 297" Fill="true" Stroke="false">'
        "<ofd:AbbreviatedData>M 0 0 L 210 0 L 210 297 L 0 297 C</ofd:AbbreviatedData>"
        "</ofd:PathObject>"
    )
    heavy = package[page].replace(b"</ofd:Layer>", (full * 2000).encode() + b"</ofd:Layer>")
    started = time.monotonic()
    report = _verify(item, package.with_files({page: heavy}).to_zip())
    assert time.monotonic() - started < 5
    assert _status(report, N.QR_MATCHES_DOCUMENT) == (Status.ERROR, C.PAGE_NOT_RENDERED)
    assert _status(report, N.OFD_REFERENCES) == (Status.INVALID, C.OFD_FILE_CHANGED)
    assert report.verdict is Verdict.INVALID
    # one 8 MB file named by 5,000 references is digested once
    signature = "Doc_0/Signs/Sign_0/Signature.xml"
    big = "Doc_0/Res/big.bin"
    reference = (
        f'<ofd:Reference FileRef="/{big}"><ofd:CheckValue>AA==</ofd:CheckValue></ofd:Reference>'
    )
    listed = package[signature].replace(
        b"</ofd:References>", (reference * 5000).encode() + b"</ofd:References>"
    )
    started = time.monotonic()
    report = _verify(item, package.with_files({signature: listed, big: bytes(8 << 20)}).to_zip())
    assert time.monotonic() - started < 5
    assert _status(report, N.OFD_REFERENCES) == (Status.INVALID, C.OFD_REFERENCES_CHANGED)
