"""Typed Python bindings for the ``CertificateRegistry`` contract.

Every registry function has one method here taking and returning our own types (codes as text,
hashes as ``bytes``, records from :mod:`ledger.records`); nothing else in the project builds
contract calls by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import BlockIdentifier

from ledger.artifact import load_registry_artifact
from ledger.chain import Chain, translate_errors
from ledger.codes import (
    RevocationReason,
    cert_type_from_bytes,
    cert_type_to_bytes,
    issuer_id_from_bytes,
    issuer_id_to_bytes,
    province_from_bytes,
    province_to_bytes,
)
from ledger.errors import InvalidTime, MerkleError, RegistryRefused, TransactionRejected
from ledger.evm import EVM_TARGETS
from ledger.records import (
    Anchor,
    AuthorityProposal,
    CaDistrust,
    Issuer,
    IssuerStatus,
    Province,
    Revocation,
    SealCertificate,
    SealRevocation,
    TxResult,
)

__all__ = ["Registry"]

_ZERO32 = b"\0" * 32
_STATUS = {1: IssuerStatus.ACTIVE, 2: IssuerStatus.SUSPENDED}


def _hash32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise MerkleError(f"{what} must be 32 bytes")
    return bytes(value)


def _time(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _seconds(moment: datetime, what: str) -> int:
    """A timezone-aware time as the registry's uint64 unix seconds (never 0)."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidTime(f"{what} must be a timezone-aware datetime, got {moment!r}")
    seconds = int(moment.timestamp())
    if not 0 < seconds < 2**64:
        raise InvalidTime(f"{what} {moment.isoformat()} is outside the registry's range")
    return seconds


