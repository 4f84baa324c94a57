"""Which checks each input kind gets, in which order, and what each needs. A report of one input
kind always carries exactly these names (``Plan.names``), whatever happened."""

from __future__ import annotations

from verifier.checks import (
    document,
    ofd,
    presentation,
    qr,
    recognition,
    registry,
    seal,
    sealstatus,
    sm2seal,
    status,
)
from verifier.names import CheckName as N
from verifier.runner import Plan, Step
from verifier.views import InputKind

__all__ = ["PLANS", "plan_for"]


def _registry(after: N | None, *, document_seal: bool = False) -> tuple[Step, ...]:
    """The registry checks, once ``after`` (what made the subject known) has passed. With a
    document, ``seal.status`` is left for after the seal checks (it needs the time of
    existence they find)."""
    entry = (after,) if after else ()
    seal_needs = (N.ANCHOR_INCLUDED, N.SEAL_PRESENT) if document_seal else (N.ANCHOR_INCLUDED,)
    standing = () if document_seal else (_standing(),)
    return (
        Step(N.ANCHOR_ISSUER, registry.anchor_issuer, entry),
        Step(N.ANCHOR_INCLUDED, registry.anchor_included, (N.ANCHOR_ISSUER,)),
        Step(N.SEAL_REGISTERED, registry.seal_registered, seal_needs),
        *standing,
        Step(N.STATUS_NOT_REVOKED, status.not_revoked, (N.ANCHOR_INCLUDED,)),
        Step(N.STATUS_VALIDITY, status.within_validity, (N.ANCHOR_INCLUDED,)),
        Step(N.RECOGNITION, recognition.recognised_here, (N.ANCHOR_INCLUDED,)),
    )


def _standing(*needs: N) -> Step:
    return Step(N.SEAL_STATUS, sealstatus.seal_standing, (N.ANCHOR_INCLUDED, *needs))


_REGISTRY_NAMES = tuple(step.name for step in _registry(None))
"""The registry checks in report order, last in every report that has them."""


PDF = Plan(
    InputKind.PDF,
    (
        Step(N.DOCUMENT_FORMAT, document.document_format),
        Step(N.SEAL_PRESENT, seal.seal_present, (N.DOCUMENT_FORMAT,)),
        Step(N.DOCUMENT_CLAIMS, document.document_claims, (N.DOCUMENT_FORMAT,)),
        Step(N.QR_MATCHES_DOCUMENT, qr.qr_matches_document, (N.DOCUMENT_CLAIMS,)),
        Step(N.QR_SIGNATURE, qr.qr_signature, (N.QR_MATCHES_DOCUMENT,)),
        *_registry(N.DOCUMENT_CLAIMS, document_seal=True),
        # after the anchor: the seal is judged at the certificate's time of existence
        Step(N.SEAL_INTACT, seal.seal_intact, (N.SEAL_PRESENT,)),
        Step(N.SEAL_UNMODIFIED, seal.seal_unmodified, (N.SEAL_INTACT,)),
        Step(N.SEAL_TRUSTED, seal.seal_trusted, (N.SEAL_INTACT,)),
        Step(N.SEAL_KEY_USAGE, seal.seal_key_usage, (N.SEAL_PRESENT,)),
        Step(N.SEAL_TIMESTAMP, seal.seal_timestamp, (N.SEAL_INTACT,)),
        _standing(N.SEAL_PRESENT),
    ),
    order=(
        N.DOCUMENT_FORMAT,
        N.SEAL_PRESENT,
        N.SEAL_INTACT,
        N.SEAL_UNMODIFIED,
        N.SEAL_TRUSTED,
        N.SEAL_KEY_USAGE,
        N.SEAL_TIMESTAMP,
        N.DOCUMENT_CLAIMS,
        N.QR_MATCHES_DOCUMENT,
        N.QR_SIGNATURE,
        *_REGISTRY_NAMES,
    ),
)

