"""Signals inside the verifier (never part of a verification's answer)."""

from __future__ import annotations

__all__ = ["ReportUnavailable", "WouldBlock"]


class WouldBlock(Exception):
    """A ``local_only`` verification needed the network (a proof not cached yet, an anchor not in
    the index yet): the caller runs it again where blocking is allowed."""


class ReportUnavailable(Exception):
    """No verification report can be made here (no report seal is configured)."""