class Registry:
    """The consortium registry at ``address`` on ``chain``."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = Web3.to_checksum_address(address)
        self.contract: Contract = chain.w3.eth.contract(
            address=self.address, abi=load_registry_artifact().abi
        )

    @classmethod
    def deploy(
        cls, chain: Chain, deployer: LocalAccount, admin: str | None = None
    ) -> tuple[Registry, TxResult]:
        """Deploy a new registry whose consortium admin is ``admin`` (default: the deployer)."""
        artifact = load_registry_artifact()
        try:
            address, result = chain.deploy(
                artifact.abi, artifact.bytecode, deployer, admin or deployer.address
            )
        except TransactionRejected as exc:
            if artifact.evm_version == EVM_TARGETS[0]:
                raise
            # The usual cause on a consortium chain: it runs older EVM rules than the build.
            raise TransactionRejected(
                f"{exc} (the registry is built for {artifact.evm_version}: a chain on older "
                f"EVM rules needs ECERT_EVM={EVM_TARGETS[0]}, see ledger/evm.py)"
            ) from exc
        return cls(chain, address), result

    def code(self) -> bytes:
        """The runtime code at the registry's address (empty if nothing is deployed there)."""
        with translate_errors("registry code"):
            return bytes(self.chain.w3.eth.get_code(self.address))

    def runs_build(self, evm: str | None = None) -> bool:
        """Whether the code at the address is, byte for byte, the committed build for ``evm``
        (default: the chosen target): what each province checks after a deployment."""
        built = load_registry_artifact(evm).deployed_bytecode.removeprefix("0x")
        return self.code() == bytes.fromhex(built)

    @property
    def _fn(self) -> Any:
        return self.contract.functions

    # ============================================================ consortium and provinces

    def admin(self) -> str:
        return str(self.chain.call(self._fn.owner()))

    def transfer_admin(self, sender: LocalAccount, new_admin: str) -> TxResult:
        """Start a two-step hand-over of the consortium admin role."""
        return self.chain.transact(self._fn.transferOwnership(new_admin), sender)

    def accept_admin(self, sender: LocalAccount) -> TxResult:
        return self.chain.transact(self._fn.acceptOwnership(), sender)

    def admit_province(
        self, sender: LocalAccount, code: str, name: str, authority: str
    ) -> TxResult:
        fn = self._fn.admitProvince(province_to_bytes(code), name, authority)
        return self.chain.transact(fn, sender)

    def set_province_authority(
        self, sender: LocalAccount, code: str, new_authority: str
    ) -> TxResult:
        """The province authority ``sender`` hands its role to ``new_authority`` (its own key
        rotation; the consortium admin goes through ``propose_province_authority``)."""
        fn = self._fn.setProvinceAuthority(province_to_bytes(code), new_authority)
        return self.chain.transact(fn, sender)

    def propose_province_authority(
        self, sender: LocalAccount, code: str, new_authority: str
    ) -> TxResult:
        """The consortium admin proposes to replace the province's authority: effective when
        the province accepts, or when the admin executes it after the delay."""
        fn = self._fn.proposeProvinceAuthority(province_to_bytes(code), new_authority)
        return self.chain.transact(fn, sender)

    def accept_province_authority(
        self, sender: LocalAccount, code: str, new_authority: str
    ) -> TxResult:
        """The province's current authority consents to the proposal for ``new_authority``."""
        fn = self._fn.acceptProvinceAuthority(province_to_bytes(code), new_authority)
        return self.chain.transact(fn, sender)

    def execute_province_authority(self, sender: LocalAccount, code: str) -> TxResult:
        """The consortium admin carries out its proposal once the delay has passed."""
        fn = self._fn.executeProvinceAuthority(province_to_bytes(code))
        return self.chain.transact(fn, sender)

    def cancel_province_authority(self, sender: LocalAccount, code: str) -> TxResult:
        fn = self._fn.cancelProvinceAuthority(province_to_bytes(code))
        return self.chain.transact(fn, sender)

    def pending_province_authority(self, code: str) -> AuthorityProposal | None:
        account, executable_at = self.chain.call(
            self._fn.pendingProvinceAuthority(province_to_bytes(code))
        )
        if int(executable_at) == 0:
            return None
        return AuthorityProposal(
            province=code, account=str(account), executable_at=_time(executable_at)
        )

    def authority_change_delay(self) -> timedelta:
        """How long the admin waits before replacing an authority without consent."""
        return timedelta(seconds=int(self.chain.call(self._fn.AUTHORITY_CHANGE_DELAY())))

    def distrust_province_ca(
        self,
        sender: LocalAccount,
        province: str,
        ca_fingerprint: bytes,
        effective_from: datetime,
        reason: RevocationReason,
    ) -> TxResult:
        """The consortium admin distrusts a province CA: certificates anchored at or after
        ``effective_from`` under seals it issued are invalid."""
        fn = self._fn.distrustProvinceCa(
            province_to_bytes(province),
            _hash32(ca_fingerprint, "CA fingerprint"),
            _seconds(effective_from, "effective time"),
            int(reason),
        )
        return self.chain.transact(fn, sender)

    def ca_distrust(self, ca_fingerprint: bytes) -> CaDistrust | None:
        fp = _hash32(ca_fingerprint, "CA fingerprint")
        province, effective_from, reason, block_number, timestamp = self.chain.call(
            self._fn.caDistrust(fp)
        )
        if int(effective_from) == 0:
            return None
        return CaDistrust(
            fingerprint=fp,
            province=province_from_bytes(bytes(province)),
            effective_from=_time(effective_from),
            reason=RevocationReason(int(reason)),
            block_number=int(block_number),
            timestamp=_time(timestamp),
        )

    def province_codes(self) -> list[str]:
        return [province_from_bytes(bytes(c)) for c in self.chain.call(self._fn.provinceCodes())]

    def province(self, code: str) -> Province | None:
        try:
            raw = self.chain.call(self._fn.getProvince(province_to_bytes(code)))
        except RegistryRefused as refused:
            if refused.error == "CertificateRegistryUnknownProvince":
                return None
            raise
        authority, admitted_at, name = raw
        return Province(code=code, name=name, authority=authority, admitted_at_block=admitted_at)

    def provinces(self) -> list[Province]:
        found = (self.province(code) for code in self.province_codes())
        return [p for p in found if p is not None]

    def set_bundle_key(self, sender: LocalAccount, key: bytes, proof: bytes) -> TxResult:
        """Publish the sender province's BLS trust-bundle key with its proof of possession."""
        return self.chain.transact(self._fn.setBundleKey(key, proof), sender)

    def bundle_key(self, code: str) -> bytes:
        """The province's trust-bundle key (empty if it published none)."""
        return bytes(self.chain.call(self._fn.bundleKey(province_to_bytes(code))))

    def province_of_authority(self, account: str) -> str | None:
        raw = bytes(self.chain.call(self._fn.provinceOfAuthority(account)))
        return None if raw == _ZERO32 else province_from_bytes(raw)

    # ============================================================ issuers

    def register_issuer(
        self,
        sender: LocalAccount,
        *,
        province: str,
        issuer_id: str,
        account: str,
        name: str,
        seal_cert_fingerprint: bytes,
        ca_fingerprint: bytes,
        cert_types: Sequence[str],
    ) -> TxResult:
        """Register a department with its seal certificate and the fingerprint of the province
        CA certificate that issued it."""
        fn = self._fn.registerIssuer(
            province_to_bytes(province),
            issuer_id_to_bytes(issuer_id),
            account,
            name,
            _hash32(seal_cert_fingerprint, "seal certificate fingerprint"),
            _hash32(ca_fingerprint, "CA fingerprint"),
            [cert_type_to_bytes(t) for t in cert_types],
        )
        return self.chain.transact(fn, sender)

    def suspend_issuer(self, sender: LocalAccount, issuer_id: str) -> TxResult:
        return self.chain.transact(self._fn.suspendIssuer(issuer_id_to_bytes(issuer_id)), sender)

    def reactivate_issuer(self, sender: LocalAccount, issuer_id: str) -> TxResult:
        fn = self._fn.reactivateIssuer(issuer_id_to_bytes(issuer_id))
        return self.chain.transact(fn, sender)

    def rotate_issuer_account(
        self, sender: LocalAccount, issuer_id: str, new_account: str
    ) -> TxResult:
        fn = self._fn.rotateIssuerAccount(issuer_id_to_bytes(issuer_id), new_account)
        return self.chain.transact(fn, sender)

    def rotate_seal_certificate(
        self, sender: LocalAccount, issuer_id: str, new_fingerprint: bytes, ca_fingerprint: bytes
    ) -> TxResult:
        fn = self._fn.rotateSealCertificate(
            issuer_id_to_bytes(issuer_id),
            _hash32(new_fingerprint, "seal certificate fingerprint"),
            _hash32(ca_fingerprint, "CA fingerprint"),
        )
        return self.chain.transact(fn, sender)

    def revoke_seal_certificate(
        self,
        sender: LocalAccount,
        issuer_id: str,
        fingerprint: bytes,
        effective_from: datetime,
        reason: RevocationReason,
    ) -> TxResult:
        """The province authority revokes one of the issuer's seal certificates: certificates
        anchored at or after ``effective_from`` are invalid. Again only with an earlier time."""
        fn = self._fn.revokeSealCertificate(
            issuer_id_to_bytes(issuer_id),
            _hash32(fingerprint, "seal certificate fingerprint"),
            _seconds(effective_from, "effective time"),
            int(reason),
        )
        return self.chain.transact(fn, sender)

    def seal_revocation(self, fingerprint: bytes) -> SealRevocation | None:
        fp = _hash32(fingerprint, "fingerprint")
        issuer_raw, effective_from, reason, block_number, timestamp = self.chain.call(
            self._fn.sealRevocation(fp)
        )
        if int(effective_from) == 0:
            return None
        return SealRevocation(
            fingerprint=fp,
            issuer_id=issuer_id_from_bytes(bytes(issuer_raw)),
            effective_from=_time(effective_from),
            reason=RevocationReason(int(reason)),
            block_number=int(block_number),
            timestamp=_time(timestamp),
        )

    def set_issuer_cert_type(
        self, sender: LocalAccount, issuer_id: str, cert_type: str, allowed: bool
    ) -> TxResult:
        fn = self._fn.setIssuerCertType(
            issuer_id_to_bytes(issuer_id), cert_type_to_bytes(cert_type), allowed
        )
        return self.chain.transact(fn, sender)

    def issuer_count(self) -> int:
        return int(self.chain.call(self._fn.issuerCount()))

    def issuer_ids(self) -> list[str]:
        return [
            issuer_id_from_bytes(bytes(self.chain.call(self._fn.issuerIdAt(i))))
            for i in range(self.issuer_count())
        ]

    def issuer(self, issuer_id: str) -> Issuer | None:
        key = issuer_id_to_bytes(issuer_id)
        try:
            raw = self.chain.call(self._fn.getIssuer(key))
            types = self.chain.call(self._fn.issuerCertTypes(key))
        except RegistryRefused as refused:
            if refused.error == "CertificateRegistryUnknownIssuer":
                return None
            raise
        account, status, registered_at, _id, province, fingerprint, name = raw
        return Issuer(
            issuer_id=issuer_id,
            province=province_from_bytes(bytes(province)),
            name=name,
            account=account,
            status=_STATUS[int(status)],
            seal_cert_fingerprint=bytes(fingerprint),
            registered_at_block=int(registered_at),
            cert_types=tuple(sorted(cert_type_from_bytes(bytes(t)) for t in types)),
        )

    def issuer_of_account(self, account: str) -> str | None:
        raw = bytes(self.chain.call(self._fn.issuerOfAccount(account)))
        return None if raw == _ZERO32 else issuer_id_from_bytes(raw)

    def is_authorised(self, issuer_id: str, cert_type: str) -> bool:
        fn = self._fn.isAuthorised(issuer_id_to_bytes(issuer_id), cert_type_to_bytes(cert_type))
        return bool(self.chain.call(fn))

    def seal_certificate(self, fingerprint: bytes) -> SealCertificate | None:
        fp = _hash32(fingerprint, "fingerprint")
        issuer_raw, ca_fp, from_block, until_block = self.chain.call(self._fn.sealCertificate(fp))
        if bytes(issuer_raw) == _ZERO32:
            return None
        return SealCertificate(
            fingerprint=fp,
            issuer_id=issuer_id_from_bytes(bytes(issuer_raw)),
            ca_fingerprint=bytes(ca_fp),
            from_block=int(from_block),
            until_block=int(until_block) or None,
        )

    # ============================================================ anchors and revocation

    def anchor(
        self, sender: LocalAccount, root: bytes, leaf_count: int, cert_type: str
    ) -> TxResult:
        """Anchor ``root`` as the sender's issuer's (anchors are keyed by issuer and root)."""
        if not isinstance(leaf_count, int) or not 0 <= leaf_count < 2**32:
            raise MerkleError(f"leaf count {leaf_count!r} is not a 32-bit unsigned integer")
        fn = self._fn.anchor(_hash32(root, "root"), leaf_count, cert_type_to_bytes(cert_type))
        return self.chain.transact(fn, sender)

    def anchor_of(
        self, issuer_id: str, root: bytes, *, block: BlockIdentifier = "latest"
    ) -> Anchor | None:
        """The anchor ``issuer_id`` recorded for ``root`` (``None``: that issuer never did)."""
        fn = self._fn.getAnchor(issuer_id_to_bytes(issuer_id), _hash32(root, "root"))
        cert_type, leaf_count, block_number, timestamp = self.chain.call(fn, block=block)
        if int(block_number) == 0:
            return None
        return Anchor(
            root=bytes(root),
            issuer_id=issuer_id,
            cert_type=cert_type_from_bytes(bytes(cert_type)),
            leaf_count=int(leaf_count),
            block_number=int(block_number),
            timestamp=_time(timestamp),
        )

    def revoke_root(
        self, sender: LocalAccount, issuer_id: str, root: bytes, reason: RevocationReason
    ) -> TxResult:
        fn = self._fn.revokeRoot(issuer_id_to_bytes(issuer_id), _hash32(root, "root"), int(reason))
        return self.chain.transact(fn, sender)

    def revoke_certificate(
        self,
        sender: LocalAccount,
        issuer_id: str,
        root: bytes,
        leaf: bytes,
        proof: Sequence[bytes],
        reason: RevocationReason,
    ) -> TxResult:
        fn = self._fn.revokeCertificate(
            issuer_id_to_bytes(issuer_id),
            _hash32(root, "root"),
            _hash32(leaf, "leaf"),
            [_hash32(p, "proof element") for p in proof],
            int(reason),
        )
        return self.chain.transact(fn, sender)

    def root_revocation(self, issuer_id: str, root: bytes) -> Revocation | None:
        fn = self._fn.rootRevocation(issuer_id_to_bytes(issuer_id), _hash32(root, "root"))
        return self._revocation(self.chain.call(fn))

    def certificate_revocation(self, issuer_id: str, root: bytes, leaf: bytes) -> Revocation | None:
        fn = self._fn.certificateRevocation(
            issuer_id_to_bytes(issuer_id), _hash32(root, "root"), _hash32(leaf, "leaf")
        )
        return self._revocation(self.chain.call(fn))

    @staticmethod
    def _revocation(raw: Sequence[int]) -> Revocation | None:
        reason, block_number, timestamp = raw
        if int(block_number) == 0:
            return None
        return Revocation(
            reason=RevocationReason(int(reason)),
            block_number=int(block_number),
            timestamp=_time(timestamp),
        )

    def verify_inclusion(self, root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
        """The contract's own ``MerkleProof`` verdict (used to cross-check Python proofs);
        malformed hashes are simply not included, as in ``ledger.merkle.verify_proof``."""
        try:
            args = (
                _hash32(root, "root"),
                _hash32(leaf, "leaf"),
                [_hash32(p, "proof element") for p in proof],
            )
        except MerkleError:
            return False
        return bool(self.chain.call(self._fn.verifyInclusion(*args)))

    # ============================================================ recognition

    def set_recognition(
        self, sender: LocalAccount, issuing_province: str, cert_type: str, recognised: bool
    ) -> TxResult:
        fn = self._fn.setRecognition(
            province_to_bytes(issuing_province), cert_type_to_bytes(cert_type), recognised
        )
        return self.chain.transact(fn, sender)

    def is_recognised(self, verifying: str, issuing: str, cert_type: str) -> bool:
        fn = self._fn.isRecognised(
            province_to_bytes(verifying), province_to_bytes(issuing), cert_type_to_bytes(cert_type)
        )
        return bool(self.chain.call(fn))
