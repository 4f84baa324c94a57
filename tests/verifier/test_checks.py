"""Each check's cases, without a chain: a fake registry view, the real formats (leaf, Merkle
proof, QR payload signed by a real account). Fast; the paths end to end run on anvil in the
other verifier tests."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta

import pytest
from eth_account import Account

from ledger.codes import RevocationReason
from ledger.errors import NodeUnavailable
from ledger.records import IssuerStatus, Revocation
from tests.verifier.fake import ISSUER, NOW, issued, revoked_leaf
from verifier import plans
from verifier.checks import qr, recognition, registry, status
from verifier.errors import WouldBlock
from verifier.evidence import Evidence, Subject
from verifier.names import CheckName
from verifier.proofs import ProofUnavailable
from verifier.reasons import ReasonCode
from verifier.result import Check, Status, Verdict
from verifier.runner import Found, Plan, Step, run


def _check(result: Check | Found) -> Check:
    return result.check if isinstance(result, Found) else result


def _qr_evidence(item: object) -> Evidence:
    found = qr.qr_read_text(Evidence(qr_texts=(item.qr.encode(),)), item.context())  # type: ignore[attr-defined]
    assert isinstance(found, Found)
    return found.evidence


# ---------------------------------------------------------------- QR


def test_qr_read_text_decodes_or_calls_it_malformed() -> None:
    item = issued()
    found = qr.qr_read_text(Evidence(qr_texts=(item.qr.url("https://v.example"),)), item.context())
    assert isinstance(found, Found)
    assert found.check.status is Status.VALID
    assert found.evidence.subject == Subject.from_qr(item.qr)
    bad = _check(qr.qr_read_text(Evidence(qr_texts=("https://x.example/v/@@@",)), item.context()))
    assert (bad.status, bad.reason) == (Status.INVALID, ReasonCode.QR_MALFORMED)


def test_qr_read_image_says_take_it_again_unless_it_read_a_foreign_code() -> None:
    ctx = issued().context()
    problem = _check(qr.qr_read_image(Evidence(image_problem="not a readable image"), ctx))
    assert (problem.status, problem.reason) == (Status.ERROR, ReasonCode.QR_UNREADABLE)
    nothing = _check(qr.qr_read_image(Evidence(), ctx))
    assert (nothing.status, nothing.reason) == (Status.ERROR, ReasonCode.QR_UNREADABLE)
    stray = _check(qr.qr_read_image(Evidence(qr_texts=("083002",)), ctx))
    assert stray.status is Status.ERROR  # a few characters from fine print are no QR of ours
    foreign = _check(qr.qr_read_image(Evidence(qr_texts=("https://pay.example/x" * 3,)), ctx))
    assert (foreign.status, foreign.reason) == (Status.INVALID, ReasonCode.QR_MALFORMED)


def test_qr_signature_must_come_from_an_issuer_account() -> None:
    item = issued()
    evidence = _qr_evidence(item)
    assert qr.qr_signature(evidence, item.context()).status is Status.VALID
    forged = replace(item.qr, signature=b"").signed_by(Account.create())
    other = evidence.but(qr=forged)
    check = qr.qr_signature(other, item.context())
    assert (check.status, check.reason) == (Status.INVALID, ReasonCode.QR_SIGNATURE_INVALID)


def test_no_fresh_registry_data_is_an_error_never_invalid() -> None:
    item = issued()
    evidence = _qr_evidence(item)
    item.registry.fresh = False
    stale = qr.qr_signature(evidence, item.context())
    assert (stale.status, stale.reason) == (Status.ERROR, ReasonCode.CHAIN_UNAVAILABLE)
    item.registry.fresh, item.registry.disagreement = True, "2 of 3 nodes confirm"
    split = _check(registry.anchor_issuer(evidence, item.context()))
    assert (split.status, split.reason) == (Status.ERROR, ReasonCode.NODES_DISAGREE)


# ---------------------------------------------------------------- registry


def _registry_evidence(item: object) -> Evidence:
    evidence = _qr_evidence(item)
    found = registry.anchor_issuer(evidence, item.context())  # type: ignore[attr-defined]
    assert isinstance(found, Found)
    return found.evidence


def test_anchor_issuer_unknown_is_invalid() -> None:
    item = issued()
    evidence = _qr_evidence(item)
    item.registry.issuers.clear()
    check = _check(registry.anchor_issuer(evidence, item.context()))
    assert (check.status, check.reason) == (Status.INVALID, ReasonCode.ISSUER_UNKNOWN)


def test_anchor_included_valid_and_every_way_it_is_not() -> None:
    item = issued()
    evidence = _registry_evidence(item)
    found = registry.anchor_included(evidence, item.context())
    assert isinstance(found, Found)
    assert found.check.status is Status.VALID
    assert found.check.data["block"] == 5
    assert found.evidence.anchor is not None
    assert found.evidence.leaf_hash == item.record.leaf().hash()

    def reason(evidence: Evidence = evidence) -> ReasonCode | None:
        check = _check(registry.anchor_included(evidence, item.context()))
        assert check.status is Status.INVALID
        return check.reason

    # the QR says something else than what was anchored
    other = evidence.but(subject=replace(evidence.subject, claims_commitment=os.urandom(32)))
    assert reason(other) is ReasonCode.NOT_ANCHORED
    # a proof whose path does not lead to its root
    item.proofs.records[(ISSUER, item.record.certificate_id)] = replace(
        item.record, siblings=(os.urandom(32), *item.record.siblings[1:])
    )
    assert reason() is ReasonCode.PROOF_INVALID
    item.proofs.records[(ISSUER, item.record.certificate_id)] = item.record
    # the root was anchored only by another issuer (a copy): that is not this issuer's anchor
    anchor = item.registry.anchors.pop((ISSUER, item.record.root))
    item.registry.anchors[("ZJ-OTHER", item.record.root)] = replace(anchor, issuer_id="ZJ-OTHER")
    assert reason() is ReasonCode.NOT_ANCHORED
    # anchored by this issuer, but for another type
    item.registry.anchors[(ISSUER, item.record.root)] = replace(anchor, cert_type="DEGREE_CERT")
    assert reason() is ReasonCode.ANCHOR_MISMATCH
    # a copy beside the issuer's own anchor changes nothing
    item.registry.anchors[(ISSUER, item.record.root)] = anchor
    assert _check(registry.anchor_included(evidence, item.context())).status is Status.VALID
    del item.registry.anchors[(ISSUER, item.record.root)]
    assert reason() is ReasonCode.NOT_ANCHORED
    # no proof at all: why not, in the registry's words
    item.proofs.records.clear()
    assert reason() is ReasonCode.NOT_ANCHORED
    suspended = evidence.but(issuer=replace(evidence.issuer, status=IssuerStatus.SUSPENDED))
    assert reason(suspended) is ReasonCode.ISSUER_SUSPENDED
    no_type = evidence.but(issuer=replace(evidence.issuer, cert_types=()))
    assert reason(no_type) is ReasonCode.TYPE_NOT_AUTHORISED


def test_an_unreachable_proof_directory_is_an_error() -> None:
    item = issued()
    evidence = _registry_evidence(item)
    item.proofs.fail_with = ProofUnavailable("proof directory http://zj unreachable")
    report = run(plans.QR, Evidence(qr_texts=(item.qr.encode(),)), item.context())
    check = report.check(CheckName.ANCHOR_INCLUDED)
    assert check is not None
    assert (check.status, check.reason) == (Status.ERROR, ReasonCode.PROOF_UNAVAILABLE)
    assert report.verdict is Verdict.INDETERMINATE
    assert evidence.record is None


def _anchored(item: object) -> Evidence:
    found = registry.anchor_included(_registry_evidence(item), item.context())  # type: ignore[attr-defined]
    assert isinstance(found, Found)
    return found.evidence


def test_revocation_of_the_certificate_or_its_batch() -> None:
    item = issued()
    evidence = _anchored(item)
    assert status.not_revoked(evidence, item.context()).status is Status.VALID
    revoked_leaf(item)
    one = status.not_revoked(evidence, item.context())
    assert (one.status, one.reason) == (Status.INVALID, ReasonCode.REVOKED)
    assert one.data["reason"] == "KEY_COMPROMISE"
    item.registry.root_revocations[(ISSUER, item.record.root)] = Revocation(
        RevocationReason.ISSUED_IN_ERROR, 10, NOW
    )
    batch = status.not_revoked(evidence, item.context())
    assert batch.reason is ReasonCode.BATCH_REVOKED


def test_validity_period() -> None:
    item = issued(days=60)
    evidence = _anchored(item)
    assert status.within_validity(evidence, item.context()).status is Status.VALID
    later = status.within_validity(evidence, item.context(now=NOW + timedelta(days=31)))
    assert (later.status, later.reason) == (Status.INVALID, ReasonCode.EXPIRED)
    early = status.within_validity(evidence, item.context(now=NOW - timedelta(days=31)))
    assert early.reason is ReasonCode.NOT_YET_VALID


def test_recognition_follows_the_agreements() -> None:
    item = issued()
    evidence = _anchored(item)
    assert recognition.recognised_here(evidence, item.context("ZJ")).status is Status.VALID
    gd = recognition.recognised_here(evidence, item.context("GD"))
    assert (gd.status, gd.reason) == (Status.INVALID, ReasonCode.NOT_RECOGNISED)
    assert gd.data == {
        "verifying": "GD",
        "issuing": "ZJ",
        "cert_type": "BUSINESS_LICENCE",
        "verifying_name": "GD",  # not a province this registry knows
        "issuing_name": "浙江省",
    }
    item.registry.recognitions.add(("GD", "ZJ", "BUSINESS_LICENCE"))
    assert recognition.recognised_here(evidence, item.context("GD")).status is Status.VALID


# ---------------------------------------------------------------- the runner


def test_a_genuine_qr_is_valid_with_every_check_of_its_plan() -> None:
    item = issued()
    report = run(plans.QR, Evidence(qr_texts=(item.qr.encode(),)), item.context())
    assert report.verdict is Verdict.VALID, report.to_json("en")
    assert tuple(c.name for c in report.checks) == plans.QR.names
    assert report.certificate.certificate_id == item.record.certificate_id
    assert report.certificate.issuer_name == "浙江省市场监督管理局"
    skipped = report.check(CheckName.SEAL_REGISTERED)
    assert skipped is not None
    assert (skipped.status, skipped.reason) == (Status.SKIPPED, ReasonCode.NOT_APPLICABLE)


@pytest.mark.parametrize("kind", sorted(plans.PLANS))
def test_every_report_of_a_kind_carries_its_plan_whatever_happens(kind: str) -> None:
    plan = plans.PLANS[kind]  # type: ignore[index]
    item = issued()
    inputs = {
        "pdf": Evidence(pdf=b"%PDF-1.7 truncated"),
        "ofd": Evidence(ofd=b"PK\x03\x04 truncated"),
        "image": Evidence(image_problem="no QR code found"),
        "qr": Evidence(qr_texts=("nonsense",)),
        "id": Evidence(subject=Subject(ISSUER, "2027BL99999999")),  # never issued
        "presentation": Evidence(presentation_text="ECP1.@@@"),
    }
    for broken in (False, True):
        item.registry.fail_with = NodeUnavailable("502 Bad Gateway") if broken else None
        report = run(plan, inputs[kind], item.context())
        assert tuple(c.name for c in report.checks) == plan.names
        assert report.verdict is not Verdict.VALID
        for check in report.checks:
            if check.status is Status.SKIPPED and check.reason is ReasonCode.PREREQUISITE_FAILED:
                assert check.data["needs"] in {n.value for n in plan.names}


def test_an_exception_inside_a_check_is_an_error_and_its_dependants_are_skipped() -> None:
    item = issued()

    def crashing(_evidence: Evidence, _ctx: object) -> Check:
        raise RuntimeError("library bug with personal data 张三")

    steps = tuple(
        Step(s.name, crashing, s.needs) if s.name is CheckName.ANCHOR_INCLUDED else s
        for s in plans.QR.steps
    )
    report = run(Plan(plans.QR.kind, steps), Evidence(qr_texts=(item.qr.encode(),)), item.context())
    crashed = report.check(CheckName.ANCHOR_INCLUDED)
    assert crashed is not None
    assert (crashed.status, crashed.reason) == (Status.ERROR, ReasonCode.UNEXPECTED)
    assert "张三" not in crashed.detail  # the message may quote the certificate: not repeated
    assert report.verdict is Verdict.INDETERMINATE
    for name in (CheckName.STATUS_NOT_REVOKED, CheckName.STATUS_VALIDITY, CheckName.RECOGNITION):
        dependant = report.check(name)
        assert dependant is not None
        assert dependant.status is Status.SKIPPED
        assert dependant.data == {"needs": "anchor.included"}


def test_the_node_failing_mid_verification_is_chain_unavailable() -> None:
    item = issued()
    item.registry.fail_with = NodeUnavailable("block number: node unreachable (HTTPError)")
    report = run(plans.QR, Evidence(qr_texts=(item.qr.encode(),)), item.context())
    assert report.verdict is Verdict.INDETERMINATE
    assert {c.reason for c in report.failures()} == {ReasonCode.CHAIN_UNAVAILABLE}


def test_would_block_passes_through_for_a_retry_off_the_event_loop() -> None:
    item = issued()
    item.proofs.fail_with = WouldBlock("proof not cached")
    with pytest.raises(WouldBlock):
        run(plans.QR, Evidence(qr_texts=(item.qr.encode(),)), item.context())


def test_a_check_answering_for_another_is_unexpected() -> None:
    item = issued()

    def liar(_evidence: Evidence, _ctx: object) -> Check:
        return Check(CheckName.RECOGNITION, Status.VALID)

    plan = Plan(plans.ID.kind, (Step(CheckName.ANCHOR_ISSUER, liar),))
    report = run(plan, Evidence(subject=Subject(ISSUER, "x")), item.context())
    assert report.checks[0].name is CheckName.ANCHOR_ISSUER
    assert report.checks[0].reason is ReasonCode.UNEXPECTED


def test_a_plan_refuses_a_prerequisite_that_comes_later() -> None:
    with pytest.raises(ValueError, match="earlier in the plan"):
        Plan(
            plans.ID.kind,
            (
                Step(
                    CheckName.STATUS_VALIDITY, status.within_validity, (CheckName.ANCHOR_INCLUDED,)
                ),
                Step(CheckName.ANCHOR_INCLUDED, registry.anchor_included),
            ),
        )


def test_a_seal_revoked_from_a_time_invalidates_what_came_later_only() -> None:
    from ledger.records import CaDistrust, SealRevocation  # noqa: PLC0415
    from tests.verifier.fake import SEAL, SEAL_CA  # noqa: PLC0415
    from verifier.checks import sealstatus  # noqa: PLC0415

    item = issued()
    evidence = _anchored(item)
    anchored_at = item.registry.anchors[(ISSUER, item.record.root)].timestamp
    assert sealstatus.seal_standing(evidence, item.context()).status is Status.VALID

    def revoke(at: object) -> None:
        item.registry.seal_revocations[SEAL] = SealRevocation(
            SEAL,
            ISSUER,
            at,
            RevocationReason.KEY_COMPROMISE,
            9,
            NOW,  # type: ignore[arg-type]
        )

    revoke(anchored_at + timedelta(seconds=1))  # compromised after: stays valid, says so
    later = sealstatus.seal_standing(evidence, item.context())
    assert later.status is Status.VALID
    assert later.data["seal_revoked_from"]
    revoke(anchored_at)  # at or before its time of existence: invalid
    check = sealstatus.seal_standing(evidence, item.context())
    assert (check.status, check.reason) == (Status.INVALID, ReasonCode.SEAL_REVOKED)

    item.registry.seal_revocations.clear()
    item.registry.ca_distrusts[SEAL_CA] = CaDistrust(
        SEAL_CA, "ZJ", anchored_at - timedelta(days=1), RevocationReason.KEY_COMPROMISE, 9, NOW
    )
    distrusted = sealstatus.seal_standing(evidence, item.context())
    assert (distrusted.status, distrusted.reason) == (Status.INVALID, ReasonCode.CA_DISTRUSTED)
    report = run(plans.QR, Evidence(qr_texts=(item.qr.encode(),)), item.context())
    assert report.verdict is Verdict.INVALID
    assert {c.reason for c in report.failures()} == {ReasonCode.CA_DISTRUSTED}
