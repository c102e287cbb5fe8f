"""The references' audio as an engine gets it: from the catalogue, cut, at the take's rate.

A take is made at the rate of what it is made from, so nothing loses bandwidth: the user's own
audio sets it when there is some (a 48 kHz stem comes back at 48 kHz), else the highest rate
among the references (44.1 kHz for the demo). References at another rate are resampled here,
at the studio's boundary, and the take's record says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from musicapp.core import (
    GenerationRequest,
    InvalidInput,
    Level,
    Reference,
    Role,
    Song,
    Stem,
    TimeRange,
)
from musicapp.jobs import CancelToken, Progress, ProgressCallback

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.generation.base import Engine, Material


# Roles that name a part of a song a stem can hold; the others (timbre, instrument, mood, genre)
# describe the whole sound, so an audio-level reference with one of them matches the whole mix.
PART_ROLES = frozenset({Role.MELODY, Role.HARMONY, Role.RHYTHM})


# What a separated part plays, (role, family), by the names Demucs and the DSP fallback give.
PART_OF_NAME = {
    "vocals": ("melody", "voice"),
    "drums": ("rhythm", "drums"),
    "bass": ("bass", "bass"),
    "other": ("harmony", "other"),
    "guitar": ("harmony", "guitar"),
    "piano": ("harmony", "piano"),
    "harmonic": ("harmony", "harmonic"),
    "percussive": ("rhythm", "percussive"),
}


@dataclass(frozen=True)
class Parts:
    """Parts separated from a song that has no stems of its own (files at their rate)."""

    files: dict[str, Path]
    sample_rate: int
    label: str  # how they were made, e.g. "separated by Demucs (htdemucs_6s)"

    def stems(self) -> tuple[Stem, ...]:
        out = []
        for name in self.files:
            role, family = PART_OF_NAME.get(name, ("harmony", name))
            out.append(Stem(name, f"{name} ({self.label})", family, role))
        return tuple(out)


PartsLookup = Callable[[str], "Parts | None"]


def _no_parts(_song_id: str) -> Parts | None:
    return None


def with_parts(song: Song, parts: PartsLookup) -> tuple[Song, Parts | None]:
    """A song without stems of its own as if its separated parts were its stems, if any."""
    if song.stems:
        return song, None
    found = parts(song.id)
    return (replace(song, stems=found.stems()), found) if found is not None else (song, None)


@dataclass(frozen=True)
class UserAudio:
    """The user's own audio as read: float32 (channels ≤ 2, n) at its own rate."""

    path: str
    audio: np.ndarray
    sample_rate: int


def read_user_audio(request: GenerationRequest, max_s: float, min_s: float) -> UserAudio | None:
    """The user's own audio, stereo at its own rate, with the requested range checked against
    its length. Unreadable, damaged, too short or too long files (too long: refused from the
    header, before decoding) raise AudioError naming the file."""
    if not request.user_audio:
        return None
    from musicapp.audio.io import read_audio, to_channels

    audio, sr = read_audio(request.user_audio, max_s, min_duration_s=min_s)
    audio = to_channels(audio, 2)
    if request.user_range is not None:
        request.user_range.check_within(audio.shape[1] / sr, f"your audio {request.user_audio}")
    return UserAudio(request.user_audio, audio, sr)


