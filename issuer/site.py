"""An issuing site's files under ``$ECERT_HOME``: ``network.json`` (the registry deployment,
the provinces and departments this site knows), encrypted chain keys (``keys/``) and the PKI
(``pki/``). ``bootstrap_network`` creates a whole consortium on a chain, for demos and tests;
``Site`` loads what a running issuer needs."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin

from issuer.department import Department
from issuer.pkistore import PkiStore
from issuer.seal import Sealer
from issuer.sm2store import Sm2PkiStore
from ledger import bls
from ledger.artifact import load_registry_artifact
from ledger.chain import Chain
from ledger.codes import RevocationReason
from ledger.deployment import Deployment
from ledger.errors import KeystoreError, LedgerError, TransactionRejected
from ledger.failover import RpcUrls
from ledger.keys import DEFAULT_SCRYPT_N, KeyStore
from ledger.registry import Registry

__all__ = [
    "DepartmentConfig",
    "NetworkConfig",
    "ProvinceConfig",
    "Site",
    "bootstrap_network",
    "make_sm2_seals",
]


@dataclass(frozen=True)
class ProvinceConfig:
    code: str
    name: str
    verifier_base: str
    """Base URL of the province's verifier page, printed into its departments' QR codes."""


@dataclass(frozen=True)
class DepartmentConfig:
    issuer_id: str
    name: str
    province: str
    cert_types: list[str] = field(default_factory=list)
    account_key: str = ""
    """Keystore name of the current chain account (empty: ``issuer-<id>``); changes when the
    account is rotated."""


@dataclass(frozen=True)
class NetworkConfig:
    deployment: Deployment
    provinces: list[ProvinceConfig]
    departments: list[DepartmentConfig]
    demo: bool = False
    """Built by ``ecert demo``, which may rebuild it from scratch; never set for a network
    made any other way (``ecert network init``), which the demo refuses to touch."""
    confirmations: int = 0
    """Blocks built on a block before this home's registry index (what ``ecert bundle build``
    signs, what ``ecert network matrix`` shows) takes it in: 0 on QBFT, more on a chain that
    can reorganise."""

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path) -> NetworkConfig:
        try:
            raw = json.loads(path.read_text("utf-8"))
            return cls(
                deployment=Deployment(**raw["deployment"]),
                provinces=[ProvinceConfig(**p) for p in raw["provinces"]],
                departments=[DepartmentConfig(**d) for d in raw["departments"]],
                demo=bool(raw.get("demo", False)),
                confirmations=int(raw.get("confirmations", 0)),
            )
        except FileNotFoundError as exc:
            raise LedgerError(
                f"no network at {path}: run 'make demo' (or 'ecert network init'), or set "
                "ECERT_HOME to the folder that holds one"
            ) from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LedgerError(f"{path} is unreadable: {exc}") from exc

    def province(self, code: str) -> ProvinceConfig:
        for province in self.provinces:
            if province.code == code:
                return province
        raise LedgerError(f"unknown province {code}")


def authority_key(code: str) -> str:
    return f"province-{code.lower()}"


def bundle_key_name(code: str) -> str:
    return f"bundle-{code.lower()}"


def bundle_secret(keys: KeyStore, code: str) -> int:
    """The province's BLS trust-bundle secret, created (and stored encrypted) on first use."""
    name = bundle_key_name(code)
    if name in keys.names():
        return bls.secret_from_bytes(keys.load_secret(name))
    secret = bls.new_secret()
    keys.store_secret(name, bls.secret_to_bytes(secret))
    return secret


def publish_bundle_key(keys: KeyStore, registry: Registry, code: str) -> bytes:
    """Publish the province's trust-bundle key and its proof of possession on the registry,
    signed by the province authority; returns the public key."""
    secret = bundle_secret(keys, code)
    key = bls.public_key(secret)
    registry.set_bundle_key(keys.load(authority_key(code)), key, bls.prove_possession(secret))
    return key


