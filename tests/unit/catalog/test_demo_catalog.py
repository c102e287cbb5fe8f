"""The demo catalogue: what the small build holds, consent kinds, real separate stems, cancelling."""

import time
from datetime import UTC, datetime

import numpy as np
import pytest
import soundfile as sf

from musicapp.catalog import demo, mix
from musicapp.catalog.demo import BuildDemoCatalog, build_demo
from musicapp.catalog.recipe import load_recipe
from musicapp.catalog.store import CatalogStore
from musicapp.config import CATALOGUE_RATE
from musicapp.core import Level, Reference, Role, Use, decide
from musicapp.jobs import Cancelled, CancelToken, Progress

NOW = datetime.now(UTC)
ROLES = {"melody", "harmony", "bass", "rhythm"}


def decision(store, song_id, level=Level.SONG, use=Use.COMMERCIAL):
    role = Role.MELODY if level is Level.PARAMETER else None
    ref = Reference(song_id, level=level, role=role)
    return decide(ref, use, store.song(song_id), store.consent.consent_records([song_id]), NOW)


def test_the_recipe_names_at_least_60_songs_in_5_genres():
    recipe = load_recipe()
    assert len(recipe.songs) >= 60
    assert len({s.meta["genre"] for s in recipe.songs}) >= 5


def test_the_named_demo_songs_are_in_the_small_build(demo_store):
    named = [
        *demo.PERMITTED_SONG_IDS,
        demo.OPTED_OUT_SONG_ID,
        demo.REVOKED_SONG_ID,
        demo.SONG_LEVEL_ONLY_SONG_ID,
        demo.NON_COMMERCIAL_SONG_ID,
        demo.SPLIT_COMMERCIAL_SONG_ID,
    ]
    assert set(named) <= {s.id for s in demo_store.all_songs()}


def test_the_small_build_spans_several_genres(demo_store):
    songs = demo_store.all_songs()
    assert len(songs) == 10
    assert len({s.genre for s in songs}) >= 3
    assert sum(g.count for g in demo_store.browse.children(())) == 10


def test_every_level_of_the_tree_counts_the_songs_below_it(demo_store):
    def leaves(path):
        nodes = demo_store.browse.children(path)
        if not nodes:
            return []
        found = []
        for node in nodes:
            below = [node.song_id] if node.song_id else leaves(node.path)
            assert node.count == len(below), node.path
            found += below
        return found

    assert sorted(leaves(())) == sorted(s.id for s in demo_store.all_songs())


def test_the_demo_can_be_searched_by_composer_and_title(demo_store):
    bach = demo_store.browse.search("bach")
    assert bach and all(s.artist == "Johann Sebastian Bach" for s in bach)
    assert [s.id for s in demo_store.browse.search("konig rhein")] == ["essen-erk10-13"]
    assert demo_store.browse.search("König") == demo_store.browse.search("konig")
    assert demo_store.browse.search("maple lea")[0].id == demo.OPTED_OUT_SONG_ID


@pytest.mark.parametrize("level", [Level.SONG, Level.PARAMETER, Level.AUDIO])
@pytest.mark.parametrize("use", list(Use))
def test_permitted_songs_are_cleared_for_everything(demo_store, level, use):
    for song_id in demo.PERMITTED_SONG_IDS:
        assert decision(demo_store, song_id, level, use).allowed


def test_an_opted_out_song_is_refused_by_default(demo_store):
    d = decision(demo_store, demo.OPTED_OUT_SONG_ID, use=Use.PRIVATE)
    assert not d.allowed and "default deny" in " ".join(d.reasons)
    assert demo_store.consent.consent_records([demo.OPTED_OUT_SONG_ID]) == []


def test_a_revoked_song_is_refused_and_keeps_its_history(demo_store):
    d = decision(demo_store, demo.REVOKED_SONG_ID, use=Use.PRIVATE)
    assert not d.allowed and "revoked" in " ".join(d.reasons)
    versions = [r.version for r in demo_store.consent.consent_records([demo.REVOKED_SONG_ID])]
    assert 1 in versions and 2 in versions


def test_partial_consent_allows_some_uses_and_levels(demo_store):
    assert decision(demo_store, demo.SONG_LEVEL_ONLY_SONG_ID, Level.SONG).allowed
    assert not decision(demo_store, demo.SONG_LEVEL_ONLY_SONG_ID, Level.AUDIO).allowed
    assert decision(demo_store, demo.NON_COMMERCIAL_SONG_ID, use=Use.NON_COMMERCIAL).allowed
    assert not decision(demo_store, demo.NON_COMMERCIAL_SONG_ID, use=Use.COMMERCIAL).allowed
    split = decision(demo_store, demo.SPLIT_COMMERCIAL_SONG_ID, use=Use.COMMERCIAL)
    assert not split.allowed and len(split.reasons) == 1  # one of two holders says no
    assert decision(demo_store, demo.SPLIT_COMMERCIAL_SONG_ID, use=Use.NON_COMMERCIAL).allowed


