"""The value and error types the front ends catch or display, from one place.

The CLI and the UI reach the catalogue, ledger, sync, stems, export and generation packages
only through the studio (``tests/unit/test_import_boundaries.py``); the types those return or
raise are re-exported here, so a front end imports them without importing the packages'
working code. Only classes belong here: a function a front end needs is a studio door.
"""

from __future__ import annotations

from musicapp.attribution.types import Agreement, AuditResult, AuditStatus, Comparison, Finding
from musicapp.catalog.browse import SongRow
from musicapp.catalog.search import SearchFilters
from musicapp.consent.service import ConsentSource
from musicapp.ledger import ChainReport, Damage, Event, LedgerDamaged, LedgerError
from musicapp.studio import Refused
from musicapp.sync.engine import SyncError, SyncResult, SyncStatus
from musicapp.sync.policy import InsecureServer
from musicapp.undeclared import UndeclaredMaterial

__all__ = [
    "Agreement",
    "AuditResult",
    "AuditStatus",
    "ChainReport",
    "Comparison",
    "ConsentSource",
    "Damage",
    "Event",
    "Finding",
    "InsecureServer",
    "LedgerDamaged",
    "LedgerError",
    "Refused",
    "SearchFilters",
    "SongRow",
    "SyncError",
    "SyncResult",
    "SyncStatus",
    "UndeclaredMaterial",
]