def department_key(issuer_id: str) -> str:
    return f"issuer-{issuer_id.lower()}"


def crl_reason(reason: RevocationReason) -> str:
    """The RFC 5280 reason closest to a registry revocation reason."""
    return {
        RevocationReason.KEY_COMPROMISE: "key-compromise",
        RevocationReason.SUPERSEDED: "superseded",
        RevocationReason.CESSATION_OF_OPERATION: "cessation-of-operation",
        RevocationReason.PRIVILEGE_WITHDRAWN: "privilege-withdrawn",
    }.get(reason, "unspecified")


def crl_urls(timestamp_url: str, province: str) -> tuple[str, str]:
    """Where the province service that issues timestamps publishes the root's and the
    province CA's CRLs (``ecert serve tsa``)."""
    base = timestamp_url if timestamp_url.endswith("/") else timestamp_url + "/"
    return (urljoin(base, "crl/root.crl"), urljoin(base, f"crl/{province}.crl"))


class Site:
    """What one issuing site needs at run time."""

    def __init__(
        self,
        home: Path,
        password: str,
        *,
        scrypt_n: int = DEFAULT_SCRYPT_N,
        rpc_url: RpcUrls | None = None,
    ) -> None:
        self.home = home
        self.rpc_url = rpc_url
        """The node (or nodes) to use instead of the deployment's (``--rpc``); never saved."""
        self.network = NetworkConfig.load(home / "network.json")
        self.keys = KeyStore(home / "keys", password, scrypt_n=scrypt_n)
        self.pki = PkiStore(home, password)
        self.sm2 = Sm2PkiStore(home, password)
        """The SM2 PKI (national standard): departments with an SM2 seal also issue OFD."""

    def __repr__(self) -> str:
        return f"Site({str(self.home)!r})"

    def registry(self, rpc_url: RpcUrls | None = None) -> Registry:
        deployment = self.network.deployment
        url = rpc_url or self.rpc_url or deployment.rpc_url
        return Registry(Chain.connect(url), deployment.registry_address)

    def department(self, issuer_id: str, *, timestamp_url: str | None = None) -> Department:
        config = self._config(issuer_id)
        province = self.network.province(config.province)
        chain = [self.pki.province_ca(config.province).cert, self.pki.root_certificate()]
        return Department(
            issuer_id=config.issuer_id,
            name=config.name,
            province_code=province.code,
            province_name=province.name,
            account=self.keys.load(config.account_key or department_key(issuer_id)),
            sealer=Sealer(
                self.pki.seal(issuer_id),
                chain,
                location=province.name,
                timestamp_url=timestamp_url,
                crl_urls=crl_urls(timestamp_url, province.code) if timestamp_url else (),
            ),
            verifier_base=province.verifier_base,
            ofd_sealer=self.sm2.sealer(issuer_id) if self.sm2.seal_stems(issuer_id) else None,
        )

    def rotate_seal(self, issuer_id: str) -> str:
        """Issue a new seal certificate and register it on chain (the province authority
        signs). The old one stays on record for the blocks in which it was current, so every
        certificate sealed with it stays verifiable. Returns the new certificate's stem."""
        config = self._config(issuer_id)
        province = self.network.province(config.province)
        stem = self.pki.issue_seal(province.code, province.name, issuer_id, config.name)
        self.registry().rotate_seal_certificate(
            self.keys.load(authority_key(province.code)),
            issuer_id,
            self.pki.seal_fingerprint(issuer_id, stem),
            self.pki.province_ca_fingerprint(province.code),
        )
        return stem

    def revoke_seal(
        self,
        issuer_id: str,
        effective_from: datetime,
        reason: RevocationReason,
        fingerprint: bytes | None = None,
    ) -> bytes:
        """Revoke one of the department's seal certificates on chain from ``effective_from`` on
        (the province authority signs): certificates anchored from then on are invalid, those
        anchored before stay valid. ``fingerprint`` defaults to the seal the registry lists as
        current. Returns the fingerprint revoked. Revoking does not rotate: see ``rotate_seal``."""
        config = self._config(issuer_id)
        registry = self.registry()
        if fingerprint is None:
            issuer = registry.issuer(issuer_id)
            if issuer is None:
                raise LedgerError(f"{issuer_id} is not registered on the registry")
            fingerprint = issuer.seal_cert_fingerprint
        registry.revoke_seal_certificate(
            self.keys.load(authority_key(config.province)),
            issuer_id,
            fingerprint,
            effective_from,
            reason,
        )
        with contextlib.suppress(KeystoreError):  # on this site's CRL too, if its PKI made it
            self.pki.revoke_seal(
                issuer_id, config.province, fingerprint, effective_from, crl_reason(reason)
            )
        return fingerprint

    def distrust_ca(
        self,
        province: str,
        effective_from: datetime,
        reason: RevocationReason,
        fingerprint: bytes | None = None,
    ) -> bytes:
        """Distrust a province CA on chain from ``effective_from`` on (the consortium admin
        signs): certificates sealed under it and anchored from then on are invalid.
        ``fingerprint`` defaults to this site's CA certificate of that province. Returns the
        fingerprint distrusted."""
        self.network.province(province)
        if fingerprint is None:
            fingerprint = self.pki.province_ca_fingerprint(province)
        self.registry().distrust_province_ca(
            self.keys.load("consortium-admin"), province, fingerprint, effective_from, reason
        )
        if fingerprint == self.pki.province_ca_fingerprint(province):  # on the root's CRL too
            compromised = reason is RevocationReason.KEY_COMPROMISE
            self.pki.revoke_province_ca(
                province, effective_from, "ca-compromise" if compromised else crl_reason(reason)
            )
        return fingerprint

    def rotate_account(self, issuer_id: str) -> str:
        """Move the department to a new chain account (the province authority signs). Anchors
        keep pointing at the department, not the account, so earlier certificates stay valid;
        the old account can no longer act. Returns the new account's address."""
        config = self._config(issuer_id)
        current = config.account_key or department_key(issuer_id)
        generation = sum(1 for n in self.keys.names() if n.startswith(department_key(issuer_id)))
        name = f"{department_key(issuer_id)}-{generation + 1}"
        account = self.keys.create(name)
        registry = self.registry()
        with contextlib.suppress(TransactionRejected):  # gas-free production chains need no funds
            registry.chain.fund(account.address, 10**20)
        registry.rotate_issuer_account(
            self.keys.load(authority_key(config.province)), issuer_id, account.address
        )
        departments = [
            replace(d, account_key=name) if d.issuer_id == issuer_id else d
            for d in self.network.departments
        ]
        self.network = replace(self.network, departments=departments)
        self.network.save(self.home / "network.json")
        assert current != name
        return str(account.address)

    def department_accounts(self) -> dict[str, set[str]]:
        """Every chain account each department of this site has had (current and rotated
        away), read from the key files without decrypting them: who may sign its audit
        checkpoints."""
        names = self.keys.names()
        accounts: dict[str, set[str]] = {}
        for config in self.network.departments:
            base = department_key(config.issuer_id)
            accounts[config.issuer_id] = {
                self.keys.address(n)
                for n in names
                if n == base or (n.startswith(base + "-") and n[len(base) + 1 :].isdigit())
            }
        return accounts

    def _config(self, issuer_id: str) -> DepartmentConfig:
        config = next((d for d in self.network.departments if d.issuer_id == issuer_id), None)
        if config is None:
            raise LedgerError(f"this site has no department {issuer_id}")
        return config

    def departments(self, *, timestamp_url: str | None = None) -> list[Department]:
        return [
            self.department(d.issuer_id, timestamp_url=timestamp_url)
            for d in self.network.departments
        ]


