"""Verifying a certificate from its PDF, its OFD, a photo or scan of its QR code, the QR text,
its number, or a holder's presentation: each input becomes its first evidence and runs through
its plan (``verifier.plans``); the runner never raises (anything unexpected becomes an ERROR
check), and the verdict is derived from the checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from asn1crypto import x509 as asn1_x509

from ledger.ofd import is_ofd
from ledger.presentation import is_presentation
from verifier import plans
from verifier.chainview import ChainView
from verifier.context import Context
from verifier.document import read_image_qr
from verifier.errors import ReportUnavailable
from verifier.evidence import Evidence, Subject
from verifier.nonces import NonceBook
from verifier.proofs import ProofDirectory
from verifier.report import ReportSealer, render_report
from verifier.result import VerificationReport
from verifier.runner import Plan, run
from verifier.sm2trust import Sm2TrustList

__all__ = ["MAX_PRESENTATION_TTL_S", "Verifier"]

MAX_PRESENTATION_TTL_S = 15 * 60.0


class Verifier:
    """Verifies certificates for one province (``region``)."""

    def __init__(
        self,
        region: str,
        chain: ChainView,
        proofs: ProofDirectory,
        trust_roots: Sequence[asn1_x509.Certificate],
        nonces: NonceBook | None = None,
        *,
        report_sealer: ReportSealer | None = None,
        public_url: str | None = None,
        sm2_trust_roots: Sequence[asn1_x509.Certificate] = (),
    ) -> None:
        self.region = region
        self.chain = chain
        self.proofs = proofs
        self.trust_roots = tuple(trust_roots)
        self.nonces = nonces or NonceBook()
        self.report_sealer = report_sealer
        """Seals verification reports with this province's e-seal (``None``: none made)."""
        self.public_url = public_url
        """Where this verifier's pages are served (for QR codes on reports made offline)."""
        self.sm2_trust = Sm2TrustList(sm2_trust_roots)
        """The SM2 roots and province CAs OFD e-seals are judged against."""

    def _run(
        self,
        plan: Plan,
        evidence: Evidence,
        now: datetime | None,
        local_only: bool = False,
        region: str | None = None,
    ) -> VerificationReport:
        ctx = Context(
            region=region or self.region,
            registry=self.chain,
            proofs=self.proofs,
            trust_roots=self.trust_roots,
            nonces=self.nonces,
            now=now or datetime.now(UTC),
            local_only=local_only,
            max_presentation_ttl=MAX_PRESENTATION_TTL_S,
            require_nonce=self.nonces.policy.required,
            sm2_trust=self.sm2_trust,
        )
        return run(plan, evidence, ctx)

    def verify_pdf(self, data: bytes, *, now: datetime | None = None) -> VerificationReport:
        return self._run(plans.PDF, Evidence(pdf=data), now)

    def verify_ofd(self, data: bytes, *, now: datetime | None = None) -> VerificationReport:
        """An OFD certificate (GB/T 33190) sealed with an SM2 e-seal (GB/T 38540)."""
        return self._run(plans.OFD, Evidence(ofd=data), now)

    def verify_file(self, data: bytes, *, now: datetime | None = None) -> VerificationReport:
        """A file of unknown kind: a PDF (``%PDF-``), an OFD (a ZIP with ``OFD.xml``), else a
        photo or scan of a QR code."""
        if data.lstrip()[:5] == b"%PDF-":
            return self.verify_pdf(data, now=now)
        if is_ofd(data):
            return self.verify_ofd(data, now=now)
        return self.verify_image(data, now=now)

    def verify_image(self, data: bytes, *, now: datetime | None = None) -> VerificationReport:
        """A photo or scan of a certificate's QR code, or of a holder's presentation."""
        texts, problem = read_image_qr(data)
        shown = next((t for t in texts if is_presentation(t)), None)
        if shown is not None:
            return self.verify_presentation(shown, now=now)
        return self._run(plans.IMAGE, Evidence(qr_texts=texts, image_problem=problem), now)

    def verify_qr_text(
        self,
        text: str,
        *,
        now: datetime | None = None,
        local_only: bool = False,
        region: str | None = None,
    ) -> VerificationReport:
        """``local_only``: answer only from memory, the index and local files, raising
        ``WouldBlock`` where the network would be needed (so an event loop may call it).
        A holder's presentation (``ECP2.…``; an older ``ECP1.…`` is refused as one) is verified
        as one. ``region``: judge recognition for that province instead of this verifier's (the
        visitor's province on a QR page; agreements are public registry data)."""
        if is_presentation(text):
            return self.verify_presentation(text, now=now, local_only=local_only, region=region)
        return self._run(plans.QR, Evidence(qr_texts=(text,)), now, local_only, region)

    def verify_presentation(
        self,
        text: str,
        *,
        now: datetime | None = None,
        local_only: bool = False,
        region: str | None = None,
    ) -> VerificationReport:
        """A holder's presentation, checked against the chain from the proof it carries (no
        proof directory is asked, so nobody learns where it was shown); its nonce is used
        once, last."""
        evidence = Evidence(presentation_text=text)
        return self._run(plans.PRESENTATION, evidence, now, local_only, region)

    def report_pdf(
        self, report: VerificationReport, *, lang: str = "zh", verify_url: str | None = None
    ) -> bytes:
        """The sealed verification report of ``report``; ``ReportUnavailable`` if this
        verifier has no report seal."""
        if self.report_sealer is None:
            raise ReportUnavailable("this verifier has no e-seal to seal reports with")
        return self.report_sealer.seal(render_report(report, lang=lang, verify_url=verify_url))

    def verify_id(
        self, issuer_id: str, certificate_id: str, *, now: datetime | None = None
    ) -> VerificationReport:
        subject = Subject(issuer_id=issuer_id, certificate_id=certificate_id)
        return self._run(plans.ID, Evidence(subject=subject), now)
