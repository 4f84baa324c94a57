"""Checking the SM2 e-seals of an OFD package (GB/T 38540 §9 with GB/T 33190 §18): the
primitive a verifier calls. It answers whether each seal is intact — every referenced file's
SM3 ``CheckValue``, ``Signature.xml`` bound by ``TBS_Sign.dataHash`` and ``propertyInfo``, the
SM2 signature by the embedded signer certificate, the seal made by its seal-making certificate
for that signer and valid at the signing time — and that no file escaped the signatures.

Whether the certificates chain to a trusted SM2 root, and what a seal means for the
certificate, is the verifier's to judge: the result hands it the certificates. It never
raises: a package it cannot read is a ``MALFORMED`` problem, a bug an ``UNEXPECTED`` one. Its
work is bounded by the package's size: at most ``MAX_SIGNATURES`` signatures, and each file's
SM3 digest computed once however many references name it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from xml.etree.ElementTree import Element

from asn1crypto import x509

from ledger import ses, sm2
from ledger.ofd import OfdError, OfdPackage, q, resolve

__all__ = [
    "MAX_SIGNATURES",
    "OfdSealReason",
    "OfdSealReport",
    "Problem",
    "SignatureCheck",
    "verify_ofd_seals",
]

MAX_SIGNATURES = 16
"""More signatures than this in one package is not an OFD certificate (ours have one)."""


class OfdSealReason(StrEnum):
    """Why a package or one of its seals is not intact. Values never change once released."""

    NOT_SEALED = "NOT_SEALED"
    MALFORMED = "MALFORMED"
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    REFERENCE_MISSING = "REFERENCE_MISSING"
    CHECK_VALUE_MISMATCH = "CHECK_VALUE_MISMATCH"
    FILE_NOT_COVERED = "FILE_NOT_COVERED"
    DATA_HASH_MISMATCH = "DATA_HASH_MISMATCH"
    PROPERTY_MISMATCH = "PROPERTY_MISMATCH"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    SEAL_SIGNATURE_INVALID = "SEAL_SIGNATURE_INVALID"
    SIGNER_NOT_IN_SEAL = "SIGNER_NOT_IN_SEAL"
    SEAL_NOT_VALID_AT_SIGNING = "SEAL_NOT_VALID_AT_SIGNING"
    UNEXPECTED = "UNEXPECTED"


@dataclass(frozen=True, slots=True)
class Problem:
    reason: OfdSealReason
    message: str
    """Plain words for people, naming the file or field concerned."""


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """One ``Signature`` of ``Signatures.xml``, checked."""

    signature_id: str
    path: str
    """Package path of its ``Signature.xml``."""
    problems: tuple[Problem, ...]
    """Empty when the seal is intact."""
    references: tuple[str, ...] = ()
    """Package paths of the files it covers."""
    signer_certificate: x509.Certificate | None = None
    """The seal certificate that signed (签章者), for the verifier's chain check."""
    maker_certificate: x509.Certificate | None = None
    """The certificate that made the seal (制章者)."""
    seal_id: str | None = None
    seal_name: str | None = None
    signed_at: datetime | None = None
    """``TBS_Sign.timeInfo`` as the signer claims it (no timestamp token is read)."""
    seal_valid_from: datetime | None = None
    seal_valid_until: datetime | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class OfdSealReport:
    """Every seal of a package, and what the package as a whole lacks."""

    signatures: tuple[SignatureCheck, ...]
    problems: tuple[Problem, ...]
    """Package-level: not sealed, unreadable, files no seal covers."""

    @property
    def intact(self) -> bool:
        """At least one seal, every seal intact, every file covered."""
        return (
            bool(self.signatures) and not self.problems and all(s.intact for s in self.signatures)
        )

    @property
    def reasons(self) -> tuple[OfdSealReason, ...]:
        found = [p.reason for p in self.problems]
        found += [p.reason for s in self.signatures for p in s.problems]
        return tuple(dict.fromkeys(found))


def verify_ofd_seals(data: bytes | OfdPackage) -> OfdSealReport:
    """Check every seal of an OFD file (bytes) or package."""
    try:
        package = data if isinstance(data, OfdPackage) else OfdPackage.from_zip(data)
        return _verify(package)
    except OfdError as exc:
        return OfdSealReport((), (Problem(OfdSealReason.MALFORMED, str(exc)),))
    except Exception as exc:  # a primitive that never raises: the cause is named instead
        message = f"{type(exc).__name__}: {exc}"
        return OfdSealReport((), (Problem(OfdSealReason.UNEXPECTED, message),))


def _verify(package: OfdPackage) -> OfdSealReport:
    body = package.xml("OFD.xml").find(q("DocBody"))
    if body is None:
        raise OfdError("OFD.xml has no DocBody")
    loc = body.findtext(q("Signatures"))
    if not loc:
        return OfdSealReport((), (Problem(OfdSealReason.NOT_SEALED, "no Signatures in OFD.xml"),))
    signatures_path = resolve("OFD.xml", loc)
    entries = package.xml(signatures_path).findall(q("Signature"))
    if not entries:
        problem = Problem(OfdSealReason.NOT_SEALED, f"{signatures_path} lists no signature")
        return OfdSealReport((), (problem,))
    if len(entries) > MAX_SIGNATURES:
        raise OfdError(f"{signatures_path} lists more than {MAX_SIGNATURES} signatures")
    checks = []
    signature_files = {signatures_path}
    digests = _Digests(package)
    for entry in entries:
        path = resolve(signatures_path, entry.get("BaseLoc", ""))
        check, own_files = _check_signature(package, entry.get("ID", ""), path, digests)
        checks.append(check)
        signature_files |= own_files
    covered = {r for c in checks for r in c.references} | signature_files
    problems = tuple(
        Problem(OfdSealReason.FILE_NOT_COVERED, f"{path} is not covered by any seal")
        for path in package
        if path not in covered
    )
    return OfdSealReport(tuple(checks), problems)


