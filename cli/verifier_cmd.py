"""``ecert verify`` and ``ecert serve verifier``: parse, call the verifier, render, exit
0 (valid) / 1 (invalid) / 2 (could not confirm, or usage error)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.serving import ConnectionLimits, serve, serve_workers
from cli.site_opts import RpcOpt
from cli.workspace import RPC_ENV, home, local_port
from ledger.errors import LedgerError
from ledger.failover import RpcUrls, rpc_urls
from ledger.logs import configure_service
from verifier.config import VerifierConfig, build_verifier
from verifier.engine import Verifier
from verifier.errors import ReportUnavailable
from verifier.middleware import RequestLimits
from verifier.names import label
from verifier.reasons import message
from verifier.result import VerificationReport
from verifier.service import CONFIG_ENV, REGION_ENV, create_app, limits_to_environment
from verifier.verdicts import EXIT_CODES, mark, style

MAX_INPUT_BYTES = 16 * 1024 * 1024
console = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="verifier.json (default: $ECERT_HOME/verifier.json)."),
]
DEFAULT_PORT = 8800
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="The province this verifier answers for, e.g. GD.")
]


def _config_path(config: Path | None) -> Path:
    path = config or home() / "verifier.json"
    if not path.is_file():
        err.print(f"[red]no verifier configuration at {path}: run 'make demo' or pass --config[/]")
        raise typer.Exit(2)
    return path.resolve()


def _settings(path: Path, rpc: RpcUrls | None) -> VerifierConfig:
    try:
        settings = VerifierConfig.load(path)
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    return replace(settings, rpc_url=list(rpc_urls(rpc))) if rpc else settings


def _open(config: Path | None, region: str | None, rpc: RpcUrls | None = None) -> Verifier:
    path = _config_path(config)
    try:
        return build_verifier(_settings(path, rpc), path, region=region)
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def _is_file(path: Path) -> bool:
    """Whether TARGET names a file (a long QR or presentation text is not a path)."""
    try:
        return path.is_file()
    except OSError:
        return False


def _render(report: VerificationReport, lang: str) -> None:
    look = style(report.verdict)
    console.print(
        f"[bold {look.terminal}]{look.icon} {look.both()}[/]  "
        f"({report.input_kind.value}, region {report.region})"
    )
    cert = report.certificate
    if cert.known:
        console.print(
            f"{cert.type_name_zh or cert.cert_type} {cert.certificate_id} · "
            f"{cert.issuer_name or cert.issuer_id}"
        )
        for field in cert.fields:
            console.print(f"  {field.label_zh} {field.label_en}: {field.value}")
    table = Table()
    for column in ("check", "status", "reason", "message"):
        table.add_column(column)
    for check in report.checks:
        sign = mark(check.status)
        table.add_row(
            f"{label(check.name, lang)} [dim]{check.name.value}[/]",
            f"[{sign.terminal}]{sign.icon} {check.status.value}[/]",
            check.reason.value if check.reason else "",
            message(check.reason, lang) if check.reason else "",
        )
    console.print(table)
    fresh = report.freshness
    console.print(
        f"ledger data: block {fresh.block} ({fresh.block_time}), source {fresh.source.value}, "
        f"node {fresh.node}"
    )


def verify(
    target: Annotated[
        str, typer.Argument(help="A PDF, OFD or image path, QR text, or ISSUER/NUMBER.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    region: RegionOpt = None,
    config: ConfigOpt = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    report_path: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the sealed verification report (PDF) here."),
    ] = None,
    rpc: RpcOpt = None,
) -> None:
    """Verify a certificate; exit 0 valid, 1 invalid, 2 could not confirm, 3 genuine but not
    recognised in this province."""
    verifier = _open(config, region, rpc)
    path = Path(target)
    if _is_file(path):
        try:
            with path.open("rb") as file:
                data = file.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            err.print(f"[red]cannot read {path}: {exc.strerror}[/]")
            raise typer.Exit(2) from exc
        if len(data) > MAX_INPUT_BYTES:
            err.print(
                f"[red]{path} is larger than {MAX_INPUT_BYTES // 2**20} MB: not a certificate[/]"
            )
            raise typer.Exit(2)
        report = verifier.verify_file(data)  # PDF, OFD, or a photo of a QR code
    elif "/" in target and "://" not in target and len(target.split("/")) == 2:
        issuer_id, number = target.split("/")
        report = verifier.verify_id(issuer_id, number)
    else:
        report = verifier.verify_qr_text(target)
    if as_json:
        print(json.dumps(report.to_json(lang), ensure_ascii=False, indent=2))
    else:
        _render(report, lang)
    if report_path is not None:
        _write_report(verifier, report, report_path, lang)
    raise typer.Exit(EXIT_CODES[report.verdict])


def _write_report(verifier: Verifier, report: VerificationReport, path: Path, lang: str) -> None:
    qr = report.certificate.qr
    base = verifier.public_url
    url = f"{base.rstrip('/')}/v/{qr}" if qr and base else None
    try:
        pdf = verifier.report_pdf(report, lang=lang, verify_url=url)
    except ReportUnavailable as exc:
        err.print(f"[red]no report: {exc} (ecert pki issue-verifier-seal)[/]")
        raise typer.Exit(2) from exc
    path.write_bytes(pdf)
    err.print(f"sealed verification report: {path}")


def _default_port(path: Path, region: str) -> int:
    """Where the province's QR codes point, when that is this machine (the demo's verifiers:
    ``public_urls`` in verifier.json); 8800 otherwise."""
    try:
        url = VerifierConfig.load(path).public_urls.get(region, "")
    except LedgerError:
        return DEFAULT_PORT
    return local_port(url) or DEFAULT_PORT


def serve_verifier(
    region: Annotated[str, typer.Option(help="The province this verifier answers for.")],
    port: Annotated[
        int | None,
        typer.Option(
            help="Default: the port of the province's verifier URL (public_urls in "
            "verifier.json) when that is on 127.0.0.1, else 8800."
        ),
    ] = None,
    config: ConfigOpt = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (one per core for load).")
    ] = 1,
    max_body_mb: Annotated[
        float, typer.Option(min=0.001, help="Largest request body, MiB (413 beyond).")
    ] = 12.0,
    max_uploads: Annotated[
        int, typer.Option(min=1, help="Bodies over 64 KiB handled at once per worker (503 beyond).")
    ] = 4,
    header_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to send the request headers (closed beyond).")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to send the whole body (408 beyond).")
    ] = 20.0,
    rpc: RpcOpt = None,
) -> None:
    """The verifier service on 127.0.0.1: API, QR page, upload page, /docs, /metrics."""
    configure_service()
    verifier = _open(config, region, rpc)  # fails here, with a clear message, on a bad config
    requests = RequestLimits(
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        max_uploads=max_uploads,
        body_timeout_seconds=body_timeout,
    )
    connections = ConnectionLimits(header_timeout=header_timeout)
    port = port or _default_port(_config_path(config), region)
    console.print(f"verifier for {region} on http://127.0.0.1:{port} ({workers} worker(s))")
    if workers == 1:
        serve(
            create_app(verifier, limits=requests), host="127.0.0.1", port=port, limits=connections
        )
        return
    verifier.chain.index.close()
    os.environ[CONFIG_ENV] = str(_config_path(config))
    os.environ[REGION_ENV] = region
    limits_to_environment(requests)
    if rpc:
        os.environ[RPC_ENV] = ",".join(rpc_urls(rpc))  # each worker reads its configuration again
    status = serve_workers(
        "verifier.service:app_from_environment",
        host="127.0.0.1",
        port=port,
        workers=workers,
        limits=connections,
    )
    raise typer.Exit(status)
