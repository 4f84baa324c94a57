"""What the Besu kit takes from an issuing home (``$ECERT_HOME``): the provinces that run
nodes and the consortium's transaction senders. The consortium admin and every province
authority are created here if the home has none yet (the same keystore names ``ecert network
init`` uses), so the chain allowlists and funds them before the registry is deployed on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from issuer.site import NetworkConfig, authority_key, department_key
from ledger.errors import LedgerError
from ledger.keys import KeyStore

__all__ = ["ADMIN_KEY", "KitInputs", "kit_inputs"]

ADMIN_KEY = "consortium-admin"


@dataclass(frozen=True, slots=True)
class KitInputs:
    """The provinces (in network order) and the accounts to allowlist."""

    provinces: list[str]
    accounts: list[str]
    notes: list[str]
    """Accounts the kit could not include, said in words for the operator."""


def _address(keys: KeyStore, name: str) -> str:
    """The address of the key ``name``, created (encrypted) if the home has none; an existing
    key is read without decrypting it."""
    return keys.address(name) if name in keys.names() else keys.create(name).address


def kit_inputs(home: Path, keys: KeyStore, extra_provinces: Sequence[str] = ()) -> KitInputs:
    """The home's ``network.json`` provinces (if any) followed by ``extra_provinces``; the
    admin, each province authority and each department account this home holds a key for."""
    path = home / "network.json"
    network = NetworkConfig.load(path) if path.exists() else None
    provinces = [p.code for p in network.provinces] if network else []
    for code in extra_provinces:
        if code in provinces:
            raise LedgerError(f"province {code} is already in {path}")
        provinces.append(code)
    if not provinces:
        raise LedgerError(f"no network at {path}: name the provinces with --province CODE:NAME")
    accounts = [_address(keys, ADMIN_KEY)]
    accounts += [_address(keys, authority_key(code)) for code in provinces]
    notes: list[str] = []
    for dept in network.departments if network else []:
        name = dept.account_key or department_key(dept.issuer_id)
        if name in keys.names():
            accounts.append(keys.address(name))
        else:
            notes.append(
                f"{dept.issuer_id}: no key {name!r} in this home; allowlist its account on "
                "every node (perm_addAccountsToAllowlist)"
            )
    return KitInputs(provinces, accounts, notes)
