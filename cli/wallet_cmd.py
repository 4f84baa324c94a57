"""``ecert wallet``: the holder's side of presentations.

    ecert wallet new                                 the holder key (encrypted, $ECERT_HOME/wallet)
    ecert wallet present CERT.pdf [--proof P.json] --fields name,uscc --ttl 5m [--nonce HEX]

``new`` prints the holder key to give issuers (a compressed public key): each certificate commits
its own account derived from it and the certificate's secret (``ledger.holderkey``), and
``present`` signs with that certificate's key, so presentations of two certificates share no key.
``present`` prints the presentation text and when it stops working (local time), and writes
the QR image. The proof record travels inside the presentation, so showing it asks nobody
anything. It is the issuer's ``GET /api/v1/proofs/{issuer}/{no}`` (the department gives it with
the certificate, or its console's "download the proof"); without ``--proof`` it is fetched once
from ``--issuer-url`` and kept in ``$ECERT_HOME/wallet/proofs/``. A lifetime over what
verifiers accept (15 minutes) is refused before anything else."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from cli.holder import (
    certificate_claims,
    check_lifetime,
    fetch_proof,
    present_from_files,
    presentation_qr,
)
from cli.site_opts import console, err
from cli.wallet_page import create_wallet_app
from cli.workspace import home
from ledger.errors import LedgerError
from ledger.holderkey import holder_public_key
from ledger.keys import KeyStore, password_from_env

app = typer.Typer(help="The holder's wallet: a key, and presentations of chosen fields.")

NameOpt = Annotated[str, typer.Option("--name", help="Wallet key name.")]
IssuerUrlOpt = Annotated[
    str,
    typer.Option(
        "--issuer-url",
        envvar="ECERT_ISSUER_URL",
        help="The issuer service to fetch a missing proof from (its public proof endpoint).",
    ),
]
DEFAULT_ISSUER_URL = "http://127.0.0.1:8600"


def _keys() -> KeyStore:
    try:
        return KeyStore(home() / "wallet", password_from_env())
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def _ttl(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([smh]?)", text.strip())
    if match is None:
        raise typer.BadParameter("write e.g. 90s, 5m or 1h")
    unit = {"s": 1, "": 1, "m": 60, "h": 3600}[match.group(2)]
    return timedelta(seconds=int(match.group(1)) * unit)


@app.command("new")
def new(name: NameOpt = "holder") -> None:
    """Create the holder key (once) and print it, to give issuers (each certificate gets its
    own account derived from it)."""
    keys = _keys()
    account = keys.load_or_create(f"wallet-{name}")
    console.print(holder_public_key(account))


def _proof_bytes(pdf: bytes, proof: Path | None, issuer_url: str) -> bytes:
    """The proof record: the file given, else the copy kept from an earlier fetch, else
    fetched from the issuer now (and kept)."""
    if proof is not None:
        return proof.read_bytes()
    embedded = certificate_claims(pdf)
    kept = (
        home() / "wallet" / "proofs" / str(embedded.raw.get("issuer_id", "unknown"))
        / f"{embedded.raw.get('certificate_id', 'unknown')}.json"
    )  # fmt: skip
    if kept.is_file():
        return kept.read_bytes()
    data = fetch_proof(issuer_url, embedded)
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(data)
    err.print(f"登记证明已从发证机关取得并保存 / proof fetched from the issuer, kept in {kept}")
    return data


@app.command("present")
def present(
    pdf: Annotated[Path, typer.Argument(help="The certificate PDF.")],
    fields: Annotated[
        str, typer.Option(help="Fields to show, comma-separated: keys or labels (名称,uscc).")
    ],
    proof: Annotated[
        Path | None,
        typer.Option(help="Its proof record (JSON) from the issuer; fetched when not given."),
    ] = None,
    ttl: Annotated[str, typer.Option(help="How long it works: 90s, 5m (at most 15m).")] = "5m",
    nonce: Annotated[str, typer.Option(help="The verifier's nonce (hex), if it gave one.")] = "",
    png: Annotated[Path | None, typer.Option(help="QR image to write.")] = None,
    name: NameOpt = "holder",
    issuer_url: IssuerUrlOpt = DEFAULT_ISSUER_URL,
) -> None:
    """Show chosen fields of a certificate as a signed, expiring QR presentation."""
    lifetime = _ttl(ttl)
    try:
        check_lifetime(lifetime)  # before unlocking the key: a QR every verifier refuses
        nonce_bytes = bytes.fromhex(nonce)
    except ValueError as exc:  # PresentationError is a ValueError
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    holder = _keys().load(f"wallet-{name}")
    try:
        pdf_bytes = pdf.read_bytes()
        shown = present_from_files(
            pdf_bytes,
            _proof_bytes(pdf_bytes, proof, issuer_url),
            [f.strip() for f in fields.split(",") if f.strip()],
            holder,
            lifetime=lifetime,
            nonce=nonce_bytes,
        )
    except (OSError, ValueError) as exc:  # PresentationError is a ValueError
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    text = shown.encode()
    code = presentation_qr(text)
    if png is not None:
        code.make_image().save(str(png))
    console.print(text, soft_wrap=True)
    local = shown.expires_at.astimezone()
    console.print(
        f"出示码 {local:%H:%M:%S} 后失效（本机时间）/ stops working at {local:%H:%M:%S} "
        f"local time ({local:%Z}), in {int(lifetime.total_seconds() // 60)} min "
        f"{int(lifetime.total_seconds() % 60)} s",
        style="dim",
    )


def serve_wallet(
    port: Annotated[int, typer.Option()] = 8700,
    name: NameOpt = "holder",
    issuer_url: IssuerUrlOpt = DEFAULT_ISSUER_URL,
) -> None:
    """The holder's page on 127.0.0.1 (this device only): choose fields, get a QR."""
    holder = _keys().load(f"wallet-{name}")
    console.print(f"wallet page on http://127.0.0.1:{port} for {holder_public_key(holder)}")
    app = create_wallet_app(holder, issuer_url=issuer_url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
