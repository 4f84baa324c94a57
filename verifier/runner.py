"""The check runner: a plan (the checks for one input kind, in order, each naming the checks it
needs) run through one guard, so that every report of an input kind carries the same check
names whatever happened.

- A check whose prerequisite did not pass is SKIPPED, naming the prerequisite.
- ``NodeUnavailable`` becomes ERROR ``CHAIN_UNAVAILABLE`` (or ``NODES_DISAGREE``),
  ``ProofUnavailable`` ERROR ``PROOF_UNAVAILABLE``, ``AnchorUnconfirmed`` ERROR
  ``ANCHOR_UNCONFIRMED``.
- Any other exception becomes ERROR ``UNEXPECTED``: logged once per check and kind of error,
  without the message (which may quote the certificate), never INVALID.
- ``WouldBlock`` passes through: a ``local_only`` run is then repeated where blocking is allowed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ledger.errors import NodeUnavailable
from verifier.context import Context
from verifier.describe import describe
from verifier.errors import AnchorUnconfirmed, WouldBlock
from verifier.evidence import Evidence
from verifier.names import CheckName
from verifier.proofs import ProofUnavailable
from verifier.reasons import ReasonCode
from verifier.result import Check, Status, VerificationReport
from verifier.unavailable import registry_unavailable
from verifier.views import InputKind

__all__ = ["CheckFn", "Found", "Plan", "Step", "run"]

log = logging.getLogger("ecert.verifier")


@dataclass(frozen=True, slots=True)
class Found:
    """A check's result together with what it learnt (new evidence for later checks)."""

    check: Check
    evidence: Evidence


CheckFn = Callable[[Evidence, Context], Check | Found]


@dataclass(frozen=True, slots=True)
class Step:
    name: CheckName
    run: CheckFn
    needs: tuple[CheckName, ...] = ()
    """Checks that must be VALID for this one to run (earlier in the plan)."""


@dataclass(frozen=True, slots=True)
class Plan:
    kind: InputKind
    steps: tuple[Step, ...]
    """In the order they run (a check's prerequisites run before it)."""
    order: tuple[CheckName, ...] = ()
    """The order the report lists them in, if not the order they run in (the seal is judged
    after the anchor is known, yet listed first)."""

    def __post_init__(self) -> None:
        seen: set[CheckName] = set()
        for step in self.steps:
            missing = set(step.needs) - seen
            if missing:
                raise ValueError(f"{step.name} needs {sorted(missing)} earlier in the plan")
            if step.name in seen:
                raise ValueError(f"{step.name} twice in the {self.kind} plan")
            seen.add(step.name)
        if self.order and sorted(self.order) != sorted(seen):
            raise ValueError(f"the {self.kind} plan's report order is not its checks")
        if not self.order:
            object.__setattr__(self, "order", tuple(step.name for step in self.steps))

    @property
    def names(self) -> tuple[CheckName, ...]:
        """The checks of every report of this kind, in report order."""
        return self.order


_logged: set[tuple[CheckName, str]] = set()
_logged_lock = threading.Lock()


def _unexpected(name: CheckName, exc: Exception) -> Check:
    kind = type(exc).__name__
    with _logged_lock:
        first = (name, kind) not in _logged
        _logged.add((name, kind))
    if first:
        log.warning("check %s could not run: %s (reported as UNEXPECTED)", name.value, kind)
    log.debug("check %s could not run", name.value, exc_info=exc)
    return Check(name, Status.ERROR, ReasonCode.UNEXPECTED, detail=kind)


def _guarded(step: Step, evidence: Evidence, ctx: Context) -> Check | Found:
    try:
        return step.run(evidence, ctx)
    except WouldBlock:
        raise
    except NodeUnavailable as exc:
        return registry_unavailable(step.name, ctx.registry, str(exc))
    except ProofUnavailable as exc:
        return Check(step.name, Status.ERROR, ReasonCode.PROOF_UNAVAILABLE, detail=str(exc))
    except AnchorUnconfirmed as exc:
        return Check(step.name, Status.ERROR, ReasonCode.ANCHOR_UNCONFIRMED, detail=str(exc))
    except Exception as exc:
        return _unexpected(step.name, exc)


def _skipped(name: CheckName, needed: Check) -> Check:
    return Check(
        name,
        Status.SKIPPED,
        ReasonCode.PREREQUISITE_FAILED,
        detail=f"needs {needed.name.value} ({needed.status.value})",
        data={"needs": needed.name.value},
    )


def run(plan: Plan, evidence: Evidence, ctx: Context) -> VerificationReport:
    """Every step of ``plan`` in order; the report carries exactly ``plan.names``."""
    done: dict[CheckName, Check] = {}
    for step in plan.steps:
        blocked = None
        for needed in step.needs:
            if done[needed].status is not Status.VALID:
                blocked = done[needed]
                break
        if blocked is not None:
            check = _skipped(step.name, blocked)
        else:
            outcome = _guarded(step, evidence, ctx)
            if type(outcome) is Found:
                check, evidence = outcome.check, outcome.evidence
            else:
                check = outcome  # type: ignore[assignment]
            if check.name is not step.name:  # a check must answer for itself
                check = _unexpected(step.name, ValueError(f"answered as {check.name}"))
        done[step.name] = check
    try:
        certificate = describe(evidence, ctx)
    except WouldBlock:
        raise
    except Exception as exc:
        log.warning("describing the certificate failed: %s", type(exc).__name__)
        certificate = describe(Evidence(), ctx)
    return VerificationReport(
        tuple(done[name] for name in plan.order),
        plan.kind,
        certificate,
        ctx.registry.freshness(),
        ctx.region,
    )
