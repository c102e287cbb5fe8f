"""Real recordings end to end (tests/data/recordings: two multitrack songs at 44.1 and 48 kHz
and a DI guitar): import with a manifest, tone matching toward another song's guitar stem,
and studio fidelity from a producer's stem in to the take out."""

import json

import numpy as np
import pytest
import soundfile as sf

from musicapp.config import Settings
from musicapp.context import AppContext
from musicapp.core import GenerationRequest, Level, Reference, Role, Use
from musicapp.jobs import CancelToken
from musicapp.testing.recordings import (
    energy_above_db,
    rms_dbfs,
    spectrum_distance_db,
    third_octave_db,
)

SONG_A = "marrow-lune-glass-tidewater"
SONG_B = "kestrel-drive-iron-orchard"


@pytest.fixture(scope="module")
def imported(tmp_path_factory, recordings):
    """A fresh data folder with both recordings imported through the studio."""
    data = tmp_path_factory.mktemp("recordings-data")
    settings = Settings(data_dir=data, models_dir=data / "models", device="cpu")
    settings.server_url = ""
    with AppContext.open(settings) as ctx:
        report = ctx.studio.library.import_library(recordings / "manifest.json")
        assert report.ok, report.summary()
    return settings


@pytest.fixture
def ctx(imported):
    with AppContext.open(imported) as context:
        yield context


def facts(recordings):
    return json.loads((recordings / "facts.json").read_text())


def test_import_attaches_stems_keeps_ids_rates_and_the_mix_balance(ctx, recordings):
    ids = sorted(s.id for s in ctx.catalog.all_songs())
    assert ids == sorted([SONG_A, SONG_B])  # the stems are not songs of their own
    for song_id, folder, rate in ((SONG_A, "song-a", 44100), (SONG_B, "song-b", 48000)):
        song = ctx.catalog.song(song_id)
        assert song.sample_rate == rate
        assert [s.name for s in song.stems] == ["guitar", "bass", "drums", "keys"]
        mix = ctx.catalog.load_audio(song_id)
        source, sr = sf.read(recordings / folder / "mix.flac", dtype="float32", always_2d=True)
        assert sr == rate and mix.shape == source.T.shape
        # The catalogue mix is the song's own full mix: the same balance left to right.
        balance = np.subtract(*rms_dbfs(mix)) - np.subtract(*rms_dbfs(source.T))
        assert abs(balance) <= 0.5
        guitar = ctx.catalog.load_audio(song_id, stem="guitar")
        assert np.corrcoef(guitar)[0, 1] < 0.99  # stereo stems keep their image


def test_tone_match_toward_another_songs_guitar_stem(ctx, recordings):
    di = recordings / "di-guitar.flac"
    b_guitar, b_rate = sf.read(recordings / "song-b/guitar.flac", dtype="float32", always_2d=True)
    b_mix, _ = sf.read(recordings / "song-b/mix.flac", dtype="float32", always_2d=True)
    target = third_octave_db(b_guitar.T, b_rate)
    before = spectrum_distance_db(third_octave_db(sf.read(di, always_2d=True)[0].T, 44100), target)
    assert before == pytest.approx(facts(recordings)["tone"]["di_to_guitar_b_db"], abs=0.05)
    for ref in (
        Reference(SONG_B, Level.AUDIO, part="guitar"),
        Reference(SONG_B, Level.AUDIO, Role.HARMONY),  # guitar and organ: the role's stems
    ):
        take = ctx.studio.generate(
            GenerationRequest((ref,), use=Use.COMMERCIAL, engine="tonematch", user_audio=str(di))
        )
        out, rate = sf.read(take.audio_path, dtype="float32", always_2d=True)
        assert rate == 44100  # the producer's own rate
        after = spectrum_distance_db(third_octave_db(out.T, rate), target)
        to_mix = spectrum_distance_db(
            third_octave_db(out.T, rate), third_octave_db(b_mix.T, b_rate)
        )
        if ref.part:
            assert after <= 0.5 * before, (before, after)
            assert after < to_mix  # toward the guitar, not toward the whole mix
        assert "48 kHz were resampled to 44.1 kHz" in " ".join(take.provenance.notes)


def test_a_part_no_stem_plays_is_refused_offering_separation(ctx, recordings):
    request = GenerationRequest(
        (Reference(SONG_B, Level.AUDIO, part="vocals"),),
        engine="tonematch",
        user_audio=str(recordings / "di-guitar.flac"),
    )
    with pytest.raises(Exception, match=r"has no stem playing vocals.*musicapp stems"):
        ctx.studio.generate(request)


def test_a_44k_stem_comes_back_at_44k_with_its_top_octave(ctx, recordings, tmp_path):
    drums = recordings / "song-a/drums.flac"  # the stem with the most air above 16 kHz
    audio, rate = sf.read(drums, dtype="float32", always_2d=True)
    take = ctx.studio.generate(
        GenerationRequest(
            (Reference(SONG_B, Level.AUDIO, part="drums"),),
            engine="tonematch",
            user_audio=str(drums),
            options={"wet": "0.5"},
        )
    )
    out = ctx.studio.export(take, tmp_path / "drums.wav").path
    got, got_rate = sf.read(out, dtype="float32", always_2d=True)
    assert got_rate == rate == 44100 and sf.info(str(out)).subtype == "PCM_24"
    assert got.shape == audio.shape
    air_in = energy_above_db(audio.T, rate)
    assert air_in > -40  # there is something up there to keep
    assert energy_above_db(got.T, got_rate) > air_in - 6.0


def test_a_song_without_stems_is_matched_by_a_part_once_it_is_separated(recordings, tmp_path):
    # Song B's full mix alone, with its rights, as a label would deliver a finished track.
    manifest = tmp_path / "mix-only.json"
    manifest.write_text(
        json.dumps(
            {
                "songs": [
                    {
                        "file": str(recordings / "song-b/mix.flac"),
                        "id": "iron-orchard-master",
                        "title": "Iron Orchard (master)",
                        "artist": "Kestrel Drive",
                        "rights_holders": "Kestrel Drive Music:1",
                        "permissions": "audio_level",
                        "uses": "private;non_commercial;commercial",
                    }
                ]
            }
        )
    )
    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", device="cpu")
    settings.server_url = ""
    with AppContext.open(settings) as ctx:
        _separate_and_match(ctx, manifest, recordings)


def _separate_and_match(ctx, manifest, recordings):
    report = ctx.studio.library.import_library(manifest)
    assert report.ok, report.summary()
    request = GenerationRequest(
        (Reference("iron-orchard-master", Level.AUDIO, Role.HARMONY),),
        engine="tonematch",
        user_audio=str(recordings / "di-guitar.flac"),
    )
    with pytest.raises(Exception, match="has no stem playing harmony.*separate it first"):
        ctx.studio.validate(request)
    # Stems… on it: no Demucs weights here, so the labelled DSP fallback separates it.
    parts = ctx.studio.stems_job("iron-orchard-master").run(lambda p: None, CancelToken())
    assert set(parts.stems) == {"harmonic", "percussive"}
    take = ctx.studio.generate(request)
    assert any("parts separated" in n or "DSP fallback" in n for n in take.provenance.notes)
    assert take.provenance.song_shares()["iron-orchard-master"] > 0
