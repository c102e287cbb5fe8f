"""Importing a folder of good and broken files, incrementally, with and without a manifest."""

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from import_library import BROKEN, GOOD, make_library, tone

from musicapp.catalog.importer import UNREGISTERED, import_library
from musicapp.catalog.store import CatalogStore
from musicapp.consent.service import ConsentService
from musicapp.core import GenerationRequest, Level, Reference, Role, Use
from musicapp.jobs import Cancelled, CancelToken


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return make_library(tmp_path_factory.mktemp("lib"))


def counts(store: CatalogStore) -> dict[str, int]:
    with sqlite3.connect(store.path) as db:
        tables = ("songs", "stems", "splits", "consent", "imported_files", "songs_fts")
        out = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
    out["folders"] = sum(1 for d in store.audio_dir.iterdir())
    return out


def check(store, song_id, use, level=Level.SONG):
    role = Role.MELODY if level is Level.PARAMETER else None
    request = GenerationRequest((Reference(song_id, level, role),), use=use)
    return ConsentService(store).check(request, datetime.now(UTC))


def test_imports_the_good_files_and_reports_each_broken_one(store, library):
    lib, good = library
    before = counts(store)
    report = import_library(store, lib)

    assert len(report.imported) == GOOD and not report.unchanged
    failed = {Path(f.path).name: f.reason for f in report.failed}
    assert set(failed) == set(BROKEN)
    for name, words in BROKEN.items():
        assert words in failed[name], (name, failed[name])
    assert {Path(f.path) for f in report.imported} == set(good)
    # Whole songs only: rows, search entries and folders for the 20 and nothing for the rest.
    after = counts(store)
    assert before["songs"] == 0
    assert after["songs"] == after["imported_files"] == after["songs_fts"] == after["folders"]
    assert after["songs"] == GOOD
    assert after["stems"] == sum(len(s.stems) for s in store.all_songs())
    assert not list(store.audio_dir.glob(".*"))
    mislabelled = next(f for f in report.imported if f.path.endswith("really-flac.wav"))
    assert mislabelled.format == "FLAC" and "FLAC" in mislabelled.note


def test_tags_give_metadata_and_untagged_files_their_name(store, library):
    lib, _ = library
    report = import_library(store, lib)
    by_name = {Path(f.path).name: store.song(f.song_id) for f in report.imported}
    tagged = by_name["track08.flac"]
    assert (tagged.title, tagged.artist, tagged.album, tagged.genre, tagged.year) == (
        "Tagged Song 8",
        "Tag Artist",
        "Tagged",
        "Folk",
        1999,
    )
    assert tagged.id == "tag-artist-tagged-song-8"
    assert by_name["track16.mp3"].title == "Tagged Song 16"
    plain = by_name["track01.wav"]
    assert (plain.title, plain.artist) == ("track01", "Unknown artist")
    assert plain.splits[0].holder == UNREGISTERED


def test_a_recording_comes_back_as_it_was_at_its_own_rate(store, library):
    lib, _ = library
    report = import_library(store, lib)
    by_name = {Path(f.path).name: f for f in report.imported}
    for name in ("track18.wav", "track00.wav", "track07.flac", "track14.ogg"):
        original, rate = sf.read(by_name[name].path, dtype="float32", always_2d=True)
        song = store.song(by_name[name].song_id)
        assert song.sample_rate == rate and song.stems == ()
        assert store.has_own_mix(song.id) and set(store.audio_files(song.id)) == {""}
        mix = store.load_audio(song.id)
        assert mix.shape == original.T.shape
        assert np.max(np.abs(mix - original.T)) < 1e-4  # FLAC at the source's 16 bits
    mono = by_name["track04.wav"]
    left, right = store.load_audio(mono.song_id)
    original = sf.read(mono.path, dtype="float32")[0]
    np.testing.assert_array_equal(left, right)  # in the centre, at its own level
    assert np.max(np.abs(left - original)) < 1e-4


def test_a_second_run_imports_nothing_new(store, library):
    lib, _ = library
    import_library(store, lib)
    before = counts(store)
    again = import_library(store, lib)
    assert not again.imported and len(again.unchanged) == GOOD
    assert len(again.failed) == len(BROKEN)
    assert counts(store) == before


