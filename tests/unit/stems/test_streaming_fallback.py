"""Chunked processing keeps the audio intact across chunk seams; the fallback is labelled."""

import numpy as np
import pytest
import soundfile as sf

from musicapp.config import Settings
from musicapp.core import InvalidInput
from musicapp.jobs import CancelToken
from musicapp.stems import FALLBACK_LABEL, StemMethod, stems_for
from musicapp.stems.fallback import hpss
from musicapp.stems.streaming import ArraySource, plan_windows, run_chunked


def identity(window, report):
    report(1.0)
    return window[None].copy()


def test_chunk_seams_are_seamless_for_an_identity_process(tmp_path):
    rate = 8000
    t = np.arange(int(9.5 * rate)) / rate
    audio = np.stack([np.sin(2 * np.pi * 220 * t), np.cos(2 * np.pi * 3 * t)]).astype(np.float32)
    audio *= 0.5
    reports = []
    paths = run_chunked(
        ArraySource(audio, rate),
        identity,
        ["same"],
        tmp_path,
        rate,
        2,
        reports.append,
        CancelToken(),
        chunk_s=3,
        overlap_s=1,
    )
    out, _ = sf.read(paths["same"], dtype="float32")
    assert out.shape == audio.T.shape
    assert np.abs(out - audio.T).max() < 1e-5  # 24-bit FLAC; no clicks at the seams
    assert reports[-1].fraction == 1.0


def test_resampled_chunks_match_a_whole_file_resample(tmp_path):
    from musicapp.audio.io import resample

    rate_in, rate = 32000, 44100
    t = np.arange(7 * rate_in) / rate_in
    audio = (0.4 * np.sin(2 * np.pi * 440 * t))[None].astype(np.float32)
    paths = run_chunked(
        ArraySource(audio, rate_in),
        identity,
        ["x"],
        tmp_path,
        rate,
        1,
        lambda p: None,
        CancelToken(),
        chunk_s=3,
        overlap_s=1,
    )
    out, sr = sf.read(paths["x"], dtype="float32")
    whole = resample(audio, rate_in, rate)[0]
    assert sr == rate and out.shape[0] == 7 * rate
    assert np.abs(out - whole[: out.shape[0]]).max() < 1e-3


def test_windows_cover_the_track_and_a_short_tail_joins_the_last_chunk():
    windows = plan_windows(total=70, window=50, overlap=10)
    assert [(w.core_start, w.core_end) for w in windows] == [(0, 30), (30, 70)]
    assert windows[0].start == 0 and windows[-1].end == 70
    assert all(w.end - w.start <= 50 for w in windows[:-1])
    with pytest.raises(InvalidInput, match="overlap"):
        plan_windows(100, window=20, overlap=10)


def test_demucs_chunks_are_whole_segment_strides():
    from musicapp.stems.demucs_repo import tiny_htdemucs
    from musicapp.stems.separate import SeparationOptions, aligned_window, segments_per_window

    model = tiny_htdemucs(segment=2.0)
    options = SeparationOptions(chunk_s=10)
    window = aligned_window(model, options)
    stride = int(0.75 * 2.0 * 44100)
    assert window % stride == 0 and abs(window - 10 * 44100) <= stride
    whole = segments_per_window(model, 10 * window, options)
    assert 10 * segments_per_window(model, window, options) == whole


def test_hpss_splits_a_tone_from_clicks_and_the_parts_sum_to_the_input():
    rate = 16000
    t = np.arange(2 * rate) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    clicks = np.zeros_like(t)
    clicks[:: rate // 4] = 1.0
    parts = hpss(np.stack([tone + clicks]).astype(np.float32), rate)
    harmonic, percussive = parts[0, 0], parts[1, 0]
    assert np.abs(parts.sum(axis=0)[0] - (tone + clicks)).max() < 1e-3
    assert np.corrcoef(harmonic, tone)[0, 1] > 0.9
    assert np.abs(percussive[:: rate // 4]).mean() > 3 * np.abs(harmonic[:: rate // 4]).mean()


def test_without_weights_a_file_gets_the_labelled_fallback_naming_them(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    src = tmp_path / "song.wav"
    rng = np.random.default_rng(0)
    sf.write(src, (rng.standard_normal((3 * 22050, 2)) * 0.1).astype(np.float32), 22050)
    result = stems_for(src, settings)
    assert result.method is StemMethod.FALLBACK and result.label == FALLBACK_LABEL
    assert "htdemucs" in result.missing_weights and "htdemucs.yaml" in result.reason
    assert set(result.stems) == {"harmonic", "percussive"}
    audio, rate = sf.read(result.stems["percussive"])
    assert rate == 22050 and audio.shape == (3 * 22050, 2)
    assert stems_for(src, settings).cached


def test_unknown_source_is_named(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    with pytest.raises(InvalidInput, match="no-such-song"):
        stems_for("no-such-song", settings)


def test_demo_song_uses_its_rendered_stems(tmp_path, demo_store):
    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    song = next(s for s in demo_store.all_songs() if s.stems)
    result = stems_for(song.id, settings, catalog=demo_store)
    assert result.method is StemMethod.CATALOGUE and result.song_id == song.id
    assert set(result.stems) == {s.name for s in song.stems}
    assert all(p.is_file() for p in result.stems.values())
    assert not (settings.data_dir / "stems").exists()  # nothing separated, nothing cached
    # The Stems window shows the reason: the song by its title, never its internal id.
    assert result.reason == f"“{song.title}” comes with its stems"
    assert song.id not in result.reason


def test_an_imported_songs_own_stems_are_labelled_as_the_recordings(tmp_path):
    from musicapp.catalog.importer import import_library
    from musicapp.catalog.store import CatalogStore

    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    music = tmp_path / "music"
    music.mkdir()
    rng = np.random.default_rng(1)
    for name in ("mix", "guitar"):
        sf.write(music / f"{name}.wav", (rng.standard_normal((44100, 2)) * 0.1), 44100)
    (music / "m.csv").write_text("file,title,stems\nmix.wav,Take,guitar=guitar.wav\n")
    with CatalogStore(tmp_path / "catalog.sqlite", tmp_path / "audio") as store:
        (song,) = [store.song(f.song_id) for f in import_library(store, music / "m.csv").imported]
        result = stems_for(song.id, settings, catalog=store)
    assert result.method is StemMethod.CATALOGUE and set(result.stems) == {"guitar"}
    assert result.label == "the recording's own stems"
    assert result.reason == "“Take” was imported with its stems"
