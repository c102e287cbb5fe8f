"""The catalogue of reference songs: the SQLite store and the demo catalogue built on first run."""

from musicapp.catalog.demo import BuildDemoCatalog, build_demo
from musicapp.catalog.store import CatalogError, CatalogStore, TreeNode

__all__ = ["BuildDemoCatalog", "CatalogError", "CatalogStore", "TreeNode", "build_demo"]
