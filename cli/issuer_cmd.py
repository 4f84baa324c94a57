"""Issuer commands: ``ecert issue``, ``status``, ``download``, ``revoke``, ``token``, ``audit``,
``trust``, ``pki rotate-seal`` and ``serve issuer``."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Annotated, Any

import qrcode
import typer
import uvicorn
from qrcode.constants import ERROR_CORRECT_M
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.site_opts import RpcOpt, console, err, open_network, open_sessions, open_site
from cli.workspace import home
from issuer.api import create_app
from issuer.audit import AuditReport, check_audit
from issuer.checkpoints import CheckpointFile, CheckpointFileError
from issuer.formats import Format, parse_formats
from issuer.limits import RequestLimits
from issuer.pipeline import Pipeline, PipelineError
from issuer.pkistore import PkiStore
from issuer.records_io import RecordFileError, read_records
from issuer.sealing import SealingPool
from issuer.sm2store import Sm2PkiStore
from issuer.store import utcnow
from issuer.tokens import create_token, list_tokens, revoke_token
from issuer.tsa import create_tsa_app
from ledger.codes import RevocationReason
from ledger.errors import LedgerError, NodeUnavailable
from ledger.failover import RpcUrls
from ledger.keys import password_from_env
from ledger.logs import configure_service

IssuerOpt = Annotated[str, typer.Option("--issuer", help="Issuer id of the department.")]
_SETTLED = ("ANCHORED", "REVOKED", "FAILED")

token_app = typer.Typer(help="Department API tokens.")
audit_app = typer.Typer(help="The hash-chained audit log.")
trust_app = typer.Typer(help="Trust anchors for verifiers and PDF readers.")
pki_app = typer.Typer(help="The PKI: root and province CAs, department seals, key rotation.")
serve_app = typer.Typer(help="Run a service on 127.0.0.1.")


def checkpoint_file() -> CheckpointFile:
    """Where this home keeps the audit log's signed checkpoints, outside the database."""
    return CheckpointFile(home() / "audit-checkpoints.jsonl")


def proof_folder() -> Path:
    """This home's proof directory: anchored certificates' public proof records, one JSON file
    each (``proofs/<issuer>/<number>.json``), the folder ``verifier.json`` names with
    ``"proof_directories": {"*": "proofs"}``."""
    return home() / "proofs"


