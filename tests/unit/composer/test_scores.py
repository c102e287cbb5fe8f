"""A demo song's score is the arrangement its audio was rendered from, and it is kept."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musicapp.catalog.demo import build_demo
from musicapp.catalog.scores import SCORE_FILE, audio_start_s, score_of
from musicapp.catalog.store import CatalogStore
from musicapp.catalog.synth import instrument_name, render
from musicapp.config import CATALOGUE_RATE
from musicapp.core import Song, Stem

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_songs(tmp_path_factory: pytest.TempPathFactory):
    """The recipe's first two songs: a four-part chorale in 3/4 with a pickup, a band with drums."""
    root = tmp_path_factory.mktemp("scores")
    store = CatalogStore(root / "catalog.sqlite", root / "audio")
    assert build_demo(store, limit=2) == 2
    yield store
    store.close()


def test_the_score_has_the_songs_stems_programs_and_tempo(two_songs):
    song = two_songs.song("bach-bwv269")
    score = score_of(song, two_songs)
    assert [t.name for t in score.tracks] == [s.name for s in song.stems]
    assert [instrument_name(t.program) for t in score.tracks] == [s.instrument for s in song.stems]
    assert score.tempos[0].qpm == pytest.approx(song.tempo_bpm, abs=0.01)  # 3/4: beats are quarters
    ts = score.time_signatures[0]
    assert (ts.numerator, ts.denominator) == (3, 4)
    assert score.note_num() == 147  # the arrangement's notes, looped to the excerpt's length
    # The pickup is moved to the end of a bar: the first full bar starts on a bar line.
    assert audio_start_s(score) == pytest.approx(
        3 * 60 / song.tempo_bpm - song.downbeat_s, abs=1e-3
    )


def test_the_drum_stem_is_a_drum_track_with_its_kit(two_songs):
    song = two_songs.song("oneills-1183")
    score = score_of(song, two_songs)
    drums = [t for t in score.tracks if t.is_drum]
    assert [t.name for t in drums] == [s.name for s in song.stems if s.role == "rhythm"]


def test_the_score_played_again_is_the_stored_stem(two_songs):
    """The strongest "same notes": the melody track rendered as the demo renders gives the
    stored stem's samples back (16-bit rounding and level aside)."""
    song = two_songs.song("bach-bwv269")
    score = score_of(song, two_songs)
    shift = audio_start_s(score)
    timed = score.to("second")
    melody = timed.tracks[0]
    events = [
        (n.time - shift, n.time + n.duration - shift, n.pitch, n.velocity) for n in melody.notes
    ]
    stored, rate = sf.read(two_songs.stem_path(song.id, melody.name), dtype="float32")
    assert rate == CATALOGUE_RATE
    again = render(events, len(stored), melody.program)
    corr = float(np.corrcoef(stored, again)[0, 1])
    assert corr > 0.99  # the MIDI tempo is whole microseconds a quarter: a tiny drift


def test_the_score_is_cached_beside_the_audio_and_a_stale_cache_is_made_again(two_songs):
    song = two_songs.song("oneills-1183")
    first = score_of(song, two_songs)
    cached = two_songs.audio_dir / song.id / SCORE_FILE
    assert cached.is_file()
    stamp = cached.stat().st_mtime_ns
    assert score_of(song, two_songs.audio_dir).note_num() == first.note_num()
    assert cached.stat().st_mtime_ns == stamp  # read, not made again
    cached.write_bytes(b"not a midi file")
    assert score_of(song, two_songs).note_num() == first.note_num()


def _imported(tmp_path: Path) -> tuple[Song, Path]:
    audio = tmp_path / "audio"
    (audio / "my-song").mkdir(parents=True)
    stems = (Stem("mix", "full mix", "mix", "melody"),)
    return Song("my-song", "Mine", "Me", "", "folk", stems=stems), audio


def test_an_imported_song_has_a_score_only_when_one_came_with_it(tmp_path):
    song, audio = _imported(tmp_path)
    assert score_of(song, audio) is None
    from symusic import Note, Score, Track

    given = Score(480)
    track = Track(name="tune", program=73)
    track.notes.extend(Note(i * 480, 480, 60 + i, 90) for i in range(5))
    given.tracks.append(track)
    given.dump_midi(str(audio / "my-song" / "score.mid"))
    score = score_of(song, audio)
    assert [n.pitch for n in score.tracks[0].notes] == [60, 61, 62, 63, 64]
