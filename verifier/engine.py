"""Verifying a certificate from its PDF, a photo or scan of its QR code, the QR text, or its
number: a list of checks, each a small step that never raises (anything unexpected becomes an
ERROR check with reason UNEXPECTED), and a verdict derived from them."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature, validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from ledger.catalogue import catalogue
from ledger.claims import ClaimsCommitment
from ledger.digest import certificate_fingerprint
from ledger.errors import LedgerError, MerkleError, NodeUnavailable
from ledger.leaf import CertificateLeaf, hash_encoded_leaf
from ledger.merkle import verify_proof
from ledger.presentation import HOLDER_CLAIM, Presentation, PresentationError, is_presentation
from ledger.proofrecord import ProofRecord
from ledger.qrpayload import QrPayload, QrPayloadError, decode_qr_text
from verifier.chainview import ChainView
from verifier.document import EmbeddedClaims, decode_qr_image, page_qr_text, read_embedded_claims
from verifier.errors import WouldBlock
from verifier.nonces import NonceBook, NonceState
from verifier.proofs import ProofDirectory, ProofUnavailable
from verifier.reasons import ReasonCode
from verifier.result import Check, Status, VerificationReport
from verifier.sealcheck import seal_checks

__all__ = ["MAX_PRESENTATION_TTL_S", "Verifier"]

MAX_PDF_BYTES = 10 * 1024 * 1024
REGISTRY_CHECKS = (
    "anchor.included",
    "anchor.issuer",
    "seal.registered",
    "status.not_revoked",
    "status.validity",
    "recognition",
)
MAX_IMAGE_BYTES = 15 * 1024 * 1024
MAX_PRESENTATION_TTL_S = 15 * 60.0


def _skipped(name: str, why: str) -> Check:
    return Check(name, Status.SKIPPED, ReasonCode.NOT_APPLICABLE, detail=why)


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class _Subject:
    """What is being verified, gathered from whichever input there was."""

    issuer_id: str
    cert_type: str
    certificate_id: str
    claims_commitment: bytes | None = None
    document_digest: bytes | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    seal_fingerprint: bytes | None = None


class Verifier:
    """Verifies certificates for one province (``region``)."""

    def __init__(
        self,
        region: str,
        chain: ChainView,
        proofs: ProofDirectory,
        trust_roots: Sequence[asn1_x509.Certificate],
        nonces: NonceBook | None = None,
    ) -> None:
        self.region = region
        self.chain = chain
        self.proofs = proofs
        self.trust_roots = list(trust_roots)
        self.nonces = nonces or NonceBook()

    # ================================================================== inputs

    def verify_pdf(self, data: bytes, *, now: datetime | None = None) -> VerificationReport:
        reader, early = self._open_pdf(data)
        if reader is None:
            return self._report(early, "pdf", {})
        status = self._guard_status(
            lambda: (
                validate_pdf_signature(reader.embedded_signatures[0], self._context())
                if reader.embedded_signatures
                else None
            )
        )
        return self._finish_pdf(data, reader, status, now)

    async def averify_pdf(self, data: bytes, *, now: datetime | None = None) -> VerificationReport:
        """``verify_pdf`` for event loops (pyHanko's sync validation refuses to run there)."""
        reader, early = self._open_pdf(data)
        if reader is None:
            return self._report(early, "pdf", {})
        status: PdfSignatureStatus | Check | None
        try:
            status = (
                await async_validate_pdf_signature(reader.embedded_signatures[0], self._context())
                if reader.embedded_signatures
                else None
            )
        except Exception as exc:
            status = Check("seal.intact", Status.INVALID, ReasonCode.SEAL_BROKEN, detail=str(exc))
        return self._finish_pdf(data, reader, status, now)

    def verify_image(self, data: bytes, *, now: datetime | None = None) -> VerificationReport:
        if len(data) > MAX_IMAGE_BYTES:
            return self._report(
                [Check("qr.read", Status.INVALID, ReasonCode.QR_MISSING, detail="image too large")],
                "image",
                {},
            )
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
            texts = decode_qr_image(image)
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            return self._report(
                [
                    Check(
                        "qr.read",
                        Status.INVALID,
                        ReasonCode.QR_MISSING,
                        detail=f"not a readable image: {exc}",
                    )
                ],
                "image",
                {},
            )
        if not texts:
            return self._report(
                [Check("qr.read", Status.INVALID, ReasonCode.QR_MISSING)], "image", {}
            )
        return self.verify_qr_text(texts[0], now=now, input_kind="image")

    def verify_qr_text(
        self,
        text: str,
        *,
        now: datetime | None = None,
        input_kind: str = "qr",
        local_only: bool = False,
    ) -> VerificationReport:
        """``local_only``: answer only from memory, the index and local files, raising
        ``WouldBlock`` where the network would be needed (so an event loop may call it).
        A holder's presentation (``ECP1.…``) is verified as one."""
        if is_presentation(text):
            return self.verify_presentation(text, now=now, local_only=local_only)
        try:
            payload = decode_qr_text(text)
        except QrPayloadError as exc:
            return self._report(
                [Check("qr.read", Status.INVALID, ReasonCode.QR_MALFORMED, detail=str(exc))],
                input_kind,
                {},
            )
        subject = _Subject(
            payload.issuer_id,
            payload.cert_type,
            payload.certificate_id,
            payload.claims_commitment,
            None,
            payload.valid_from,
            payload.valid_until,
        )
        checks = [
            Check("qr.read", Status.VALID),
            _skipped("seal.present", "no document: the QR code alone was checked"),
        ]
        checks.append(self._qr_signature(payload))
        checks += self._registry_checks(subject, now, from_document=False, local_only=local_only)
        return self._report(checks, input_kind, self._describe(subject))

    def verify_presentation(
        self, text: str, *, now: datetime | None = None, local_only: bool = False
    ) -> VerificationReport:
        """A holder's presentation: expiry, holder signature, each shown field against the
        claims commitment, the certificate against the chain (from the proof it carries — no
        directory is asked, so nobody learns where it was shown), then its nonce, used once."""
        now = now or datetime.now(UTC)
        try:
            shown = Presentation.decode(text)
        except PresentationError as exc:
            malformed = Check(
                "presentation.read",
                Status.INVALID,
                ReasonCode.PRESENTATION_MALFORMED,
                detail=str(exc),
            )
            return self._report([malformed], "presentation", {})
        record = shown.record
        checks = [
            Check("presentation.read", Status.VALID),
            _skipped("seal.present", "a presentation carries no document"),
            self._presentation_time(shown, now),
        ]
        foreign = [c.key for c in shown.claims if not c.verify(record.claims_commitment)]
        checks.append(
            Check(
                "presentation.claims",
                Status.INVALID,
                ReasonCode.CLAIM_NOT_IN_CERTIFICATE,
                detail=", ".join(foreign),
            )
            if foreign
            else Check("presentation.claims", Status.VALID)
        )
        checks.append(self._holder(shown, foreign))
        subject = _Subject(
            record.issuer_id,
            record.cert_type,
            record.certificate_id,
            record.claims_commitment,
            record.document_digest,
            record.valid_from,
            record.valid_until,
        )
        checks += self._registry_checks(
            subject, now, from_document=False, local_only=local_only, record=record
        )
        checks.append(self._nonce(shown))  # last: a retry after WouldBlock must not burn it
        description = self._describe(subject)
        description["fields"] = self._fields(
            record.cert_type, {c.key: c.value for c in shown.claims if c.key != HOLDER_CLAIM}
        )
        description["presentation"] = {
            "expires_at": shown.expires_at.isoformat(),
            "seconds_left": max(0, int((shown.expires_at - now).total_seconds())),
            "disclosed": [c.key for c in shown.claims if c.key != HOLDER_CLAIM],
        }
        return self._report(checks, "presentation", description)

    @staticmethod
    def _presentation_time(shown: Presentation, now: datetime) -> Check:
        left = (shown.expires_at - now).total_seconds()
        if left < 0:
            return Check(
                "presentation.fresh",
                Status.INVALID,
                ReasonCode.PRESENTATION_EXPIRED,
                detail=f"expired {int(-left)} s ago",
            )
        if left > MAX_PRESENTATION_TTL_S:
            return Check(
                "presentation.fresh",
                Status.INVALID,
                ReasonCode.PRESENTATION_TOO_LONG,
                detail=f"valid for {int(left)} s; at most {int(MAX_PRESENTATION_TTL_S)} s",
            )
        return Check("presentation.fresh", Status.VALID, data={"seconds_left": int(left)})

    @staticmethod
    def _holder(shown: Presentation, foreign: list[str]) -> Check:
        holder = shown.holder_claim()
        if holder is None:
            return Check("presentation.holder", Status.INVALID, ReasonCode.HOLDER_NOT_BOUND)
        try:
            signer = shown.signer()
        except PresentationError as exc:
            return Check(
                "presentation.holder", Status.INVALID, ReasonCode.HOLDER_MISMATCH, detail=str(exc)
            )
        if HOLDER_CLAIM in foreign or signer != holder.value:
            return Check(
                "presentation.holder",
                Status.INVALID,
                ReasonCode.HOLDER_MISMATCH,
                detail=f"signed by {signer}",
            )
        return Check("presentation.holder", Status.VALID, data={"holder": signer})

    def _nonce(self, shown: Presentation) -> Check:
        if not shown.nonce:
            return _skipped("presentation.nonce", "no nonce: only the expiry limits reuse")
        state = self.nonces.consume(shown.nonce)
        if state is NonceState.FRESH:
            return Check("presentation.nonce", Status.VALID)
        reason = (
            ReasonCode.PRESENTATION_REPLAYED
            if state is NonceState.REPLAYED
            else ReasonCode.NONCE_UNKNOWN
        )
        return Check("presentation.nonce", Status.INVALID, reason)

    def verify_id(
        self, issuer_id: str, certificate_id: str, *, now: datetime | None = None
    ) -> VerificationReport:
        subject = _Subject(issuer_id, "", certificate_id)
        checks = [_skipped("seal.present", "no document: the certificate number was checked")]
        checks += self._registry_checks(subject, now, from_document=False)
        return self._report(checks, "id", self._describe(subject))

    # ================================================================== PDF

    def _open_pdf(self, data: bytes) -> tuple[PdfFileReader | None, list[Check]]:
        if len(data) > MAX_PDF_BYTES:
            return None, [
                Check(
                    "document.format",
                    Status.INVALID,
                    ReasonCode.NOT_A_PDF,
                    detail="larger than 10 MB",
                )
            ]
        if data.lstrip()[:5] != b"%PDF-":
            return None, [Check("document.format", Status.INVALID, ReasonCode.NOT_A_PDF)]
        try:
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            _ = reader.embedded_signatures
        except (PdfReadError, ValueError, KeyError, TypeError, IndexError) as exc:
            return None, [
                Check(
                    "document.format", Status.INVALID, ReasonCode.NOT_A_PDF, detail=str(exc)[:200]
                )
            ]
        return reader, []

    def _context(self) -> ValidationContext:
        return ValidationContext(trust_roots=self.trust_roots, allow_fetching=False)

    @staticmethod
    def _guard_status(
        run: Callable[[], PdfSignatureStatus | None],
    ) -> PdfSignatureStatus | Check | None:
        try:
            return run()
        except Exception as exc:
            return Check("seal.intact", Status.INVALID, ReasonCode.SEAL_BROKEN, detail=str(exc))

    def _finish_pdf(
        self,
        data: bytes,
        reader: PdfFileReader,
        status: PdfSignatureStatus | Check | None,
        now: datetime | None,
    ) -> VerificationReport:
        checks: list[Check] = [Check("document.format", Status.VALID)]
        fingerprint = None
        if status is None:
            checks.append(Check("seal.present", Status.INVALID, ReasonCode.SEAL_MISSING))
        elif isinstance(status, Check):
            checks.append(status)
        else:
            checks += seal_checks(status, have_trust_roots=bool(self.trust_roots))
            fingerprint = certificate_fingerprint(status.signing_cert.dump())
        embedded = read_embedded_claims(reader)
        if embedded is None:
            checks.append(Check("document.claims", Status.INVALID, ReasonCode.DOCUMENT_NO_CLAIMS))
            return self._report(checks, "pdf", {})
        subject, claims_check = self._subject_from_claims(embedded)
        checks.append(claims_check)
        if subject is None:
            return self._report(checks, "pdf", {})
        subject.document_digest = hashlib.sha256(data).digest()
        subject.seal_fingerprint = fingerprint
        payload, qr_check = self._page_qr(data, subject)
        checks.append(qr_check)
        checks.append(
            self._qr_signature(payload)
            if payload
            else _skipped("qr.signature", "no usable QR code on the page")
        )
        checks += self._registry_checks(subject, now, from_document=True)
        description = self._describe(subject)
        description["fields"] = self._fields(subject.cert_type, embedded.claims)
        return self._report(checks, "pdf", description)

    @staticmethod
    def _subject_from_claims(embedded: EmbeddedClaims) -> tuple[_Subject | None, Check]:
        raw = embedded.raw
        try:
            secret = bytes.fromhex(str(raw["claims_secret"]))
            commitment = ClaimsCommitment(embedded.claims, secret).root
            subject = _Subject(
                issuer_id=str(raw["issuer_id"]),
                cert_type=str(raw["cert_type"]),
                certificate_id=str(raw["certificate_id"]),
                claims_commitment=commitment,
                valid_from=_time(raw.get("valid_from")),
                valid_until=_time(raw.get("valid_until")),
            )
        except (KeyError, ValueError, TypeError, MerkleError) as exc:
            return None, Check(
                "document.claims",
                Status.INVALID,
                ReasonCode.DOCUMENT_NO_CLAIMS,
                detail=str(exc)[:200],
            )
        if raw.get("claims_commitment") != commitment.hex():
            return subject, Check("document.claims", Status.INVALID, ReasonCode.CLAIMS_MISMATCH)
        return subject, Check("document.claims", Status.VALID)

    @staticmethod
    def _page_qr(data: bytes, subject: _Subject) -> tuple[QrPayload | None, Check]:
        try:
            texts = page_qr_text(data)
        except Exception as exc:
            return None, Check(
                "qr.matches_document",
                Status.INVALID,
                ReasonCode.QR_MISSING,
                detail=f"page could not be rendered: {exc}"[:200],
            )
        if not texts:
            return None, Check("qr.matches_document", Status.INVALID, ReasonCode.QR_MISSING)
        payloads: list[QrPayload] = []
        problem = ""
        for text in texts:  # a decoder may also "find" a short code in fine print: skip it
            try:
                payloads.append(decode_qr_text(text))
            except QrPayloadError as exc:
                problem = problem or str(exc)
        if not payloads:
            return None, Check(
                "qr.matches_document", Status.INVALID, ReasonCode.QR_MALFORMED, detail=problem
            )
        payload = payloads[0]
        if any(p != payload for p in payloads[1:]):
            return payload, Check(
                "qr.matches_document",
                Status.INVALID,
                ReasonCode.QR_MISMATCH,
                detail="the page carries QR codes of different certificates",
            )
        same = (
            payload.issuer_id == subject.issuer_id
            and payload.cert_type == subject.cert_type
            and payload.certificate_id == subject.certificate_id
            and payload.claims_commitment == subject.claims_commitment
            and payload.valid_from == subject.valid_from
            and payload.valid_until == subject.valid_until
        )
        if not same:
            return payload, Check(
                "qr.matches_document",
                Status.INVALID,
                ReasonCode.QR_MISMATCH,
                detail=f"the QR code is for {payload.certificate_id}",
            )
        return payload, Check("qr.matches_document", Status.VALID)

    # ================================================================== registry

    def _qr_signature(self, payload: QrPayload) -> Check:
        if not self.chain.usable():
            return self._no_registry_data("qr.signature")
        try:
            signer = payload.signer()
        except QrPayloadError as exc:
            return Check(
                "qr.signature", Status.INVALID, ReasonCode.QR_SIGNATURE_INVALID, detail=str(exc)
            )
        if signer.lower() in self.chain.issuer_accounts(payload.issuer_id):
            return Check("qr.signature", Status.VALID, data={"account": signer})
        return Check(
            "qr.signature",
            Status.INVALID,
            ReasonCode.QR_SIGNATURE_INVALID,
            detail=f"signed by {signer}",
        )

    def _no_registry_data(self, name: str) -> Check:
        """``name`` could not be checked: the nodes disagree, or no data is fresh enough."""
        disagreement = self.chain.disagreement
        if disagreement:
            return Check(name, Status.ERROR, ReasonCode.NODES_DISAGREE, detail=disagreement)
        freshness = self.chain.freshness()
        return Check(
            name,
            Status.ERROR,
            ReasonCode.CHAIN_UNAVAILABLE,
            detail=f"node {freshness['node']}, data age {freshness['age_seconds']} s",
        )

    def _registry_checks(
        self,
        subject: _Subject,
        now: datetime | None,
        *,
        from_document: bool,
        local_only: bool = False,
        record: ProofRecord | None = None,
    ) -> list[Check]:
        try:
            return self._registry_checks_unguarded(
                subject, now or datetime.now(UTC), from_document, local_only, record
            )
        except WouldBlock:
            raise
        except NodeUnavailable as exc:
            return [
                Check(n, Status.ERROR, ReasonCode.CHAIN_UNAVAILABLE, detail=str(exc))
                for n in REGISTRY_CHECKS
            ]
        except Exception as exc:
            return [
                Check(
                    REGISTRY_CHECKS[0],
                    Status.ERROR,
                    ReasonCode.UNEXPECTED,
                    detail=f"{type(exc).__name__}: {exc}"[:300],
                )
            ]

    def _registry_checks_unguarded(
        self,
        subject: _Subject,
        now: datetime,
        from_document: bool,
        local_only: bool,
        carried: ProofRecord | None,
    ) -> list[Check]:
        if not self.chain.usable():
            return [self._no_registry_data(n) for n in REGISTRY_CHECKS]
        issuer = self.chain.issuer(subject.issuer_id)
        if issuer is None:
            return [
                Check(
                    "anchor.issuer",
                    Status.INVALID,
                    ReasonCode.ISSUER_UNKNOWN,
                    detail=subject.issuer_id,
                )
            ]
        checks: list[Check] = []
        try:
            record = carried or self.proofs.fetch(
                issuer.province, subject.issuer_id, subject.certificate_id, local_only=local_only
            )
        except ProofUnavailable as exc:
            return [
                Check(
                    "anchor.included", Status.ERROR, ReasonCode.PROOF_UNAVAILABLE, detail=str(exc)
                )
            ]
        if record is None:
            return [self._why_not_anchored(subject, issuer.status.value, issuer.cert_types)]
        if not subject.cert_type:  # verification by number: the record says what it is
            subject.cert_type = record.cert_type
            subject.claims_commitment = record.claims_commitment
            subject.valid_from, subject.valid_until = record.valid_from, record.valid_until
        leaf_hash, mismatch = self._leaf(subject, record)
        if mismatch:
            return [
                Check("anchor.included", Status.INVALID, ReasonCode.NOT_ANCHORED, detail=mismatch)
            ]
        if not verify_proof(record.root, leaf_hash, record.siblings):
            return [Check("anchor.included", Status.INVALID, ReasonCode.PROOF_INVALID)]
        anchor = self.chain.anchor_of(record.root, local_only=local_only)
        if anchor is None:
            return [
                Check(
                    "anchor.included",
                    Status.INVALID,
                    ReasonCode.NOT_ANCHORED,
                    detail="the proof's root is not on the ledger",
                )
            ]
        if anchor.issuer_id != subject.issuer_id or anchor.cert_type != subject.cert_type:
            return [Check("anchor.included", Status.INVALID, ReasonCode.ANCHOR_MISMATCH)]
        checks.append(
            Check(
                "anchor.included",
                Status.VALID,
                data={
                    "root": record.root.hex(),
                    "block": anchor.block_number,
                    "anchored_at": anchor.timestamp.isoformat(),
                },
            )
        )
        province = self.chain.province(issuer.province)
        checks.append(
            Check(
                "anchor.issuer",
                Status.VALID,
                data={
                    "issuer": issuer.name,
                    "province": issuer.province,
                    "province_name": province.name if province else issuer.province,
                    "status_now": issuer.status.value,
                },
            )
        )
        checks.append(self._seal_registered(subject, anchor.block_number, from_document))
        checks.append(self._revocation(record.root, leaf_hash))
        checks.append(self._validity(subject, now))
        checks.append(self._recognition(issuer.province, subject.cert_type))
        return checks

    @staticmethod
    def _leaf(subject: _Subject, record: ProofRecord) -> tuple[bytes, str]:
        """The leaf hash of what was presented, and why it differs from the record (or "")."""
        if subject.document_digest is None:
            subject.document_digest = record.document_digest
        ours = CertificateLeaf(
            issuer_id=subject.issuer_id,
            cert_type=subject.cert_type,
            certificate_id=subject.certificate_id,
            claims_commitment=subject.claims_commitment or b"\0" * 32,
            document_digest=subject.document_digest,
            valid_from=subject.valid_from or record.valid_from,
            valid_until=subject.valid_until,
        )
        encoded = ours.encoded()
        leaf_hash = hash_encoded_leaf(encoded)
        if encoded == record.leaf().encoded():
            return leaf_hash, ""
        if subject.document_digest != record.document_digest:
            return leaf_hash, "this file is not the one that was anchored (its digest differs)"
        return leaf_hash, "the certificate's data differs from what was anchored"

    @staticmethod
    def _why_not_anchored(subject: _Subject, status: str, types: tuple[str, ...]) -> Check:
        if status != "ACTIVE":
            return Check(
                "anchor.included",
                Status.INVALID,
                ReasonCode.ISSUER_SUSPENDED,
                detail="the issuer is suspended and its certificate was never anchored",
            )
        if subject.cert_type and subject.cert_type not in types:
            return Check(
                "anchor.included",
                Status.INVALID,
                ReasonCode.TYPE_NOT_AUTHORISED,
                detail=f"{subject.issuer_id} may not issue {subject.cert_type}",
            )
        return Check("anchor.included", Status.INVALID, ReasonCode.NOT_ANCHORED)

    def _seal_registered(self, subject: _Subject, block: int, from_document: bool) -> Check:
        if not from_document or subject.seal_fingerprint is None:
            return _skipped("seal.registered", "no seal to compare")
        seal = self.chain.seal_certificate(subject.seal_fingerprint)
        if seal is None or seal.issuer_id != subject.issuer_id:
            return Check("seal.registered", Status.INVALID, ReasonCode.SEAL_NOT_REGISTERED)
        if not seal.current_at(block):
            return Check(
                "seal.registered",
                Status.INVALID,
                ReasonCode.SEAL_NOT_REGISTERED,
                detail="the seal certificate was not the issuer's when anchored",
            )
        return Check("seal.registered", Status.VALID)

    def _revocation(self, root: bytes, leaf: bytes) -> Check:
        batch = self.chain.root_revocation(root)
        if batch is not None:
            return Check(
                "status.not_revoked",
                Status.INVALID,
                ReasonCode.BATCH_REVOKED,
                data={"reason": batch.reason.name, "at": batch.timestamp.isoformat()},
            )
        one = self.chain.certificate_revocation(root, leaf)
        if one is not None:
            return Check(
                "status.not_revoked",
                Status.INVALID,
                ReasonCode.REVOKED,
                data={"reason": one.reason.name, "at": one.timestamp.isoformat()},
            )
        return Check("status.not_revoked", Status.VALID)

    @staticmethod
    def _validity(subject: _Subject, now: datetime) -> Check:
        if subject.valid_from and now < subject.valid_from:
            return Check("status.validity", Status.INVALID, ReasonCode.NOT_YET_VALID)
        if subject.valid_until and now > subject.valid_until:
            return Check(
                "status.validity",
                Status.INVALID,
                ReasonCode.EXPIRED,
                data={"valid_until": subject.valid_until.isoformat()},
            )
        return Check("status.validity", Status.VALID)

    def _recognition(self, issuing: str, cert_type: str) -> Check:
        if self.chain.is_recognised(self.region, issuing, cert_type):
            return Check(
                "recognition", Status.VALID, data={"verifying": self.region, "issuing": issuing}
            )
        return Check(
            "recognition",
            Status.INVALID,
            ReasonCode.NOT_RECOGNISED,
            detail=f"{self.region} has no agreement for {cert_type} from {issuing}",
            data={"verifying": self.region, "issuing": issuing, "cert_type": cert_type},
        )

    # ================================================================== output

    def _describe(self, subject: _Subject) -> dict[str, Any]:
        spec = catalogue().get(subject.cert_type)
        issuer = None
        try:
            issuer = self.chain.issuer(subject.issuer_id)
        except LedgerError:
            issuer = None
        return {
            "issuer_id": subject.issuer_id,
            "issuer_name": issuer.name if issuer else None,
            "province": issuer.province if issuer else None,
            "cert_type": subject.cert_type,
            "type_name_zh": spec.name_zh if spec else None,
            "type_name_en": spec.name_en if spec else None,
            "certificate_id": subject.certificate_id,
            "valid_from": subject.valid_from.isoformat() if subject.valid_from else None,
            "valid_until": subject.valid_until.isoformat() if subject.valid_until else None,
        }

    @staticmethod
    def _fields(cert_type: str, claims: dict[str, str]) -> list[dict[str, str]]:
        spec = catalogue().get(cert_type)
        if spec is None:
            return [{"key": k, "label_zh": k, "label_en": k, "value": v} for k, v in claims.items()]
        return [
            {"key": f.key, "label_zh": f.label_zh, "label_en": f.label_en, "value": claims[f.key]}
            for f in spec.fields
            if f.key in claims
        ]

    def _report(
        self, checks: list[Check], kind: str, certificate: dict[str, Any]
    ) -> VerificationReport:
        return VerificationReport(
            tuple(checks), kind, certificate, self.chain.freshness(), self.region
        )
