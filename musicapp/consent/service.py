"""Checks a request against the consent records held in the local catalogue, and their age.

The catalogue's consent table is a cache of the rights server's registry. Freshness belongs to
the server the data folder is bound to, not to a setting: once a server's key is pinned (or its
consent is in force in the catalogue, or a server is set), commercial use fails closed if that
cache was last brought up to date (a feed pull that reached the end) longer ago than the TTL
(never more than 24 h, ``config.MAX_CONSENT_TTL_S``), never, or at a time in this computer's
future (a clock turned back, an edited state): a revocation the app has not heard of must not
be able to clear a commercial release. Private and non-commercial use are decided on the cache
as it is. Only a folder that never had a server (local-only mode, the demo) is exempt: the
local catalogue *is* the registry, and the app stays fully usable offline.

A song whose server consent record could not be read (quarantined by the sync, see
``sync/feed.py``) is refused for every use until the server publishes a later version.

Every check reports what it relied on (``Freshness``: server, TTL, last pull, cache age,
staleness) beside the per-decision consent versions, so the ledger can record both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from musicapp.config import MAX_CONSENT_TTL_S
from musicapp.core import GenerationRequest, Use, Verification, verify

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.sync.state import Quarantined

# A last pull this far in this computer's future is still taken for clock jitter; further, the
# clock was turned back (or the state edited) and the cache's age is unknown.
MAX_CLOCK_SKEW_S = 300.0


@dataclass(frozen=True)
class Freshness:
    """How fresh the consent cache was when a request was decided."""

    local_only: bool  # no server was ever bound: the freshness rule does not apply
    server_url: str  # the server the consent in force came from
    ttl_s: float
    last_pull_at: datetime | None
    cache_age_s: float | None  # None: never pulled from the server (unknown); < 0: future
    clock_offset_s: float | None = None  # server time minus local, when decided in server time

    @property
    def in_future(self) -> bool:
        """The last pull is recorded further in the future than clock jitter explains."""
        return self.cache_age_s is not None and self.cache_age_s < -MAX_CLOCK_SKEW_S

    @property
    def stale(self) -> bool:
        """True when commercial use must be refused for the cache's age."""
        if self.local_only:
            return False
        return self.cache_age_s is None or self.in_future or self.cache_age_s > self.ttl_s

    def reason(self) -> str:
        """Why commercial use is refused for the cache's age (only meaningful when stale)."""
        ttl = _duration(self.ttl_s)
        if self.cache_age_s is None:
            return (
                f"Consent has never been synced from the rights server {self.server_url}: "
                f"commercial use needs consent synced within the last {ttl} (fails closed); "
                f"use Sync now"
            )
        if self.in_future:
            return (
                f"The last consent sync is recorded {_duration(-self.cache_age_s)} in this "
                f"computer's future (its clock was turned back, or the sync state was changed), "
                f"so the cache's age is unknown: commercial use needs consent synced within the "
                f"last {ttl} (fails closed); use Sync now"
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
            "stale": self.stale,
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


def apply_blocks(verification: Verification, blocks: dict[str, list[str]]) -> Verification:
    """Refuse every reference to a song in ``blocks`` (song id -> reasons), whatever the use."""
    if not blocks:
        return verification
    decisions = tuple(
        replace(
            d,
            allowed=False,
            reasons=(*(d.reasons if not d.allowed else ()), *blocks[d.reference.song_id]),
        )
        if d.reference.song_id in blocks
        else d
        for d in verification.decisions
    )
    return replace(verification, decisions=decisions)


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


class ConsentFacts(Protocol):
    """What the consent check needs to know from the sync: which server, which TTL, when the
    cache was last pulled to the end, the server's clock offset, and the quarantined records.

    ``sync.state.SyncState`` is one; the app passes the one its context owns, so the check and
    the sync engine read and write the same state (there is one ``sync.sqlite`` connection).
    """

    @property
    def pinned_server(self) -> str | None: ...

    @property
    def last_pull_at(self) -> datetime | None: ...

    @property
    def clock_offset_s(self) -> float | None: ...

    def get(self, key: str, default: str | None = None) -> str | None: ...

    def quarantined(self, blocking_only: bool = False) -> list[Quarantined]: ...


@dataclass(frozen=True)
class ConsentSource:
    """Whose records decided a song's consent: the server's (by holder name) and this
    computer's (the others); ``server`` is "" in local-only mode."""

    server: str
    from_server: tuple[str, ...]
    local: tuple[str, ...]

    @property
    def unknown_to_server(self) -> bool:
        """A server is bound but published nothing for some holder of the song."""
        return bool(self.server) and bool(self.local)

    def words(self) -> str:
        """ "Consent from the rights server rights.example.org" and the like."""
        host = self.server.split("://", 1)[-1].rstrip("/")
        if not self.server:
            return "Consent from this computer's records (no rights server set)"
        if not self.local:
            return f"Consent from the rights server {host}"
        if not self.from_server:
            return (
                f"Consent from this computer's records: the rights server {host} has no "
                "record for this song"
            )
        return (
            f"Consent from the rights server {host} for {', '.join(self.from_server)}; from "
            f"this computer's records for {', '.join(self.local)} (the server has none)"
        )


class ConsentService:
    """Looks up the songs and consent versions a request needs and applies the policy.

    Without ``settings`` it works as before issue 3 (local-only: no freshness rule). With them,
    it takes the server URL and TTL from them and from ``facts`` (the sync state the app's
    context owns), and the last feed pull from ``facts``. It opens no file itself: without
    ``facts`` it knows of no pull, so a folder with a server set is never fresh (fails closed).
    """

    def __init__(
        self,
        catalog: CatalogStore,
        settings: Settings | None = None,
        facts: ConsentFacts | None = None,
    ) -> None:
        self._catalog = catalog
        self._settings = settings
        self._facts = facts

    def _sync_state(self) -> ConsentFacts | None:
        return self._facts

    def _server(self, state: ConsentFacts | None) -> str:
        """The server whose consent this folder relies on: the pinned one, else the one set,
        else the registry whose records are in force in the catalogue; "" when none ever was."""
        from musicapp.sync.state import effective_server_url

        pinned = state.pinned_server if state is not None else None
        url = effective_server_url(self._settings, state) if self._settings else ""
        return pinned or url or self._catalog.consent.registry_server or ""

    def _clock_offset(self, state: ConsentFacts | None, server: str) -> float | None:
        """Server minus local seconds when a server is bound and the offset is known: consent
        is then decided in the server's time, the time its records are stamped in."""
        if state is None or not server:
            return None
        return state.clock_offset_s

    def freshness(self, at: datetime | None = None) -> Freshness:
        """The cache's freshness now (or at `at`)."""
        from musicapp.sync.state import effective_ttl_s

        at = at or datetime.now(UTC)
        state = self._sync_state()
        server = self._server(state)
        ttl = effective_ttl_s(self._settings, state) if self._settings else MAX_CONSENT_TTL_S
        last = state.last_pull_at if (state is not None and server) else None
        age = None if last is None else (at - last).total_seconds()
        return Freshness(not server, server, ttl, last, age)

    def sources(self, song_ids: list[str]) -> dict[str, ConsentSource]:
        """Where each song's consent decision comes from: the rights server's published
        versions, this computer's records (the demo, a manifest, your own declaration), or
        both (per holder)."""
        server = self._server(self._sync_state())
        published = self._catalog.consent.registry_versions(song_ids) if server else {}
        songs = self._catalog.songs(list(dict.fromkeys(song_ids)))
        out = {}
        for sid, song in songs.items():
            holders = [s.holder for s in song.splits]
            remote = tuple(h.name for h in holders if (sid, h.id) in published)
            local = tuple(h.name for h in holders if (sid, h.id) not in published)
            out[sid] = ConsentSource(server, remote, local)
        return out

    def blocked(self, song_ids: list[str]) -> dict[str, list[str]]:
        """Songs refused because a consent record the server published for them could not be
        read here (song id -> reasons); lifted by a later version the catalogue holds."""
        state = self._sync_state()
        if state is None:
            return {}
        wanted = set(song_ids)
        held = [q for q in state.quarantined(blocking_only=True) if q.song_id in wanted]
        if not held:
            return {}
        newer = self._catalog.consent.registry_versions(
            sorted({q.song_id for q in held if q.song_id})
        )
        out: dict[str, list[str]] = {}
        for q in held:
            assert q.song_id is not None and q.holder_id is not None
            if newer.get((q.song_id, q.holder_id), 0) > (q.version or 0):
                continue
            out.setdefault(q.song_id, []).append(
                f"The rights server's consent version {q.version} from {q.holder_id} (feed seq "
                f"{q.feed_seq}) could not be read here ({q.reason[:160]}); refused until the "
                f"server publishes a later version"
            )
        return out

    def check_detailed(
        self, request: GenerationRequest, at: datetime | None = None
    ) -> ConsentCheck:
        """Decide every reference at time `at` (now by default), with the freshness relied on."""
        state = self._sync_state()
        offset = self._clock_offset(state, self._server(state)) if at is None else None
        local = at or datetime.now(UTC)  # the cache's age counts in this machine's time
        at = _shifted(local, offset)  # the records' times are the server's
        ids = sorted({r.song_id for r in request.references})
        songs = self._catalog.songs(ids)
        records = self._catalog.consent.consent_records(ids)
        freshness = replace(self.freshness(local), clock_offset_s=offset)
        verification = verify(request.references, request.use, songs, records, at)
        verification = apply_blocks(verification, self.blocked(ids))
        return ConsentCheck(apply_freshness(verification, freshness), freshness)

    def check(self, request: GenerationRequest, at: datetime | None = None) -> Verification:
        """Decide every reference of the request at time `at` (now by default)."""
        return self.check_detailed(request, at).verification


def _shifted(local: datetime, offset: float | None) -> datetime:
    """``local`` moved by the server's clock offset; as it is where that leaves the calendar."""
    try:
        return local + timedelta(seconds=offset or 0.0)
    except OverflowError:
        return local
