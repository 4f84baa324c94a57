"""Exceptions inside the verifier: checks turn them into check results (or repeat the run, for
``WouldBlock``); none ever reaches an answer."""

from __future__ import annotations

__all__ = [
    "AnchorUnconfirmed",
    "DocumentMalformed",
    "InputRefused",
    "ReportUnavailable",
    "WouldBlock",
]


class AnchorUnconfirmed(Exception):
    """The anchor is on the node's chain, in a block fewer than ``confirmations`` deep: a
    reorganisation may still drop it, so it is neither VALID nor missing yet (ERROR
    ``ANCHOR_UNCONFIRMED``)."""


class WouldBlock(Exception):
    """A ``local_only`` verification needed the network (a proof not cached yet, an anchor not in
    the index yet): the caller runs it again where blocking is allowed."""


class ReportUnavailable(Exception):
    """No verification report can be made here (no report seal is configured)."""


class InputRefused(ValueError):
    """The input is outside the verifier's limits (``verifier.limits``): a page too large, too
    many pages, too many pixels. For a document this is evidence that it is not one of ours."""


class DocumentMalformed(ValueError):
    """A part of the document we must read (the claims attachment) is there but unreadable:
    undecodable, too large, not JSON, nested too deep. Evidence: INVALID ``DOCUMENT_MALFORMED``."""