def test_demo_songs_are_fully_described(demo_store):
    for song in demo_store.all_songs():
        assert song.title and song.artist and song.album and song.genre and song.era
        assert song.key.endswith(("major", "minor")) and song.moods and song.instruments
        assert 20.0 <= song.duration_s <= 40.0
        assert 40 <= (song.tempo_bpm or 0) <= 160
        assert 1 <= len(song.splits) <= 3
        assert sum(s.share for s in song.splits) == pytest.approx(1.0)
        assert song.stems and {s.role for s in song.stems} <= ROLES
        for stem in song.stems:
            info = sf.info(demo_store.stem_path(song.id, stem.name))
            assert (info.channels, info.samplerate) == (1, CATALOGUE_RATE)
            assert info.duration == pytest.approx(song.duration_s, abs=1e-3)


def spectral_centroid(audio):
    spectrum = np.abs(np.fft.rfft(audio))
    freqs = np.fft.rfftfreq(len(audio), 1 / CATALOGUE_RATE)
    return float((spectrum * freqs).sum() / spectrum.sum())


def test_stems_are_the_separate_parts(demo_store):
    song = demo_store.song(demo.PERMITTED_SONG_IDS[1])  # a tune with guitar, bass and drums
    roles = {s.role: s.name for s in song.stems}
    assert ROLES <= set(roles)
    placed = {s.name: demo_store.load_audio(song.id, s.name) for s in song.stems}
    audio = {name: a[0] + a[1] for name, a in placed.items()}  # mono enough to compare
    assert all(np.sqrt(np.mean(a**2)) > 0.01 for a in audio.values())  # none is silent
    melody, bass = audio[roles["melody"]], audio[roles["bass"]]
    assert spectral_centroid(melody) > 2 * spectral_centroid(bass)
    assert abs(np.corrcoef(melody, bass)[0, 1]) < 0.3


def test_demo_songs_are_stereo_at_44k_and_their_stems_sum_to_the_mix(demo_store):
    for song in demo_store.all_songs():
        assert song.sample_rate == CATALOGUE_RATE and not demo_store.has_own_mix(song.id)
        full = demo_store.load_audio(song.id)
        assert full.shape == (2, round(song.duration_s * CATALOGUE_RATE))
        stems = [demo_store.load_audio(song.id, s.name) for s in song.stems]
        np.testing.assert_allclose(sum(stems), full, atol=1e-6)
        # Spread across the stereo field when it has parts off the centre; both sides in use.
        if any(p != 0 for p in mix.pan_positions(song.stems)):
            assert not np.allclose(full[0], full[1], atol=1e-3)
        assert min(np.sqrt(np.mean(full**2, axis=1))) > 0.01
        # Each mono stem at today's pan, constant power, under the song's one gain.
        gains = mix.stereo_gains(song.stems)
        for stem, placed, lr in zip(song.stems, stems, gains, strict=True):
            mono = sf.read(demo_store.stem_path(song.id, stem.name), dtype="float32")[0]
            loud = np.argmax(np.abs(mono))
            ratio = placed[:, loud] / (lr * mono[loud])
            assert ratio[0] == pytest.approx(ratio[1], rel=1e-4) and 0 < ratio[0] <= 1


def test_a_finished_build_adds_nothing_more(demo_store):
    reports = []
    assert build_demo(demo_store, reports.append, limit=10) == 0
    assert reports[-1].fraction == 1.0


def test_cancelling_leaves_only_whole_songs(tmp_path):
    store = CatalogStore(tmp_path / "catalog.sqlite", tmp_path / "audio")
    cancel = CancelToken()
    reports: list[Progress] = []

    def progress(p: Progress) -> None:
        reports.append(p)
        if p.message.startswith("Added"):
            cancel.cancel()

    job = BuildDemoCatalog(store, limit=3)
    assert job.lane == "io" and job.name
    with pytest.raises(Cancelled):
        job.run(progress, cancel)
    songs = store.all_songs()
    assert len(songs) == sum(p.message.startswith("Added") for p in reports) == 1
    song = songs[0]
    assert {p.name for p in store.audio_dir.iterdir()} == {song.id}  # no half-built leftovers
    assert {p.stem for p in (store.audio_dir / song.id).iterdir()} == {s.name for s in song.stems}
    assert store.consent.consent_records([song.id])
    # Building again finishes the job.
    assert build_demo(store, limit=3) == 2
    store.close()


@pytest.mark.slow
def test_the_full_demo_catalogue(tmp_path):
    store = CatalogStore(tmp_path / "catalog.sqlite", tmp_path / "audio")
    started = time.monotonic()
    built = build_demo(store)
    took = time.monotonic() - started
    songs = store.all_songs()
    assert built == len(songs) == len(load_recipe().songs) >= 60
    assert len({s.genre for s in songs}) >= 5
    families = {stem.family for s in songs for stem in s.stems}
    assert {"guitar", "piano", "bass", "strings", "winds", "drums"} <= families
    tempi = [s.tempo_bpm for s in songs]
    assert max(tempi) - min(tempi) >= 60 and len(set(tempi)) >= 20
    with_consent = {r.song_id for r in store.consent.consent_records()}
    assert len(with_consent) < len(songs)  # some songs have no consent at all: default deny
    assert took < 120, f"the full demo build took {took:.0f} s"
    store.close()
