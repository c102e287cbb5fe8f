"""Songs, consent records, search, the tree and audio of a catalogue filled with made-up songs."""

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
import soundfile as sf
from catalog_fakes import HOLDER_A, HOLDER_B, STEM_TONES

from musicapp.catalog import mix
from musicapp.catalog.store import CatalogError
from musicapp.config import CATALOGUE_RATE
from musicapp.core import ConsentRecord, InvalidInput, Permission, Split, TimeRange, Use

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def consent(song_id, holder, version, uses=frozenset(Use)):
    return ConsentRecord(song_id, holder, version, frozenset(Permission), frozenset(uses), T0)


def test_a_song_comes_back_fully_described(store, make_song):
    song, files = make_song(
        "s1",
        seconds=3.0,
        year=1850,
        moods=("calm",),
        instruments=("Sine",),
        tempo_bpm=90.0,
        key="D major",
        subgenre="Reel",
        country="Ireland",
    )
    store.add_song(song, files)
    got = store.song("s1")
    assert got is not None
    assert got.title == song.title and got.splits == song.splits and got.stems == song.stems
    assert (got.year, got.moods, got.tempo_bpm, got.key) == (1850, ("calm",), 90.0, "D major")
    assert got.duration_s == pytest.approx(3.0)
    assert store.songs(["s1", "missing"]) == {"s1": got}
    assert store.all_songs() == [got]
    assert store.song("missing") is None
    assert {h.id for h in store.consent.holders()} == {HOLDER_A.id, HOLDER_B.id}


def test_rendered_stems_are_stored_as_mono_flac_at_the_song_rate(store, make_song):
    store.add_song(*make_song("s1"))
    path = store.stem_path("s1", "bass")
    assert path == store.audio_dir / "s1" / "bass.flac"
    info = sf.info(path)
    assert (info.format, info.channels, info.samplerate) == ("FLAC", 1, CATALOGUE_RATE)
    assert info.subtype == "PCM_16"  # the 16-bit WAV it came from
    assert store.song("s1").sample_rate == CATALOGUE_RATE
    assert not store.has_own_mix("s1")
    assert store.audio_files("s1") == {
        name: store.audio_dir / "s1" / f"{name}.flac" for name in STEM_TONES
    }


@pytest.mark.parametrize(
    "change, message",
    [
        ({"splits": (Split(HOLDER_A, 0.5), Split(HOLDER_B, 0.3))}, "add up to"),
        ({"splits": ()}, "no rights holders"),
        ({"id": "../escape"}, "song id"),
    ],
)
def test_a_bad_song_is_refused_and_leaves_nothing_behind(store, make_song, change, message):
    song, files = make_song("s1")
    with pytest.raises(InvalidInput, match=message):
        store.add_song(replace(song, **change), files)
    assert store.is_empty()
    assert [p.name for p in store.audio_dir.iterdir()] == []


def test_stem_files_must_match_the_stems_the_song_rate_and_be_mono_or_stereo(
    store, make_song, tmp_path
):
    song, files = make_song("s1")
    with pytest.raises(InvalidInput, match="do not match"):
        store.add_song(song, {k: v for k, v in files.items() if k != "bass"})
    other_rate = tmp_path / "48k.wav"
    sf.write(other_rate, np.zeros((2 * 48000, 1), np.float32), 48000)
    with pytest.raises(InvalidInput, match="48k.wav: is at 48000 Hz, the song is at 44100 Hz"):
        store.add_song(song, {**files, "bass": other_rate})
    surround = tmp_path / "surround.wav"
    sf.write(surround, np.zeros((100, 6), np.float32), CATALOGUE_RATE)
    with pytest.raises(InvalidInput, match="surround.wav: must be mono or stereo"):
        store.add_song(song, {**files, "bass": surround})
    assert store.is_empty()


def test_a_song_id_can_be_added_once(store, make_song):
    store.add_song(*make_song("s1"))
    song, files = make_song("s1-again")
    with pytest.raises(InvalidInput, match="already in the catalogue"):
        store.add_song(replace(song, id="s1"), files)
    assert store.count() == 1


def test_consent_is_append_only(store, make_song):
    store.add_song(*make_song("s1"))
    store.consent.add_consent(consent("s1", HOLDER_A.id, 1))
    with pytest.raises(InvalidInput, match="already exists"):
        store.consent.add_consent(consent("s1", HOLDER_A.id, 1, uses={Use.PRIVATE}))
    store.consent.add_consent(consent("s1", HOLDER_A.id, 3))
    with pytest.raises(InvalidInput, match="older than"):
        store.consent.add_consent(consent("s1", HOLDER_A.id, 2))
    assert [(r.holder_id, r.version) for r in store.consent.consent_records()] == [
        (HOLDER_A.id, 1),
        (HOLDER_A.id, 3),
    ]
    assert store.consent.consent_records(["s1"])[0].uses == frozenset(Use)  # the first is unchanged
    # Not even SQL through another connection can rewrite history.
    with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE consent SET uses = '[]'")


def test_consent_must_name_a_song_and_one_of_its_holders(store, make_song):
    store.add_song(*make_song("s1"))
    with pytest.raises(InvalidInput, match="unknown song"):
        store.consent.add_consent(consent("nope", HOLDER_A.id, 1))
    with pytest.raises(InvalidInput, match="not one of its rights holders"):
        store.consent.add_consent(consent("s1", "stranger", 1))
    assert store.consent.consent_records() == []


