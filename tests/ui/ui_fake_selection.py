"""A fake of the studio's selection room (``musicapp/rooms/selection.py``) over a
``ui_fakes.FakeStudio``'s songs, for the tests of the Prompt and Similar tabs, the alternatives
and the proposals. It honours the consent filter the way the real room promises (a song refused
for the use asked is never offered: s3 refuses commercial use), answers at most `page` songs a
call (so More has something to add), records every call and fails on demand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from musicapp.core import GenerationRequest, Level, Reference, Role, Song, Use, Verification
from musicapp.selection.types import FACETS, Alternatives, Candidate, Proposal, Ranking

if TYPE_CHECKING:
    from ui_fakes import FakeStudio

    from musicapp.jobs import Job
    from musicapp.ui.services import SelectionPort

FAKE_EMBEDDING = "embedded default (fake text embedding)"
FAKE_AUDIO_EMBEDDING = "embedded default (fake audio features)"


class FakeSelection:
    """`calls` holds (method, arguments); a method named in `failing` raises RuntimeError."""

    def __init__(self, studio: FakeStudio, page: int = 3) -> None:
        self._studio = studio
        self.page = page
        self.pending_index = 0  # what catch_up_job reports it embedded
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failing: set[str] = set()
        self.liked: list[str] = []

    def _enter(self, method: str, **arguments: Any) -> None:
        self.calls.append((method, arguments))
        if method in self.failing:
            raise RuntimeError(f"the selection room's {method} broke (fake)")

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [arguments for name, arguments in self.calls if name == method]

    def _usable(self, song: Song, use: Use | None) -> bool:
        return not (use is Use.COMMERCIAL and song.id in self._studio.no_commercial)

    def _ranking(
        self,
        query: str,
        songs: list[Song],
        use: Use | None,
        level: Level | None,
        k: int,
        exclude: Sequence[str],
        why: str,
        embedding: str = FAKE_EMBEDDING,
    ) -> Ranking:
        offered = [s for s in songs if s.id not in exclude and self._usable(s, use)]
        candidates = tuple(
            Candidate(s, 0.9 - 0.05 * i, why, long_tail=int(s.id[1:]) % 2 == 0)
            for i, s in enumerate(offered[: min(k, self.page)])
        )
        if use is not None and level is None:
            level = Level.SONG
        return Ranking(query, candidates, embedding, level, use)

    def _near(self, song_id: str) -> list[Song]:
        """The other songs, those of the same genre first."""
        songs = self._studio.songs
        genre = songs[song_id].genre if song_id in songs else ""
        others = [s for s in songs.values() if s.id != song_id]
        return sorted(others, key=lambda s: s.genre != genre)

    def prompt(
        self,
        text: str,
        *,
        categories: Sequence[str] = (),
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking:
        self._enter(
            "prompt",
            text=text,
            categories=list(categories),
            use=use,
            level=level,
            k=k,
            exclude=list(exclude),
        )
        why = f"matches “{text or ', '.join(categories)}”"
        return self._ranking(text, list(self._studio.songs.values()), use, level, k, exclude, why)

    def similar(
        self,
        song_id: str,
        *,
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking:
        self._enter("similar", song_id=song_id, use=use, level=level, exclude=list(exclude))
        return self._ranking(
            f"like: {song_id}",
            self._near(song_id),
            use,
            level,
            k,
            exclude,
            "nearest in timbre and tempo",
            FAKE_AUDIO_EMBEDDING,
        )

    def recommend(
        self,
        session: Sequence[str],
        *,
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking:
        self._enter("recommend", session=list(session), use=use, level=level)
        songs = [s for s in reversed(self._studio.songs.values()) if s.id not in session]
        return self._ranking("session", songs, use, level, k, exclude, "from your session")

    def alternatives(self, verification: Verification, *, k: int = 5) -> list[Alternatives]:
        self._enter("alternatives", verification=verification, k=k)
        chosen = {d.reference.song_id for d in verification.decisions}
        out = []
        for decision in verification.refused:
            ref = decision.reference
            ranking = self._ranking(
                f"like: {ref.song_id}",
                self._near(ref.song_id),
                verification.use,
                ref.level,
                k,
                sorted(chosen),
                "nearest permitted",
                FAKE_AUDIO_EMBEDDING,
            )
            out.append(Alternatives(ref, decision.reasons, ranking))
        return out

    def propose(self, request: GenerationRequest) -> list[Proposal]:
        """A timbre reference when the request has melody and rhythm ones but no timbre."""
        self._enter("propose", request=request)
        roles = {r.role for r in request.references if r.level is Level.PARAMETER}
        if not {Role.MELODY, Role.RHYTHM} <= roles or Role.TIMBRE in roles:
            return []
        chosen = {r.song_id for r in request.references}
        for song in self._studio.songs.values():
            if song.id not in chosen and self._usable(song, request.use):
                reference = Reference(song.id, Level.PARAMETER, Role.TIMBRE)
                reason = "no timbre reference: nearest permitted to your melody reference"
                return [Proposal(reference, song, reason, FAKE_AUDIO_EMBEDDING)]
        return []

    def catch_up_job(self) -> Job[int]:
        from musicapp.jobs import FunctionJob

        self._enter("catch_up_job")
        return FunctionJob("Index", lambda _p, _c: self.pending_index, lane="select")

    def facets(self) -> dict[str, list[tuple[str, int]]]:
        self._enter("facets")
        return {facet: [(label, 2) for label in labels] for facet, labels in FACETS.items()}

    def labels(self, song_id: str) -> dict[str, tuple[str, ...]]:
        n = int(song_id[1:])
        return {facet: (labels[n % len(labels)],) for facet, labels in FACETS.items()}

    def like(self, song_id: str, liked: bool = True) -> None:
        self._enter("like", song_id=song_id, liked=liked)
        if liked and song_id not in self.liked:
            self.liked.append(song_id)
        elif not liked and song_id in self.liked:
            self.liked.remove(song_id)

    def likes(self) -> list[str]:
        return list(self.liked)


if TYPE_CHECKING:

    def _selection_fits(room: FakeSelection) -> SelectionPort:
        return room