def make_sm2_seals(
    home: Path,
    password: str,
    provinces: Sequence[ProvinceConfig],
    departments: Sequence[DepartmentConfig],
) -> Sm2PkiStore:
    """The SM2 root, an SM2 CA and seal maker per province, and an SM2 seal (certificate and
    ``SES_Seal``) for every department that has none yet; what exists is kept."""
    sm2 = Sm2PkiStore(home, password)
    sm2.init_root()
    names = {p.code: p.name for p in provinces}
    for province in provinces:
        sm2.add_province(province.code, province.name)
    for dept in departments:
        if not sm2.seal_stems(dept.issuer_id):
            sm2.issue_seal(dept.province, names[dept.province], dept.issuer_id, dept.name)
    return sm2


def _saved_urls(chain: Chain) -> str | list[str]:
    """How ``network.json`` names the chain's nodes: one as a string (as it always did), more
    as a list."""
    urls = chain.rpc_urls
    if not urls:
        return chain.description
    return urls[0] if len(urls) == 1 else list(urls)


def bootstrap_network(
    home: Path,
    password: str,
    chain: Chain,
    provinces: list[ProvinceConfig],
    departments: list[DepartmentConfig],
    *,
    scrypt_n: int = DEFAULT_SCRYPT_N,
    recognitions: Sequence[tuple[str, str, str]] = (),
    sm2_seals: bool = False,
    demo: bool = False,
) -> NetworkConfig:
    """Create PKI, keys and a registry on ``chain`` with these provinces and departments, and
    the recognition agreements ``(verifying, issuing, cert_type)``; write ``network.json``
    (marked as the demo's with ``demo``). With ``sm2_seals`` also the SM2 PKI (root, province
    CAs and seal makers) and an SM2 seal for every department, which then issues each
    certificate as a PDF and an OFD.

    Keys are encrypted at the one keystore cost (``ledger.keys.DEFAULT_SCRYPT_N``); only tests
    pass a smaller ``scrypt_n`` to keep set-up fast."""
    keys = KeyStore(home / "keys", password, scrypt_n=scrypt_n)
    pki = PkiStore(home, password)
    pki.init_root()
    if sm2_seals:
        make_sm2_seals(home, password, provinces, departments)
    admin = keys.load_or_create("consortium-admin")
    chain.fund(admin.address, 10**21)
    registry, deployed = Registry.deploy(chain, admin)
    authorities = {}
    for province in provinces:
        pki.add_province(province.code, province.name)
        authority = keys.load_or_create(authority_key(province.code))
        chain.fund(authority.address, 10**20)
        registry.admit_province(admin, province.code, province.name, authority.address)
        authorities[province.code] = authority
    for dept in departments:
        account = keys.load_or_create(department_key(dept.issuer_id))
        chain.fund(account.address, 10**20)
        province = next(p for p in provinces if p.code == dept.province)
        if not pki.seal_stems(dept.issuer_id):
            pki.issue_seal(dept.province, province.name, dept.issuer_id, dept.name)
        registry.register_issuer(
            authorities[dept.province],
            province=dept.province,
            issuer_id=dept.issuer_id,
            account=account.address,
            name=dept.name,
            seal_cert_fingerprint=pki.seal_fingerprint(dept.issuer_id),
            ca_fingerprint=pki.province_ca_fingerprint(dept.province),
            cert_types=dept.cert_types,
        )
    for verifying, issuing, cert_type in recognitions:
        registry.set_recognition(authorities[verifying], issuing, cert_type, True)
    for province in provinces:
        publish_bundle_key(keys, registry, province.code)
    config = NetworkConfig(
        deployment=Deployment(
            _saved_urls(chain),
            chain.chain_id,
            registry.address,
            deployed.block_number,
            load_registry_artifact().compiler_version,
        ),
        provinces=provinces,
        departments=departments,
        demo=demo,
    )
    config.save(home / "network.json")
    return config
