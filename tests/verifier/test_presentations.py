"""Citizen presentations end to end on a real anvil node: a certificate issued with a holder key,
two of its fields shown as a signed, expiring QR, verified VALID through the engine, the API,
the page and the CLI showing only those two fields; every bad case INVALID with its reason
(offline from the trust bundle too); what a presentation reveals (nothing undisclosed, and no
key or identifier shared by two certificates of one holder) and whom it contacts (nobody but
the chain index)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import qrcode
import zxingcpp
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.pipeline import Submission
from issuer.samples import sample_record
from ledger.codes import RevocationReason
from ledger.holderkey import certificate_holder_account, holder_public_key
from ledger.keccak import keccak256
from ledger.presentation import HOLDER_CLAIM, Presentation, build_presentation
from ledger.proofrecord import ProofRecord
from tests.integration.servers import ServiceProcess
from tests.verifier.conftest import ZJ_MARKET, Network
from verifier.config import VerifierConfig, build_verifier
from verifier.document import read_embedded_claims
from verifier.reasons import ReasonCode
from verifier.result import Verdict, VerificationReport

pytestmark = pytest.mark.anvil

SHOWN = ["name", "uscc"]


def _issue_to(network: Network, reference: str, holder: str, days: int = 30) -> str:
    """A business licence issued, sealed and anchored to ``holder``'s key; its number."""
    until = (datetime.now(UTC) + timedelta(days=days)).date()
    record = sample_record("BUSINESS_LICENCE", random.Random(reference))
    (result,) = network.pipeline.submit(
        ZJ_MARKET, [Submission(reference, "BUSINESS_LICENCE", record, until, holder)]
    )
    assert result.accepted, result.errors
    network.pipeline.seal_pending()
    network.pipeline.close_batches(force=True)
    network.pipeline.anchor_pending()
    return result.certificate_id or ""


class Held:
    """A certificate in a holder's wallet: the PDF, its proof record, the wallet key (whose
    public key the issuer was given) and the certificate's own key derived from it."""

    def __init__(
        self, network: Network, reference: str, holder: LocalAccount, days: int = 200
    ) -> None:
        self.number = _issue_to(network, reference, holder_public_key(holder), days=days)
        self.holder = holder
        self.pdf = network.pdf(self.number)
        self.proof_json = network.pipeline.public_proof(ZJ_MARKET, self.number)
        self.record = ProofRecord.from_json(self.proof_json)
        embedded = read_embedded_claims(PdfFileReader(io.BytesIO(self.pdf), strict=False))
        assert embedded is not None
        self.claims = embedded.claims
        self.secret = bytes.fromhex(str(embedded.raw["claims_secret"]))
        self.account = certificate_holder_account(holder, self.secret)
        assert self.claims[HOLDER_CLAIM] == self.account.address

    def present(
        self, fields: list[str], *, ttl: float = 300, nonce: bytes = b"", by: Any = None
    ) -> Presentation:
        return build_presentation(
            self.record,
            self.claims,
            self.secret,
            fields,
            by or self.holder,
            expires_at=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ttl),
            nonce=nonce,
        )


@pytest.fixture(scope="module")
def held(network: Network) -> tuple[Held, Held]:
    return (
        Held(network, "holder-a", Account.create()),
        Held(network, "holder-b", Account.create()),
    )


def _reasons(report: VerificationReport) -> set[ReasonCode]:
    return {c.reason for c in report.failures() if c.reason}