def _pipeline(
    issuer_id: str | None = None,
    *,
    batch_size: int = 256,
    batch_window: float = 2.0,
    max_backoff: float = 60.0,
    workers: int = 1,
    tsa_url: str | None = None,
    formats: tuple[Format, ...] | None = None,
    rpc: RpcUrls | None = None,
) -> Pipeline:
    site = open_site(rpc)
    try:
        departments = (
            [site.department(issuer_id, timestamp_url=tsa_url)]
            if issuer_id
            else site.departments(timestamp_url=tsa_url)
        )
        pool = (
            SealingPool(site.home, password_from_env(), workers=workers, timestamp_url=tsa_url)
            if workers > 1
            else None
        )
        return Pipeline(
            open_sessions(),
            departments,
            site.registry(),
            batch_size=batch_size,
            batch_window=timedelta(seconds=batch_window),
            max_backoff=timedelta(seconds=max_backoff),
            sealing_pool=pool,
            checkpoint_file=checkpoint_file(),
            proof_folder=proof_folder(),
            formats=formats,
        )
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def _formats(text: str | None) -> tuple[Format, ...] | None:
    if text is None:
        return None
    try:
        return parse_formats(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--formats") from exc


FormatsOpt = Annotated[
    str | None,
    typer.Option(
        "--formats",
        help="pdf, ofd or pdf,ofd: the PAdES PDF and/or the OFD sealed with the SM2 e-seal "
        "(default: both when the department has an SM2 seal, else pdf).",
    ),
]
TsaOpt = Annotated[
    str | None,
    typer.Option("--tsa-url", help="RFC 3161 timestamp service: seals become PAdES B-T."),
]


def issue(
    issuer: IssuerOpt,
    cert_type: Annotated[str, typer.Option("--type", help="Certificate type code.")],
    data: Annotated[Path, typer.Option("--data", help="CSV or JSONL file of records.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the PDFs and QR images.")],
    wait: Annotated[float, typer.Option(help="Seconds to wait for anchoring.")] = 60.0,
    workers: Annotated[int, typer.Option(help="Sealing processes.")] = 2,
    tsa_url: TsaOpt = None,
    formats: FormatsOpt = None,
    rpc: RpcOpt = None,
) -> None:
    """Issue certificates from a file: validate, seal, anchor, write PDFs (and OFDs) and QR
    images."""
    chosen = _formats(formats)
    pipeline = _pipeline(issuer, workers=workers, tsa_url=tsa_url, rpc=rpc)
    try:
        submissions = list(read_records(data, cert_type))
    except RecordFileError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    try:
        results = pipeline.submit(issuer, submissions, actor="cli", formats=chosen)
    except PipelineError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    accepted = [r for r in results if r.accepted and r.certificate_id]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    deadline = time.monotonic() + wait
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("签章与上链 sealing and anchoring", total=len(accepted))
        while True:
            counts = pipeline.run_once(force_batches=True, seal_limit=16, seal_all=False)
            if counts.busy:  # the issuer service on this store does the work
                progress.update(task, description="签章与上链 (by the running issuer service)")
            statuses = [
                pipeline.certificate(issuer, r.certificate_id or "")["status"] for r in accepted
            ]
            done = sum(1 for s in statuses if s in _SETTLED)
            progress.update(task, completed=done)
            if done == len(accepted) or time.monotonic() > deadline:
                break
            time.sleep(0.05 if not counts.busy else 0.3)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="签发结果 / issued")
    for column in ("reference", "证书编号 certificate", "进度 status", "file"):
        table.add_column(column)
    waiting = 0
    failed: list[tuple[str, str]] = []
    for result in accepted:
        view = pipeline.certificate(issuer, result.certificate_id or "")
        if view["status"] == "FAILED":
            failed.append((result.certificate_id or "", view["failure_reason"] or ""))
        written = _write_documents(pipeline, issuer, result.certificate_id or "", view, out)
        waiting += view["status"] not in _SETTLED
        table.add_row(result.reference, result.certificate_id or "", view["status"], written or "-")
    console.print(table)
    rejected = [r for r in results if not r.accepted]
    for result in rejected:
        problems = "; ".join(f"{e.field}: {e.message}" for e in result.errors)
        err.print(f"[red]✘ {result.reference}[/]: {problems}")
    for certificate_id, reason in failed:
        err.print(f"[red]✘ {certificate_id} FAILED[/]: {reason}")
    console.print(
        f"accepted {len(accepted)}, rejected {len(rejected)}, failed {len(failed)}, "
        f"waiting for the chain {waiting}"
    )
    if waiting:
        raise typer.Exit(2)
    if rejected or failed:
        raise typer.Exit(1)


def _write_documents(
    pipeline: Pipeline, issuer: str, number: str, view: dict[str, Any], out: Path
) -> str:
    """Write the certificate's sealed documents and QR image into ``out``; their names."""
    names = []
    for kind in parse_formats(view.get("formats") or ["pdf"]):
        fetch = pipeline.pdf if kind is Format.PDF else pipeline.ofd
        try:
            (out / f"{number}.{kind.value}").write_bytes(fetch(issuer, number))
        except PipelineError:
            continue
        names.append(f"{number}.{kind.value}")
    if names:
        qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
        qr.add_data(view["qr"])
        qr.make_image().save(str(out / f"{number}-qr.png"))
    return ", ".join(names)


def download(
    certificate_id: str,
    issuer: IssuerOpt,
    kind: Annotated[
        Format, typer.Option("--format", help="pdf (PAdES) or ofd (GB/T 33190, SM2 e-seal).")
    ] = Format.PDF,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: NUMBER.pdf/.ofd).")
    ] = None,
) -> None:
    """Write a sealed certificate's PDF or OFD file (exit 1 if it has none yet)."""
    pipeline = _pipeline(issuer)
    fetch = pipeline.pdf if kind is Format.PDF else pipeline.ofd
    try:
        data = fetch(issuer, certificate_id)
    except PipelineError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    target = out or Path(f"{certificate_id}.{kind.value}")
    target.write_bytes(data)
    console.print(f"wrote {target} ({len(data):,} bytes)")


