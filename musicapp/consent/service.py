"""Checks a request against the consent records held in the local catalogue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from musicapp.core import GenerationRequest, Verification, verify

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore


class ConsentService:
    """Looks up the songs and consent versions a request needs and applies the policy."""

    def __init__(self, catalog: CatalogStore) -> None:
        self._catalog = catalog

    def check(self, request: GenerationRequest, at: datetime | None = None) -> Verification:
        """Decide every reference of the request at time `at` (now by default)."""
        ids = sorted({r.song_id for r in request.references})
        songs = self._catalog.songs(ids)
        records = self._catalog.consent_records(ids)
        return verify(request.references, request.use, songs, records, at or datetime.now(UTC))