def test_two_fields_verify_valid_everywhere_showing_only_those_fields(
    network: Network, service: ServiceProcess, held: tuple[Held, Held], tmp_path: Path
) -> None:
    mine, _other = held
    text = mine.present(SHOWN).encode()
    hidden = {k: v for k, v in mine.claims.items() if k not in [*SHOWN, HOLDER_CLAIM]}
    assert hidden  # the licence has more fields than the two shown

    report = network.verifier().verify_qr_text(text)
    assert report.verdict is Verdict.VALID, [c.to_json("en") for c in report.failures()]
    assert report.input_kind == "presentation"
    assert {f.key for f in report.certificate.fields} == set(SHOWN)
    assert 250 <= report.certificate.presentation.seconds_left <= 300

    api = httpx.post(f"{service.url}/api/v1/verify", json={"presentation": text}, timeout=30)
    body = api.json()
    assert body["verdict"] == "VALID", body
    assert {f["key"] for f in body["certificate"]["fields"]} == set(SHOWN)
    assert not any(v in api.text for v in hidden.values())

    page = httpx.post(f"{service.url}/verify", data={"qr_text": text}, timeout=30).text
    assert 'data-verdict="VALID"' in page
    assert mine.claims["name"] in page
    assert 'id="presentation"' in page
    assert not any(v in page for v in hidden.values())

    # A QR image of it, as a laptop webcam would read it off a phone screen.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(text.encode("ascii"))
    image = code.make_image().get_image()
    found = zxingcpp.read_barcodes(image)
    assert [b.text for b in found] == [text]
    png = io.BytesIO()
    image.save(png, format="PNG")
    upload = httpx.post(
        f"{service.url}/api/v1/verify", files={"file": ("p.png", png.getvalue())}, timeout=30
    )
    assert upload.json()["verdict"] == "VALID"

    cli = subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", text, "--json", "--region", "ZJ",
         "--config", str(network.config_path)],
        capture_output=True, text=True, check=False, timeout=60,
        env={"ECERT_HOME": str(network.home), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert {f["key"] for f in json.loads(cli.stdout)["certificate"]["fields"]} == set(SHOWN)


def test_every_bad_presentation_is_invalid_with_its_reason(
    network: Network, service: ServiceProcess, held: tuple[Held, Held]
) -> None:
    mine, other = held
    verifier = network.verifier()

    expired = mine.present(SHOWN, ttl=-1)
    assert _reasons(verifier.verify_presentation(expired.encode())) == {
        ReasonCode.PRESENTATION_EXPIRED
    }
    too_long = mine.present(SHOWN, ttl=3600)
    assert ReasonCode.PRESENTATION_TOO_LONG in _reasons(
        verifier.verify_presentation(too_long.encode())
    )

    # Tampered: the holder changes a shown value and signs again.
    honest = mine.present(SHOWN)
    changed = tuple(
        replace(c, value="另一家公司有限公司") if c.key == "name" else c for c in honest.fields
    )
    tampered = replace(honest, fields=changed).signed_by(mine.account)
    report = verifier.verify_presentation(tampered.encode())
    assert report.verdict is Verdict.INVALID
    assert _reasons(report) == {ReasonCode.CLAIM_NOT_IN_CERTIFICATE}

    # A field of another certificate slipped in (its own value and salt, at its position).
    three = mine.present([*SHOWN, "legal_representative"])
    borrowed = next(c for c in other.present(["legal_representative"]).fields if c.key != "name")
    mixed = replace(
        three,
        fields=tuple(borrowed if c.key == borrowed.key else c for c in three.fields),
    ).signed_by(mine.account)
    assert _reasons(verifier.verify_presentation(mixed.encode())) == {
        ReasonCode.CLAIM_NOT_IN_CERTIFICATE
    }

    # Signed by somebody else's key: someone who copied the PDF and the proof, or the wallet
    # key itself instead of the certificate's own.
    for key in (Account.create(), mine.holder):
        thief = replace(honest, signature=b"").signed_by(key)
        assert _reasons(verifier.verify_presentation(thief.encode())) == {
            ReasonCode.HOLDER_MISMATCH
        }
    # A holder claim from another certificate, signed by its key, does not help either: it is
    # not among this certificate's claims.
    assert other.present([]).holder is not None
    swapped = replace(honest, holder=other.present([]).holder).signed_by(other.account)
    assert _reasons(verifier.verify_presentation(swapped.encode())) == {
        ReasonCode.CLAIM_NOT_IN_CERTIFICATE
    }

    # A wrong batch proof: the root it leads to was never anchored.
    wrong = replace(honest, batch_path=(b"\x01" * 32, *honest.batch_path)).signed_by(mine.account)
    assert _reasons(verifier.verify_presentation(wrong.encode())) == {ReasonCode.NOT_ANCHORED}

    # Garbage and truncation; the old layout is refused with its own reason.
    for junk in ("ECP2.", "ECP2.@@@", "ECP2.AAA", honest.encode()[:-10], honest.encode() + "00"):
        assert _reasons(verifier.verify_presentation(junk)) == {ReasonCode.PRESENTATION_MALFORMED}
    old = verifier.verify_presentation("ECP1.AgIPMTEzMzAwMDA")
    assert _reasons(old) == {ReasonCode.PRESENTATION_OUTDATED}

    # Replayed: the bank's verifier gave a nonce; the second use of it is refused, whichever
    # worker process answers (they share the nonce book).
    url = f"{service.url}/api/v1/verify"
    for _ in range(2):
        nonce = bytes.fromhex(httpx.post(f"{service.url}/api/v1/nonce", timeout=10).json()["nonce"])
        once = mine.present(SHOWN, nonce=nonce).encode()
        first = httpx.post(url, json={"presentation": once}, timeout=30).json()
        assert first["verdict"] == "VALID", first
        for _attempt in range(3):
            again = httpx.post(url, json={"presentation": once}, timeout=30).json()
            assert again["verdict"] == "INVALID"
            assert "PRESENTATION_REPLAYED" in {c["reason"] for c in again["checks"]}
    unknown = mine.present(SHOWN, nonce=b"not from here").encode()
    assert "NONCE_UNKNOWN" in {
        c["reason"]
        for c in httpx.post(url, json={"presentation": unknown}, timeout=30).json()["checks"]
    }


def test_presentations_reveal_nothing_undisclosed_and_ask_nobody(
    network: Network, held: tuple[Held, Held], tmp_path: Path
) -> None:
    mine, _other = held
    shown = mine.present(SHOWN)
    raw = shown.encode().encode()
    decoded = Presentation.decode(shown.encode()).body()
    for key, value in mine.claims.items():
        if key in [*SHOWN, HOLDER_CLAIM]:
            continue
        data = value.encode()
        for trace in (
            data,
            value.encode("utf-16-be"),
            hashlib.sha256(data).digest(),
            keccak256(data),
        ):
            assert trace not in decoded, key
            assert trace not in raw, key

    # On chain: the registry's whole event journal holds no claim value at all.
    index = network.verifier().chain.index
    journal = index._all("SELECT args FROM journal")
    text = json.dumps([r[0] for r in journal], ensure_ascii=False)
    for value in mine.claims.values():
        assert value not in text

    # Verifying needs no proof directory (an unreachable one changes nothing) and sends no
    # transaction: the issuer cannot learn where the presentation was shown.
    config = replace(
        VerifierConfig.load(network.config_path),
        proof_directories={"*": "http://127.0.0.1:9"},
        index_dir=str(tmp_path / "isolated"),
    )
    isolated = build_verifier(config, network.config_path, region="ZJ")
    head = isolated.chain.registry.chain.block_number() if isolated.chain.registry else -1
    assert isolated.verify_presentation(shown.encode()).verdict is Verdict.VALID
    assert isolated.chain.registry is not None
    assert isolated.chain.registry.chain.block_number() == head


def test_wallet_commands_make_a_presentation_a_verifier_accepts(
    network: Network, tmp_path: Path
) -> None:
    env = {
        "ECERT_HOME": str(tmp_path / "phone"),
        "ECERT_KEY_PASSWORD": "a holder's own passphrase",
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "4000",
    }

    def wallet(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "wallet", *args],
            capture_output=True, text=True, check=False, timeout=60, env=env,
        )  # fmt: skip

    made = wallet("new")
    assert made.returncode == 0, made.stderr
    address = made.stdout.strip()
    assert wallet("new").stdout.strip() == address  # the same key next time
    number = _issue_to(network, "wallet-cli", address)
    pdf, proof = tmp_path / "licence.pdf", tmp_path / "proof.json"
    pdf.write_bytes(network.pdf(number))
    proof.write_text(json.dumps(network.pipeline.public_proof(ZJ_MARKET, number)))

    shown = wallet("present", str(pdf), "--proof", str(proof), "--fields", "name,uscc",
                   "--ttl", "2m", "--png", str(tmp_path / "qr.png"))  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    text = next(line for line in shown.stdout.splitlines() if line.startswith("ECP2."))
    assert "QR version" not in shown.stdout  # no jargon for citizens
    assert "local time" in shown.stdout
    report = network.verifier().verify_qr_text(text)
    assert report.verdict is Verdict.VALID, [c.to_json("en") for c in report.failures()]
    assert 100 <= report.certificate.presentation.seconds_left <= 120
    from PIL import Image  # noqa: PLC0415

    decoded = zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png"))
    assert [b.text for b in decoded] == [text]

    # Not the holder: another wallet cannot present it.
    env["ECERT_HOME"] = str(tmp_path / "someone-else")
    wallet("new")
    refused = wallet("present", str(pdf), "--proof", str(proof), "--fields", "name")
    assert refused.returncode == 2
    assert "not the certificate's holder" in refused.stderr


