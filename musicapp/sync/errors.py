"""The sync client's error type, shared by its modules (``engine`` re-exports it)."""

from __future__ import annotations


class SyncError(Exception):
    """A sync that could not finish; the message says why, for the status bar."""
