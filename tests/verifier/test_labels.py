"""Every check the verifier can report has plain Chinese and English words for the page, and
every reason a message in both languages."""

from __future__ import annotations

import re

from verifier.names import CheckName, label
from verifier.plans import PLANS
from verifier.reasons import ReasonCode, message


def test_every_check_name_has_words_in_both_languages() -> None:
    for name in CheckName:
        zh, en = label(name, "zh"), label(name, "en")
        assert zh != name.value, name
        assert en != name.value, name
        assert re.search(r"[\u4e00-\u9fff]", zh), name
        assert not re.search(r"[\u4e00-\u9fff]", en), name


def test_every_check_name_is_in_some_plan() -> None:
    used = {name for plan in PLANS.values() for name in plan.names}
    assert used == set(CheckName)


def test_every_reason_has_a_message_in_both_languages() -> None:
    for code in ReasonCode:
        assert re.search(r"[\u4e00-\u9fff]", message(code, "zh")), code
        assert message(code, "en") != code.value, code
