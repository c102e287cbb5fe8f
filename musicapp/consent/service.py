"""Checks a request against the consent records held in the local catalogue, and their age.

The catalogue's consent table is a cache of the rights server's registry. When a server is set,
commercial use fails closed if that cache was last brought up to date (a feed pull that reached
the end) longer ago than the TTL, or never: a revocation the app has not heard of must not be
able to clear a commercial release. Private and non-commercial use are decided on the cache as
it is. With no server set (local-only mode, the demo), the freshness rule does not apply: the
local catalogue *is* the registry, and the app stays fully usable offline.

Every check reports what it relied on (``Freshness``: cache age, TTL, server) beside the
per-decision consent versions, so the ledger can record both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from musicapp.core import GenerationRequest, Use, Verification, verify

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.sync.state import SyncState


@dataclass(frozen=True)
class Freshness:
    """How fresh the consent cache was when a request was decided."""

    local_only: bool  # no server set: the freshness rule does not apply
    server_url: str
    ttl_s: float
    last_pull_at: datetime | None
    cache_age_s: float | None  # None: never pulled from the server (unknown)
    clock_offset_s: float | None = None  # server time minus local, when decided in server time

    @property
    def stale(self) -> bool:
        """True when commercial use must be refused for the cache's age."""
        if self.local_only:
            return False
        return self.cache_age_s is None or self.cache_age_s > self.ttl_s

    def reason(self) -> str:
        """Why commercial use is refused for the cache's age (only meaningful when stale)."""
        ttl = _duration(self.ttl_s)
        if self.cache_age_s is None:
            return (
                f"Consent has never been synced from the rights server {self.server_url}: "
                f"commercial use needs consent synced within the last {ttl} (fails closed); "
                f"use Sync now"
            )
        return (
            f"The consent cache is {_duration(self.cache_age_s)} old, older than the {ttl} "
            f"allowed for commercial use (fails closed); use Sync now"
        )

    def to_dict(self) -> dict[str, Any]:
        """The form recorded in the verification event."""
        return {
            "local_only": self.local_only,
            "server_url": self.server_url,
            "ttl_s": self.ttl_s,
            "last_pull_at": self.last_pull_at.isoformat() if self.last_pull_at else None,
            "cache_age_s": None if self.cache_age_s is None else round(self.cache_age_s, 3),
            "clock_offset_s": self.clock_offset_s,
        }


@dataclass(frozen=True)
class ConsentCheck:
    """A verification together with the cache freshness it relied on."""

    verification: Verification
    freshness: Freshness


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def apply_freshness(verification: Verification, freshness: Freshness) -> Verification:
    """Refuse every reference of a commercial request when the cache is stale (pure)."""
    if verification.use is not Use.COMMERCIAL or not freshness.stale:
        return verification
    reason = freshness.reason()
    decisions = tuple(
        replace(d, allowed=False, reasons=(*(d.reasons if not d.allowed else ()), reason))
        for d in verification.decisions
    )
    return replace(verification, decisions=decisions)


class ConsentService:
    """Looks up the songs and consent versions a request needs and applies the policy.

    Without ``settings`` it works as before issue 3 (local-only: no freshness rule). With them,
    it reads the server URL, TTL and last feed pull from the sync state in the data folder.
    """

    def __init__(
        self,
        catalog: CatalogStore,
        settings: Settings | None = None,
        state: SyncState | None = None,
    ) -> None:
        self._catalog = catalog
        self._settings = settings
        self._state = state

    def _sync_state(self) -> SyncState | None:
        if self._state is None and self._settings is not None:
            from musicapp.sync.state import SyncState

            self._state = SyncState.in_folder(self._settings.data_dir)
        return self._state

    def _clock_offset(self) -> float | None:
        """Server minus local seconds when a server is set and the offset is known: consent is
        then decided in the server's time, the time its records are stamped in."""
        from musicapp.sync.state import effective_server_url

        state = self._sync_state()
        if state is None or not self._settings or not effective_server_url(self._settings, state):
            return None
        return state.clock_offset_s

    def freshness(self, at: datetime | None = None) -> Freshness:
        """The cache's freshness now (or at `at`)."""
        from musicapp.sync.state import effective_server_url, effective_ttl_s

        at = at or datetime.now(UTC)
        state = self._sync_state()
        url = effective_server_url(self._settings, state) if self._settings else ""
        ttl = effective_ttl_s(self._settings, state) if self._settings else 24 * 3600.0
        last = state.last_pull_at if (state is not None and url) else None
        age = None if last is None else max(0.0, (at - last).total_seconds())
        return Freshness(not url, url, ttl, last, age)

    def check_detailed(
        self, request: GenerationRequest, at: datetime | None = None
    ) -> ConsentCheck:
        """Decide every reference at time `at` (now by default), with the freshness relied on."""
        offset = self._clock_offset() if at is None else None
        local = at or datetime.now(UTC)  # the cache's age counts in this machine's time
        at = local + timedelta(seconds=offset or 0.0)  # the records' times are the server's
        ids = sorted({r.song_id for r in request.references})
        songs = self._catalog.songs(ids)
        records = self._catalog.consent_records(ids)
        freshness = replace(self.freshness(local), clock_offset_s=offset)
        verification = verify(request.references, request.use, songs, records, at)
        return ConsentCheck(apply_freshness(verification, freshness), freshness)

    def check(self, request: GenerationRequest, at: datetime | None = None) -> Verification:
        """Decide every reference of the request at time `at` (now by default)."""
        return self.check_detailed(request, at).verification
