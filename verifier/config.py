"""A verifier's configuration file (``verifier.json``): which registry to read, which root
certificates to trust, where each province's proof directory is, and how stale registry data
may get before answers become INDETERMINATE."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from ledger.chain import Chain
from ledger.errors import LedgerError
from ledger.index import RegistryIndex
from ledger.jsonread import read_json_file
from ledger.keys import password_from_env
from ledger.registry import Registry
from verifier.bundles import BundleStore
from verifier.chainview import ChainView
from verifier.engine import Verifier
from verifier.nonces import NonceBook, NoncePolicy
from verifier.proofs import ProofDirectory
from verifier.report import ReportSealer

__all__ = ["VerifierConfig", "build_verifier", "load_trust_roots", "open_index"]


@dataclass(frozen=True)
class VerifierConfig:
    rpc_url: str | list[str]
    """The chain's node, or its nodes in the order to try them (the province's own first): a
    node that is down, or answers far behind the others (``max_lag_blocks``), is skipped."""
    registry_address: str
    deploy_block: int
    trust_roots: str
    """PEM file of trusted root certificates (``ecert trust roots``)."""
    proof_directories: dict[str, str] = field(default_factory=dict)
    """Issuing province → proof directory (issuer service URL or folder); ``*`` for any."""
    region: str = ""
    index_dir: str = ""
    """Folder for the registry index (default: next to this file)."""
    max_stale_seconds: float = 300.0
    witness_rpc_urls: list[str] = field(default_factory=list)
    """Other provinces' nodes that must confirm what is read from ``rpc_url``."""
    read_quorum: int = 0
    """Nodes (``rpc_url`` included) that must agree; 0 means all of them."""
    max_lag_blocks: int = 2
    """A witness further ahead than this (beyond ``confirmations``) means the primary node is
    missing blocks; of the nodes in ``rpc_url``, one further behind the best head seen is not
    read from."""
    confirmations: int = 0
    """Blocks that must be built on a block before the index takes it in: 0 on a chain whose
    blocks are final once made (QBFT), more on one that can reorganise (Clique, proof of
    work). Answers then lag the head by that many blocks."""
    trust_bundles: list[str] = field(default_factory=list)
    """Where to fetch signed trust bundles: peer verifiers' ``…/api/v1/bundle`` or files."""
    bundle_quorum: str = "2/3"
    """A bundle needs signatures from more than this share of all provinces."""
    bundle_max_age_days: float = 30.0
    """An older bundle is not answered from (offline answers become INDETERMINATE)."""
    public_urls: dict[str, str] = field(default_factory=dict)
    """Province → the address its verifier's pages are served at (QR codes on reports)."""
    sm2_trust_roots: str = ""
    """PEM file of the SM2 roots and province SM2 CAs OFD e-seals are judged against
    (``ecert trust roots --sm2``); empty: OFD seals are ERROR ``TRUST_LIST_MISSING``."""
    report_seals: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Province → the e-seal its verification reports are sealed with: ``{"certificate":
    "….cert.pem", "key": "….key.pem" (encrypted; ``$ECERT_KEY_PASSWORD``), "chain":
    ["ca.cert.pem"], "location": "广东省"}`` (``ecert pki issue-verifier-seal`` makes one)."""
    bundle_fetch_seconds: float = 20.0
    """Time a trust bundle fetch from a peer may take in all (the peer's problem beyond)."""
    proof_fetch_seconds: float = 3.0
    """Time a proof fetch from a proof directory may take in all (ERROR beyond)."""
    require_nonce: bool = False
    """Refuse holder presentations without a nonce from this verifier (``NONCE_REQUIRED``)."""
    nonce_rate_per_client: float = 5.0
    """Nonces one client address may get per second (``POST /api/v1/nonce``; 429 beyond)."""
    nonce_burst: int = 20
    """…and at once."""
    max_outstanding_nonces: int = 100_000
    """Issued, unused, unexpired nonces at once (503 beyond)."""

    def nonce_policy(self) -> NoncePolicy:
        return NoncePolicy(
            required=self.require_nonce,
            per_client_per_second=self.nonce_rate_per_client,
            per_client_burst=self.nonce_burst,
            max_outstanding=self.max_outstanding_nonces,
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path) -> VerifierConfig:
        try:
            return cls(**read_json_file(path, max_bytes=1024 * 1024, what=str(path)))
        except FileNotFoundError as exc:
            raise LedgerError(f"no verifier configuration at {path}") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise LedgerError(f"verifier configuration {path} is unreadable: {exc}") from exc


def load_trust_roots(path: Path) -> list[asn1_x509.Certificate]:
    """Every certificate in a PEM file; an empty list if the file is missing (the seal check
    then reports TRUST_LIST_MISSING instead of guessing)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    roots = [
        asn1_x509.Certificate.load(der)
        for kind, _h, der in pem.unarmor(data, multiple=True)
        if kind == "CERTIFICATE"
    ]
    for root in roots:  # asn1crypto parses lazily and not thread-safely: parse them now,
        _ = (root.native, root.key_identifier, root.self_signed)  # before threads share them
    return roots


def _index_dir(config: VerifierConfig, config_path: Path) -> Path:
    index_dir = Path(config.index_dir) if config.index_dir else config_path.parent
    index_dir.mkdir(parents=True, exist_ok=True)
    return index_dir


def open_index(config: VerifierConfig, config_path: Path) -> RegistryIndex:
    """The verifier's registry index (as last synced; ``sync`` it to bring it up to date)."""
    return RegistryIndex(
        _index_dir(config, config_path) / f"verifier-index-{config.registry_address[-8:]}.sqlite",
        registry_address=config.registry_address,
        start_block=config.deploy_block,
        confirmations=config.confirmations,
    )


def build_verifier(
    config: VerifierConfig, config_path: Path, *, region: str | None = None
) -> Verifier:
    region = region or config.region
    if not region:
        raise LedgerError("say which province this verifier serves (--region)")
    base = config_path.parent
    index_dir = _index_dir(config, config_path)
    index = open_index(config, config_path)
    registry = Registry(Chain.connect(config.rpc_url, timeout=3.0), config.registry_address)
    try:
        quorum = Fraction(config.bundle_quorum)
    except (ValueError, ZeroDivisionError) as exc:
        raise LedgerError(f"bundle_quorum {config.bundle_quorum!r} is not a fraction") from exc
    bundles = BundleStore(
        index_dir,
        config.trust_bundles,
        index,
        quorum=quorum,
        max_age=config.bundle_max_age_days * 86_400,
        timeout=config.bundle_fetch_seconds,
    )
    witnesses = [Chain.connect(url, timeout=3.0) for url in config.witness_rpc_urls]
    quorum_reads = config.read_quorum or 1 + len(witnesses)
    if not 1 <= quorum_reads <= 1 + len(witnesses):
        raise LedgerError(f"read_quorum must be between 1 and {1 + len(witnesses)}")
    chain = ChainView(
        index,
        registry,
        max_stale=config.max_stale_seconds,
        bundles=bundles,
        witnesses=witnesses,
        read_quorum=quorum_reads,
        max_lag_blocks=config.max_lag_blocks,
    )
    chain.refresh(force=True)
    bundles.refresh()
    roots_path = Path(config.trust_roots)
    roots = load_trust_roots(roots_path if roots_path.is_absolute() else base / roots_path)
    sm2_path = Path(config.sm2_trust_roots)
    sm2_roots = (
        load_trust_roots(sm2_path if sm2_path.is_absolute() else base / sm2_path)
        if config.sm2_trust_roots
        else []
    )
    directories = {
        k: (v if v.startswith(("http://", "https://")) or Path(v).is_absolute() else str(base / v))
        for k, v in config.proof_directories.items()
    }
    nonces = NonceBook(index_dir / "verifier-nonces.sqlite", policy=config.nonce_policy())
    proofs = ProofDirectory(directories, timeout=config.proof_fetch_seconds)
    return Verifier(
        region,
        chain,
        proofs,
        roots,
        nonces,
        report_sealer=_report_sealer(config.report_seals.get(region), base),
        public_url=config.public_urls.get(region),
        sm2_trust_roots=sm2_roots,
    )


def _report_sealer(spec: dict[str, Any] | None, base: Path) -> ReportSealer | None:
    if not spec:
        return None

    def path(value: object) -> Path:
        found = Path(str(value))
        return found if found.is_absolute() else base / found

    try:
        return ReportSealer(
            path(spec["certificate"]),
            path(spec["key"]),
            [path(p) for p in spec.get("chain", [])],
            password_from_env,
            str(spec.get("location", "")),
        )
    except (KeyError, TypeError) as exc:
        raise LedgerError(f"report_seals entry is malformed: {exc}") from exc
