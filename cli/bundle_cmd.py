"""``ecert bundle``: the provinces' signed trust bundle for offline verifiers.

    ecert bundle key --province ZJ              publish ZJ's BLS key (made on first use)
    ecert bundle build --out bundle.ecb         snapshot the registry at the latest block
    ecert bundle build --since old.ecb --out delta.ecb     only what changed since old.ecb
    ecert bundle sign bundle.ecb --province ZJ --out zj.sig
    ecert bundle aggregate bundle.ecb zj.sig gd.sig js.sig --out signed.ecb
    ecert bundle delta old.ecb signed.ecb --out delta.ecb  signed delta between two bundles
    ecert bundle verify signed.ecb [--base old.ecb] [--config verifier.json]
    ecert bundle apply old.ecb delta.ecb --out new.ecb     the full bundle a delta leads to
    ecert bundle show signed.ecb [--rows]       the JSON form, for people

A delta is signed exactly as the full bundle of the state it leads to (the provinces sign the
checkpoint: registry, block, state digest), so ``delta`` needs no new signatures.

Exit codes: 0 done / accepted, 1 refused, 2 usage or could not check."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from cli.site_opts import RpcOpt, console, err, open_network, open_site, synced_index
from cli.workspace import home
from issuer.site import bundle_secret, publish_bundle_key
from ledger.bundle import (
    AnyBundle,
    BundleRejected,
    DeltaBundle,
    PartialSignature,
    Refusal,
    SignedBundle,
    TrustBundle,
    aggregate_signatures,
    apply_delta,
    sign_bundle,
)
from ledger.chain import Chain
from ledger.errors import LedgerError, NodeUnavailable
from ledger.failover import RpcUrls
from ledger.index import RegistryIndex
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


def _load(path: Path) -> SignedBundle:
    try:
        return SignedBundle.load(path)
    except BundleRejected as exc:
        raise _fail(f"refused ({exc.reason}): {exc}", 1) from exc


def _full(path: Path) -> TrustBundle:
    bundle = _load(path).bundle
    if isinstance(bundle, DeltaBundle):
        raise _fail(f"{path} is a delta; a full bundle is needed here")
    return bundle if isinstance(bundle, TrustBundle) else bundle.current


def _describe(bundle: AnyBundle, size: int) -> str:
    kind = (
        f"delta from block {bundle.base_block} to"
        if isinstance(bundle, DeltaBundle)
        else "bundle as of"
    )
    return (
        f"{kind} block {bundle.block} ({bundle.as_of.isoformat()}), {size:,} bytes, "
        f"digest {bundle.digest().hex()}"
    )


@app.command("build")
def build(
    out: Annotated[Path, typer.Option(help="Unsigned bundle to write.")] = Path("bundle.ecb"),
    since: Annotated[
        Path | None, typer.Option(help="An earlier full bundle: write the delta from it.")
    ] = None,
    rpc: RpcOpt = None,
) -> None:
    """Snapshot the registry (synced from the node) at its latest block, unsigned (public:
    no key password)."""
    base = _full(since) if since is not None else None
    try:
        index, registry = synced_index(open_network(), "bundle-index", rpc)
        full = TrustBundle.from_index(index, registry.chain.chain_id)
        bundle: AnyBundle = full if base is None else DeltaBundle.between(base, full)
    except LedgerError as exc:
        raise _fail(str(exc)) from exc
    data = SignedBundle.unsigned(bundle).encode()
    out.write_bytes(data)
    console.print(_describe(bundle, len(data)), soft_wrap=True)


@app.command("sign")
def sign(
    bundle_file: Annotated[Path, typer.Argument(help="Unsigned bundle (ecert bundle build).")],
    province: ProvinceOpt,
    out: Annotated[Path, typer.Option(help="Signature file to write.")],
) -> None:
    """Sign the bundle's digest (a full bundle's or a delta's) with the province's BLS key."""
    bundle = _load(bundle_file).bundle
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
    bundle = _load(bundle_file).bundle
    try:
        partials = [PartialSignature.from_json(_read_json(p)) for p in signatures]  # type: ignore[arg-type]
        signed = aggregate_signatures(bundle, partials)
    except BundleRejected as exc:
        raise _fail(str(exc), 1) from exc
    signed.save(out)
    console.print(f"signed by {', '.join(signed.signers)}: {out}")


@app.command("delta")
def delta(
    base_file: Annotated[Path, typer.Argument(help="The earlier full bundle (the base).")],
    signed_file: Annotated[Path, typer.Argument(help="The newer signed full bundle.")],
    out: Annotated[Path, typer.Option(help="Signed delta to write.")],
) -> None:
    """The delta from one bundle to a newer signed one, carrying the newer one's signature."""
    signed = _load(signed_file)
    if not isinstance(signed.bundle, TrustBundle):
        raise _fail(f"{signed_file} is not a signed format-3 full bundle")
    try:
        made = DeltaBundle.between(_full(base_file), signed.bundle)
    except LedgerError as exc:
        raise _fail(str(exc)) from exc
    result = SignedBundle(made, signed.signers, signed.signature)
    result.save(out)
    console.print(f"{_describe(made, len(result.encode()))}: {out}", soft_wrap=True)


