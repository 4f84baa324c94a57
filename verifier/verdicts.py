"""A verdict's and a check status's words, colours and icons, defined once for every surface:
the pages, the command line and the demo."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.result import Status, Verdict

__all__ = ["EXIT_CODES", "StatusMark", "VerdictStyle", "mark", "style"]


@dataclass(frozen=True, slots=True)
class VerdictStyle:
    word_zh: str
    word_en: str
    hint_zh: str
    hint_en: str
    colour: str
    """Background of the page's banner (white text on it passes WCAG AA)."""
    terminal: str
    """Colour name for the terminal (rich)."""
    icon: str

    def word(self, lang: str) -> str:
        return self.word_en if lang == "en" else self.word_zh

    def hint(self, lang: str) -> str:
        return self.hint_en if lang == "en" else self.hint_zh

    def both(self) -> str:
        """Chinese first, then English: for the terminal."""
        return f"{self.word_zh} {self.word_en}"


_STYLES = {
    Verdict.VALID: VerdictStyle(
        "真实有效",
        "Genuine",
        "该证照由登记的发证机关签发，未被篡改，未被撤销，本省认可。",
        "Issued by a registered issuer, unaltered, not revoked, recognised here.",
        "#17703a",
        "green",
        "✔",
    ),
    Verdict.NOT_RECOGNISED: VerdictStyle(
        "真实有效，但本省未认可",
        "Genuine, not recognised here",
        "证照真实有效，但本省尚未与签发省份就此类证照达成互认，暂不能在本省使用。这不是伪造。",
        "The certificate is genuine, but this province has no recognition agreement for it "
        "with the issuing province yet. It is not a forgery.",
        "#8a5a00",
        "yellow",
        "！",
    ),
    Verdict.INVALID: VerdictStyle(
        "无效",
        "Not valid",
        "请勿采信。原因见下方说明。",
        "Do not rely on it. The reasons are listed below.",
        "#b3261e",
        "red",
        "✘",
    ),
    Verdict.INDETERMINATE: VerdictStyle(
        "暂时无法确认",
        "Could not confirm",
        "核验服务暂时无法取得全部信息，请稍后再试。这不表示证照无效。",
        "The verifier could not get everything it needs. Please try again later. "
        "This does not mean the certificate is invalid.",
        "#9a6700",
        "yellow",
        "？",
    ),
}


@dataclass(frozen=True, slots=True)
class StatusMark:
    css: str
    icon: str
    terminal: str


_MARKS = {
    Status.VALID: StatusMark("ok", "✔", "green"),
    Status.INVALID: StatusMark("bad", "✘", "red"),
    Status.ERROR: StatusMark("unk", "？", "yellow"),
    Status.SKIPPED: StatusMark("skip", "–", "dim"),
}

EXIT_CODES = {
    Verdict.VALID: 0,
    Verdict.INVALID: 1,
    Verdict.INDETERMINATE: 2,
    Verdict.NOT_RECOGNISED: 3,
}
"""``ecert verify``: 0 valid, 1 invalid, 2 could not confirm (or a usage error), 3 genuine but
not recognised in this province."""


def style(verdict: Verdict) -> VerdictStyle:
    return _STYLES[verdict]


def mark(status: Status) -> StatusMark:
    return _MARKS[status]
