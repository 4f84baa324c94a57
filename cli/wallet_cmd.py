"""``ecert wallet``: the holder's side of presentations.

    ecert wallet new                                 a holder key (encrypted, $ECERT_HOME/wallet)
    ecert wallet present CERT.pdf --proof P.json --fields name,uscc --ttl 5m [--nonce HEX]

``present`` prints the presentation text, its size and QR version, and writes the QR image.
The proof record (``GET /api/v1/proofs/{issuer}/{no}`` of the issuer, saved once when the
certificate arrives) travels inside the presentation, so showing it asks nobody anything."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from cli.holder import present_from_files, presentation_qr
from cli.site_opts import console, err
from cli.wallet_page import create_wallet_app
from cli.workspace import home
from ledger.errors import LedgerError
from ledger.keys import KeyStore, password_from_env

app = typer.Typer(help="The holder's wallet: a key, and presentations of chosen fields.")

NameOpt = Annotated[str, typer.Option("--name", help="Wallet key name.")]


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
    """Create the holder key (once) and print its account, to give the issuer."""
    keys = _keys()
    account = keys.load_or_create(f"wallet-{name}")
    console.print(account.address)


@app.command("present")
def present(
    pdf: Annotated[Path, typer.Argument(help="The certificate PDF.")],
    proof: Annotated[Path, typer.Option(help="Its public proof record (JSON).")],
    fields: Annotated[str, typer.Option(help="Fields to show, comma-separated.")],
    ttl: Annotated[str, typer.Option(help="How long it works: 90s, 5m (at most 15m).")] = "5m",
    nonce: Annotated[str, typer.Option(help="The verifier's nonce (hex), if it gave one.")] = "",
    png: Annotated[Path | None, typer.Option(help="QR image to write.")] = None,
    name: NameOpt = "holder",
) -> None:
    """Show chosen fields of a certificate as a signed, expiring QR presentation."""
    holder = _keys().load(f"wallet-{name}")
    try:
        shown = present_from_files(
            pdf.read_bytes(),
            proof.read_bytes(),
            [f.strip() for f in fields.split(",") if f.strip()],
            holder,
            lifetime=_ttl(ttl),
            nonce=bytes.fromhex(nonce),
        )
    except (OSError, ValueError) as exc:  # PresentationError is a ValueError
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    text = shown.encode()
    code = presentation_qr(text)
    if png is not None:
        code.make_image().save(str(png))
    console.print(text, soft_wrap=True)
    console.print(
        f"{len(text)} bytes, QR version {code.version} (error correction L), "
        f"expires {shown.expires_at.isoformat()}",
        style="dim",
    )


def serve_wallet(
    port: Annotated[int, typer.Option()] = 8700,
    name: NameOpt = "holder",
) -> None:
    """The holder's page on 127.0.0.1 (this device only): choose fields, get a QR."""
    holder = _keys().load(f"wallet-{name}")
    console.print(f"wallet page on http://127.0.0.1:{port} for {holder.address}")
    uvicorn.run(create_wallet_app(holder), host="127.0.0.1", port=port, log_level="warning")
