"""Signed checkpoints of the audit log's head, and the append-only file that keeps them outside
the database.

A checkpoint says "the audit log had ``entries`` entries and the last one's hash was
``entry_hash``", signed by a department's chain account (EIP-191 ``personal_sign``). Without
that key nobody can make one, so a log that was cut short, wiped, or rebuilt with recomputed
hashes no longer matches the checkpoints made before (``issuer.audit.check_audit``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ledger.errors import LedgerError
from ledger.personal_sign import SignatureError, recover_signer

__all__ = ["Checkpoint", "CheckpointFile", "CheckpointFileError"]

_DOMAIN = "ecert-audit-checkpoint-v1"
_MAX_LINE = 2000
"""A checkpoint line is about 400 characters; anything much longer is refused before parsing
(the file is input too: no deeply nested JSON reaches the parser)."""


class CheckpointFileError(LedgerError):
    """The checkpoint file cannot be read or written."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed statement about the audit log's head."""

    issuer_id: str
    """The department whose chain account signed (the one whose batch or revocation it
    followed)."""
    entries: int
    """How many entries the log had."""
    entry_hash: str
    """The hash of entry number ``entries`` (hex)."""
    at: datetime
    """When it was signed (UTC, whole seconds)."""
    signer: str
    """The checksummed account that signed."""
    signature: bytes
    """65 bytes r ‖ s ‖ v over ``message()``."""

    def message(self) -> bytes:
        """The signed text: a fixed domain line, then one ``key=value`` line per field."""
        return "\n".join(
            (
                _DOMAIN,
                f"issuer={self.issuer_id}",
                f"entries={self.entries}",
                f"head={self.entry_hash}",
                f"at={self.at.astimezone(UTC).isoformat()}",
            )
        ).encode("utf-8")

    @classmethod
    def sign(
        cls, account: LocalAccount, issuer_id: str, entries: int, entry_hash: str
    ) -> Checkpoint:
        unsigned = cls(
            issuer_id,
            entries,
            entry_hash,
            datetime.now(UTC).replace(microsecond=0),
            str(account.address),
            b"",
        )
        signature = bytes(account.sign_message(encode_defunct(unsigned.message())).signature)
        return cls(
            unsigned.issuer_id,
            unsigned.entries,
            unsigned.entry_hash,
            unsigned.at,
            unsigned.signer,
            signature,
        )

    def signature_ok(self) -> bool:
        """Whether the signature is by ``signer`` over this statement."""
        try:
            return recover_signer(self.message(), self.signature) == self.signer
        except SignatureError:
            return False

    def key(self) -> tuple[int, str, bytes]:
        return self.entries, self.entry_hash, self.signature

    def to_json(self) -> dict[str, object]:
        return {
            "issuer_id": self.issuer_id,
            "entries": self.entries,
            "entry_hash": self.entry_hash,
            "at": self.at.astimezone(UTC).isoformat(),
            "signer": self.signer,
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, raw: object) -> Checkpoint:
        """Parse ``to_json`` output; raises ``ValueError`` on anything else."""
        if not isinstance(raw, dict):
            raise ValueError("a checkpoint is a JSON object")
        try:
            at = datetime.fromisoformat(str(raw["at"]))
            return cls(
                issuer_id=str(raw["issuer_id"]),
                entries=int(raw["entries"]),
                entry_hash=str(raw["entry_hash"]),
                at=at if at.tzinfo else at.replace(tzinfo=UTC),
                signer=str(raw["signer"]),
                signature=bytes.fromhex(str(raw["signature"]).removeprefix("0x")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a checkpoint: {exc}") from exc


class CheckpointFile:
    """Checkpoints as JSON lines in a file (mode 600) that only ever grows. Kept outside the
    database so that someone who can rewrite the database cannot also remove the evidence."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"CheckpointFile({str(self.path)!r})"

    def append(self, checkpoint: Checkpoint) -> None:
        line = json.dumps(checkpoint.to_json(), sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise CheckpointFileError(f"cannot append to {self.path}: {exc.strerror}") from exc

    def read(self) -> tuple[list[Checkpoint], list[int]]:
        """``(checkpoints, numbers of the lines that are not checkpoints)``; a missing file is
        empty."""
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return [], []
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointFileError(f"cannot read {self.path}: {exc}") from exc
        found: list[Checkpoint] = []
        bad: list[int] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if len(line) > _MAX_LINE:
                bad.append(number)
                continue
            try:
                found.append(Checkpoint.from_json(json.loads(line)))
            except ValueError:
                bad.append(number)
        return found, bad
