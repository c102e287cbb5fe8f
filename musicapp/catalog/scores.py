"""The symbolic form of a catalogue song: its notes as a symusic Score, or None if not known.

The composing engine trains on scores and reads its references' key, meter, melody and
instruments from them. A demo song's score is the very arrangement its audio was rendered from
(catalog/arrange.py: the same notes, velocities, tempo, meter and General MIDI programs, one
track per stem, named as the stem), made again from the recipe and kept as `score.mid` beside
the song's audio, so the second call is a file read. An imported song has a score only when one
came with it: `score.mid` (or .midi, .musicxml, .mxl, .xml) in its audio folder, or a MIDI or
MusicXML file beside the file it was imported from with the same name. A recording without one
has no score here; the composer transcribes its melody instead (generation/composer/transcribe.py).

Bars: REMI-style tokens count bars from the first tick, so a tune that starts with a pickup is
moved later by the rest of that bar (its first full bar starts on a bar line). The score's marker
`musicapp:audio-start-tick=N` says where the audio's time 0 lies; audio_start_s() reads it.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicapp.core import InvalidInput, Song

if TYPE_CHECKING:
    import symusic

    from musicapp.catalog.arrange import Arranged
    from musicapp.catalog.store import CatalogStore

SCORE_FILE = "score.mid"
TPQ = 480  # ticks per quarter note: exact for the corpus's tuplets down to 1/32-note triplets
# Written into every cached demo score: a cache made by another version of this code (or of the
# recipe's arrangement rules) is made again rather than trusted.
FORMAT_MARK = "musicapp:demo-score-v1"
_START_MARK = "musicapp:audio-start-tick="
_GIVEN_NAMES = ("score.mid", "score.midi", "score.musicxml", "score.mxl", "score.xml")
_SCORE_SUFFIXES = (".mid", ".midi", ".musicxml", ".mxl", ".xml")


def score_of(song: Song, where: CatalogStore | Path) -> symusic.Score | None:
    """The song's score, or None when its symbolic form is not known.

    `where` is the catalogue (CatalogStore) or its audio folder (the folder that holds one
    sub-folder per song). A demo song's score is made once and cached in its folder.
    """
    folder = _audio_dir(where) / song.id
    if not folder.is_dir():
        raise InvalidInput(f"song {song.id}: no audio folder at {folder}")
    cached = folder / SCORE_FILE
    demo = _is_demo(song, where)
    if demo:
        if cached.is_file():
            try:
                score = _read(cached)
            except InvalidInput:  # a damaged cache is made again
                score = None
            if score is not None and any(m.text == FORMAT_MARK for m in score.markers):
                return score
        score = demo_score(song)
        if score is not None:
            _write_atomically(score, cached)
        return score
    for name in _GIVEN_NAMES:
        if (folder / name).is_file():
            return _read(folder / name)
    beside = _beside_source(song, where)
    return _read(beside) if beside is not None else None


def audio_start_s(score: symusic.Score) -> float:
    """Where the audio's time 0 lies in the score, in seconds of the score's own tempo (the
    pickup shift of a demo score; 0 for any other score)."""
    tick = next(
        (int(m.text[len(_START_MARK) :]) for m in score.markers if m.text.startswith(_START_MARK)),
        0,
    )
    if tick == 0:
        return 0.0
    qpm = score.tempos[0].qpm if len(score.tempos) else 120.0
    return tick / score.ticks_per_quarter * 60.0 / qpm


def demo_score(song: Song) -> symusic.Score | None:
    """A demo song's arrangement made again from the recipe (no cache); None if the song is not
    in the recipe or its stems are not the arrangement's (a song that only shares the id)."""
    from musicapp.catalog.arrange import arrange
    from musicapp.catalog.recipe import load_recipe

    recipe = load_recipe()
    spec = next((s for s in recipe.songs if s.id == song.id), None)
    if spec is None:
        return None
    arranged = arrange(
        spec, recipe.arrangements[spec.arrangement], recipe.kits, recipe.min_s, recipe.max_s
    )
    if [t.voice.name for t in arranged.tracks] != [s.name for s in song.stems]:
        return None
    return arranged_score(arranged)


def arranged_score(arranged: Arranged) -> symusic.Score:
    """An arrangement's tracks as a Score: one track per stem (its name, GM program or drum
    kit), the notes at TPQ ticks a quarter, the tempo in quarters a minute (a 6/8 song's
    tempo counts dotted quarters: the quarter's length in seconds holds it) and the meter."""
    from symusic import Note, Score, Tempo, TextMeta, TimeSignature, Track

    quarter_s = arranged.quarter_s
    num, den = arranged.time_signature
    bar_ticks = round(num * TPQ * 4 / den)
    pickup = round(arranged.downbeat_s / quarter_s * TPQ)
    shift = (bar_ticks - pickup) % bar_ticks if pickup else 0
    score = Score(TPQ)
    score.tempos.append(Tempo(0, qpm=60.0 / quarter_s))
    score.time_signatures.append(TimeSignature(0, num, den))
    score.markers.append(TextMeta(0, FORMAT_MARK))
    score.markers.append(TextMeta(0, f"{_START_MARK}{shift}"))
    for track in arranged.tracks:
        drums = track.kit is not None
        program = track.kit.preset if track.kit is not None else track.voice.program
        out = Track(name=track.voice.name, program=program, is_drum=drums)
        for start, end, key, velocity in track.events:
            on = round(start / quarter_s * TPQ) + shift
            off = round(end / quarter_s * TPQ) + shift
            out.notes.append(Note(on, max(1, off - on), key, max(1, min(127, velocity))))
        score.tracks.append(out)
    return score


def _audio_dir(where: CatalogStore | Path) -> Path:
    return Path(where) if isinstance(where, str | os.PathLike) else where.audio_dir


def _is_demo(song: Song, where: CatalogStore | Path) -> bool:
    from musicapp.catalog.recipe import load_recipe

    if not isinstance(where, str | os.PathLike) and where.stems_are_recorded(song.id):
        return False
    return any(s.id == song.id for s in load_recipe().songs)


def _beside_source(song: Song, where: CatalogStore | Path) -> Path | None:
    """A score file next to the file the song was imported from, with the same name."""
    if isinstance(where, str | os.PathLike):
        return None
    source = where.imports.source_of(song.id)
    if source is None:
        return None
    path = Path(source)
    for suffix in _SCORE_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if candidate != path and candidate.is_file():
            return candidate
    return None


def _read(path: Path) -> symusic.Score:
    """A MIDI file through symusic; MusicXML through music21, written to MIDI first."""
    from symusic import Score

    try:
        if path.suffix.lower() in (".mid", ".midi"):
            return Score(str(path))
        return Score.from_midi(_musicxml_to_midi(path))
    except InvalidInput:
        raise
    except Exception as exc:  # symusic and music21 raise several kinds on a damaged file
        raise InvalidInput(f"score {path}: cannot be read ({exc})") from exc


def _musicxml_to_midi(path: Path) -> bytes:
    import music21
    from music21.midi import translate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed: Any = music21.converter.parse(str(path), forceSource=True)
        midi_file = translate.music21ObjectToMidiFile(parsed)
    data: bytes = midi_file.writestr()
    return data


def _write_atomically(score: symusic.Score, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".score-", suffix=".mid", dir=path.parent)
    os.close(fd)
    try:
        score.dump_midi(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
