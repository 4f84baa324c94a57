from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st

from ledger.claims import ClaimsCommitment, DisclosedClaim
from ledger.errors import MerkleError
from ledger.qrpayload import MAX_QR_BYTES, QrPayload, QrPayloadError, decode_qr_text

CLAIMS = {
    "uscc": "91350100M000100Y43",
    "name": "杭州示范科技有限公司",
    "legal_representative": "张三",
}
SECRET = b"\x07" * 32


def test_commitment_depends_on_every_value_and_on_the_secret() -> None:
    base = ClaimsCommitment(CLAIMS, SECRET).root
    assert ClaimsCommitment(dict(CLAIMS), SECRET).root == base
    assert ClaimsCommitment({**CLAIMS, "name": "另一家公司"}, SECRET).root != base
    assert ClaimsCommitment(CLAIMS, b"\x08" * 32).root != base


def test_disclosure_reveals_only_chosen_fields_and_detects_tampering() -> None:
    commitment = ClaimsCommitment(CLAIMS, SECRET)
    (name,) = commitment.disclose(["name"])
    assert name.verify(commitment.root)
    forged = DisclosedClaim(name.key, "冒名公司", name.salt, name.siblings)
    assert not forged.verify(commitment.root)
    other = ClaimsCommitment({**CLAIMS, "uscc": "91350100M000100Y43"}, b"\x09" * 32)
    assert not name.verify(other.root)  # a field from another certificate
    with pytest.raises(MerkleError):
        commitment.disclose(["colour"])


def _payload(**changes: object) -> QrPayload:
    values: dict[str, object] = {
        "issuer_id": "11330000002482000X",
        "cert_type": "BUSINESS_LICENCE",
        "certificate_id": "ZJ-BL-2026-000001",
        "claims_commitment": os.urandom(32),
        "valid_from": datetime(2026, 3, 1, tzinfo=UTC),
        "valid_until": None,
    }
    values.update(changes)
    return QrPayload(**values)  # type: ignore[arg-type]


def test_qr_round_trip_signer_and_size() -> None:
    account = Account.create()
    payload = _payload(valid_until=datetime(2036, 3, 1, tzinfo=UTC)).signed_by(account)
    url = payload.url("https://zj.ecert.example")
    assert len(url.encode()) <= MAX_QR_BYTES
    for text in (url, payload.encode(), f"  {url}\n"):
        decoded = decode_qr_text(text)
        assert decoded == payload
        assert decoded.signer() == account.address


def test_a_changed_field_changes_the_signer() -> None:
    account = Account.create()
    payload = _payload().signed_by(account)
    tampered = QrPayload(
        payload.issuer_id,
        payload.cert_type,
        "ZJ-BL-2026-999999",
        payload.claims_commitment,
        payload.valid_from,
        payload.valid_until,
        payload.signature,
    )
    assert tampered.signer() != account.address


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not base64 !!",
        "AAAA",
        "https://example.com/other/path",
        "https://x/v/" + "A" * 40,
        "A" * 5000,
    ],
)
def test_malformed_qr_texts_are_refused_cleanly(text: str) -> None:
    with pytest.raises(QrPayloadError):
        decode_qr_text(text)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_decoder(raw: bytes) -> None:
    import base64  # noqa: PLC0415

    text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    try:
        payload = decode_qr_text(text)
        signer = payload.signer()
    except QrPayloadError:
        return
    assert signer.startswith("0x")  # well-formed by chance: still only ever an address


def test_too_long_urls_are_refused() -> None:
    payload = _payload(certificate_id="X" * 60).signed_by(Account.create())
    with pytest.raises(QrPayloadError, match="more than 250"):
        payload.url("https://a-very-long-verifier-host.example.gov.cn/province/zhejiang")
