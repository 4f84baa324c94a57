"""A rendered, sealed certificate read the way people and other systems read it: printed at
150 dpi and scanned by zbar and zxing-cpp, opened by pyHanko's validator, its embedded data read
back by pikepdf."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pikepdf
import zxingcpp
from eth_account.signers.local import LocalAccount
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from issuer.render import ATTACHMENT_NAME, XMP_NAMESPACE, render_certificate
from issuer.seal import SEAL_FIELD, Sealer, to_asn1
from ledger.claims import ClaimsCommitment
from ledger.qrpayload import decode_qr_text
from tests.issuer.conftest import SamplePki, make_document


def _png_150dpi(pdf: bytes, tmp_path: Path) -> Path:
    source = tmp_path / "cert.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(source), str(tmp_path / "page")],
        check=True,
    )
    return tmp_path / "page.png"


def test_sealed_certificate_validates_and_its_qr_scans(
    pki: SamplePki, chain_account: LocalAccount, tmp_path: Path
) -> None:
    doc = make_document(chain_account)
    sealer = Sealer(pki.seal, [pki.zj.cert, pki.root.cert], location="浙江省")
    sealed = sealer.seal(render_certificate(doc))

    signature = PdfFileReader(io.BytesIO(sealed)).embedded_signatures[0]
    assert signature.field_name == SEAL_FIELD
    status = validate_pdf_signature(
        signature,
        ValidationContext(trust_roots=[to_asn1(pki.root.cert)]),
        key_usage_settings=KeyUsageConstraints(
            key_usage={"digital_signature", "non_repudiation"},
            extd_key_usage={"1.3.6.1.5.5.7.3.36"},
            explicit_extd_key_usage_required=True,
        ),
    )
    assert (status.intact, status.valid, status.trusted, status.bottom_line) == (
        True,
        True,
        True,
        True,
    )
    assert status.coverage.name == "ENTIRE_FILE"

    png = _png_150dpi(sealed, tmp_path)
    zbar = subprocess.run(
        ["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert zbar == doc.qr_text
    found = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [b.text for b in found] == [doc.qr_text]
    payload = decode_qr_text(zbar)
    assert payload.signer() == chain_account.address
    assert payload.claims_commitment == doc.claims_commitment


def test_claims_are_embedded_as_json_and_xmp_under_the_seal(
    pki: SamplePki, chain_account: LocalAccount
) -> None:
    doc = make_document(chain_account)
    sealer = Sealer(pki.seal, [pki.zj.cert, pki.root.cert], location="浙江省")
    sealed = sealer.seal(render_certificate(doc))
    status = validate_pdf_signature(
        PdfFileReader(io.BytesIO(sealed)).embedded_signatures[0],
        ValidationContext(trust_roots=[to_asn1(pki.root.cert)]),
    )
    assert (status.intact, status.coverage.name) == (True, "ENTIRE_FILE")
    with pikepdf.open(io.BytesIO(sealed)) as pdf:
        attached = json.loads(pdf.attachments[ATTACHMENT_NAME].get_file().read_bytes())
        meta = pdf.open_metadata()
        assert meta[f"{{{XMP_NAMESPACE}}}certificateId"] == doc.certificate_id
        assert json.loads(meta[f"{{{XMP_NAMESPACE}}}claims"]) == doc.claims
        fonts = {str(f.get("/BaseFont")) for p in pdf.pages for f in p.Resources.Font.values()}
    assert attached["claims"] == doc.claims
    # The attachment lets anyone holding the PDF recompute the anchored claims commitment.
    recomputed = ClaimsCommitment(attached["claims"], bytes.fromhex(attached["claims_secret"]))
    assert recomputed.root == doc.claims_commitment
    assert any("WenQuanYi" in f for f in fonts)


def test_cjk_font_is_embedded_and_subsetted(chain_account: LocalAccount, tmp_path: Path) -> None:
    path = tmp_path / "c.pdf"
    path.write_bytes(render_certificate(make_document(chain_account)).page)
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    row = next(line for line in listing.splitlines() if "WenQuanYi" in line)
    assert row.split()[-5:-2] == ["yes", "yes", "yes"]  # emb sub uni
    assert path.stat().st_size < 120_000