def _checker(config: Path | None, rpc: RpcUrls | None) -> tuple[RegistryIndex, Fraction]:
    """The verifier's registry index (synced if the node answers) and bundle quorum."""
    path = config or home() / "verifier.json"
    try:
        settings = VerifierConfig.load(path)
    except LedgerError as exc:
        raise _fail(str(exc)) from exc
    live = open_index(settings, path)
    node = Chain.connect(rpc or settings.rpc_url, timeout=3.0)
    registry = Registry(node, settings.registry_address)
    with contextlib.suppress(NodeUnavailable):  # node down: check with the keys indexed so far
        live.sync(registry)
    return live, Fraction(settings.bundle_quorum)


def _refused(exc: BundleRejected) -> typer.Exit:
    return _fail(f"refused ({exc.reason}): {exc}", 2 if exc.reason == Refusal.NO_KEYS else 1)


def _checked(
    signed: SignedBundle,
    base: SignedBundle | None,
    config: Path | None,
    rpc: RpcUrls | None = None,
) -> TrustBundle:
    """Check ``signed`` as a verifier would (a delta against ``base``, which must verify too,
    then applied to it); the full bundle of the state it gives."""
    live, quorum = _checker(config, rpc)
    try:
        if base is None:
            check_bundle(signed, live, quorum=quorum)
            return _full_of(signed.bundle)
        check_bundle(base, live, quorum=quorum)
        held = (base.bundle.block, base.bundle.identity())
        check_bundle(signed, live, quorum=quorum, newest_seen=held)
        if not isinstance(signed.bundle, DeltaBundle):
            return _full_of(signed.bundle)
        scratch = RegistryIndex(":memory:", registry_address=base.bundle.registry)
        _full_of(base.bundle).load_into(scratch)
        return apply_delta(signed.bundle, scratch)
    except BundleRejected as exc:
        raise _refused(exc) from exc


def _full_of(bundle: AnyBundle) -> TrustBundle:
    if isinstance(bundle, DeltaBundle):
        raise BundleRejected(Refusal.BASE, "a delta is checked against its base: give --base")
    return bundle if isinstance(bundle, TrustBundle) else bundle.current


BaseOpt = Annotated[
    Path | None, typer.Option("--base", help="For a delta: the full bundle it applies to.")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="verifier.json (its registry and node).")
]


@app.command("verify")
def verify(
    signed_file: Annotated[Path, typer.Argument(help="Signed bundle, full or delta.")],
    base: BaseOpt = None,
    config: ConfigOpt = None,
    rpc: RpcOpt = None,
) -> None:
    """Check a signed bundle as a verifier would: registry, signers, quorum, signature; a
    delta also against its base, and applied to it."""
    signed = _load(signed_file)
    started = time.perf_counter()
    _checked(signed, _load(base) if base is not None else None, config, rpc)
    console.print(
        f"accepted: {_describe(signed.bundle, len(signed.encode()))}; signed by "
        f"{', '.join(signed.signers)}; checked in {time.perf_counter() - started:.2f} s",
        soft_wrap=True,
    )


@app.command("apply")
def apply(
    base_file: Annotated[Path, typer.Argument(help="The full bundle the delta applies to.")],
    delta_file: Annotated[Path, typer.Argument(help="Signed delta.")],
    out: Annotated[Path, typer.Option(help="Signed full bundle to write.")],
    config: ConfigOpt = None,
) -> None:
    """Check a delta against its base and write the signed full bundle it leads to."""
    signed = _load(delta_file)
    full = _checked(signed, _load(base_file), config)
    result = SignedBundle(full, signed.signers, signed.signature)
    result.save(out)
    console.print(f"{_describe(full, len(result.encode()))}: {out}", soft_wrap=True)


@app.command("show")
def show(
    bundle_file: Annotated[Path, typer.Argument(help="Bundle file, signed or not.")],
    rows: Annotated[bool, typer.Option(help="Every row, not only counts.")] = False,
) -> None:
    """The bundle's JSON form, for people (nothing is checked)."""
    signed = _load(bundle_file)
    try:
        shown = signed.to_json(rows=rows)
    except BundleRejected as exc:
        raise _fail(f"refused ({exc.reason}): {exc}", 1) from exc
    json.dump(shown, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