def test_a_changed_file_becomes_a_new_song_beside_the_old(store, tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    path = folder / "song.wav"
    sf.write(path, tone(1.5, 32000, 300, 1, 1), 32000)
    first = import_library(store, folder).imported[0]
    sf.write(path, tone(2.0, 32000, 400, 1, 2), 32000)
    second = import_library(store, folder).imported[0]
    assert second.song_id != first.song_id and second.replaces == first.song_id
    assert store.song(first.song_id) is not None  # kept: consent and ledger may refer to it
    assert store.song(second.song_id).duration_s == pytest.approx(2.0)
    # Moved, unchanged: known by content.
    path.rename(folder / "moved.wav")
    moved = import_library(store, folder)
    assert not moved.imported and "same content" in moved.unchanged[0].note


def test_cancel_stops_between_files_and_leaves_whole_songs(store, library):
    lib, _ = library
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        if len(seen) == 12:
            token.cancel()

    with pytest.raises(Cancelled):
        import_library(store, lib, progress=progress, cancel=token)
    partial = counts(store)
    assert partial["songs"] == partial["imported_files"] == partial["folders"]
    assert 0 < partial["songs"] < GOOD
    rest = import_library(store, lib)
    assert len(rest.imported) + len(rest.unchanged) == GOOD
    assert counts(store)["songs"] == GOOD


def _two_files(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    for i, name in enumerate(("a.flac", "b.flac", "c.flac")):
        sf.write(folder / name, tone(1.5, 44100, 220 * (i + 1), 2, i), 44100)
    return folder


def test_a_csv_manifest_gives_holders_splits_and_consent(store, tmp_path):
    folder = _two_files(tmp_path)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "file,title,artist,album,genre,year,country,instruments,rights holders,"
        "permissions,uses\n"
        "music/a.flac,Alpha,Ann Archer,First,Folk,1970,Ireland,fiddle;guitar,"
        "Ann Archer:0.5;Bow Street Music:0.5,song_level,private;non_commercial\n"
        "music/b.flac,Beta,Ann Archer,First,Folk,,,,Ann Archer:0.5;Bow Street Music:0.4,"
        "song_level,private\n"
    )
    report = import_library(store, folder, manifest=manifest)
    assert [Path(f.path).name for f in report.imported] == ["a.flac", "c.flac"]
    (bad,) = report.failed
    assert bad.reason == "manifest.csv line 3: splits add up to 0.9, not 1"
    alpha = store.song("ann-archer-alpha")
    assert (alpha.title, alpha.year, alpha.country) == ("Alpha", 1970, "Ireland")
    assert alpha.instruments == ("fiddle", "guitar")
    assert [(s.holder.name, s.share) for s in alpha.splits] == [
        ("Ann Archer", 0.5),
        ("Bow Street Music", 0.5),
    ]
    assert check(store, alpha.id, Use.PRIVATE).allowed
    assert check(store, alpha.id, Use.NON_COMMERCIAL).allowed
    assert not check(store, alpha.id, Use.COMMERCIAL).allowed
    assert not check(store, alpha.id, Use.PRIVATE, Level.PARAMETER).allowed
    # Not in the manifest: tags only, and refused for every use (default deny).
    c = store.song(report.imported[1].song_id)
    for use in Use:
        refused = check(store, c.id, use)
        assert not refused.allowed
        assert "has not given consent" in refused.decisions[0].reasons[0]


def test_a_json_manifest_gives_stems_and_consent_per_holder(store, tmp_path):
    folder = _two_files(tmp_path)
    for name, hz in (("vocals", 660), ("bass", 110)):
        sf.write(folder / f"{name}.wav", tone(1.5, 44100, hz, 1, hz), 44100)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "songs": [
                    {
                        "file": "music/a.flac",
                        "title": "Alpha",
                        "artist": "Ann Archer",
                        "moods": ["calm"],
                        "rights_holders": [
                            {
                                "name": "Ann Archer",
                                "share": 0.7,
                                "permissions": ["song_level", "parameter_level"],
                                "uses": ["private", "commercial"],
                            },
                            {
                                "name": "Bow Street Music",
                                "share": 0.3,
                                "kind": "publisher",
                                "permissions": ["song_level"],
                                "uses": ["private"],
                            },
                        ],
                        "stems": {"vocals": "music/vocals.wav", "bass": "music/bass.wav"},
                    }
                ]
            }
        )
    )
    report = import_library(store, manifest)  # a manifest alone: only its files
    assert [Path(f.path).name for f in report.imported] == ["a.flac"] and not report.failed
    song = store.song("ann-archer-alpha")
    assert [(s.name, s.role, s.family) for s in song.stems] == [
        ("vocals", "melody", "voice"),
        ("bass", "bass", "bass"),
    ]
    full = store.load_audio(song.id)
    np.testing.assert_allclose(full, sf.read(folder / "a.flac", dtype="float32")[0].T, atol=1e-4)
    bass = store.load_audio(song.id, stem="bass")
    assert bass.shape == (2, round(1.5 * 44100))
    np.testing.assert_array_equal(bass[0], bass[1])
    assert check(store, song.id, Use.PRIVATE).allowed
    refused = check(store, song.id, Use.COMMERCIAL)
    assert not refused.allowed
    assert "Bow Street Music allows song-level use for private use only" in " ".join(
        refused.decisions[0].reasons
    )
    assert not check(store, song.id, Use.PRIVATE, Level.PARAMETER).allowed


def test_a_manifest_row_with_a_missing_file_or_bad_flag_is_reported(store, tmp_path):
    _two_files(tmp_path)
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "file,rights_holders,permissions,uses\n"
        "music/gone.flac,Ann:1,song_level,private\n"
        "music/a.flac,Ann:1,sing_level,private\n"
    )
    report = import_library(store, manifest)
    reasons = sorted(f.reason for f in report.failed)
    assert reasons[0].startswith("m.csv line 2: ") and reasons[0].endswith("file not found")
    assert "m.csv line 3: unknown consent flag 'sing_level'" in reasons[1]
    assert counts(store)["songs"] == 0
