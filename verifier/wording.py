"""What the pages and the verification report say, in plain Chinese first and English second:
the sentence under the verdict, the missing agreement, when the seal was judged, how fresh the
data is — in people's words and their own time (Beijing time by default), not block numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ledger.catalogue import catalogue
from verifier.names import CheckName
from verifier.reasons import ReasonCode, message
from verifier.result import Check, Status, Verdict, VerificationReport
from verifier.verdicts import style

__all__ = [
    "BEIJING",
    "data_age",
    "headline",
    "judged_when",
    "local_time",
    "missing_agreement",
    "problem_with_document",
    "reason_line",
    "region_name",
]

BEIJING = timezone(timedelta(hours=8), "北京时间")
_DOCUMENT_CHECKS = {
    CheckName.DOCUMENT_FORMAT,
    CheckName.DOCUMENT_CLAIMS,
    CheckName.SEAL_PRESENT,
    CheckName.SEAL_INTACT,
    CheckName.SEAL_UNMODIFIED,
    CheckName.SEAL_TRUSTED,
    CheckName.OFD_STRUCTURE,
    CheckName.OFD_REFERENCES,
    CheckName.OFD_SIGNATURE,
    CheckName.OFD_ESEAL,
    CheckName.QR_MATCHES_DOCUMENT,
    CheckName.PRESENTATION_CLAIMS,
    CheckName.PRESENTATION_HOLDER,
}


def _recognition(report: VerificationReport) -> Check | None:
    return report.check(CheckName.RECOGNITION)


def region_name(report: VerificationReport, lang: str) -> str:
    """The verifying province by name, when the registry gave it."""
    check = _recognition(report)
    name = check.data.get("verifying_name") if check else None
    return str(name) if name and lang != "en" else report.region


def _kind(cert_type: str, lang: str) -> str:
    spec = catalogue().get(cert_type)
    if spec is None:
        return cert_type
    return spec.name_en if lang == "en" else spec.name_zh


def missing_agreement(data: Any, lang: str) -> str:
    """Which agreement is missing: the verifying province, the issuing one, the type."""
    kind = _kind(str(data.get("cert_type", "")), lang)
    if lang == "en":
        verifying, issuing = data.get("verifying", ""), data.get("issuing", "")
        return f"{verifying} does not yet recognise {kind} issued in {issuing}."
    verifying = data.get("verifying_name") or data.get("verifying", "")
    issuing = data.get("issuing_name") or data.get("issuing", "")
    return f"{verifying}尚未认可{issuing}签发的{kind}。"


def headline(report: VerificationReport, lang: str) -> str:
    """The sentence under the verdict: the reason itself, once, in plain words."""
    verdict = report.verdict
    look = style(verdict)
    if verdict is Verdict.VALID:
        return look.hint(lang)
    if verdict is Verdict.NOT_RECOGNISED:
        check = _recognition(report)
        gap = missing_agreement(check.data, lang) if check else ""
        if lang == "en":
            return f"The certificate is genuine, but {gap} It is not a forgery."
        return f"证照真实有效，但{gap}这不是伪造。"
    wanted = Status.INVALID if verdict is Verdict.INVALID else Status.ERROR
    first = next((c for c in report.checks if c.status is wanted and c.reason), None)
    reason = message(first.reason, lang) if first and first.reason else ""
    if verdict is Verdict.INVALID:
        return f"Do not rely on it: {reason}" if lang == "en" else f"请勿采信：{reason}"
    tail = "This does not mean it is invalid." if lang == "en" else "这不表示证照无效。"
    return f"{reason} {tail}" if lang == "en" else f"{reason}{tail}"


def problem_with_document(report: VerificationReport) -> bool:
    """Whether what the document (or presentation) says cannot be taken at face value."""
    return any(c.name in _DOCUMENT_CHECKS and c.status is Status.INVALID for c in report.checks)


def judged_when(data: Any, lang: str) -> str:
    """When the seal was judged, in words: the certificate's time of existence."""
    when, block = str(data.get("existence_time") or ""), data.get("block")
    if not when:
        return ""
    day = local_time(when, lang, with_time=False)
    kind = data.get("existence")
    if lang == "en":
        how = "timestamped" if kind == "timestamp" else "sealed and recorded"
        at = f" (block {block})" if block is not None else ""
        return f"{how} on {day}{at}; the seal certificate was valid then"
    how = "盖章时间戳为" if kind == "timestamp" else "盖章并上链于"
    at = f"（区块 {block}）" if block is not None else ""
    return f"{how} {day}{at}，印章证书当时有效"


def local_time(iso: str, lang: str, *, with_time: bool = True) -> str:
    """An ISO time as people read it here: Beijing time (pages swap in the reader's own)."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(BEIJING)
    text = local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
    if not with_time:
        return text
    return f"{text} (Beijing time)" if lang == "en" else f"{text}（北京时间）"


def data_age(age_seconds: float | None, lang: str) -> str:
    """How fresh the registry data is, in words."""
    if age_seconds is None:
        return "registry data never updated" if lang == "en" else "链上数据从未更新"
    minutes = int(age_seconds // 60)
    if lang == "en":
        if minutes < 1:
            return "registry data updated just now"
        return f"registry data updated {minutes} min ago"
    if minutes < 1:
        return "链上数据刚刚更新"
    if minutes < 120:
        return f"链上数据更新于 {minutes} 分钟前"
    return f"链上数据更新于 {minutes // 60} 小时前"


def reason_line(check: Check, lang: str) -> str:
    """A check's line for people: its label's problem once, or the good news in words."""
    if check.name is CheckName.SEAL_TRUSTED and check.status is Status.VALID:
        return judged_when(check.data, lang)
    if check.reason is ReasonCode.NOT_RECOGNISED:
        return missing_agreement(check.data, lang)
    return message(check.reason, lang) if check.reason and check.status is not Status.VALID else ""
