from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.catalogue import ClaimsInvalid, catalogue, validate
from ledger.idcodes import (
    citizen_id_check_char,
    is_valid_citizen_id,
    is_valid_social_credit_code,
    social_credit_check_char,
)

USCC = "91350100M000100Y43"  # the worked example of GB 32100
CITIZEN = "11010519491231002X"  # the worked example of GB 11643

LICENCE = {
    "uscc": USCC,
    "name": "杭州示范科技有限公司",
    "entity_type": "有限责任公司",
    "legal_representative": "张三",
    "established": "2020-05-18",
    "address": "浙江省杭州市西湖区示范路1号",
    "business_scope": "软件开发；信息技术咨询服务",
}


def test_standard_examples_and_single_character_errors() -> None:
    assert is_valid_social_credit_code(USCC)
    assert is_valid_citizen_id(CITIZEN)
    assert not is_valid_social_credit_code(USCC[:-1] + "4")
    assert not is_valid_citizen_id(CITIZEN[:-1] + "1")
    assert not is_valid_citizen_id("110105194902300010")  # 30 February
    assert not is_valid_social_credit_code("91350100M000100I43")  # I is not in the alphabet


@given(st.from_regex(r"[0-9A-HJ-NP-RTUW-Y]{17}", fullmatch=True))
def test_any_uscc_body_with_its_check_char_is_valid(body: str) -> None:
    assert is_valid_social_credit_code(body + social_credit_check_char(body))


@given(
    st.from_regex(
        r"[1-9][0-9]{5}(19[5-9][0-9]|20[0-2][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}",
        fullmatch=True,
    )
)
def test_any_citizen_id_body_with_its_check_char_is_valid(body: str) -> None:
    number = body + citizen_id_check_char(body)
    assert is_valid_citizen_id(number)
    wrong = "0" if number[-1] != "0" else "1"
    assert not is_valid_citizen_id(number[:-1] + wrong)


def test_catalogue_has_the_four_types_with_personal_fields_marked() -> None:
    types = catalogue()
    assert {"BUSINESS_LICENCE", "DEGREE_CERT", "BIRTH_MEDICAL", "REAL_ESTATE"} <= set(types)
    degree = types["DEGREE_CERT"]
    assert degree.name_zh == "学位证书"
    citizen = degree.field("citizen_id")
    assert citizen is not None
    assert citizen.personal
    for spec in types.values():
        assert spec.fields
        assert all(f.label_zh and f.label_en for f in spec.fields)


def test_a_good_record_validates_and_is_trimmed() -> None:
    claims = validate("BUSINESS_LICENCE", {**LICENCE, "name": "  杭州示范科技有限公司 "})
    assert claims["name"] == "杭州示范科技有限公司"
    assert next(iter(claims)) == "uscc"


def test_every_bad_field_is_named() -> None:
    bad = {**LICENCE, "uscc": USCC[:-1] + "0", "established": "2020-02-30", "colour": "red"}
    del bad["address"]
    with pytest.raises(ClaimsInvalid) as caught:
        validate("BUSINESS_LICENCE", bad)
    fields = {e.field: e.message for e in caught.value.errors}
    assert set(fields) == {"uscc", "established", "address", "colour"}
    assert "GB 32100" in fields["uscc"]
    assert fields["address"] == "is required"


def test_formats_of_other_types() -> None:
    with pytest.raises(ClaimsInvalid) as caught:
        validate(
            "REAL_ESTATE",
            {
                "owner": "李四",
                "owner_id": "123",
                "co_ownership": "单独所有",
                "location": "x",
                "unit_number": "u",
                "right_type": "r",
                "usage": "住宅",
                "area_m2": "-3",
            },
        )
    assert {e.field for e in caught.value.errors} == {"owner_id", "area_m2"}
    with pytest.raises(ClaimsInvalid, match="unknown type"):
        validate("PASSPORT", {})


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("杭州\u202e司公限有技科", "U+202E"),  # right-to-left override: reads reversed
        ("杭州\u2066示范\u2069科技", "U+2066"),  # left-to-right isolate
        ("杭州\u200b示范", "U+200B"),  # zero-width space
        ("杭州\x1b[31m示范", "U+001B"),  # a terminal escape
        ("杭州\n示范", "U+000A"),  # a second line inside one field
        ("杭州\u2028示范", "U+2028"),  # line separator
    ],
)
def test_control_and_bidi_characters_are_refused_and_named(value: str, code: str) -> None:
    with pytest.raises(ClaimsInvalid) as caught:
        validate("BUSINESS_LICENCE", {**LICENCE, "name": value})
    (error,) = caught.value.errors
    assert error.field == "name"
    assert code in error.message
    assert "character 3" in error.message


def test_ordinary_ideographic_and_private_use_characters_are_kept() -> None:
    # U+3000 is the ideographic space; U+E000 stands for a rare character a registry encodes
    # in the private-use area.
    name = "杭州\u3000示范 科技（集团）有限公司\ue000"
    assert validate("BUSINESS_LICENCE", {**LICENCE, "name": name})["name"] == name
