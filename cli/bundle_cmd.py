"""``ecert bundle``: the provinces' signed trust bundle for offline verifiers.

    ecert bundle key --province ZJ              publish ZJ's BLS key (made on first use)
    ecert bundle build --out bundle.json        snapshot the registry at the latest block
    ecert bundle sign bundle.json --province ZJ --out zj.sig
    ecert bundle aggregate bundle.json zj.sig gd.sig js.sig --out signed.json
    ecert bundle verify signed.json [--config verifier.json]

Exit codes: 0 done / accepted, 1 refused, 2 usage or could not check."""

from __future__ import annotations

import contextlib
import json
import time
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from cli.site_opts import RpcOpt, console, err, open_network, open_site, synced_index
from cli.workspace import home
from issuer.site import bundle_secret, publish_bundle_key
from ledger.bundle import (
    BundleRejected,
    PartialSignature,
    SignedBundle,
    TrustBundle,
    aggregate_signatures,
    sign_bundle,
)
from ledger.chain import Chain
from ledger.errors import LedgerError, NodeUnavailable
from ledger.registry import Registry
from verifier.bundles import check_bundle
from verifier.config import VerifierConfig, open_index

app = typer.Typer(help="Signed trust bundles for offline verification.", no_args_is_help=True)

ProvinceOpt = Annotated[str, typer.Option("--province", help="Province code, e.g. ZJ.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]{message}[/]")
    return typer.Exit(code)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read {path}: {exc}") from exc


@app.command("key")
def key(province: ProvinceOpt, rpc: RpcOpt = None) -> None:
    """Publish the province's trust-bundle key (and its proof of possession) on the registry."""
    site = open_site(rpc)
    try:
        public = publish_bundle_key(site.keys, site.registry(), province)
    except LedgerError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"{province} bundle key published: {public.hex()[:24]}…")


@app.command("build")
def build(
    out: Annotated[Path, typer.Option(help="Unsigned bundle to write.")] = Path("bundle.json"),
    rpc: RpcOpt = None,
) -> None:
    """Snapshot the registry (synced from the node) at its latest block, unsigned (public:
    no key password)."""
    try:
        index, registry = synced_index(open_network(), "bundle-index", rpc)
        bundle = TrustBundle.from_index(index, registry.chain.chain_id)
    except LedgerError as exc:
        raise _fail(str(exc)) from exc
    out.write_bytes(bundle.canonical())
    console.print(
        f"bundle as of block {bundle.block} ({bundle.as_of.isoformat()}), "
        f"{len(bundle.canonical()):,} bytes, digest {bundle.digest().hex()}"
    )


def _load_unsigned(path: Path) -> TrustBundle:
    raw = _read_json(path)
    if not isinstance(raw, dict):
        raise _fail(f"{path} is not a bundle")
    try:
        return TrustBundle.from_body(raw)
    except BundleRejected as exc:
        raise _fail(str(exc)) from exc


@app.command("sign")
def sign(
    bundle_file: Annotated[Path, typer.Argument(help="Unsigned bundle (ecert bundle build).")],
    province: ProvinceOpt,
    out: Annotated[Path, typer.Option(help="Signature file to write.")],
) -> None:
    """Sign the bundle's digest with the province's BLS key."""
    bundle = _load_unsigned(bundle_file)
    partial = sign_bundle(bundle, province, bundle_secret(open_site().keys, province))
    out.write_text(json.dumps(partial.to_json()), "utf-8")
    console.print(f"{province} signed bundle {bundle.digest().hex()[:16]}… (block {bundle.block})")


@app.command("aggregate")
def aggregate(
    bundle_file: Annotated[Path, typer.Argument(help="Unsigned bundle.")],
    signatures: Annotated[list[Path], typer.Argument(help="Signature files of the provinces.")],
    out: Annotated[Path, typer.Option(help="Signed bundle to write.")],
) -> None:
    """Aggregate the provinces' signatures into one signed bundle."""
    bundle = _load_unsigned(bundle_file)
    try:
        partials = [PartialSignature.from_json(_read_json(p)) for p in signatures]  # type: ignore[arg-type]
        signed = aggregate_signatures(bundle, partials)
    except BundleRejected as exc:
        raise _fail(str(exc), 1) from exc
    signed.save(out)
    console.print(f"signed by {', '.join(signed.signers)}: {out}")


@app.command("verify")
def verify(
    signed_file: Annotated[Path, typer.Argument(help="Signed bundle.")],
    config: Annotated[
        Path | None, typer.Option("--config", help="verifier.json (its registry and node).")
    ] = None,
    rpc: RpcOpt = None,
) -> None:
    """Check a signed bundle as a verifier would: registry, signers, quorum, signature."""
    path = config or home() / "verifier.json"
    try:
        settings = VerifierConfig.load(path)
        signed = SignedBundle.load(signed_file)
    except BundleRejected as exc:
        raise _fail(f"refused ({exc.reason}): {exc}", 1) from exc
    except LedgerError as exc:
        raise _fail(str(exc)) from exc
    live = open_index(settings, path)
    node = Chain.connect(rpc or settings.rpc_url, timeout=3.0)
    registry = Registry(node, settings.registry_address)
    with contextlib.suppress(NodeUnavailable):  # node down: check with the keys indexed so far
        live.sync(registry)
    started = time.perf_counter()
    try:
        check_bundle(signed, live, quorum=Fraction(settings.bundle_quorum))
    except BundleRejected as exc:
        raise _fail(f"refused ({exc.reason}): {exc}", 2 if exc.reason == "NO_KEYS" else 1) from exc
    console.print(
        f"accepted: block {signed.bundle.block} ({signed.bundle.as_of.isoformat()}), signed by "
        f"{', '.join(signed.signers)}; checked in {time.perf_counter() - started:.2f} s"
    )
