"""What a manifest row changes in a song's rights, logged in the ledger before it takes effect.

A re-imported manifest may correct splits or consent of songs already in the catalogue. The
change becomes new versions (a split version, consent versions), never an edit, and is first
appended to the attribution ledger as a `catalog_rights` event naming the song, its holders,
old and new splits, the consent versions added and the manifest row it came from. New songs
imported with rights get the same event, so the ledger holds every rights fact the catalogue
acts on. A change whose commit then fails is followed by a `catalog_rights_aborted` event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from musicapp.catalog.manifest import Entry
from musicapp.catalog.rights import timestamp
from musicapp.catalog.store import CatalogStore
from musicapp.core import ConsentRecord, Song, Split

RIGHTS_EVENT = "catalog_rights"
ABORTED_EVENT = "catalog_rights_aborted"
# Appends one ledger event, (kind, payload) -> its id (Studio binds it to its Ledger).
Recorder = Callable[[str, dict[str, Any]], str]
_SAME_SHARE = 1e-9


@dataclass(frozen=True)
class RightsChange:
    """New splits (None: unchanged) and consent versions for one song."""

    song_id: str
    before: tuple[Split, ...]
    after: tuple[Split, ...] | None
    consent: tuple[ConsentRecord, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return self.after is None and not self.consent

    def describe(self) -> list[str]:
        """What changed, for people: "rights: Ann Archer 0.5 → 0.6", "consent v2 added for …"."""
        out = []
        if self.after is not None:
            out.append("rights: " + ", ".join(_split_changes(self.before, self.after)))
        for r in self.consent:
            out.append(f"consent v{r.version} added for {r.holder_id} ({_grant_text(r)})")
        return out

    def payload(self, entry: Entry, file: Path | None, new_song: bool) -> dict[str, Any]:
        splits = self.after or self.before
        return {
            "song_id": self.song_id,
            "new_song": new_song,
            "manifest": str(entry.manifest or ""),
            "row": entry.where,
            "file": str(file or ""),
            "holders": [
                {"id": s.holder.id, "name": s.holder.name, "kind": s.holder.kind} for s in splits
            ],
            "splits": None
            if self.after is None
            else {"from": _split_list(self.before), "to": _split_list(self.after)},
            "consent_added": [
                {
                    "holder_id": r.holder_id,
                    "version": r.version,
                    "permissions": sorted(p.value for p in r.permissions),
                    "uses": sorted(u.value for u in r.uses),
                    "effective_from": timestamp(r.effective_from),
                }
                for r in self.consent
            ],
            "changes": self.describe(),
        }


def new_song_rights(song: Song, entry: Entry, at: datetime) -> RightsChange:
    """The rights a new song is imported with: its splits and a version 1 per consenting holder."""
    consent = tuple(
        ConsentRecord(song.id, holder_id, 1, grant.permissions, grant.uses, at)
        for holder_id, grant in entry.grants.items()
    )
    return RightsChange(song.id, (), song.splits, consent)


def rights_change(store: CatalogStore, song: Song, entry: Entry, at: datetime) -> RightsChange:
    """What applying the row's rights to a song already in the catalogue would add.

    A row without rights holders changes nothing. Otherwise the row is the song's rights as
    they are now: other splits become a new version, and a holder's consent that differs from
    their newest local version (or that the row no longer gives) becomes a new version.
    """
    if not entry.splits:
        return RightsChange(song.id, song.splits, None)
    after = None if _same_splits(song.splits, entry.splits) else entry.splits
    local = store.consent.local_consent(song.id)
    added = []
    for split in entry.splits:
        holder = split.holder.id
        grant = entry.grants.get(holder)
        latest = local.get(holder)
        version = 1 if latest is None else latest.version + 1
        if grant is None:
            if latest is not None and latest.revoked_at is None and _grants(latest):
                added.append(ConsentRecord(song.id, holder, version, frozenset(), frozenset(), at))
            continue
        if (
            latest is None
            or latest.revoked_at is not None
            or (latest.permissions, latest.uses) != (grant.permissions, grant.uses)
        ):
            added.append(ConsentRecord(song.id, holder, version, grant.permissions, grant.uses, at))
    return RightsChange(song.id, song.splits, after, tuple(added))


def apply_change(
    store: CatalogStore,
    change: RightsChange,
    entry: Entry,
    file: Path | None,
    record: Recorder,
    at: datetime,
) -> str:
    """Log the change in the ledger, then commit it to the catalogue; return the event id."""
    event_id = record(RIGHTS_EVENT, change.payload(entry, file, new_song=False))
    try:
        store.consent.update_rights(
            change.song_id,
            change.after,
            change.consent,
            effective_from=at,
            source=entry.where,
            event_id=event_id,
        )
    except Exception as exc:
        record(ABORTED_EVENT, {"event_id": event_id, "song_id": change.song_id, "reason": str(exc)})
        raise
    return event_id


def _same_splits(a: tuple[Split, ...], b: tuple[Split, ...]) -> bool:
    if len(a) != len(b):
        return False
    shares = {s.holder: s.share for s in a}
    return all(s.holder in shares and abs(shares[s.holder] - s.share) <= _SAME_SHARE for s in b)


def _split_changes(before: tuple[Split, ...], after: tuple[Split, ...]) -> list[str]:
    old = {s.holder.id: s.share for s in before}
    new = {s.holder.id: s.share for s in after}
    out = []
    for s in after:
        if s.holder.id not in old:
            out.append(f"{s.holder.name} (new) {s.share:g}")
        elif abs(old[s.holder.id] - s.share) > _SAME_SHARE:
            out.append(f"{s.holder.name} {old[s.holder.id]:g} → {s.share:g}")
        else:
            out.append(f"{s.holder.name} {s.share:g}")
    out += [f"{s.holder.name} {s.share:g} → removed" for s in before if s.holder.id not in new]
    return out


def _split_list(splits: tuple[Split, ...]) -> list[dict[str, Any]]:
    return [{"holder_id": s.holder.id, "name": s.holder.name, "share": s.share} for s in splits]


def _grants(record: ConsentRecord) -> bool:
    return bool(record.permissions or record.uses)


def _grant_text(record: ConsentRecord) -> str:
    if not _grants(record):
        return "none"
    perms = ", ".join(sorted(p.value for p in record.permissions)) or "no levels"
    uses = ", ".join(sorted(u.value for u in record.uses)) or "no uses"
    return f"{perms}; {uses}"
