"""Every check the verifier can report has plain Chinese and English words for the page."""

from __future__ import annotations

import re
from pathlib import Path

import verifier
from verifier.engine import REGISTRY_CHECKS
from verifier.reasons import ReasonCode, check_label, message


def _check_names() -> set[str]:
    names = set(REGISTRY_CHECKS)
    for source in Path(verifier.__file__).parent.glob("*.py"):
        text = source.read_text("utf-8")
        names |= set(re.findall(r'(?:Check|_skipped)\(\s*"([a-z_.]+)"', text))
    return names


def test_every_check_name_has_words_in_both_languages() -> None:
    names = _check_names()
    assert {"seal.intact", "qr.matches_document", "recognition"} <= names
    for name in names:
        zh, en = check_label(name, "zh"), check_label(name, "en")
        assert zh != name, name
        assert en != name, name
        assert re.search(r"[\u4e00-\u9fff]", zh), name


def test_every_reason_has_a_message_in_both_languages() -> None:
    for code in ReasonCode:
        assert re.search(r"[\u4e00-\u9fff]", message(code, "zh")), code
        assert message(code, "en") != code.value, code
