"""Signals inside the verifier (never part of a verification's answer)."""

from __future__ import annotations

__all__ = ["WouldBlock"]


class WouldBlock(Exception):
    """A ``local_only`` verification needed the network (a proof not cached yet, an anchor not in
    the index yet): the caller runs it again where blocking is allowed."""