OFD = Plan(
    InputKind.OFD,
    (
        Step(N.DOCUMENT_FORMAT, ofd.ofd_format),
        Step(N.OFD_STRUCTURE, ofd.ofd_structure, (N.DOCUMENT_FORMAT,)),
        Step(N.SEAL_PRESENT, sm2seal.sm2_seal_present, (N.OFD_STRUCTURE,)),
        Step(N.OFD_REFERENCES, sm2seal.ofd_references, (N.SEAL_PRESENT,)),
        Step(N.OFD_SIGNATURE, sm2seal.ofd_signature, (N.SEAL_PRESENT,)),
        Step(N.SEAL_KEY_USAGE, sm2seal.sm2_key_usage, (N.SEAL_PRESENT,)),
        Step(N.DOCUMENT_CLAIMS, ofd.ofd_claims, (N.OFD_STRUCTURE,)),
        Step(N.OFD_ESEAL, sm2seal.eseal_genuine, (N.SEAL_PRESENT, N.DOCUMENT_CLAIMS)),
        Step(N.QR_MATCHES_DOCUMENT, qr.qr_matches_ofd, (N.DOCUMENT_CLAIMS,)),
        Step(N.QR_SIGNATURE, qr.qr_signature, (N.QR_MATCHES_DOCUMENT,)),
        Step(N.ANCHOR_ISSUER, registry.anchor_issuer, (N.DOCUMENT_CLAIMS,)),
        Step(N.ANCHOR_INCLUDED, registry.anchor_included, (N.ANCHOR_ISSUER,)),
        Step(N.SEAL_REGISTERED, sm2seal.ofd_seal_registered, (N.ANCHOR_INCLUDED,)),
        Step(N.SEAL_STATUS, sm2seal.ofd_seal_standing, (N.ANCHOR_INCLUDED,)),
        Step(N.STATUS_NOT_REVOKED, status.not_revoked, (N.ANCHOR_INCLUDED,)),
        Step(N.STATUS_VALIDITY, status.within_validity, (N.ANCHOR_INCLUDED,)),
        Step(N.RECOGNITION, recognition.recognised_here, (N.ANCHOR_INCLUDED,)),
        # after the anchor: the seal is judged at the certificate's time of existence
        Step(N.SEAL_TRUSTED, sm2seal.sm2_seal_trusted, (N.OFD_SIGNATURE,)),
        Step(N.OFD_ESEAL_VALIDITY, sm2seal.eseal_validity, (N.OFD_ESEAL,)),
    ),
    order=(
        N.DOCUMENT_FORMAT,
        N.OFD_STRUCTURE,
        N.SEAL_PRESENT,
        N.OFD_REFERENCES,
        N.OFD_SIGNATURE,
        N.OFD_ESEAL,
        N.SEAL_TRUSTED,
        N.SEAL_KEY_USAGE,
        N.OFD_ESEAL_VALIDITY,
        N.DOCUMENT_CLAIMS,
        N.QR_MATCHES_DOCUMENT,
        N.QR_SIGNATURE,
        *_REGISTRY_NAMES,
    ),
)

IMAGE = Plan(
    InputKind.IMAGE,
    (
        Step(N.QR_READ, qr.qr_read_image),
        Step(N.QR_SIGNATURE, qr.qr_signature, (N.QR_READ,)),
        *_registry(N.QR_READ),
    ),
)

QR = Plan(
    InputKind.QR,
    (
        Step(N.QR_READ, qr.qr_read_text),
        Step(N.QR_SIGNATURE, qr.qr_signature, (N.QR_READ,)),
        *_registry(N.QR_READ),
    ),
)

ID = Plan(InputKind.ID, _registry(None))

PRESENTATION = Plan(
    InputKind.PRESENTATION,
    (
        Step(N.PRESENTATION_READ, presentation.presentation_read),
        Step(N.PRESENTATION_FRESH, presentation.presentation_fresh, (N.PRESENTATION_READ,)),
        # the signer's account is the holder claim's value: the claims are combined with it
        Step(N.PRESENTATION_HOLDER, presentation.presentation_holder, (N.PRESENTATION_READ,)),
        Step(N.PRESENTATION_CLAIMS, presentation.presentation_claims, (N.PRESENTATION_HOLDER,)),
        # the leaf is known once the claims made its commitment
        *_registry(N.PRESENTATION_CLAIMS),
        # last: a run repeated after WouldBlock must not have used the nonce up
        Step(N.PRESENTATION_NONCE, presentation.presentation_nonce, (N.PRESENTATION_READ,)),
    ),
    order=(
        N.PRESENTATION_READ,
        N.PRESENTATION_FRESH,
        N.PRESENTATION_CLAIMS,
        N.PRESENTATION_HOLDER,
        *_REGISTRY_NAMES,
        N.PRESENTATION_NONCE,
    ),
)

PLANS: dict[InputKind, Plan] = {p.kind: p for p in (PDF, OFD, IMAGE, QR, ID, PRESENTATION)}


def plan_for(kind: InputKind) -> Plan:
    return PLANS[kind]
