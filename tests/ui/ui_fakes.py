"""A small in-memory stand-in for the studio, for fast tests of the panels and the job runner."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from ui_fake_rooms import (
    FakeAudit,
    FakeExports,
    FakeHistory,
    FakeLibrary,
    FakeRecords,
    FakeRoyalties,
)
from ui_fake_selection import FakeSelection

from musicapp.catalog.browse import TreeNode
from musicapp.catalog.search import SearchFilters, Suggestion
from musicapp.core import (
    Decision,
    GenerationRequest,
    InvalidInput,
    Level,
    Provenance,
    RightsHolder,
    Song,
    SourceShare,
    Split,
    Stem,
    TimelineSlot,
    Use,
    Verification,
)
from musicapp.export import ExportResult
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback
from musicapp.ledger import Damage
from musicapp.stems.service import StemMethod, StemsResult
from musicapp.studio_types import ConsentSource, SongRow, UndeclaredMaterial
from musicapp.takes import Take
from musicapp.ui.services import AppPort, StudioPort, SyncPort

FAKE_TAKE_TIME = "2025-01-01T00:00:00+00:00"  # when every fake take was made

# Stems the fake separates every source into: name → (frequency Hz, amplitude).
FAKE_STEMS = {"melody": (440.0, 0.2), "bass": (110.0, 0.3), "drums": (0.0, 0.1)}


def _song(i: int, genre: str, artist: str, album: str, commercial: bool) -> Song:
    holder = RightsHolder(f"h{i}", f"Holder {i}")
    estate = RightsHolder(f"e{i % 2}", f"Estate {i % 2}", "publisher")
    return Song(
        id=f"s{i}",
        title=f"Song {i}",
        artist=artist,
        album=album,
        genre=genre,
        year=1700 + i,
        splits=(Split(holder, 0.6), Split(estate, 0.4)),
        duration_s=30.0 + i,
        tempo_bpm=90.0 + i,
        key="D major" if i % 2 else "B minor",
        stems=(
            Stem("lead", "Violin", "strings", "melody"),
            Stem("chords", "Piano", "piano", "harmony"),
            Stem("guitar", "Nylon guitar", "guitar", "harmony"),
            Stem("bass", "Double bass", "bass", "bass"),
        ),
    )


@dataclass
class FakeStudio:
    """Two genres, two artists each, one album each, three songs per album; s3 is no-commercial.

    `wide` > 0 adds a genre "Wide" whose `wide` songs hang right under it (for paging tests).
    `calls` records the paths asked for; `page_calls` records (path, hierarchy, offset, limit).
    """

    sample_rate: int = 8000
    step_s: float = 0.02
    empty: bool = False
    wide: int = 0
    after_wide: bool = False
    calls: list[tuple[str, ...]] = field(default_factory=list)
    page_calls: list[tuple[tuple[str, ...], str, int, int | None]] = field(default_factory=list)
    suggest_calls: list[str] = field(default_factory=list)
    search_calls: list[tuple[str, SearchFilters | None]] = field(default_factory=list)
    preview_calls: list[str] = field(default_factory=list)
    preview_s: float = 0.5
    stems_method: str = "catalogue"  # or "fallback": Demucs weights missing
    stems_slow: bool = False  # the stems job runs until cancelled
    stems_calls: list[str] = field(default_factory=list)
    stems_s: float = 0.5
    ledger: Damage | None = None  # while the fake ledger is damaged

    def __post_init__(self) -> None:
        self.songs: dict[str, Song] = {}
        self.no_commercial: set[str] = {"s3"}
        i = 0
        for genre in ("Baroque", "Romantic"):
            for artist in (f"{genre} A", f"{genre} B"):
                for _ in range(3):
                    i += 1
                    self.songs[f"s{i}"] = _song(i, genre, artist, f"{artist} album", i != 3)
        self.audio: dict[str, np.ndarray] = {}
        # Odd songs have a violin, even ones a piano (the fake songs have no stems).
        self.instruments = {sid: ("Violin" if int(sid[1:]) % 2 else "Piano") for sid in self.songs}
        # The studio's rooms (musicapp/rooms/), over this fake's state.
        self.library = FakeLibrary(self)
        self.records = FakeRecords(self)
        self.selection = FakeSelection(self)
        self.audit = FakeAudit(self)
        self.exports = FakeExports(self)
        self.history = FakeHistory(self)
        self.server = ""  # the rights server consent is bound to ("" local-only)
        self.server_has: set[str] = set()  # songs whose consent the server published
        self.row_calls: list[tuple[tuple[str, ...], Level, Use]] = []  # song_rows asked
        self.made: dict[str, Take] = {}  # every take generated, in order (Take history)
        self.unclaimed_ids: set[str] = set()  # songs nobody holds (the rights wizard's)
        self.demo_unfinished: tuple[int, int] | None = None  # a demo build cut short
        self.compensation = FakeRoyalties(self)
        self.requests: list[GenerationRequest] = []  # every request generate_job was given
        self.sync: SyncPort | None = None  # no rights server: the window says sync is unavailable

    def era(self, song: Song) -> str:
        return f"{(song.year or 0) // 10 * 10}s"

    def passes(self, song: Song, filters: SearchFilters | None) -> bool:
        """The filters applied honestly over the fake songs (s3 refuses commercial use)."""
        if filters is None:
            return True
        if filters.use is not None and filters.use.value == "commercial":
            if song.id in self.no_commercial:
                return False
        return (
            (filters.genre is None or song.genre == filters.genre)
            and (filters.era is None or self.era(song) == filters.era)
            and (filters.instrument is None or self.instruments[song.id] == filters.instrument)
        )

    def filter_choices(self) -> dict[str, list[str]]:
        songs = self.songs.values()
        return {
            "genre": sorted({s.genre for s in songs}),
            "era": sorted({self.era(s) for s in songs}),
            "instrument": sorted(set(self.instruments.values())),
        }

    def preview(self, song_id: str) -> tuple[np.ndarray, int]:
        """A short sine (the real one is 15 s of the song's mix)."""
        self.preview_calls.append(song_id)
        if song_id not in self.songs:
            raise KeyError(song_id)
        t = np.arange(int(self.preview_s * self.sample_rate)) / self.sample_rate
        mono = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        return np.stack([mono, mono]), self.sample_rate

    # select
    HIERARCHY_KEYS = {"genre": ("genre", "artist", "album"), "decade": ("decade", "year")}

    def hierarchies(self) -> list[tuple[str, str]]:
        return [("genre", "Genre › artist › album"), ("decade", "Decade › year")]

    def catalogue_children(
        self,
        path: tuple[str, ...],
        hierarchy: str = "genre",
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TreeNode]:
        self.calls.append(path)
        self.page_calls.append((path, hierarchy, offset, limit))
        nodes = self._children(path, hierarchy)
        return nodes[offset:] if limit is None else nodes[offset : offset + limit]

    def song_rows(self, song_ids: list[str], level: Level, use: Use) -> dict[str, SongRow]:
        """Length, tempo and key as the songs say; the badge from the fake's consent check."""
        from musicapp.core.consent import probe_reference

        self.row_calls.append((tuple(song_ids), level, use))
        out = {}
        for sid in song_ids:
            song = self.songs.get(sid)
            if song is None:  # a made-up row (the tree paging tests' "Wide" genre)
                continue
            request = GenerationRequest((probe_reference(sid, level),), use=use)
            out[sid] = SongRow(
                song.duration_s, song.tempo_bpm, song.key, self.check(request).allowed
            )
        return out

    def _children(self, path: tuple[str, ...], hierarchy: str) -> list[TreeNode]:
        if self.empty:
            return []
        if hierarchy == "genre" and self.wide and path[:1] == ("Wide",):
            if len(path) > 1:
                return []
            return [
                TreeNode(f"Track {k:03}", 1, ("Wide", f"w{k}"), f"w{k}") for k in range(self.wide)
            ]
        keys = self.HIERARCHY_KEYS[hierarchy]

        def key(s: Song, k: str) -> str:
            if k == "decade":
                return f"{(s.year or 0) // 10 * 10}s"
            return str(getattr(s, k))

        depth = len(path)
        out: dict[str, int] = {}
        songs = [
            s
            for s in self.songs.values()
            if all(key(s, keys[d]) == path[d] for d in range(min(depth, len(keys))))
        ]
        if depth == len(keys):
            return [TreeNode(s.title, 1, (*path, s.id), s.id) for s in songs]
        for s in songs:
            out[key(s, keys[depth])] = out.get(key(s, keys[depth]), 0) + 1
        nodes = [TreeNode(k, n, (*path, k)) for k, n in out.items()]
        if self.wide and depth == 0 and hierarchy == "genre":
            nodes.append(TreeNode("Wide", self.wide, ("Wide",)))
            if self.after_wide:  # a genre after it, so Wide is not the view's last row
                nodes.append(TreeNode("Zydeco", 0, ("Zydeco",)))
        return nodes

    def suggest(
        self, text: str, limit: int = 10, filters: SearchFilters | None = None
    ) -> list[Suggestion]:
        self.suggest_calls.append(text)
        t = text.lower().strip()
        if not t:
            return []
        return [
            Suggestion(s.id, s.title, s.artist, s.album, s.year)
            for s in self.songs.values()
            if (s.title.lower().startswith(t) or s.artist.lower().startswith(t))
            and self.passes(s, filters)
        ][:limit]

    def search(
        self, text: str, limit: int = 50, filters: SearchFilters | None = None
    ) -> list[Song]:
        self.search_calls.append((text, filters))
        t = text.lower().strip()
        if not t and not (filters and filters.active):
            return []
        return [
            s for s in self.songs.values() if t in s.describe().lower() and self.passes(s, filters)
        ][:limit]

    def song(self, song_id: str) -> Song | None:
        return self.songs.get(song_id)

    def song_audio(self, song_id: str) -> np.ndarray:
        return self.preview(song_id)[0]

    def stems_job(
        self,
        source: str | Path,
        model: str = "htdemucs",
        device: str | None = None,
        segment: float | None = None,
        overlap: float = 0.25,
    ) -> FunctionJob[StemsResult]:
        """Writes FAKE_STEMS (float WAVs, so reading them back is exact) to a temporary folder;
        `stems_slow` makes the job wait for its cancel token instead."""
        import tempfile

        import soundfile as sf

        self.stems_calls.append(str(source))

        def run(progress: ProgressCallback, cancel: CancelToken) -> StemsResult:
            while self.stems_slow:
                cancel.check()
                progress(Progress(0.3, "separate", "Separating…"))
                time.sleep(0.01)
            folder = Path(tempfile.mkdtemp(prefix="fake-stems-"))
            n = int(self.stems_s * self.sample_rate)
            t = np.arange(n) / self.sample_rate
            rng = np.random.default_rng(0)
            stems = {}
            for k, (name, (hz, amp)) in enumerate(FAKE_STEMS.items()):
                cancel.check()
                wave = np.sin(2 * np.pi * hz * t) if hz else rng.uniform(-1, 1, n)
                mono = (amp * wave).astype(np.float32)
                stems[name] = folder / f"{name}.wav"
                sf.write(stems[name], np.stack([mono, mono]).T, self.sample_rate, "FLOAT")
                progress(Progress((k + 1) / len(FAKE_STEMS), "separate", f"Wrote {name}"))
            if self.stems_method == "fallback":
                return StemsResult(
                    StemMethod.FALLBACK,
                    stems,
                    self.sample_rate,
                    "split by the DSP fallback (harmonic/percussive)",
                    "Demucs weights missing: htdemucs (run `musicapp models fetch htdemucs`)",
                    missing_weights=["htdemucs"],
                )
            return StemsResult(
                StemMethod.CATALOGUE,
                stems,
                self.sample_rate,
                "rendered stems from the catalogue",
                f"“{self.songs[source].title if source in self.songs else source}” comes with its stems",
            )

        return FunctionJob("Separate stems", run)

    def load_user_audio(self, request: GenerationRequest) -> np.ndarray | None:
        from musicapp.audio.io import read_audio, to_channels

        if not request.user_audio:
            return None
        return to_channels(read_audio(request.user_audio)[0], 2)

    def engines(self) -> list[tuple[str, str]]:
        return [("concat", "Concatenative (exact attribution)")]

    def unavailable_engines(self) -> dict[str, str]:
        return {}

    # verify
    def validate(self, request: GenerationRequest) -> dict[str, Song]:
        if request.engine == "tonematch":
            from musicapp.audio.io import audio_info

            if not request.user_audio:
                raise InvalidInput(
                    "user audio: tone match needs your own audio",
                    field="user_audio",
                    option="--user-audio",
                )
            audio_info(request.user_audio)
        return {r.song_id: self.songs[r.song_id] for r in request.references}

    def consent_sources(self, song_ids: list[str]) -> dict[str, ConsentSource]:
        """Local records for every song, unless ``server_has`` says the server published them."""
        return {
            sid: ConsentSource(
                self.server,
                tuple(s.holder.name for s in self.songs[sid].splits)
                if sid in self.server_has
                else (),
                ()
                if sid in self.server_has
                else tuple(s.holder.name for s in self.songs[sid].splits),
            )
            for sid in song_ids
            if sid in self.songs
        }

    def check(self, request: GenerationRequest) -> Verification:
        decisions = []
        for ref in request.references:
            if ref.song_id in self.no_commercial and request.use.value == "commercial":
                decisions.append(
                    Decision(
                        ref,
                        False,
                        (
                            f"Rights holder Holder {ref.song_id[1:]} allows song-level use for "
                            "private use and non-commercial distribution only (consent version 1)",
                        ),
                        alternatives=(
                            "song level for private use and non-commercial distribution only",
                        ),
                    )
                )
            else:
                decisions.append(Decision(ref, True, ("All 2 rights holders allow it",)))
        return Verification(request.use, tuple(decisions))

    # generate
    def generate_job(self, request: GenerationRequest) -> FunctionJob[Take]:
        self.requests.append(request)
        if request.engine == "tonematch":
            return self._tonematch_job(request)

        def run(progress: ProgressCallback, cancel: CancelToken) -> Take:
            self._refuse_if_damaged()
            self._refuse_undeclared(request)
            steps = 20
            for k in range(steps):
                cancel.check()
                time.sleep(self.step_s)
                progress(Progress((k + 1) / steps, "generate", f"Bar {k + 1} of {steps}"))
            n = int(request.duration_s * self.sample_rate)
            t = np.arange(n) / self.sample_rate
            mono = (0.5 * np.sin(2 * np.pi * 220 * t) * np.sin(np.pi * t)).astype(np.float32)
            total = sum(request.weights)
            shares = tuple(
                SourceShare(i, r.song_id, r.weight / total)
                for i, r in enumerate(request.references)
            )
            slot = request.duration_s / 8
            timeline = tuple(
                TimelineSlot(
                    k * slot,
                    (k + 1) * slot,
                    ((request.references[k % len(request.references)].song_id, 1.0),),
                )
                for k in range(8)
            )
            take = Take(
                f"take{len(self.audio)}",
                request,
                Provenance(shares, timeline, "concat"),
                self.check(request),
                Path("/nonexistent.wav"),
                self.sample_rate,
                request.duration_s,
                FAKE_TAKE_TIME,
            )
            self.audio[take.id] = np.stack([mono, mono])
            self.made[take.id] = take
            self.audit.took(take)
            return take

        return FunctionJob("Generate", run)

    def _tonematch_job(self, request: GenerationRequest) -> FunctionJob[Take]:
        """The user's audio at half level, shares = normalised weights (as the real engine)."""

        def run(progress: ProgressCallback, cancel: CancelToken) -> Take:
            from musicapp.audio.io import read_audio, to_channels

            self._refuse_if_damaged()
            for k in range(5):
                cancel.check()
                time.sleep(self.step_s)
                progress(Progress((k + 1) / 5, "generate", "matching the tone"))
            audio, rate = read_audio(request.user_audio or "")
            total = sum(request.weights)
            shares = tuple(
                SourceShare(i, r.song_id, r.weight / total)
                for i, r in enumerate(request.references)
            )
            take = Take(
                f"take{len(self.audio)}",
                request,
                Provenance(shares, (), "tonematch", method="tone match (fake)"),
                self.check(request),
                Path("/nonexistent.wav"),
                rate,
                audio.shape[1] / rate,
                FAKE_TAKE_TIME,
            )
            self.audio[take.id] = 0.5 * to_channels(audio, 2)
            return take

        return FunctionJob("Tone match", run)

    def take(self, take_id: str) -> Take:
        if take_id not in self.made:
            raise InvalidInput(f"no take with id {take_id!r} in the ledger")
        return self.made[take_id]

    def take_audio(self, take: Take) -> np.ndarray:
        return self.audio[take.id]

    def royalties(self, take: Take) -> list[tuple[RightsHolder, float]]:
        out: dict[RightsHolder, float] = {}
        for sid, share in take.provenance.song_shares().items():
            for sp in self.songs[sid].splits:
                out[sp.holder] = out.get(sp.holder, 0.0) + share * sp.share
        return sorted(out.items(), key=lambda hs: -hs[1])

    def export(self, take: Take, out_path: Path) -> ExportResult:
        import soundfile as sf

        self._refuse_if_damaged()
        sf.write(out_path, self.audio[take.id].T, take.sample_rate)
        return ExportResult(Path(out_path), Path(str(out_path) + ".json"), "evt-123", "")

    def _refuse_undeclared(self, request: GenerationRequest) -> None:
        """As the real studio when the audit finds `audit.material` in the user's audio (the
        fake finds it whatever the request) and the request says "refuse"."""
        found = self.audit.material
        if found and request.on_undeclared == "refuse":
            titles = {
                f.song_id: f"{self.songs[f.song_id].title} — {self.songs[f.song_id].artist}"
                for f in found
            }
            raise UndeclaredMaterial(found, titles, "evt-audit")

    def _refuse_if_damaged(self) -> None:
        """As the real studio: nothing is made or written while the ledger is damaged."""
        if self.ledger is not None:
            from musicapp.ledger import LedgerDamaged

            raise LedgerDamaged(self.ledger)


@dataclass
class FakeSettings:
    exports_dir: Path


@dataclass
class FakeContext:
    settings: FakeSettings
    studio: FakeStudio


class FakePlayer:
    """Records what it is asked to play; `position_s` says playing (at `at_s`) until `stop`."""

    def __init__(self, available: bool = True) -> None:
        self.available = available
        self.unavailable_reason = "" if available else "PortAudio library not found"
        self.played: list[tuple[np.ndarray, int]] = []
        self.playing = False
        self.at_s = 0.1

    def play(self, audio: np.ndarray, sample_rate: int) -> None:
        self.played.append((np.array(audio), sample_rate))
        self.playing = True

    def stop(self) -> None:
        self.playing = False

    @property
    def position_s(self) -> float | None:
        return self.at_s if self.playing else None


# mypy (CI's line over these fakes) proves that the fake and the real studio and context fit the
# port the views are written to (musicapp/ui/services.py), so neither can drift from it.
if TYPE_CHECKING:
    from musicapp.context import AppContext
    from musicapp.studio import Studio

    def _fake_fits(studio: FakeStudio) -> StudioPort:
        return studio

    def _studio_fits(studio: Studio) -> StudioPort:
        return studio

    def _context_fits(context: AppContext) -> AppPort:
        return context


def answer_export_dialog(
    monkeypatch: Any, path: Path | None, asked: list[Path] | None = None
) -> None:
    """The Export dialog answers "write ``path``" (its folder, its name as the template, its
    suffix as the format), or Cancel for None; ``asked`` collects the folder it opened in."""
    from musicapp.rooms.exports import ExportPlan

    def ask(parent: Any, exports: Any, take: Take, folder: Path) -> ExportPlan | None:
        if asked is not None:
            asked.append(folder)
        return None if path is None else ExportPlan(path.parent, path.stem, path.suffix)

    monkeypatch.setattr("musicapp.ui.export_dialog.ask_export_plan", ask)
