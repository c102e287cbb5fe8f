"""The committed test recordings are what their README and facts.json say, and sound right by
proxy: real stereo, no clipping, no dropouts, mixes that are not the sum of their stems, two
clearly different guitar tones."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from musicapp.catalog.importer import import_library
from musicapp.catalog.manifest import read_manifest
from musicapp.catalog.store import CatalogStore
from musicapp.testing import recordings as measure

RECORDINGS = Path(__file__).parents[1] / "data" / "recordings"
FACTS = json.loads((RECORDINGS / "facts.json").read_text(encoding="utf-8"))
FILES = sorted(FACTS["files"])
STEREO = [f for f in FILES if FACTS["files"][f]["channels"] == 2]
SONGS = sorted(FACTS["songs"])
SCRIPT = Path(__file__).parents[2] / "scripts" / "render_test_recordings.py"
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SIZE_LIMIT = 6_000_000  # bytes: the excerpt set lives in git
CLIP_DBFS = -0.1
DUAL_MONO = 0.99  # L/R correlation at or above this is a mono signal on two channels
MIN_TONE_DISTANCE_DB = 4.0
_cache: dict[str, tuple[np.ndarray, int]] = {}


def load(rel: str) -> tuple[np.ndarray, int]:
    if rel not in _cache:
        _cache[rel] = measure.read(RECORDINGS / rel)
    return _cache[rel]


def readme_rows() -> dict[str, tuple[int, int, float]]:
    """The README's file table: file -> (rate, channels, duration)."""
    rows = {}
    for line in (RECORDINGS / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.fullmatch(r"`[\w/.-]+\.flac`", cells[0]):
            rows[cells[0].strip("`")] = (int(cells[2]), int(cells[3]), float(cells[4]))
    return rows


def test_the_folder_holds_the_files_its_facts_and_readme_list_and_stays_small(recordings):
    assert recordings == RECORDINGS
    on_disk = sorted(str(p.relative_to(RECORDINGS)) for p in RECORDINGS.rglob("*.flac"))
    assert on_disk == FILES
    assert sorted(readme_rows()) == FILES
    total = sum(p.stat().st_size for p in RECORDINGS.rglob("*") if p.is_file())
    assert total < SIZE_LIMIT, f"tests/data/recordings holds {total} bytes"
    licence = (RECORDINGS / "LICENSE").read_text(encoding="utf-8")
    for notice in ("CC0 1.0 Universal", "Copyright © 2000-2002, 2008 Frank Wen", "MIT license"):
        assert notice in licence


@pytest.mark.parametrize("rel", FILES)
def test_each_file_is_what_the_facts_and_readme_say(rel):
    audio, sr = load(rel)
    facts = FACTS["files"][rel]
    rate, channels, duration = readme_rows()[rel]
    assert (sr, audio.shape[0]) == (facts["sample_rate"], facts["channels"]) == (rate, channels)
    assert audio.shape[1] == facts["frames"]
    assert abs(audio.shape[1] / sr - duration) <= 0.01
    assert abs(audio.shape[1] / sr - facts["duration_s"]) <= 0.01
    assert np.allclose(measure.rms_dbfs(audio), facts["rms_dbfs"], atol=0.05)
    assert measure.peak_dbfs(audio) == pytest.approx(facts["peak_dbfs"], abs=0.05)
    assert measure.lr_correlation(audio) == pytest.approx(facts["lr_correlation"], abs=0.002)
    assert measure.energy_above_db(audio, sr) == pytest.approx(
        facts["energy_above_16k_db"], abs=0.1
    )
    assert np.allclose(measure.third_octave_db(audio, sr), facts["third_octave_db"], atol=0.05)


@pytest.mark.parametrize("rel", STEREO)
def test_stereo_files_are_not_dual_mono(rel):
    audio, _ = load(rel)
    assert measure.lr_correlation(audio) < DUAL_MONO
    assert measure.lr_correlation(np.stack([audio[0], audio[0]])) == pytest.approx(1.0)


@pytest.mark.parametrize("rel", FILES)
def test_nothing_clips(rel):
    audio, _ = load(rel)
    assert measure.peak_dbfs(audio) <= CLIP_DBFS


@pytest.mark.parametrize("rel", FILES)
def test_digital_silence_only_where_the_part_rests_by_design(rel):
    audio, sr = load(rel)
    rests = FACTS["files"][rel]["rests_s"]
    runs = measure.silent_runs(audio, sr)
    for start, end in runs:
        assert any(lo - 0.05 <= start and end <= hi + 0.05 for lo, hi in rests), (
            f"{rel}: {end - start:.2f} s of digital silence at {start:.2f} s"
        )
    # A rest the facts declare is really there, so a test may rely on it.
    for lo, hi in rests:
        assert any(s <= lo + 0.05 and e >= hi - 0.05 for s, e in runs), f"{rel}: no rest {lo}-{hi}"


def test_a_dropout_would_be_found():
    sr = 1000
    audio = np.ones((2, 3 * sr)) * 0.1
    audio[:, 1000:1700] = 0.0
    assert measure.silent_runs(audio, sr) == [(1.0, 1.7)]


@pytest.mark.parametrize("song", SONGS)
def test_the_mix_is_not_the_sum_of_its_stems(song):
    info = FACTS["songs"][song]
    mix, sr = load(info["mix"])
    stems = [load(rel) for rel in info["stems"].values()]
    assert len(stems) in (3, 4) and "guitar" in info["stems"]
    assert all(rate == sr and audio.shape == mix.shape for audio, rate in stems)
    found = measure.mix_against_stems(mix, [audio for audio, _ in stems])
    assert found == pytest.approx(info["mix_against_stems"], abs=0.05)
    # A mix that were only the stems summed and scaled would leave nothing (below -60 dB).
    plain = measure.mix_against_stems(
        0.5 * np.sum([a for a, _ in stems], axis=0), [a for a, _ in stems]
    )
    assert plain["residual_db"] < -60
    assert found["residual_db"] > -30
    assert abs(found["mix_balance_db"] - found["sum_balance_db"]) >= 0.5


def test_the_two_guitars_differ_clearly_in_tone_and_the_di_sits_apart_from_both():
    spectra = {
        rel: measure.third_octave_db(*load(rel))
        for rel in ("song-a/guitar.flac", "song-b/guitar.flac", FACTS["di"]["file"])
    }
    a, b, di = spectra.values()
    tone = FACTS["tone"]
    assert measure.spectrum_distance_db(a, b) >= MIN_TONE_DISTANCE_DB
    assert measure.spectrum_distance_db(a, b) == pytest.approx(
        tone["guitar_a_to_guitar_b_db"], abs=0.05
    )
    assert measure.spectrum_distance_db(di, a) == pytest.approx(tone["di_to_guitar_a_db"], abs=0.05)
    assert measure.spectrum_distance_db(di, b) == pytest.approx(tone["di_to_guitar_b_db"], abs=0.05)
    assert min(tone["di_to_guitar_a_db"], tone["di_to_guitar_b_db"]) >= MIN_TONE_DISTANCE_DB
    # Level is not tone: the same guitar 12 dB quieter is the same tone.
    assert measure.spectrum_distance_db(a, a - 12.0) == pytest.approx(0.0, abs=1e-9)


def test_the_di_take_lines_up_with_song_a():
    di, sr = load(FACTS["di"]["file"])
    mix, mix_sr = load(FACTS["songs"][FACTS["di"]["plays_over"]]["mix"])
    assert (sr, di.shape[0], di.shape[1]) == (mix_sr, 1, mix.shape[1])
    assert FACTS["di"]["tempo_bpm"] == FACTS["songs"]["song-a"]["tempo_bpm"]


@pytest.mark.parametrize("song", SONGS)
def test_cymbals_carry_air_above_16k_and_the_bass_does_not(song):
    stems = FACTS["songs"][song]["stems"]
    drums, bass = load(stems["drums"]), load(stems["bass"])
    assert measure.energy_above_db(*drums) > -40
    assert measure.energy_above_db(*load(FACTS["songs"][song]["mix"])) > -45
    assert measure.energy_above_db(*bass) < -60


def test_both_manifests_describe_the_same_songs_with_consent_and_stems():
    csv_rows = read_manifest(RECORDINGS / "manifest.csv")
    json_rows = read_manifest(RECORDINGS / "manifest.json")
    assert len(csv_rows) == len(json_rows) == len(SONGS)
    for row_csv, row_json, song in zip(csv_rows, json_rows, SONGS, strict=True):
        assert not row_csv.errors and not row_json.errors
        info = FACTS["songs"][song]
        assert row_csv.path == row_json.path == RECORDINGS / info["mix"]
        assert row_csv.fields == row_json.fields and row_csv.fields["title"] == info["title"]
        assert row_csv.splits == row_json.splits and len(row_csv.splits) == 2
        assert row_csv.grants == row_json.grants and set(row_csv.grants) == {
            s.holder.id for s in row_csv.splits
        }
        stems = {s.name: s.path for s in row_csv.stems}
        assert stems == {s.name: s.path for s in row_json.stems}
        assert stems == {k: RECORDINGS / v for k, v in info["stems"].items()}


def test_importing_the_manifest_gives_two_songs_with_their_stems(tmp_path):
    store = CatalogStore(tmp_path / "catalog.sqlite", tmp_path / "audio")
    try:
        report = import_library(store, RECORDINGS / "manifest.csv")
        assert report.ok and len(report.imported) == len(SONGS)
        titles = set()
        for imported in report.imported:
            song = store.song(imported.song_id)
            titles.add(song.title)
            assert {s.name for s in song.stems} == {"guitar", "bass", "drums", "keys"}
        assert titles == {FACTS["songs"][s]["title"] for s in SONGS}
    finally:
        store.close()


def test_the_script_says_when_the_soundfont_is_missing(tmp_path):
    missing = tmp_path / "none.sf2"
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "--soundfont", str(missing)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"soundfont {missing}: not found (apt-get install fluid-soundfont-gm)"
    ]
    assert not list(tmp_path.glob("*.flac"))


@pytest.mark.slow
@pytest.mark.skipif(not SOUNDFONT.is_file(), reason="needs fluid-soundfont-gm (FluidR3_GM.sf2)")
def test_the_script_renders_the_committed_recordings_again(tmp_path):
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "--seed", "11"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    again = json.loads((tmp_path / "facts.json").read_text(encoding="utf-8"))
    assert_close(again, FACTS, "facts")
    for name in ("manifest.csv", "manifest.json"):
        assert (tmp_path / name).read_text() == (RECORDINGS / name).read_text()


def assert_close(found, expected, where: str) -> None:
    """Equal structure and text; numbers within 0.05 (another numpy or libm may round apart)."""
    if isinstance(expected, dict):
        assert sorted(found) == sorted(expected), where
        for key in expected:
            assert_close(found[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(found) == len(expected), where
        for i, (f, e) in enumerate(zip(found, expected, strict=True)):
            assert_close(f, e, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert found == pytest.approx(expected, abs=0.05), where
    else:
        assert found == expected, where