def status(
    certificate_id: Annotated[
        str, typer.Argument(help="The certificate number, or the department's own reference.")
    ],
    issuer: IssuerOpt,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show where a certificate is (办理进度). Reads the store only: no key password, no node."""
    open_network()  # the right home, or a message saying how to get one
    pipeline = Pipeline(open_sessions(), [], None)
    try:
        number = pipeline.number_of_reference(issuer, certificate_id) or certificate_id
        view = pipeline.certificate(issuer, number)
    except PipelineError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    if as_json:
        console.print_json(json.dumps(view, ensure_ascii=False))
        return
    console.print(f"{view['certificate_id']}: [bold]{view['status']}[/]")
    if view["failure_reason"]:
        console.print(f"  失败原因 reason: {view['failure_reason']}", soft_wrap=True)
    for step in view["progress"]:
        console.print(f"  {step['at']}  {step['status']:<9} {step['detail']}")


def revoke(
    certificate_id: str,
    issuer: IssuerOpt,
    reason: Annotated[RevocationReason, typer.Option(help="Reason code 1-7.")],
    rpc: RpcOpt = None,
) -> None:
    """Revoke an anchored certificate on chain."""
    try:
        _pipeline(issuer, rpc=rpc).revoke(issuer, certificate_id, reason, actor="cli")
    except NodeUnavailable as exc:
        err.print(f"[red]链节点不可达 / chain unreachable, nothing changed:[/] {exc}")
        raise typer.Exit(2) from exc
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"{certificate_id} revoked ({reason.name})")


def _expiry(text: str) -> datetime | None:
    """``90d``, ``12h``, ``2027-06-30`` (end of that day, UTC) or ``never``."""
    text = text.strip().lower()
    if text == "never":
        return None
    if match := re.fullmatch(r"(\d+)([dh])", text):
        amount = int(match.group(1))
        return utcnow() + (
            timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount)
        )
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter("write e.g. 90d, 12h, 2027-06-30 or never") from exc
    return datetime.combine(day, dt_time(23, 59, 59), tzinfo=UTC)


@token_app.command("create")
def token_create(
    issuer: IssuerOpt,
    types: Annotated[str, typer.Option(help="Comma-separated certificate types.")],
    label: Annotated[str, typer.Option(help="Who holds it, e.g. case-system.")],
    expires: Annotated[
        str, typer.Option(help="When it stops working: 90d, 12h, 2027-06-30 or never.")
    ] = "90d",
) -> None:
    """Create a department API token for a department of this home's network; it is shown
    once."""
    if issuer not in {d.issuer_id for d in open_network().departments}:
        err.print(f"[red]this home's network ({home()}) has no department {issuer}[/]")
        raise typer.Exit(2)
    try:
        token = create_token(
            open_sessions(),
            issuer,
            [t for t in types.split(",") if t],
            label,
            expires_at=_expiry(expires),
        )
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(token, soft_wrap=True)


@token_app.command("list")
def token_list(
    issuer: Annotated[
        str | None, typer.Option("--issuer", help="Only this department's tokens.")
    ] = None,
) -> None:
    """List tokens (labels, types, expiry, state); never the tokens themselves."""
    table = Table(title="API 令牌 / tokens")
    for column in ("issuer", "label", "types", "created", "expires", "state"):
        table.add_column(column)
    for info in list_tokens(open_sessions(), issuer):
        table.add_row(
            info.issuer_id,
            info.label,
            ",".join(info.cert_types),
            f"{info.created_at:%Y-%m-%d %H:%M}",
            f"{info.expires_at:%Y-%m-%d %H:%M} UTC" if info.expires_at else "never",
            info.state(),
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    issuer: IssuerOpt,
    label: Annotated[str, typer.Option(help="The label given at creation.")],
) -> None:
    """Revoke a department's tokens with this label; they stop working at once."""
    count = revoke_token(open_sessions(), issuer, label)
    if count == 0:
        err.print(f"[red]no live token labelled {label!r} for {issuer}[/]")
        raise typer.Exit(1)
    console.print(f"revoked {count} token(s) labelled {label!r} for {issuer}")


def _checkpoint_signers() -> dict[str, set[str]] | None:
    try:
        return open_site().department_accounts()
    except (typer.Exit, LedgerError):
        return None


def _print_report(report: AuditReport) -> None:
    for problem in report.problems:
        err.print(f"[red]entry {problem.seq}: {problem.message}[/]", soft_wrap=True)
    if report.problems:
        err.print(f"[red]审计日志被改动 / audit log altered: {len(report.problems)} problems[/]")
        return
    console.print(f"审计日志完整 / audit log intact: {report.entries} entries")
    newest = report.newest
    if newest is None:
        console.print("  no signed checkpoint yet: only the hash chain vouches for the log")
        return
    console.print(
        f"  {report.checkpoints} signed checkpoints; the newest, signed by {newest.issuer_id} "
        f"({newest.signer}) at {newest.at.isoformat()}, covers entries 1-{report.covered}"
    )
    if not report.signers_checked:
        console.print("  [yellow]signers not checked against the site's keys (no site here)[/]")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log: its hash chain, and that nothing up to the newest signed checkpoint
    was removed, replaced or rewritten; exit 1 if anything was."""
    signers = _checkpoint_signers()
    try:
        with open_sessions()() as session:
            report = check_audit(session, checkpoint_file=checkpoint_file(), signers=signers)
    except CheckpointFileError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    _print_report(report)
    if not report.intact:
        raise typer.Exit(1)


@trust_app.command("roots")
def trust_roots(
    out: Annotated[Path, typer.Option(help="PEM file to write.")] = Path("ecert-roots.pem"),
    sm2: Annotated[
        bool,
        typer.Option(
            "--sm2",
            help="The SM2 (national standard) trust list: the SM2 root and the province SM2 "
            "CAs, for verifiers' sm2_trust_roots.",
        ),
    ] = False,
) -> None:
    """Write the national root certificate(s) as PEM: public, so no key password is asked."""
    try:  # certificates only: the stores never open a key for this
        path = (
            Sm2PkiStore(home(), "").export_roots(out)
            if sm2
            else PkiStore(home(), "").export_roots(out)
        )
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"wrote {path}")


SM2Opt = Annotated[bool, typer.Option("--sm2", help="In the SM2 (national standard) PKI.")]


@pki_app.command("init-root")
def pki_init_root(sm2: SM2Opt = False) -> None:
    """Create the national root CA (once); its key is stored encrypted."""
    if sm2:
        sm2_root = Sm2PkiStore(home(), password_from_env()).init_root()
        console.print(f"SM2 root CA: {sm2_root.cert.subject.human_friendly}")
        return
    root = PkiStore(home(), password_from_env()).init_root()
    console.print(f"root CA: {root.cert.subject.rfc4514_string()}")


@pki_app.command("add-province")
def pki_add_province(
    code: Annotated[str, typer.Option(help="Province code, e.g. ZJ.")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 浙江省.")],
    sm2: SM2Opt = False,
) -> None:
    """Create a province CA and its timestamp-authority certificate under the root (with
    --sm2: an SM2 province CA and its seal-making certificate)."""
    if sm2:
        sm2_ca = Sm2PkiStore(home(), password_from_env()).add_province(code, name)
        console.print(f"SM2 province CA: {sm2_ca.cert.subject.human_friendly}")
        return
    ca = PkiStore(home(), password_from_env()).add_province(code, name)
    console.print(f"province CA: {ca.cert.subject.rfc4514_string()}")


@pki_app.command("issue-seal")
def pki_issue_seal(
    issuer: IssuerOpt,
    name: Annotated[str, typer.Option(help="Department name.")],
    province: Annotated[str, typer.Option(help="Province code.")],
    province_name: Annotated[str, typer.Option(help="Province display name.")],
    sm2: SM2Opt = False,
) -> None:
    """Issue a department's seal certificate (register its fingerprint with the province);
    with --sm2 an SM2 seal certificate and its GB/T 38540 seal."""
    if sm2:
        sm2_stem = Sm2PkiStore(home(), password_from_env()).issue_seal(
            province, province_name, issuer, name
        )
        console.print(f"{issuer}: SM2 {sm2_stem}")
        return
    store = PkiStore(home(), password_from_env())
    stem = store.issue_seal(province, province_name, issuer, name)
    console.print(f"{issuer}: {stem}, SHA-256 {store.seal_fingerprint(issuer, stem).hex()}")


@pki_app.command("rotate-seal")
def rotate_seal(issuer: IssuerOpt, rpc: RpcOpt = None) -> None:
    """Issue a new seal certificate and register it on chain (province authority signs).
    Certificates sealed with the previous one stay verifiable."""
    try:
        stem = open_site(rpc).rotate_seal(issuer)
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"{issuer}: new seal certificate {stem} registered")


@pki_app.command("rotate-account")
def rotate_account(issuer: IssuerOpt, rpc: RpcOpt = None) -> None:
    """Move a department to a new chain account (province authority signs); earlier
    certificates stay valid, the old account can no longer act."""
    try:
        address = open_site(rpc).rotate_account(issuer)
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"{issuer}: new chain account {address} registered")


@serve_app.command("tsa")
def serve_tsa(
    province: Annotated[str, typer.Option(help="Province whose TSA certificate signs.")],
    port: Annotated[int, typer.Option()] = 8700,
) -> None:
    """The province's RFC 3161 timestamp service on 127.0.0.1 (for PAdES B-T/B-LT seals), and
    the CRLs of its CA and of the root (/crl/<province>.crl, /crl/root.crl)."""
    site_pki = PkiStore(home(), password_from_env())
    try:
        app = create_tsa_app(
            site_pki.tsa(province),
            [site_pki.province_ca(province).cert, site_pki.root_certificate()],
            lambda name: site_pki.crl(None if name == "root" else name),
            crl_names=("root", province),
        )
    except LedgerError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"timestamp authority for {province} on http://127.0.0.1:{port}/")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@serve_app.command("issuer")
def serve_issuer(
    port: Annotated[int, typer.Option()] = 8600,
    batch_size: Annotated[int, typer.Option(help="Certificates per Merkle batch.")] = 256,
    batch_window: Annotated[
        float, typer.Option(help="Seconds before a partial batch closes.")
    ] = 2.0,
    max_backoff: Annotated[float, typer.Option(help="Longest wait between anchor retries.")] = 60.0,
    workers: Annotated[int, typer.Option(help="Sealing processes (1: seal in-process).")] = 1,
    tsa_url: TsaOpt = None,
    max_body_mb: Annotated[
        float, typer.Option(min=0.001, help="Largest request body, MiB (413 beyond).")
    ] = 8.0,
    max_concurrent: Annotated[
        int, typer.Option(min=1, help="Requests handled at once (503 beyond).")
    ] = 64,
    max_uploads: Annotated[
        int, typer.Option(min=1, help="Request bodies in flight at once (wait, then 503).")
    ] = 8,
    formats: FormatsOpt = None,
    rpc: RpcOpt = None,
) -> None:
    """The issuer API on 127.0.0.1 (OpenAPI at /docs), with its pipeline worker. ``--formats``
    is the default for requests that name none."""
    configure_service()
    chosen = _formats(formats)
    limits = RequestLimits(
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        max_concurrent=max_concurrent,
        max_concurrent_uploads=max_uploads,
    )
    pipeline = _pipeline(
        batch_size=batch_size,
        batch_window=batch_window,
        max_backoff=max_backoff,
        workers=workers,
        tsa_url=tsa_url,
        formats=chosen,
        rpc=rpc,
    )
    if chosen and Format.OFD in chosen:
        lacking = sorted(i for i, d in pipeline.departments.items() if d.ofd_sealer is None)
        if lacking:
            err.print(
                f"[red]--formats {formats}: no SM2 seal for {', '.join(lacking)} "
                "(ecert pki issue-seal --sm2)[/]"
            )
            raise typer.Exit(2)
    app = create_app(pipeline, limits=limits)
    console.print(f"issuer API on http://127.0.0.1:{port} (home {home()})")
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        limit_concurrency=max_concurrent * 2,  # connections too, beyond the app's own count
        timeout_keep_alive=5,
    )
