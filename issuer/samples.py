"""Synthetic, clearly fictitious records for demos, tests and benchmarks: valid check
characters, plausible Chinese names and addresses, no real person or company."""

from __future__ import annotations

import random
from datetime import date, timedelta

from ledger.idcodes import citizen_id_check_char, social_credit_check_char

__all__ = ["department_id", "sample_citizen_id", "sample_record", "sample_uscc"]

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "晓东",
    "子涵",
    "雨桐",
    "浩然",
    "思远",
    "嘉怡",
)
_REGIONS = {
    "ZJ": ("330106", "浙江省杭州市西湖区"),
    "JS": ("320102", "江苏省南京市玄武区"),
    "GD": ("440106", "广东省广州市天河区"),
}
_STREETS = ("文三路", "学院路", "中山路", "解放路", "滨江大道", "科技园路")
_CITIES = ("杭州", "宁波", "温州", "绍兴")
_TRADES = ("科技", "贸易", "餐饮", "文化")
_SCOPE = "一般项目：技术服务、技术开发、技术咨询、技术交流；软件开发；会议及展览服务。"


def department_id(region: str, org: str) -> str:
    """A government body's unified social credit code (category 11) with its check char."""
    body = f"11{region}{org}"[:17].ljust(17, "0")
    return body + social_credit_check_char(body)


def sample_uscc(rng: random.Random, region: str = "330106") -> str:
    body = "91" + region + "".join(rng.choice(_USCC_CHARS) for _ in range(9))
    return body + social_credit_check_char(body)


def sample_citizen_id(rng: random.Random, born: date, region: str = "330106") -> str:
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + citizen_id_check_char(body)


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _address(rng: random.Random, province: str) -> str:
    region = _REGIONS.get(province, _REGIONS["ZJ"])[1]
    return f"{region}{rng.choice(_STREETS)}{rng.randrange(1, 400)}号"


def sample_record(cert_type: str, rng: random.Random, province: str = "ZJ") -> dict[str, str]:
    """One valid record of ``cert_type``."""
    region = _REGIONS.get(province, _REGIONS["ZJ"])[0]
    if cert_type == "BUSINESS_LICENCE":
        return {
            "uscc": sample_uscc(rng, region),
            "name": f"{rng.choice(_CITIES)}示范{rng.choice(_TRADES)}有限公司",
            "entity_type": "有限责任公司（自然人投资或控股）",
            "legal_representative": _name(rng),
            "registered_capital": f"{rng.choice(('壹佰', '伍佰', '壹仟'))}万元整",
            "established": (date(2015, 1, 1) + timedelta(days=rng.randrange(3650))).isoformat(),
            "address": _address(rng, province),
            "business_scope": _SCOPE,
        }
    if cert_type == "DEGREE_CERT":
        born = date(1998, 1, 1) + timedelta(days=rng.randrange(1500))
        return {
            "holder_name": _name(rng),
            "gender": rng.choice(("男", "女")),
            "birth_date": born.isoformat(),
            "citizen_id": sample_citizen_id(rng, born, region),
            "degree": rng.choice(("工学学士", "理学硕士", "文学学士", "管理学硕士")),
            "discipline": rng.choice(("计算机科学与技术", "数学", "汉语言文学", "工商管理")),
            "conferred": "2026-06-30",
        }
    if cert_type == "BIRTH_MEDICAL":
        born = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
        mother_born = date(1990, 1, 1) + timedelta(days=rng.randrange(3000))
        return {
            "child_name": _name(rng),
            "child_sex": rng.choice(("男", "女")),
            "birth_date": born.isoformat(),
            "birth_place": _address(rng, province),
            "mother_name": _name(rng),
            "mother_id": sample_citizen_id(rng, mother_born, region),
        }
    if cert_type == "REAL_ESTATE":
        owner_born = date(1970, 1, 1) + timedelta(days=rng.randrange(9000))
        return {
            "owner": _name(rng),
            "owner_id": sample_citizen_id(rng, owner_born, region),
            "co_ownership": "单独所有",
            "location": _address(rng, province) + "1幢1单元801室",
            "unit_number": f"{region}001001GB00001F{rng.randrange(10**8):08d}"[:28],
            "right_type": "国有建设用地使用权/房屋所有权",
            "usage": "城镇住宅用地/住宅",
            "area_m2": f"{rng.uniform(50, 180):.2f}",
        }
    raise ValueError(f"no sample data for {cert_type}")