def _windows(raw: bytes, size: int = 8) -> set[bytes]:
    return {raw[i : i + size] for i in range(len(raw) - size + 1)}


def test_two_certificates_of_one_holder_share_no_key_or_identifier(
    network: Network, held: tuple[Held, Held]
) -> None:
    """One wallet, two certificates (another batch, another validity): their presentations
    share no key, account, salt, hash or signature — no byte string of 8 bytes or more but the
    issuer's own public values (its id, the common start of its numbers)."""
    mine, _other = held
    second = Held(network, "holder-a-again", mine.holder, days=300)
    one = mine.present(SHOWN, nonce=os.urandom(16))
    two = second.present(SHOWN, ttl=240, nonce=os.urandom(16))
    fresh = second.present(SHOWN).encode()  # a nonce not issued here would be refused
    assert network.verifier().verify_presentation(fresh).verdict is Verdict.VALID
    assert one.signer() != two.signer()
    assert one.signer() == mine.account.address
    assert two.signer() == second.account.address
    assert mine.holder.address not in {one.signer(), two.signer()}
    assert one.holder is not None
    assert two.holder is not None
    for a, b in (
        (one.holder.salt, two.holder.salt),
        (one.holder.check, two.holder.check),
        (one.signature, two.signature),
        (one.claims_check, two.claims_check),
        (one.document_digest, two.document_digest),
        (one.certificate_id, two.certificate_id),
        ((one.valid_from, one.valid_until), (two.valid_from, two.valid_until)),
        *((x.salt, y.salt) for x, y in zip(one.fields, two.fields, strict=True)),
        *((x.value, y.value) for x, y in zip(one.fields, two.fields, strict=True)),
    ):
        assert a != b
    assert not set(one.batch_path + one.claim_hashes) & set(two.batch_path + two.claim_hashes)
    # What the two have in common: the issuer's id, the type and the start of the issuer's
    # certificate numbers, all written before the validity times, and what the shown values
    # themselves have in common (both names end in 有限公司); nothing else.
    raw = one.raw()
    assert one.valid_until is not None
    times = struct.pack(">II", int(one.valid_from.timestamp()), int(one.valid_until.timestamp()))
    public = _windows(raw[: raw.index(times)])
    for claim in one.fields:
        public |= _windows(claim.value.encode("utf-16-be")) | _windows(claim.value.encode())
    shared = _windows(raw) & _windows(two.raw())
    assert shared <= public, shared - public


