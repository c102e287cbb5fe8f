"""The catalogue's error type, apart so that every catalogue module can raise it."""

from __future__ import annotations

from musicapp.core import InvalidInput


class CatalogError(InvalidInput):
    """The catalogue file or its audio cannot be used; the message names the file and why."""
