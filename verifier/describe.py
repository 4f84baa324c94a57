"""What a report shows of the certificate: its type, number, issuer and validity, and its fields
(all of them from a PDF, only the shown ones from a presentation)."""

from __future__ import annotations

from collections.abc import Mapping

from ledger.catalogue import catalogue
from ledger.errors import LedgerError
from verifier.context import Context
from verifier.evidence import Evidence
from verifier.views import CertificateView, FieldView, PresentationView

__all__ = ["describe", "field_views"]


def field_views(cert_type: str | None, claims: Mapping[str, str]) -> tuple[FieldView, ...]:
    """Fields in the catalogue's order with their labels; unknown types keep their keys."""
    spec = catalogue().get(cert_type or "")
    if spec is None:
        return tuple(FieldView(k, k, k, v) for k, v in claims.items())
    return tuple(
        FieldView(f.key, f.label_zh, f.label_en, claims[f.key])
        for f in spec.fields
        if f.key in claims
    )


def _own_qr(evidence: Evidence) -> str | None:
    """The certificate's QR payload, if the one read is this certificate's (a page may carry
    another's)."""
    qr, subject = evidence.qr, evidence.subject
    if qr is None or subject is None or not qr.signature:
        return None
    if (qr.issuer_id, qr.certificate_id) != (subject.issuer_id, subject.certificate_id):
        return None
    return qr.encode()


def describe(evidence: Evidence, ctx: Context) -> CertificateView:
    subject = evidence.subject
    if subject is None:
        return CertificateView()
    issuer = evidence.issuer
    if issuer is None and ctx.registry.usable():
        try:
            issuer = ctx.registry.issuer(subject.issuer_id)
        except LedgerError:
            issuer = None
    spec = catalogue().get(subject.cert_type or "")
    fields: tuple[FieldView, ...] = ()
    shown = None
    if evidence.embedded is not None:
        fields = field_views(subject.cert_type, evidence.embedded.claims)
    elif evidence.presentation is not None:
        presentation = evidence.presentation
        disclosed = presentation.disclosed
        fields = field_views(subject.cert_type, disclosed)
        shown = PresentationView(
            expires_at=presentation.expires_at.isoformat(),
            seconds_left=max(0, int((presentation.expires_at - ctx.now).total_seconds())),
            disclosed=tuple(disclosed),
        )
    return CertificateView(
        issuer_id=subject.issuer_id,
        issuer_name=issuer.name if issuer else None,
        province=issuer.province if issuer else None,
        cert_type=subject.cert_type,
        type_name_zh=spec.name_zh if spec else None,
        type_name_en=spec.name_en if spec else None,
        certificate_id=subject.certificate_id,
        valid_from=subject.valid_from.isoformat() if subject.valid_from else None,
        valid_until=subject.valid_until.isoformat() if subject.valid_until else None,
        fields=fields,
        presentation=shown,
        qr=_own_qr(evidence),
    )