def test_consent_given_with_a_song_goes_in_with_it(store, make_song):
    song, files = make_song("s1")
    store.add_song(song, files, consent=[consent("s1", HOLDER_A.id, 1)])
    assert [r.song_id for r in store.consent.consent_records(["s1"])] == ["s1"]
    song2, files2 = make_song("s2")
    with pytest.raises(InvalidInput):
        store.add_song(song2, files2, consent=[consent("s2", "stranger", 1)])
    assert store.song("s2") is None and not (store.audio_dir / "s2").exists()


@pytest.fixture
def searchable(store, make_song):
    for sid, fields in {
        "star": {"title": "Morning Star", "artist": "Ann Archer"},
        "tagged": {"title": "Evening Air", "moods": ("star", "calm")},
        "cafe": {"title": "Café Müller", "artist": "Zoë Brandt", "genre": "Chanson"},
        "reel": {"title": "The Silver Reel", "subgenre": "Reel"},
    }.items():
        store.add_song(*make_song(sid, **fields))
    return store


def ids(songs):
    return [s.id for s in songs]


def test_search_treats_the_last_word_as_a_prefix(searchable):
    assert ids(searchable.browse.search("morn")) == ["star"]
    assert ids(searchable.browse.search("silver re")) == ["reel"]
    assert ids(searchable.browse.search("sil reel")) == []  # only the last word is a prefix


def test_search_folds_diacritics_both_ways(searchable):
    assert ids(searchable.browse.search("cafe muller")) == ["cafe"]
    assert ids(searchable.browse.search("Zoë")) == ids(searchable.browse.search("zoe")) == ["cafe"]


def test_search_ranks_title_matches_first(searchable):
    assert ids(searchable.browse.search("star")) == ["star", "tagged"]


@pytest.mark.parametrize(
    "text", ['"', 'star"', "AND", "star AND", "OR NOT", "*", "-star", "NEAR(", "a:b", "^", "", "  "]
)
def test_search_accepts_any_text(searchable, text):
    assert isinstance(searchable.browse.search(text), list)


def test_search_respects_the_limit(searchable):
    assert len(searchable.browse.search("ann")) == 3
    assert len(searchable.browse.search("ann", limit=1)) == 1


def test_tree_counts_add_up(searchable):
    genres = searchable.browse.children(())
    assert [g.label for g in genres] == ["Chanson", "Test"]
    assert sum(g.count for g in genres) == searchable.count()
    artists = searchable.browse.children(("Test",))
    assert sum(a.count for a in artists) == 3
    albums = searchable.browse.children(("Test", "Ann Archer"))
    songs = searchable.browse.children(albums[0].path)
    assert [n.label for n in songs] == ["Evening Air", "Morning Star", "The Silver Reel"]
    assert all(n.song_id and n.path[-1] == n.song_id and n.count == 1 for n in songs)
    assert searchable.browse.children(songs[0].path) == []


def test_rendered_stems_load_panned_as_they_sit_in_the_mix(store, make_song):
    song, files = make_song("s1")
    store.add_song(song, files)
    stems = {s.name: store.load_audio("s1", s.name) for s in song.stems}
    n = 2 * CATALOGUE_RATE
    assert all(a.shape == (2, n) and a.dtype == np.float32 for a in stems.values())
    full = store.load_audio("s1")
    assert full.shape == (2, n) and full.dtype == np.float32
    assert np.max(np.abs(full)) <= mix.PEAK_CEILING + 1e-4  # three loud tones, scaled down
    np.testing.assert_allclose(sum(stems.values()), full, atol=1e-6)  # stems sum to the mix
    # The melody sits in the centre, the harmony off it (constant power: L² + R² = mono²).
    melody, harmony = stems["melody"], stems["harmony"]
    np.testing.assert_array_equal(melody[0], melody[1])
    assert np.sqrt(np.mean(harmony[0] ** 2)) > 2 * np.sqrt(np.mean(harmony[1] ** 2))
    mono = sf.read(files["harmony"], dtype="float32")[0]
    scale = np.max(np.abs(full)) / np.max(
        np.abs(
            mix.mixdown(
                [sf.read(files[s.name], dtype="float32")[0] for s in song.stems],
                mix.stereo_gains(song.stems),
            )
        )
    )
    np.testing.assert_allclose(harmony[0] ** 2 + harmony[1] ** 2, (scale * mono) ** 2, atol=1e-3)


def test_a_time_range_gives_that_stretch_of_the_same_mix(store, make_song):
    store.add_song(*make_song("s1"))
    rate = CATALOGUE_RATE
    full = store.load_audio("s1")
    part = store.load_audio("s1", time_range=TimeRange(0.5, 1.25))
    np.testing.assert_array_equal(part, full[:, rate // 2 : rate * 5 // 4])
    bass = store.load_audio("s1", "bass", TimeRange(1.0, 2.0))
    assert bass.shape == (2, rate)
    spectrum = np.abs(np.fft.rfft(bass[0]))
    assert np.argmax(spectrum) == pytest.approx(STEM_TONES["bass"], abs=1)


def test_bad_audio_requests_name_what_is_wrong(store, make_song):
    store.add_song(*make_song("s1"))
    with pytest.raises(InvalidInput, match="outside song s1"):
        store.load_audio("s1", time_range=TimeRange(1.0, 2.5))
    with pytest.raises(InvalidInput, match="'nope'"):
        store.load_audio("nope")
    with pytest.raises(InvalidInput, match="no stem 'drums'"):
        store.load_audio("s1", "drums")
    store.stem_path("s1", "bass").unlink()
    with pytest.raises(CatalogError, match="bass.flac"):
        store.load_audio("s1")
