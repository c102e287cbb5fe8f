"""The catalogue of reference songs: the SQLite store and the demo catalogue built on first run."""

from typing import Any

from musicapp.optional_deps import hidden

with hidden("pandas"):  # sqlite-utils' DataFrame support, which we never use (optional_deps.py)
    import sqlite_utils  # noqa: F401

from musicapp.catalog.store import CatalogError, CatalogStore, TreeNode  # noqa: E402

__all__ = ["BuildDemoCatalog", "CatalogError", "CatalogStore", "TreeNode", "build_demo"]


def __getattr__(name: str) -> Any:
    # The demo builder pulls in music21 and the synthesiser (half a second): only on demand,
    # so opening the window on an existing catalogue does not pay for it.
    if name in ("BuildDemoCatalog", "build_demo"):
        from musicapp.catalog import demo

        return getattr(demo, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