def test_a_presentation_verifies_offline_from_the_trust_bundle(
    network: Network, held: tuple[Held, Held], tmp_path: Path
) -> None:
    from tests.verifier.test_offline import _bundle  # noqa: PLC0415

    mine, _other = held
    withdrawn = Held(network, "holder-revoked", Account.create())
    network.pipeline.revoke(ZJ_MARKET, withdrawn.number, RevocationReason.PRIVILEGE_WITHDRAWN)
    _bundle(network, tmp_path / "bundle.json")
    config = replace(
        VerifierConfig.load(network.config_path),
        index_dir=str(tmp_path / "verifier"),
        trust_bundles=[str(tmp_path / "bundle.json")],
        max_stale_seconds=0.0,
    )
    verifier = build_verifier(config, network.config_path, region="ZJ")
    network.node.stop()
    try:
        verifier.chain.refresh(force=True)
        report = verifier.verify_presentation(mine.present(SHOWN).encode())
        assert report.verdict is Verdict.VALID, [c.to_json("en") for c in report.failures()]
        assert report.freshness.offline is True
        revoked = verifier.verify_presentation(withdrawn.present(SHOWN).encode())
        assert _reasons(revoked) == {ReasonCode.REVOKED}
        assert revoked.freshness.offline is True
    finally:
        network.node.start()


