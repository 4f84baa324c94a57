"""``ecert pki revoke-seal`` and ``ecert pki distrust-ca``: a compromise time on the registry.

    ecert pki revoke-seal --issuer ID --at TIME --reason key-compromise [--fingerprint HEX]
    ecert pki distrust-ca --province ZJ --at TIME --reason key-compromise [--fingerprint HEX]

Certificates anchored at or after TIME are invalid; those anchored before stay valid. TIME is
ISO 8601 with a time zone (``2026-12-01T08:00+08:00``, ``…Z``) or ``now``: a compromise time
is never guessed into a zone. The first command is signed by the issuer's province authority,
the second by the consortium admin. Exit 0 done, 1 refused by the registry, 2 usage or node
down."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.site_opts import RpcOpt, console, err, open_site
from ledger.codes import RevocationReason
from ledger.errors import LedgerError, RegistryRefused

__all__ = ["distrust_ca", "parse_reason", "parse_time", "revoke_seal"]

AtOpt = Annotated[
    str,
    typer.Option(
        "--at", help="From when (ISO 8601 with a time zone, or 'now'); anchored since: invalid."
    ),
]
ReasonOpt = Annotated[
    str,
    typer.Option(
        help="key-compromise, superseded, cessation-of-operation, privilege-withdrawn, "
        "authority-order, issued-in-error, unspecified (or the code 1-7)."
    ),
]
FingerprintOpt = Annotated[str | None, typer.Option(help="SHA-256 of the certificate (DER), hex.")]


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """``now`` or an ISO 8601 time with a zone, as UTC; raises ``ValueError`` otherwise."""
    if text.strip().lower() == "now":
        return (now or datetime.now(UTC)).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time, e.g. 2026-12-01T08:00+08:00") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone: write e.g. {text}+08:00 or {text}Z")
    return moment.astimezone(UTC)


def parse_reason(text: str) -> RevocationReason:
    """``key-compromise`` / ``KEY_COMPROMISE`` / ``2`` → ``RevocationReason.KEY_COMPROMISE``."""
    cleaned = text.strip()
    try:
        if cleaned.isdigit():
            return RevocationReason(int(cleaned))
        return RevocationReason[cleaned.upper().replace("-", "_")]
    except (KeyError, ValueError):
        names = ", ".join(r.name.lower().replace("_", "-") for r in RevocationReason)
        raise ValueError(f"unknown reason {text!r}: one of {names} (or 1-7)") from None


def _fingerprint(text: str | None) -> bytes | None:
    if text is None:
        return None
    raw = bytes.fromhex(text.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("a fingerprint is 32 bytes (64 hex digits)")
    return raw


def _arguments(
    at: str, reason: str, fingerprint: str | None
) -> tuple[datetime, RevocationReason, bytes | None]:
    try:
        return parse_time(at), parse_reason(reason), _fingerprint(fingerprint)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


def _refused(exc: LedgerError) -> typer.Exit:
    err.print(f"[red]{exc}[/]")
    return typer.Exit(1 if isinstance(exc, RegistryRefused) else 2)


def revoke_seal(
    issuer: Annotated[str, typer.Option("--issuer", help="Issuer id of the department.")],
    at: AtOpt,
    reason: ReasonOpt,
    fingerprint: FingerprintOpt = None,
    rpc: RpcOpt = None,
) -> None:
    """Revoke a department's seal certificate from a time on (province authority signs);
    default: the seal the registry lists as current. Rotate it too: ecert pki rotate-seal."""
    effective, code, chosen = _arguments(at, reason, fingerprint)
    try:
        revoked = open_site(rpc).revoke_seal(issuer, effective, code, chosen)
    except LedgerError as exc:
        raise _refused(exc) from exc
    console.print(
        f"{issuer}: seal certificate 0x{revoked.hex()} revoked from {effective.isoformat()} "
        f"({code.name}); certificates anchored from then on are invalid"
    )


def distrust_ca(
    province: Annotated[str, typer.Option(help="Province code, e.g. ZJ.")],
    at: AtOpt,
    reason: ReasonOpt,
    fingerprint: FingerprintOpt = None,
    rpc: RpcOpt = None,
) -> None:
    """Distrust a province CA from a time on (consortium admin signs); default: this site's
    CA certificate of that province."""
    effective, code, chosen = _arguments(at, reason, fingerprint)
    try:
        distrusted = open_site(rpc).distrust_ca(province, effective, code, chosen)
    except LedgerError as exc:
        raise _refused(exc) from exc
    console.print(
        f"{province}: CA 0x{distrusted.hex()} distrusted from {effective.isoformat()} "
        f"({code.name}); certificates sealed under it and anchored from then on are invalid"
    )
