"""``ecert seal extend``: long-term evidence for sealed certificates already issued (PAdES
B-LTA: validation data and a document timestamp from the province's service)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated

import httpx
import typer
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import timestamps
from pyhanko.sign.general import SigningError

from cli.site_opts import console, err
from cli.workspace import home
from issuer.ltv import extend as extend_pdf
from issuer.pkistore import PkiStore
from issuer.seal import to_asn1
from issuer.site import NetworkConfig, crl_urls
from ledger.errors import LedgerError
from ledger.keys import password_from_env

app = typer.Typer(help="Sealed certificates: long-term evidence.", no_args_is_help=True)

MAX_PDF_BYTES = 16 * 1024 * 1024


@app.command("extend")
def extend(
    file: Annotated[Path, typer.Argument(help="A sealed certificate PDF.")],
    tsa_url: Annotated[str, typer.Option("--tsa-url", help="The province's timestamp service.")],
    province: Annotated[str, typer.Option(help="Province whose CA issued the seal, e.g. ZJ.")],
    out: Annotated[
        Path | None, typer.Option(help="Where to write (default: FILE, replaced).")
    ] = None,
) -> None:
    """Add validation data (certificates, CRLs) and a document timestamp to a sealed PDF: it
    keeps verifying after the seal's and the TSA's certificates expire. The certificate's
    anchor is unchanged (it binds the sealed revision)."""
    try:
        with file.open("rb") as handle:
            pdf = handle.read(MAX_PDF_BYTES + 1)
    except OSError as exc:
        err.print(f"[red]cannot read {file}: {exc.strerror}[/]")
        raise typer.Exit(2) from exc
    if len(pdf) > MAX_PDF_BYTES or pdf.lstrip()[:5] != b"%PDF-":
        err.print(f"[red]{file} is not a sealed certificate PDF[/]")
        raise typer.Exit(2)
    try:
        root = PkiStore(home(), "").root_certificate()
        crls = []
        for url in crl_urls(tsa_url, province):
            response = httpx.get(url, timeout=10)
            response.raise_for_status()
            crls.append(response.content)
        extended = extend_pdf(
            pdf,
            timestamper=timestamps.HTTPTimeStamper(tsa_url, timeout=10),
            roots=[to_asn1(root)],
            crls=crls,
        )
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    except httpx.HTTPError as exc:
        err.print(f"[red]the province service at {tsa_url} did not answer: {exc}[/]")
        raise typer.Exit(2) from exc
    except (PdfError, SigningError, ValueError, IndexError) as exc:
        err.print(f"[red]cannot extend {file}: {type(exc).__name__}: {str(exc)[:200]}[/]")
        raise typer.Exit(1) from exc
    target = out or file
    temporary = target.with_suffix(target.suffix + ".tmp")
    temporary.write_bytes(extended)
    temporary.replace(target)
    console.print(
        f"{target}: validation data and a document timestamp added "
        f"({len(pdf):,} → {len(extended):,} bytes)"
    )


def issue_verifier_seal(
    province: Annotated[str, typer.Option(help="The province whose verifier seals reports.")],
) -> None:
    """Issue the e-seal a province's verifier seals its verification reports with, and print
    the verifier.json entry that uses it (key encrypted with $ECERT_KEY_PASSWORD)."""
    try:
        pki = PkiStore(home(), password_from_env())
        name = province
        with contextlib.suppress(LedgerError):
            name = NetworkConfig.load(home() / "network.json").province(province).name
        cert, key, ca = pki.issue_verifier_seal(province, name)
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    entry = {
        province: {"certificate": str(cert), "key": str(key), "chain": [str(ca)], "location": name}
    }
    console.print(f"verifier seal for {province}: {cert}")
    console.print(f'add to verifier.json: "report_seals": {json.dumps(entry, ensure_ascii=False)}')
