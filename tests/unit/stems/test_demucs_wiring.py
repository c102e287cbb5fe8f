"""Demucs through the same loader as real weights, with a tiny random HTDemucs."""

import time

import numpy as np
import pytest
import soundfile as sf

from musicapp.core import InvalidInput
from musicapp.jobs import Cancelled, CancelToken
from musicapp.stems import SeparationOptions, StemMethod, stems_for
from musicapp.stems.demucs_repo import load_demucs, repo_dir


def noise(seconds, rate=44100, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((channels, int(seconds * rate))) * 0.1).astype(np.float32)


def write_wav(path, audio, rate=44100):
    sf.write(path, audio.T, rate, subtype="FLOAT")
    return path


def test_wiring_tiny_random_htdemucs_separates_reports_progress_and_caches(tmp_path, tiny_repo):
    settings, entries = tiny_repo
    src = write_wav(tmp_path / "song.wav", noise(3.0))
    reports = []
    result = stems_for(src, settings, progress=reports.append, entries=entries)
    assert result.method is StemMethod.DEMUCS and result.model == "htdemucs"
    assert set(result.stems) == {"drums", "bass", "other", "vocals"}
    for path in result.stems.values():
        audio, rate = sf.read(path)
        assert rate == 44100 and audio.shape == (3 * 44100, 2)
    fractions = [p.fraction for p in reports]
    assert fractions[-1] == 1.0
    separate = [p.fraction for p in reports if p.stage == "separate"]
    assert separate == sorted(separate) and len(separate) > 3  # per-segment progress
    started = time.monotonic()
    again = stems_for(src, settings, entries=entries)
    assert again.cached and again.stems == result.stems
    assert time.monotonic() - started < 1.0


def test_wiring_resamples_catalogue_rate_and_chunks_long_input(tmp_path, tiny_repo):
    settings, entries = tiny_repo
    src = write_wav(tmp_path / "song.wav", noise(7.0, rate=32000), rate=32000)
    options = SeparationOptions(chunk_s=3, overlap_s=1)
    result = stems_for(src, settings, options=options, entries=entries)
    audio, rate = sf.read(result.stems["vocals"])
    assert rate == 44100 and audio.shape == (7 * 44100, 2)
    assert np.abs(audio).max() > 0


def test_cancel_from_progress_stops_within_one_segment(tmp_path, tiny_repo):
    settings, entries = tiny_repo
    model = load_demucs("htdemucs", settings.models_dir, entries)
    calls = []
    hook = model.models[0].register_forward_hook(lambda *_: calls.append(1))
    cancel = CancelToken()
    at_cancel = []

    def progress(p):
        if p.stage == "separate" and calls and not cancel.cancelled:
            at_cancel.append(len(calls))
            cancel.cancel()

    src = write_wav(tmp_path / "song.wav", noise(6.0))
    try:
        with pytest.raises(Cancelled):
            stems_for(src, settings, progress=progress, cancel=cancel, entries=entries)
    finally:
        hook.remove()
    assert at_cancel == [1] and len(calls) <= at_cancel[0] + 1
    assert not list((settings.data_dir / "stems").glob("*/meta.json"))  # nothing cached


def test_missing_bad_and_corrupt_weights_are_named(tmp_path, tiny_repo):
    settings, entries = tiny_repo
    th = next(repo_dir(settings.models_dir).glob("*.th"))
    data = th.read_bytes()
    th.write_bytes(data[:100])
    with pytest.raises(InvalidInput, match="bad checksum.*" + th.name):
        load_demucs("htdemucs", settings.models_dir, entries)
    th.unlink()
    with pytest.raises(InvalidInput, match=f"missing.*{th.name}.*the test fixture"):
        load_demucs("htdemucs", settings.models_dir, entries)
    with pytest.raises(InvalidInput, match="not in the manifest"):
        load_demucs("htdemucs_9s", settings.models_dir, entries)


def test_damaged_th_without_manifest_checksum_is_refused_then_named_once_trusted(
    tmp_path, tiny_repo
):
    settings, _ = tiny_repo
    from musicapp.weights import ModelEntry, ModelFile, import_file

    folder = repo_dir(settings.models_dir)
    for p in folder.glob("*.th"):
        p.unlink()
    (folder / "0badf00d.th").write_bytes(b"not a torch file")
    (folder / "htdemucs.yaml").write_text("models: ['0badf00d']\n")
    entry = ModelEntry(
        "htdemucs",
        "",
        "",
        "somewhere",
        (ModelFile("demucs/htdemucs.yaml", ""), ModelFile("demucs/0badf00d.th", "")),
    )
    with pytest.raises(InvalidInput, match=r"weights unverifiable: .*htdemucs\.yaml.*--trust"):
        load_demucs("htdemucs", settings.models_dir, [entry])
    for p in (folder / "htdemucs.yaml", folder / "0badf00d.th"):
        import_file(p, settings.models_dir, entries=[entry], trust=True)
    with pytest.raises(InvalidInput, match=r"0badf00d\.th: damaged or not a torch file"):
        load_demucs("htdemucs", settings.models_dir, [entry])


def test_segment_longer_than_the_model_allows_is_refused(tmp_path, tiny_repo):
    settings, entries = tiny_repo
    src = write_wav(tmp_path / "song.wav", noise(2.0))
    with pytest.raises(InvalidInput, match="segment 5.0"):
        stems_for(src, settings, options=SeparationOptions(segment=5.0), entries=entries)


def test_imported_song_is_separated_from_its_mix_channels(tmp_path, tiny_repo):
    from musicapp.catalog.importer import import_library
    from musicapp.catalog.store import CatalogStore

    settings, entries = tiny_repo
    folder = tmp_path / "incoming"
    folder.mkdir()
    write_wav(folder / "take.wav", noise(2.0, rate=32000), rate=32000)
    store = CatalogStore(tmp_path / "catalog.sqlite", tmp_path / "audio")
    try:
        import_library(store, folder)
        song = store.all_songs()[0]
        result = stems_for(song.id, settings, catalog=store, entries=entries)
    finally:
        store.close()
    assert result.method is StemMethod.DEMUCS and result.song_id == song.id
    audio, rate = sf.read(result.stems["bass"])
    assert rate == 44100 and audio.shape == (2 * 44100, 2)
