"""The consent feed on the client: check each page's signature, then apply each record on its own.

A page is applied only once its signature by the pinned server key checks out over this
request's nonce and cursor (``transparency/feedsig.py``): nothing from a forged, altered or
replayed page reaches the catalogue, and the sync stops there. Within a signed page, every
record is applied or quarantined by itself: one the client cannot read (a time no calendar
here holds, an unknown permission, a kind this version does not know) is kept in the sync
state's quarantine with the reason, logged and counted, and the cursor moves past it, so no
record can stop the feed for the records after it. A consent record that cannot be read but
names its song and holder *blocks* that song (``consent.service``) until the server publishes
a later version: the client does not know that holder's consent, so it does not guess.
Only trouble with the machine itself (a locked or damaged catalogue, a full disk) stops the
sync, with the cursor before the page, so the page is read again next time.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeGuard

from musicapp.core import InvalidInput, Use
from musicapp.core.consent import ConsentRecord, Permission, check_prices
from musicapp.core.times import excerpt, utc_time
from musicapp.jobs import Cancelled
from musicapp.ledger.canonical import CanonicalError
from musicapp.sync.errors import SyncError
from musicapp.sync.state import Quarantined, SyncState
from musicapp.transparency import feedsig, signing

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore

log = logging.getLogger(__name__)

# sqlite3 errors that belong to one record's data rather than to the machine.
_RECORD_DB_ERRORS = (sqlite3.IntegrityError, sqlite3.DataError)


class FeedRecordError(ValueError):
    """One feed record that cannot be applied; the message says what is wrong with it."""


@dataclass(frozen=True)
class FeedPage:
    """A feed page whose signature checked out."""

    changes: list[Any]
    since: int
    next: int
    more: bool
    as_of: datetime  # the server's time when it read the page (UTC)


def _int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def verify_page(
    body: Any, *, since: int, nonce: str, verifier: signing.Verifier, server: str
) -> FeedPage:
    """The page if the pinned key signed it for this request; SyncError otherwise."""
    where = f"the feed page after seq {since} from {server}"
    if not isinstance(body, dict):
        raise SyncError(f"{where} is not a JSON object: nothing from it was applied")
    changes, next_, more = body.get("changes"), body.get("next"), body.get("more")
    as_of, signature = body.get("as_of"), body.get("signature")
    if not (
        isinstance(changes, list)
        and _int(next_)
        and isinstance(more, bool)
        and isinstance(as_of, str)
        and isinstance(signature, str)
    ):
        raise SyncError(
            f"{where} is unsigned or incomplete (changes, next, more, as_of, signature): "
            f"nothing from it was applied. A server older than the signed feed cannot be "
            f"trusted for consent; update it"
        )
    if (body.get("since"), body.get("nonce")) != (since, nonce):
        raise SyncError(f"{where} answers another request (a replayed page): nothing applied")
    try:
        message = feedsig.page_message(
            nonce=nonce, since=since, next_=next_, more=more, as_of=as_of, changes=changes
        )
    except CanonicalError as exc:
        raise SyncError(f"{where} holds values no signature can cover ({exc})") from None
    if not verifier(message, signature):
        raise SyncError(
            f"{where} is not signed by the server's pinned key: it was forged or changed on "
            f"the way, and nothing from it was applied"
        )
    if next_ < since or (more and next_ == since):
        raise SyncError(f"{where} does not move the cursor on (next {next_}): nothing applied")
    try:
        when = utc_time(as_of, "as_of")
    except InvalidInput as exc:
        raise SyncError(f"{where}: {exc}") from None
    return FeedPage(changes, since, next_, more, when)


def consent_from_feed(data: Any) -> ConsentRecord:
    """A feed's consent dict (codec form + prices, recorded_at) as a ConsentRecord, its times
    in UTC and within the years core.times allows; FeedRecordError says what is wrong."""
    if not isinstance(data, dict):
        raise FeedRecordError("the consent record is not a JSON object")
    try:
        version = data["version"]
        if not _int(version) or version < 1:
            raise FeedRecordError(f"version: {excerpt(version)} is not a version number")
        revoked = data.get("revoked_at")
        return ConsentRecord(
            song_id=_text(data["song_id"], "song_id"),
            holder_id=_text(data["holder_id"], "holder_id"),
            version=version,
            permissions=frozenset(Permission(p) for p in _list(data["permissions"])),
            uses=frozenset(Use(u) for u in _list(data["uses"])),
            effective_from=utc_time(data["effective_from"], "effective_from"),
            revoked_at=utc_time(revoked, "revoked_at") if revoked is not None else None,
        )
    except KeyError as exc:
        raise FeedRecordError(f"{exc.args[0]}: missing") from None
    except (InvalidInput, TypeError, ValueError) as exc:
        raise FeedRecordError(str(exc)) from None


def prices_from_feed(data: Any) -> dict[str, float] | None:
    """The prices published with a feed's consent version (None: published without any);
    FeedRecordError names the tier that is not a use tier or not a price."""
    prices = data.get("prices") if isinstance(data, dict) else None
    if prices is None:
        return None
    try:
        return check_prices(prices)
    except InvalidInput as exc:
        raise FeedRecordError(str(exc)) from None


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise FeedRecordError(f"{field}: {excerpt(value)} is not an id")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise FeedRecordError(f"{excerpt(value)} is not a list")
    return value


def _identity(change: Any) -> Quarantined:
    """What a record says it is, as far as that can be read (for the quarantine)."""
    seq = change.get("seq") if isinstance(change, dict) else None
    kind = change.get("kind") if isinstance(change, dict) else None
    data = change.get("data") if isinstance(change, dict) else None
    data = data if isinstance(data, dict) else {}
    song, holder, version = data.get("song_id"), data.get("holder_id"), data.get("version")
    version = version if _int(version) and abs(version) < 2**63 else None
    named = isinstance(song, str) and isinstance(holder, str) and version is not None
    return Quarantined(
        feed_seq=seq if _int(seq) and abs(seq) < 2**63 else None,
        kind=kind if isinstance(kind, str) else "?",
        song_id=song if named else None,
        holder_id=holder if named else None,
        version=version if named else None,
        blocks=False,
        reason="",
    )


class FeedApplier:
    """Applies feed records to the catalogue (registry consent) and the sync state."""

    def __init__(self, catalog: CatalogStore, state: SyncState, registry: str) -> None:
        self.catalog = catalog
        self.state = state
        self.registry = registry
        self.quarantined = 0  # records newly quarantined by this applier

    def apply_page(self, page: FeedPage) -> int:
        """Apply or quarantine every change of a checked page; returns how many were applied."""
        applied = 0
        for change in page.changes:
            ok, done = self._guarded(change, partial(self._apply, change, page))
            applied += int(ok and done)
        return applied

    def apply_deferred(self) -> int:
        """Consent waiting for its song: applied once the song is in the catalogue."""
        applied = 0
        for data in self.state.backlog.deferred_consent():
            change = {"seq": None, "kind": "consent", "data": data}
            ok, in_catalogue = self._guarded(change, partial(self._apply_consent, data, change))
            if ok and not in_catalogue:
                continue  # still waiting for its song
            applied += int(ok)
            self.state.backlog.drop_deferred(
                data["song_id"], data["holder_id"], int(data["version"])
            )
        return applied

    def _guarded(self, change: Any, work: Callable[[], bool]) -> tuple[bool, bool]:
        """(True, what ``work`` returned), or (False, False) when a problem with the record
        itself had it quarantined."""
        try:
            return True, work()
        except (Cancelled, MemoryError):
            raise
        except sqlite3.DatabaseError as exc:
            if not isinstance(exc, _RECORD_DB_ERRORS):
                raise  # the catalogue itself (locked, damaged, disk full): try again later
            reason = f"{type(exc).__name__}: {exc}"
        except FeedRecordError as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - no record may stop the feed
            reason = f"{type(exc).__name__}: {exc}"
        self._quarantine(change, reason, blocks=True)
        return False, False

    def _quarantine(self, change: Any, reason: str, *, blocks: bool) -> None:
        item = _identity(change)
        blocks = blocks and item.kind == "consent" and item.song_id is not None
        kept = replace(item, blocks=blocks, reason=reason[:500])
        if self.state.quarantine(change, kept):
            self.quarantined += 1
            what = f"{item.kind} {item.song_id}/{item.holder_id} v{item.version}"
            # Escaped: a record's text may hold what no log file or terminal can take.
            line = f"sync: feed record seq {item.feed_seq} ({what}) quarantined: {reason}"
            log.warning("%s", line.encode("utf-8", "backslashreplace").decode("utf-8"))

    def _apply(self, change: Any, page: FeedPage) -> bool:
        """True when the change is applied (or kept for later); False when quarantined."""
        if not isinstance(change, dict):
            raise FeedRecordError(f"the change {excerpt(change)} is not a JSON object")
        seq = change.get("seq")
        if not _int(seq) or not page.since < seq <= page.next:
            raise FeedRecordError(f"seq: {excerpt(seq)} is not in ({page.since}, {page.next}]")
        kind, data = change.get("kind"), change.get("data")
        if kind == "consent":
            self._apply_consent(data, change)
            return True
        if kind == "song":
            # Songs arrive without audio, and the catalogue only holds songs with stems, so a
            # song new to this machine is remembered; its consent waits until it is imported.
            if not isinstance(data, dict):
                raise FeedRecordError("the song is not a JSON object")
            song_id = _text(data.get("id"), "id")
            if self.catalog.song(song_id) is None:
                self.state.backlog.remember_song(data)
            return True
        self._quarantine(change, f"kind: {excerpt(kind)} is not known here", blocks=False)
        return False

    def _apply_consent(self, data: Any, change: dict[str, Any]) -> bool:
        """Record one consent version as the server published it; True once it is in the
        catalogue (or already was, or is quarantined), False while it waits for its song."""
        record = consent_from_feed(data)
        prices = prices_from_feed(data)
        song = self.catalog.song(record.song_id)
        if song is None:
            self.state.backlog.defer_consent(data)
            return False
        if record.holder_id not in {h.id for h in song.holders}:
            self._quarantine(
                change, f"{record.holder_id} is not a rights holder of the local song", blocks=False
            )
            return True
        try:
            self.catalog.consent.add_registry_consent(self.registry, record, prices)
        except InvalidInput as exc:  # a server that changed a published version: keep the first
            self._quarantine(change, str(exc), blocks=False)
        return True