def check_request(
    request: GenerationRequest,
    songs: dict[str, Song],
    engine: Engine,
    parts: PartsLookup = _no_parts,
) -> None:
    """Refuse, before anything is loaded, a request that cannot be made: unknown songs, ranges
    outside them, audio-level references without the user's audio, a part no stem plays, or
    what the engine cannot do (its own check_request, and its levels)."""
    for ref in request.references:
        song = songs.get(ref.song_id)
        if song is None:
            raise InvalidInput(f"unknown song id {ref.song_id!r} (try `musicapp search`)")
        if ref.time_range is not None:
            ref.time_range.check_within(song.duration_s, f"song {ref.song_id}")
    needs_user_audio = [r for r in request.references if r.level in (Level.AUDIO, Level.TEMPORAL)]
    if needs_user_audio and not request.user_audio:
        first = needs_user_audio[0]
        raise InvalidInput(
            f"reference {first.song_id}: {first.level.value}-level references shape your own "
            "audio: give an audio file",
            field="user_audio",
            option="--user-audio",
        )
    if request.user_range is not None and not request.user_audio:
        raise InvalidInput(
            "a range of your audio was given, but no audio file",
            field="user_audio",
            option="--user-audio",
        )
    check_role_stems(request, songs, parts)
    engine_check = getattr(engine, "check_request", None)
    if engine_check is not None:
        engine_check(request)
    for ref in request.references:
        if ref.level not in engine.levels:
            levels = ", ".join(sorted(level.value for level in engine.levels))
            raise InvalidInput(
                f"reference {ref.song_id}: the {engine.label} engine does not do "
                f"{ref.level.value}-level references (it does: {levels})"
            )


def take_rate(songs: list[Song], user: UserAudio | None) -> int:
    """The rate a take is made at: the user's audio's, else the highest of the references'."""
    if user is not None:
        return user.sample_rate
    return max((s.sample_rate for s in songs), default=44100)


def stems_needed(ref: Reference, song: Song, request: GenerationRequest) -> list[str]:
    """The stems of a reference the engine needs: all of them beside a parameter-level
    reference (a song-level one then lends what nobody else covers); at audio and temporal
    level with a role, the stems playing that role (tone matching toward a guitar stem)."""
    if any(r.level is Level.PARAMETER for r in request.picked):
        return [s.name for s in song.stems]
    return [s.name for s in target_stems(ref, song)]


def target_stems(ref: Reference, song: Song) -> list[Stem]:
    """The stems an audio- or temporal-level reference asks for: its `part` (a stem name or
    instrument family), else the stems playing its role (melody, harmony, rhythm); [] for the
    whole mix."""
    if ref.level not in (Level.AUDIO, Level.TEMPORAL):
        return []
    if ref.part:
        return stems_for_role(song, ref.part)
    if ref.role in PART_ROLES:
        assert ref.role is not None
        return stems_for_role(song, ref.role.value)
    return []


def stems_for_role(song: Song, role: str) -> list[Stem]:
    """The song's stems that play `role` (matched against a stem's role, family or name)."""
    return [s for s in song.stems if role in (s.role, s.family, s.name)]


def check_role_stems(
    request: GenerationRequest, songs: dict[str, Song], parts: PartsLookup = _no_parts
) -> None:
    """Refuse an audio- or temporal-level reference whose role no stem of its song plays: the
    user asked to match that part, and the whole mix would be a different target."""
    for ref in request.picked:
        if ref.level not in (Level.AUDIO, Level.TEMPORAL):
            continue
        wanted = ref.part or (ref.role.value if ref.role in PART_ROLES and ref.role else "")
        song = songs[ref.song_id]
        if not wanted or target_stems(ref, with_parts(song, parts)[0]):
            continue
        have = ", ".join(f"{s.name} ({s.role})" for s in song.stems) or "no stems"
        raise InvalidInput(
            f"reference {ref.song_id}: {song.title} has no stem playing {wanted} "
            f"(it has {have}); match its whole mix (leave the role out), or separate it first "
            f"(`musicapp stems {ref.song_id}`, or Stems… in the window: Demucs when its weights "
            "are installed, else the labelled DSP fallback) and use the separated part as your "
            "target"
        )