def test_holder_page_makes_a_qr_the_verifier_accepts(network: Network, tmp_path: Path) -> None:
    """``ecert serve wallet`` as its own process: upload the PDF and proof, tick two fields,
    get a QR image; decoded by zxing-cpp, it verifies VALID with only those fields."""
    import base64 as b64  # noqa: PLC0415
    import re  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    env = {"ECERT_HOME": str(tmp_path / "phone"), "ECERT_KEY_PASSWORD": "a holder's passphrase"}
    made = subprocess.run(
        [sys.executable, "-m", "cli.main", "wallet", "new"],
        capture_output=True, text=True, check=False, timeout=60,
        env={**env, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    address = made.stdout.strip()
    number = _issue_to(network, "wallet-page", address)
    proof = json.dumps(network.pipeline.public_proof(ZJ_MARKET, number)).encode()

    page = ServiceProcess("wallet", [], env, tmp_path / "wallet.log").start()
    try:
        assert 'lang="zh-CN"' in httpx.get(f"{page.url}/", timeout=10).text
        step = httpx.post(
            f"{page.url}/fields",
            files={"pdf": ("c.pdf", network.pdf(number)), "proof": ("p.json", proof)},
            timeout=30,
        )
        assert step.status_code == 200, step.text
        token = re.search(r'name="token" value="([^"]+)"', step.text)
        assert token is not None
        assert "统一社会信用代码" in step.text  # fields listed by their Chinese labels
        done = httpx.post(
            f"{page.url}/present",
            data={"token": token.group(1), "field": ["name", "uscc"], "ttl": "2"},
            timeout=30,
        )
        assert done.status_code == 200, done.text
        image = re.search(r'src="data:image/png;base64,([^"]+)"', done.text)
        assert image is not None
        qr = Image.open(io.BytesIO(b64.b64decode(image.group(1))))
        (found,) = zxingcpp.read_barcodes(qr)
        report = network.verifier().verify_qr_text(found.text)
        assert report.verdict is Verdict.VALID, [c.to_json("en") for c in report.failures()]
        assert {f.key for f in report.certificate.fields} == {"name", "uscc"}
        bad = httpx.post(f"{page.url}/present", data={"token": "nope"}, timeout=10)
        assert bad.status_code == 400
        junk = httpx.post(
            f"{page.url}/fields", files={"pdf": ("x.pdf", b"junk"), "proof": ("p", b"{}")}
        )
        assert junk.status_code == 400
    finally:
        page.stop()
