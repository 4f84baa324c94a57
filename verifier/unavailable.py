"""The answers of a check that cannot be made: no registry data fresh enough (or the nodes
disagree), or a check that does not apply to this input."""

from __future__ import annotations

from verifier.context import Context, RegistryView
from verifier.names import CheckName
from verifier.reasons import ReasonCode
from verifier.result import Check, Status

__all__ = ["not_applicable", "registry_unavailable", "unless_registry_usable"]


def registry_unavailable(name: CheckName, registry: RegistryView, detail: str = "") -> Check:
    """ERROR: the nodes disagree (``NODES_DISAGREE``) or no registry data is fresh enough, or a
    node could not be asked (``CHAIN_UNAVAILABLE``)."""
    disagreement = registry.disagreement
    if disagreement:
        return Check(name, Status.ERROR, ReasonCode.NODES_DISAGREE, detail=disagreement)
    if not detail:
        fresh = registry.freshness()
        age = "never synced" if fresh.age_seconds is None else f"data age {fresh.age_seconds} s"
        detail = f"node {fresh.node}, {age}"
    return Check(name, Status.ERROR, ReasonCode.CHAIN_UNAVAILABLE, detail=detail)


def unless_registry_usable(name: CheckName, ctx: Context) -> Check | None:
    """The ERROR to answer with when there is no registry data to answer from, else ``None``."""
    if ctx.registry.usable():
        return None
    return registry_unavailable(name, ctx.registry)


def not_applicable(name: CheckName, why: str) -> Check:
    return Check(name, Status.SKIPPED, ReasonCode.NOT_APPLICABLE, detail=why)
