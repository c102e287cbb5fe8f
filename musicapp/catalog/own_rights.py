"""The user's own music: songs imported without a rights holder, and declaring the user their
holder (the rights wizard, ``musicapp rights claim``), so their own songs are usable at once.

A song imported from a folder without a manifest has no holder (only the importer's placeholder,
``UNREGISTERED``), so nobody can consent and
every use of it is refused, even private use of the user's own recording. Declaring makes the
user its one holder (100 %) and gives their consent, version 1, for every level and the uses
they choose (private always). It goes through the same path as a manifest's rights
(``import_rights``): a ``catalog_rights`` ledger event first, then a new split version and
consent versions, never an edit. Only a song with no holder can be declared: a song whose
rights someone holds is changed by its holders' manifest or on the rights server, not here.

The declaration is local: the rights server's registry does not learn it from this (its admin
registers holders there); the consent panel says where each decision came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from musicapp.catalog.import_rights import Recorder as Recorder
from musicapp.catalog.import_rights import RightsChange, apply_change
from musicapp.catalog.importer import UNREGISTERED
from musicapp.catalog.manifest import Entry, Grant
from musicapp.catalog.store import CatalogStore
from musicapp.core import ConsentRecord, InvalidInput, Permission, RightsHolder, Song, Split, Use

KINDS = ("composer", "performer", "publisher", "label")
MAX_NAME = 120
WHERE = "declared in musicapp by the user (rights wizard)"


@dataclass(frozen=True)
class Declaration:
    """Who the user is as a rights holder, and the uses they allow of their own songs."""

    name: str
    kind: str = "composer"
    uses: frozenset[Use] = frozenset({Use.PRIVATE})

    def holder(self) -> RightsHolder:
        return RightsHolder(holder_id(self.name), self.name, self.kind)

    def check(self) -> None:
        if not self.name.strip():
            raise InvalidInput("your name as rights holder: it is empty")
        if len(self.name) > MAX_NAME:
            raise InvalidInput(f"your name as rights holder: at most {MAX_NAME} characters")
        if self.kind not in KINDS:
            raise InvalidInput(f"rights holder kind {self.kind!r}: one of {', '.join(KINDS)}")
        if Use.PRIVATE not in self.uses:
            raise InvalidInput("uses: your own songs are always allowed for private use")


def holder_id(name: str) -> str:
    """A stable id for the user as holder: "self:ann-archer"."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "me"
    return f"self:{slug[:60]}"


def is_unclaimed(song: Song) -> bool:
    """Nobody holds it: no split, or only the importer's placeholder holder."""
    return all(s.holder.id == UNREGISTERED.id for s in song.splits)


def unclaimed(store: CatalogStore) -> list[Song]:
    """Songs nobody holds (imported without a manifest), by title."""
    return sorted((s for s in store.all_songs() if is_unclaimed(s)), key=lambda s: s.title.lower())


def declare(
    store: CatalogStore,
    song_ids: list[str],
    declaration: Declaration,
    record: Recorder,
    at: datetime | None = None,
) -> list[str]:
    """Make the user the one holder of each song, with their consent; the ledger event ids.
    InvalidInput, before anything is logged, naming a song that is unknown or already held."""
    declaration.check()
    if not song_ids:
        raise InvalidInput("choose at least one song to declare")
    songs = {i: s for i in song_ids if (s := store.song(i)) is not None}
    for song_id in song_ids:
        song = songs.get(song_id)
        if song is None:
            raise InvalidInput(f"song {song_id!r}: not in the catalogue")
        if not is_unclaimed(song):
            names = ", ".join(s.holder.name for s in song.splits)
            raise InvalidInput(
                f"“{song.title}” already has rights holders ({names}); only they can change "
                "its rights (a manifest, or the rights server)"
            )
    at = at or datetime.now(UTC)
    holder = declaration.holder()
    grant = Grant(frozenset(Permission), frozenset(declaration.uses))
    events = []
    for song_id in song_ids:
        song = songs[song_id]
        splits = (Split(holder, 1.0),)
        entry = Entry(WHERE, None, {}, splits, {holder.id: grant}, song_id=song_id)
        latest = store.consent.local_consent(song_id).get(holder.id)
        version = 1 if latest is None else latest.version + 1
        consent = ConsentRecord(song_id, holder.id, version, grant.permissions, grant.uses, at)
        change = RightsChange(song_id, song.splits, splits, (consent,))
        events.append(apply_change(store, change, entry, None, record, at))
    return events
