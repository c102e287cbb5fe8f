"""The studio's door to the takes made so far (Take history): list them newest first, name one,
delete one, and the gains that play two at the same loudness for an A/B comparison.

Each take is its ``generation`` ledger event; the list is read from the ledger, so a take made
from the command line is there too. A name is the user's note, kept beside the take on this
machine (``takes.NAME_SUFFIX``), never logged. Deleting a take removes its audio after a
``take_deleted`` event says so: the generation event stays (the use happened, and was paid
for), and the take can no longer be opened or exported, with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from musicapp.audio.loudness import integrated_lufs, matched_gains
from musicapp.core import InvalidInput
from musicapp.ledger.kinds import GENERATION, TAKE_DELETED, take_deleted_payload

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.ledger import Event, Ledger
    from musicapp.takes import TakeStore


@dataclass(frozen=True)
class TakeEntry:
    """One row of Take history."""

    id: str  # the generation event's id
    name: str  # the user's, or ""
    created_at: str
    engine: str
    use: str
    duration_s: float
    sample_rate: int
    titles: tuple[str, ...]  # the references' titles, in request order
    kept: bool  # its audio is on this machine

    @property
    def label(self) -> str:
        """The name, else "After <first two titles>"."""
        if self.name:
            return self.name
        return f"After {' & '.join(self.titles[:2])}" if self.titles else "Take"


class HistoryRoom:
    """Take history over the ledger and the take store."""

    def __init__(self, ledger: Ledger, takes: TakeStore, catalog: CatalogStore) -> None:
        self._ledger, self._takes, self._catalog = ledger, takes, catalog

    def deleted(self) -> dict[str, str]:
        """Generation event id → when its take was deleted."""
        out: dict[str, str] = {}
        for event in self._ledger.events(TAKE_DELETED):
            take = event.payload.get("generation_event_id")
            if isinstance(take, str):
                out.setdefault(take, event.ts)
        return out

    def entries(self, limit: int = 500) -> list[TakeEntry]:
        """The takes still kept, newest first, at most ``limit``."""
        gone = self.deleted()
        events = [e for e in self._ledger.events(GENERATION) if e.id not in gone]
        return [self._entry(e) for e in reversed(events[-limit:])]

    def _entry(self, event: Event) -> TakeEntry:
        payload = event.payload
        raw = payload.get("request")
        request: dict[str, Any] = raw if isinstance(raw, dict) else {}
        titles = []
        for ref in request.get("references") or []:
            song_id = ref.get("song_id") if isinstance(ref, dict) else None
            song = self._catalog.song(song_id) if isinstance(song_id, str) else None
            titles.append(song.title if song is not None else str(song_id))
        provenance = payload.get("provenance") or {}
        return TakeEntry(
            event.id,
            self._takes.name_of(event.id),
            event.ts,
            str(provenance.get("engine") or request.get("engine") or ""),
            str(request.get("use") or ""),
            float(payload.get("duration_s") or 0.0),
            int(payload.get("sample_rate") or 0),
            tuple(titles),
            self._takes.path_of(event.id).exists(),
        )

    def check_kept(self, take_id: str) -> None:
        """InvalidInput when ``take_id`` names no take, or one that was deleted."""
        event = self._ledger.get(take_id)
        if event is None or event.kind != GENERATION:
            raise InvalidInput(f"no take with id {take_id!r} in the ledger")
        when = self.deleted().get(take_id)
        if when is not None:
            raise InvalidInput(
                f"take {take_id} was deleted on {when[:19].replace('T', ' ')} (Take history); "
                "its generation event stays in the ledger"
            )

    def rename(self, take_id: str, name: str) -> str:
        """Name the take (empty: back to its references' titles); the name as kept."""
        self.check_kept(take_id)
        return self._takes.set_name(take_id, name)

    def delete(self, take_id: str) -> str:
        """Delete the take's audio, after logging why it is gone; the event's id."""
        from musicapp.ledger.kinds import GenerationPayload

        self._ledger.refuse_if_damaged()
        self.check_kept(take_id)
        event = self._ledger.get(take_id)
        assert event is not None  # check_kept
        logged: GenerationPayload = event.payload  # type: ignore[assignment]
        record = self._ledger.append(
            TAKE_DELETED, take_deleted_payload(take_id, logged.get("file_sha256"))
        )
        self._takes.remove(take_id)
        return record.id

    def matched_gains(self, take_ids: list[str]) -> dict[str, float]:
        """The gain for each take that plays them all as loud as the quietest (BS.1770), so an
        A/B compares the sound, not the level (a louder take always seems better). Never above
        1: nothing is raised, nothing clips. A silent take keeps gain 1."""
        levels = {}
        for take_id in take_ids:
            audio, sr = self._takes.read(take_id)
            levels[take_id] = integrated_lufs(audio, sr)
        return matched_gains(levels)
