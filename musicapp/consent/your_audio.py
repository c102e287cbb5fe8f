"""Your audio's identity: what of the catalogue (or of earlier takes) a user's file holds.

The studio asks this before it verifies a request with audio of the user's own: every song
found in it becomes a reference of the request (``Reference.via``), verified for audio-level
use and attributed its part of the user's share, whatever the front end passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from musicapp.consent.origins import AudioOrigins, Identification, OriginMatch
from musicapp.core import USER_SOURCE, VIA_USER_AUDIO, GenerationRequest, Level, Reference

if TYPE_CHECKING:
    from musicapp.export import ContentMatch
    from musicapp.stems.service import StemsResult


class YourAudio:
    """Finds catalogue songs in user audio: through the ledger's content index (exports and
    takes) and the audio origins index (catalogue stems, mixes and parts made from them)."""

    def __init__(
        self, origins: AudioOrigins, find_by_content: Callable[[Path], ContentMatch | None]
    ) -> None:
        self.origins = origins
        self._find = find_by_content

    def identify(self, path: str | Path, index_first: bool = True) -> Identification:
        """Which catalogue songs' audio a file holds, by exact content: an export or take of
        this ledger (its references, by their shares), or catalogue audio (a stem, a preview,
        a separated part, the same samples under another name; see origins.py)."""
        match = self._find(Path(path))
        if match is None:
            return self.origins.identify(path, index_first)
        what = f"{'an export' if match.kind == 'export' else 'a take'} ({match.event_id})"
        return Identification(
            str(path),
            tuple(
                OriginMatch(song_id, "", f"{what} made from it", match.how, share)
                for song_id, share in match.song_shares.items()
                if song_id != USER_SOURCE and share > 0
            ),
        )

    def with_origins(
        self, request: GenerationRequest, index_first: bool = True
    ) -> GenerationRequest:
        """The request as the studio verifies and attributes it: the user's picks, then a
        reference for every catalogue song found in the user's own audio. Whatever a front end
        passes as found references is dropped and found again here, from the audio itself.
        `index_first=False` (a live check) takes the catalogue index as it is."""
        picked = request.picked
        if not request.user_audio:
            return replace(request, references=picked)
        found = self.identify(request.user_audio, index_first).by_song()
        extra = tuple(
            Reference(song_id, Level.AUDIO, weight=max(fraction, 1e-9), via=VIA_USER_AUDIO)
            for song_id, fraction in found.items()
        )
        return replace(request, references=picked + extra)

    def notes(self, request: GenerationRequest) -> tuple[str, ...]:
        """What was found in the user's audio, for the take's record."""
        if not request.user_audio or all(r.picked for r in request.references):
            return ()
        return tuple(
            f"your audio holds {m.describe()}" for m in self.identify(request.user_audio).matches
        )

    def register_parts(self, source: str | Path, result: StemsResult) -> None:
        """Parts separated from catalogue audio keep its songs' identity."""
        from musicapp.stems.service import StemMethod

        if result.method is StemMethod.CATALOGUE:
            return  # the song's own stems are indexed with the song
        parts = list(result.stems.items())
        origin = f"part {result.label}"
        if result.song_id is not None:
            self.origins.register(parts, result.song_id, origin)
            return
        for match in self.identify(source).matches:
            self.origins.register(parts, match.song_id, origin, match.fraction)