class _Digests:
    """SM3 of a package's files, each computed once (a hostile ``Signature.xml`` may name one
    large file thousands of times)."""

    def __init__(self, package: OfdPackage) -> None:
        self._package = package
        self._known: dict[str, bytes] = {}

    def __call__(self, path: str) -> bytes:
        if path not in self._known:
            self._known[path] = sm2.sm3(self._package[path])
        return self._known[path]


def _check_signature(
    package: OfdPackage, signature_id: str, path: str, digests: _Digests
) -> tuple[SignatureCheck, set[str]]:
    problems: list[Problem] = []

    def fail(reason: OfdSealReason, message: str) -> None:
        problems.append(Problem(reason, message))

    root = package.xml(path)
    info = root.find(q("SignedInfo"))
    value_loc = root.findtext(q("SignedValue"))
    if info is None or not value_loc:
        raise OfdError(f"{path} has no SignedInfo or SignedValue")
    value_path = resolve(path, value_loc)
    if info.findtext(q("SignatureMethod"), "").strip() != sm2.SM3_WITH_SM2:
        fail(OfdSealReason.UNSUPPORTED_ALGORITHM, f"{path}: the signature method is not SM2")
    references = _check_references(package, path, info, fail, digests)
    if value_path not in package:
        fail(OfdSealReason.REFERENCE_MISSING, f"{value_path} is missing")
        return SignatureCheck(signature_id, path, tuple(problems), references), {path}
    try:
        signed = ses.SesSignature.load(package[value_path], strict=True)
        tbs = signed["to_sign"]
        seal = tbs["eseal"]
        seal_info = seal["eseal_info"]
        signer = x509.Certificate.load(signed["cert"].native)
        maker = x509.Certificate.load(seal["cert"].native)
        allowed = seal_info["property"].certificates()
        prop = seal_info["property"]
        signed_at = tbs["time_info"].native
        valid_from, valid_until = prop["valid_start"].native, prop["valid_end"].native
        signer.public_key  # noqa: B018 - parsed here, so a broken certificate is MALFORMED
    except (ValueError, TypeError, KeyError) as exc:
        raise OfdError(f"{value_path} is not a GB/T 38540 SES_Signature: {exc}") from exc

    if tbs["version"].native != ses.SES_VERSION:
        fail(OfdSealReason.UNSUPPORTED_ALGORITHM, f"TBS_Sign version {tbs['version'].native}")
    if bytes(tbs["data_hash"].native) != digests(path):
        fail(OfdSealReason.DATA_HASH_MISMATCH, f"{path} is not the file that was signed")
    if tbs["property_info"].native != f"/{path}":
        fail(OfdSealReason.PROPERTY_MISMATCH, f"the signature was made for another file: {path}")
    if signed["signature_alg_id"].dotted != sm2.SM3_WITH_SM2 or not _sm2_valid(
        signer, tbs.dump(), bytes(signed["signature"].native)
    ):
        fail(OfdSealReason.SIGNATURE_INVALID, f"{value_path}: the SM2 signature does not verify")
    if seal["sign_alg_id"].dotted != sm2.SM3_WITH_SM2 or not _sm2_valid(
        maker, seal_info.dump(), bytes(seal["signed_value"].native)
    ):
        fail(OfdSealReason.SEAL_SIGNATURE_INVALID, "the seal was not made by its maker")
    if bytes(signed["cert"].native) not in allowed:
        fail(OfdSealReason.SIGNER_NOT_IN_SEAL, "the signer's certificate is not in the seal")
    if not valid_from <= signed_at <= valid_until:
        fail(
            OfdSealReason.SEAL_NOT_VALID_AT_SIGNING,
            f"signed {signed_at}, seal valid {valid_from} to {valid_until}",
        )
    check = SignatureCheck(
        signature_id,
        path,
        tuple(problems),
        references,
        signer_certificate=signer,
        maker_certificate=maker,
        seal_id=seal_info["es_id"].native,
        seal_name=prop["name"].native,
        signed_at=signed_at,
        seal_valid_from=valid_from,
        seal_valid_until=valid_until,
    )
    return check, {path, value_path}


def _check_references(
    package: OfdPackage,
    path: str,
    info: Element,
    report: Callable[[OfdSealReason, str], None],
    digests: _Digests,
) -> tuple[str, ...]:
    group = info.find(q("References"))
    if group is None:
        raise OfdError(f"{path} has no References")
    if group.get("CheckMethod", "").strip() != sm2.SM3:
        report(OfdSealReason.UNSUPPORTED_ALGORITHM, f"{path}: references not digested with SM3")
    covered = []
    for reference in group.findall(q("Reference")):
        target = resolve("/", reference.get("FileRef", ""))
        covered.append(target)
        try:
            expected = base64.b64decode(reference.findtext(q("CheckValue"), ""), validate=True)
        except (binascii.Error, ValueError):
            expected = b""
        if target not in package:
            report(OfdSealReason.REFERENCE_MISSING, f"{target} is signed but missing")
        elif digests(target) != expected:
            report(OfdSealReason.CHECK_VALUE_MISMATCH, f"{target} changed after sealing")
    return tuple(covered)


def _sm2_valid(cert: x509.Certificate, message: bytes, signature: bytes) -> bool:
    try:
        return sm2.verify(sm2.certificate_public_key(cert), message, signature)
    except sm2.Sm2Error:
        return False
