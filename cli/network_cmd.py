"""``ecert network``: consortium operations on the registry.

    ecert network init --province ZJ:浙江省 --province GD:广东省 [--verifier-url ZJ=URL] [--rpc URL]
    ecert network admit CODE NAME [--verifier-url URL]     the consortium admin admits a province
    ecert network recognise GD ZJ BUSINESS_LICENCE          GD accepts ZJ's business licences
    ecert network recognise GD ZJ BUSINESS_LICENCE --withdraw
    ecert network matrix [--type T]                         who recognises whom, as a table
    ecert network besu-config --validators 4 --out DIR      a Besu QBFT kit (cli/besu_cmd.py)
    ecert network check-code [--evm london]                 the registry is the committed build

Every change is a registry transaction signed by the key that may make it, and an event every
verifier sees on its next sync. Exit 0 done, 1 refused by the registry, 2 usage or node down.

Each province's verifier URL is part of the network: its departments' QR codes open
``<URL>/v/…``. Unless ``--verifier-url`` says otherwise it is on this machine, the n-th
province's at http://127.0.0.1:8801 + n (where ``ecert serve verifier --region CODE`` listens
by default), so a scan here opens a real page."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer
from rich.table import Table

from cli.besu_cmd import besu_config, check_code
from cli.site_opts import RpcOpt, console, err, open_network, open_site, synced_index
from cli.workspace import DEFAULT_CHAIN_PORT, home, local_verifier_url
from issuer.site import ProvinceConfig, authority_key, bootstrap_network, publish_bundle_key
from ledger.catalogue import catalogue
from ledger.chain import Chain
from ledger.errors import LedgerError, RegistryRefused
from ledger.keys import password_from_env
from verifier.config import VerifierConfig

app = typer.Typer(help="Consortium operations: provinces and recognition agreements.")
app.command("besu-config")(besu_config)
app.command("check-code")(check_code)


def _exit_for(exc: LedgerError) -> typer.Exit:
    err.print(f"[red]{exc}[/]")
    return typer.Exit(1 if isinstance(exc, RegistryRefused) else 2)


@app.command("init")
def init(
    province: Annotated[
        list[str], typer.Option("--province", help="CODE:NAME, e.g. ZJ:浙江省 (repeatable).")
    ],
    verifier_url: Annotated[
        list[str] | None,
        typer.Option(
            "--verifier-url",
            help="CODE=URL: where a province's verifier page is, for its QR codes (repeatable; "
            "default http://127.0.0.1:8801, 8802… in --province order).",
        ),
    ] = None,
    rpc: RpcOpt = None,
) -> None:
    """Create a consortium of these provinces on the chain: national root CA, a CA, authority
    account and trust-bundle key per province, and the registry contract."""
    if (home() / "network.json").exists():
        raise _exit_for(LedgerError(f"{home() / 'network.json'} exists: a network is set up"))
    urls: dict[str, str] = {}
    for entry in verifier_url or []:
        code, _, url = entry.partition("=")
        if not code or not url.startswith(("http://", "https://")):
            raise _exit_for(LedgerError(f"--verifier-url {entry!r}: write CODE=http(s)://…"))
        urls[code] = url.rstrip("/")
    provinces: list[ProvinceConfig] = []
    for entry in province:
        code, _, name = entry.partition(":")
        if not code or not name:
            raise _exit_for(LedgerError(f"--province {entry!r}: write CODE:NAME"))
        base = urls.pop(code, None) or local_verifier_url(len(provinces))
        provinces.append(ProvinceConfig(code, name, base))
    if urls:
        raise _exit_for(LedgerError(f"--verifier-url for no --province: {', '.join(urls)}"))
    nodes = rpc or [f"http://127.0.0.1:{DEFAULT_CHAIN_PORT}"]
    try:
        chain = Chain.connect(nodes)
        config = bootstrap_network(home(), password_from_env(), chain, provinces, [])
    except LedgerError as exc:
        raise _exit_for(exc) from exc
    console.print(
        f"consortium of {', '.join(p.code for p in provinces)}: registry "
        f"{config.deployment.registry_address} on {chain.description}"
    )
    for p in provinces:
        console.print(f"  {p.code} {p.name}: QR codes open {p.verifier_base}/v/…")


@app.command("admit")
def admit(
    code: Annotated[str, typer.Argument(help="Province code, e.g. SH.")],
    name: Annotated[str, typer.Argument(help="Province name, e.g. 上海市.")],
    verifier_url: Annotated[
        str,
        typer.Option(
            "--verifier-url",
            "--verifier-base",
            help="Where the province's verifier page is, for its QR codes (default "
            "http://127.0.0.1:<8801 + its place in the network>).",
        ),
    ] = "",
    rpc: RpcOpt = None,
) -> None:
    """Admit a province: its CA, its authority account and its trust-bundle key."""
    if verifier_url and not verifier_url.startswith(("http://", "https://")):
        raise _exit_for(LedgerError(f"--verifier-url {verifier_url!r}: write http(s)://…"))
    site = open_site(rpc)
    registry = site.registry()
    try:
        site.pki.add_province(code, name)
        authority = site.keys.load_or_create(authority_key(code))
        registry.chain.fund(authority.address, 10**20)
        registry.admit_province(site.keys.load("consortium-admin"), code, name, authority.address)
        publish_bundle_key(site.keys, registry, code)
    except LedgerError as exc:
        raise _exit_for(exc) from exc
    base = verifier_url.rstrip("/") or local_verifier_url(len(site.network.provinces))
    network = replace(
        site.network, provinces=[*site.network.provinces, ProvinceConfig(code, name, base)]
    )
    network.save(home() / "network.json")
    verifier_json = home() / "verifier.json"
    if verifier_json.is_file():  # the home's verifier learns where the new province's page is
        settings = VerifierConfig.load(verifier_json)
        urls = {**settings.public_urls, code: base}
        replace(settings, public_urls=urls).save(verifier_json)
    console.print(f"admitted {code} {name}: authority {authority.address}")
    console.print(f"  QR codes of its departments open {base}/v/…")


@app.command("recognise")
def recognise(
    verifying: Annotated[str, typer.Argument(help="The province that accepts, e.g. GD.")],
    issuing: Annotated[str, typer.Argument(help="The province whose certificates, e.g. ZJ.")],
    cert_type: Annotated[str, typer.Argument(help="Certificate type, e.g. BUSINESS_LICENCE.")],
    withdraw: Annotated[bool, typer.Option("--withdraw", help="End the agreement.")] = False,
    rpc: RpcOpt = None,
) -> None:
    """Set (or withdraw) an agreement: VERIFYING recognises ISSUING's CERT_TYPE certificates."""
    site = open_site(rpc)
    try:
        site.registry().set_recognition(
            site.keys.load(authority_key(verifying)), issuing, cert_type, not withdraw
        )
    except LedgerError as exc:
        raise _exit_for(exc) from exc
    verb = "no longer recognises" if withdraw else "recognises"
    console.print(f"{verifying} {verb} {cert_type} from {issuing}")


@app.command("matrix")
def matrix(
    cert_type: Annotated[
        list[str] | None, typer.Option("--type", help="Only these types (repeatable).")
    ] = None,
    rpc: RpcOpt = None,
) -> None:
    """The recognition matrix read from the registry: rows verify, columns issue (public: no
    key password)."""
    try:
        index, _registry = synced_index(open_network(), "network-index", rpc)
    except LedgerError as exc:
        raise _exit_for(exc) from exc
    codes = [p.code for p in index.provinces()]
    agreed = set(index.recognitions())
    for t in cert_type or sorted(catalogue()):
        spec = catalogue().get(t)
        table = Table(title=f"{spec.name_zh if spec else t} / {t}  (行：核验省 · 列：签发省)")
        table.add_column("verifying ↓ / issuing →")
        for code in codes:
            table.add_column(code, justify="center")
        for v in codes:
            cells = ["本省" if v == i else ("✔" if (v, i, t) in agreed else "✘") for i in codes]
            table.add_row(v, *cells)
        console.print(table)