def load_materials(
    catalog: CatalogStore,
    request: GenerationRequest,
    songs: dict[str, Song],
    rate: int,
    progress: ProgressCallback,
    cancel: CancelToken,
    parts: PartsLookup = _no_parts,
) -> list[Material]:
    """One Material per picked reference, cut to its range, at `rate` (resampled when the song
    is kept at another), stereo, with the stems the engine needs: a song's own, or for a song
    without stems the parts separated from it before (`parts`)."""
    from musicapp.audio.io import resample
    from musicapp.generation.base import Material

    picked = request.picked
    out = []
    for i, ref in enumerate(picked):
        cancel.check()
        song = songs[ref.song_id]

        def at_rate(audio: np.ndarray, song: Song = song) -> np.ndarray:
            if song.sample_rate == rate:
                return audio
            return resample(audio, song.sample_rate, rate)

        mix = at_rate(catalog.load_audio(ref.song_id, time_range=ref.time_range))
        song, separated = with_parts(song, parts) if _targets_a_part(ref) else (song, None)
        stems = {
            name: _part_audio(separated, name, ref.time_range, rate)
            if separated is not None
            else at_rate(catalog.load_audio(ref.song_id, stem=name, time_range=ref.time_range))
            for name in stems_needed(ref, song, request)
        }
        for name, stem in stems.items():  # resampling may differ by a sample
            stems[name] = _fit(stem, mix.shape[1])
        out.append(
            Material(
                index=i,
                reference=ref,
                song=song,
                sample_rate=rate,
                mix=mix,
                stems=stems,
                tempo_bpm=song.tempo_bpm,
                beats_per_bar=song.beats_per_bar,
                downbeat_s=downbeat_in_cut(song, ref.time_range),
            )
        )
        progress(Progress((i + 1) / len(picked), "load", f"Loaded {song.title}"))
    return out


def _targets_a_part(ref: Reference) -> bool:
    return ref.level in (Level.AUDIO, Level.TEMPORAL) and bool(ref.part or ref.role in PART_ROLES)


def _part_audio(parts: Parts, name: str, time_range: TimeRange | None, rate: int) -> np.ndarray:
    """A separated part, cut to the reference's range, stereo, at `rate`."""
    import soundfile as sf

    from musicapp.audio.io import resample, to_channels

    start, stop = 0, None
    if time_range is not None:
        start = round(time_range.start_s * parts.sample_rate)
        stop = round(time_range.end_s * parts.sample_rate)
    data, sr = sf.read(
        str(parts.files[name]), start=start, stop=stop, dtype="float32", always_2d=True
    )
    audio = to_channels(np.ascontiguousarray(data.T), 2)
    return audio if sr == rate else resample(audio, int(sr), rate)


def _fit(audio: np.ndarray, n: int) -> np.ndarray:
    if audio.shape[1] >= n:
        return audio[:, :n]
    return np.pad(audio, ((0, 0), (0, n - audio.shape[1])))


def downbeat_in_cut(song: Song, time_range: TimeRange | None) -> float | None:
    """The first bar start inside the cut audio, from the score's meter; None if unknown."""
    if not song.tempo_bpm:
        return None
    if time_range is None:
        return song.downbeat_s
    bar_s = song.beats_per_bar * 60.0 / song.tempo_bpm
    return (song.downbeat_s - time_range.start_s) % bar_s


def request_notes(
    request: GenerationRequest, songs: dict[str, Song], parts: PartsLookup
) -> tuple[str, ...]:
    """How the request was read: which references were matched against parts separated from
    them (and how made), and words given to an engine that takes none."""
    from musicapp.generation.base import prompt_note

    notes = []
    for ref in request.picked:
        song = songs[ref.song_id]
        if _targets_a_part(ref) and not song.stems and (found := parts(song.id)) is not None:
            notes.append(f"{song.title} has no stems of its own: its parts {found.label} were used")
    if note := prompt_note(request.engine, request.prompt):
        notes.append(note[:1].upper() + note[1:])
    return tuple(notes)


def resample_note(songs: list[Song], rate: int, user: UserAudio | None) -> tuple[str, ...]:
    """What was resampled at the studio's boundary, for the take's record."""
    notes = []
    moved = sorted({s.sample_rate for s in songs if s.sample_rate != rate})
    if moved:
        rates = ", ".join(f"{r / 1000:g} kHz" for r in moved)
        why = "your audio's rate" if user is not None else "the highest reference rate"
        notes.append(f"references at {rates} were resampled to {rate / 1000:g} kHz ({why})")
    return tuple(notes)
