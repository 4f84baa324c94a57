"""Synthetic registry tables for ``bench/bundle.py``: a consortium's issuers, and a year and a
day of national load (10^8 certificates a year in 1,024-leaf batches)."""

from __future__ import annotations

import copy
import os

TYPES = ["BUSINESS_LICENCE", "DEGREE_CERT", "REAL_ESTATE", "BIRTH_MEDICAL"]
CERTIFICATES_A_YEAR = 100_000_000
BATCH = 1_024
ANCHORS_A_DAY = round(CERTIFICATES_A_YEAR / BATCH / 365)  # 268
REVOCATIONS_A_DAY = round(CERTIFICATES_A_YEAR / 1_000 / 365)  # 0.1 % of certificates: 274
BLOCKS_A_DAY = 86_400 // 2
YEAR_START = 1_790_000_000

Tables = dict[str, list[list[object]]]


def synthetic_tables(provinces: list[str], keys: dict[str, bytes], issuers: int) -> dict:
    rnd = os.urandom
    ca_fps = {c: rnd(32) for c in provinces}
    tables: dict[str, list[list[object]]] = {
        "provinces": [[c, f"Province {c}", "0x" + rnd(20).hex(), 1] for c in provinces],
        "bundle_keys": [[c, keys[c], rnd(96), 2] for c in provinces],
        "issuers": [],
        "issuer_types": [],
        "issuer_history": [],
        "seal_certs": [],
        "seal_revocations": [],
        "ca_distrusts": [],
        "anchors": [],
        "root_revocations": [],
        "leaf_revocations": [],
        "recognitions": [
            [v, i, t, 1, 3] for v in provinces for i in provinces if v != i for t in TYPES
        ],
    }
    for n in range(issuers):
        issuer_id = f"91{n:016d}"
        province = provinces[n % len(provinces)]
        account = "0x" + rnd(20).hex()
        seal = rnd(32)
        tables["issuers"].append(
            [issuer_id, province, f"Department {n}", account, "ACTIVE", seal, 10 + n]
        )
        for t in TYPES[:2]:
            tables["issuer_types"].append([issuer_id, t])
        tables["issuer_history"] += [
            [issuer_id, 10 + n, 0, "REGISTERED", account],
            [issuer_id, 10 + n, 1, "TYPE_GRANTED", TYPES[0]],
            [issuer_id, 10 + n, 2, "TYPE_GRANTED", TYPES[1]],
        ]
        tables["seal_certs"].append([seal, issuer_id, ca_fps[province], 10 + n, None])
        root = rnd(32)
        tables["anchors"].append(
            [issuer_id, root, TYPES[0], 1024, 20_000 + n, 1_790_000_000, account, rnd(32)]
        )
        if n < 100:
            tables["root_revocations"].append(
                [issuer_id, root, 1, 40_000 + n, 1_790_000_100, account]
            )
            tables["seal_revocations"].append(
                [seal, issuer_id, 1_790_000_050, 2, 40_000 + n, 1_790_000_100, account]
            )
        if n < 1000:
            tables["leaf_revocations"].append(
                [issuer_id, root, rnd(32), 4, 40_000 + n, 1_790_000_100, account]
            )
    return tables


def _anchor(issuer: list[object], block: int) -> list[object]:
    time = YEAR_START + (block - 100_000) * 2
    return [issuer[0], os.urandom(32), TYPES[0], BATCH, block, time, issuer[3], os.urandom(32)]


def _revocation(anchor: list[object], block: int) -> list[object]:
    time = YEAR_START + (block - 100_000) * 2
    return [anchor[0], anchor[1], os.urandom(32), 4, block, time, anchor[6]]


def a_year_of_national_load(tables: Tables) -> int:
    """Add a year of anchors (10^8 certificates in 1,024-leaf batches: 97,656 anchors, spread
    over the issuers) and of certificate revocations (0.1 %) to ``tables``; the last block."""
    issuers = tables["issuers"]
    block = 100_000
    for day in range(365):
        for n in range(ANCHORS_A_DAY):
            tables["anchors"].append(
                _anchor(issuers[(day * ANCHORS_A_DAY + n) % len(issuers)], block + n)
            )
        recent = tables["anchors"][-ANCHORS_A_DAY:]
        for n in range(REVOCATIONS_A_DAY):
            tables["leaf_revocations"].append(_revocation(recent[n % len(recent)], block + n))
        block += BLOCKS_A_DAY
    return block


def a_day_later(tables: Tables, block: int, provinces: list[str]) -> tuple[Tables, int]:
    """The tables a day on: 268 anchors, 274 certificate revocations, a batch revoked, three
    issuers registered (types, history, seal), one suspended, one seal certificate rotated, a
    recognition withdrawn; and the day's last block."""
    day = copy.deepcopy(tables)
    issuers = day["issuers"]
    for n in range(ANCHORS_A_DAY):
        day["anchors"].append(_anchor(issuers[n * 37 % len(issuers)], block + n))
    recent = day["anchors"][-ANCHORS_A_DAY:]
    for n in range(REVOCATIONS_A_DAY):
        day["leaf_revocations"].append(_revocation(recent[n % len(recent)], block + n))
    batch = recent[0]
    day["root_revocations"].append([batch[0], batch[1], 3, block + 5, YEAR_START, batch[6]])
    for n in range(3):
        issuer_id = f"92{len(issuers) + n:016d}"
        account, seal = "0x" + os.urandom(20).hex(), os.urandom(32)
        province = provinces[n % len(provinces)]
        issuers.append([issuer_id, province, f"New department {n}", account, "ACTIVE", seal, block])
        day["issuer_types"].append([issuer_id, TYPES[0]])
        day["issuer_history"] += [
            [issuer_id, block + n, 0, "REGISTERED", account],
            [issuer_id, block + n, 1, "TYPE_GRANTED", TYPES[0]],
        ]
        day["seal_certs"].append([seal, issuer_id, os.urandom(32), block + n, None])
    suspended = issuers[7]
    suspended[4] = "SUSPENDED"
    day["issuer_history"].append([suspended[0], block + 9, 0, "SUSPENDED", ""])
    rotated, new_seal = issuers[8], os.urandom(32)
    old = next(s for s in day["seal_certs"] if s[0] == rotated[5])
    old[4] = block + 10
    day["seal_certs"].append([new_seal, rotated[0], old[2], block + 10, None])
    rotated[5] = new_seal
    day["issuer_history"].append([rotated[0], block + 10, 0, "SEAL_ROTATED", new_seal.hex()])
    withdrawn = day["recognitions"][0]
    withdrawn[3], withdrawn[4] = 0, block + 11
    return day, block + BLOCKS_A_DAY
