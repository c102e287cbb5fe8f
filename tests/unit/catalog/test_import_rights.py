"""Importing multitrack recordings with a manifest: stems attached, full mixes kept, rights that
can be corrected later as new versions, each change in the ledger before it takes effect."""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musicapp.catalog.importer import import_library
from musicapp.consent.service import ConsentService
from musicapp.core import GenerationRequest, Reference, Use

RATE = 44100
HEADER = "file,title,artist,stems,rights_holders,permissions,uses\n"


def multitrack(root: Path, name: str, seconds: float = 1.5, seed: int = 0) -> dict[str, Path]:
    """A full mix 7 dB louder on the left than on the right, its stereo guitar stem and mono
    vocal stem (24-bit, 44.1 kHz), the way a studio exports a song."""
    rng = np.random.default_rng(seed)
    n = round(seconds * RATE)
    guitar = 0.2 * rng.standard_normal((n, 2)) * np.array([1.0, 0.3])
    vocal = 0.3 * np.sin(2 * np.pi * 330 * np.arange(n) / RATE)
    full = guitar + vocal[:, None] * np.array([1.0, 0.6])
    folder = root / name
    folder.mkdir(parents=True)
    files = {
        "mix": folder / "mix.wav",
        "guitar": folder / "guitar.wav",
        "vocals": folder / "vocals.wav",
    }
    for key, audio in (("mix", full), ("guitar", guitar), ("vocals", vocal)):
        sf.write(files[key], audio.astype(np.float32), RATE, subtype="PCM_24")
    return files


def row(name: str, title: str, holders: str, uses: str, stems: bool = True) -> str:
    stem_text = f"guitar={name}/guitar.wav;vocals={name}/vocals.wav" if stems else ""
    return f"{name}/mix.wav,{title},Ann Archer,{stem_text},{holders},song_level,{uses}\n"


def recorder(ledger):
    return lambda kind, payload: ledger.append(kind, payload).id


def allowed(store, song_id, use):
    request = GenerationRequest((Reference(song_id),), use=use)
    return ConsentService(store).check(request, datetime.now(UTC)).allowed


def test_stems_are_attached_to_their_song_which_keeps_its_clean_id_and_own_mix(
    store, tmp_path, ledger
):
    music = tmp_path / "music"
    files = multitrack(music, "first")
    manifest = music / "manifest.csv"
    manifest.write_text(HEADER + row("first", "First Light", "Ann Archer:1", "private"))

    report = import_library(store, music, manifest, record=recorder(ledger))  # walks the stems too

    assert not report.failed
    (imported,) = report.imported
    assert imported.song_id == "ann-archer-first-light" and imported.stems == ("guitar", "vocals")
    assert store.count() == 1
    song = store.song(imported.song_id)
    assert song.sample_rate == RATE and [s.name for s in song.stems] == ["guitar", "vocals"]
    source = sf.read(files["mix"], dtype="float32")[0].T
    full = store.load_audio(song.id)
    np.testing.assert_array_equal(full, source)  # the mix itself, 24 bits kept

    def balance(audio):
        return 20 * np.log10(np.sqrt(np.mean(audio[0] ** 2) / np.mean(audio[1] ** 2)))

    assert balance(full) == pytest.approx(balance(source), abs=0.5)
    assert balance(full) > 5  # not summed to mono and auto-panned
    guitar = store.load_audio(song.id, stem="guitar")
    np.testing.assert_array_equal(guitar, sf.read(files["guitar"], dtype="float32")[0].T)
    vocals_left, vocals_right = store.load_audio(song.id, stem="vocals")
    np.testing.assert_array_equal(vocals_left, vocals_right)
    # The rights it came with were logged in the ledger with the song.
    (event,) = list(ledger.events("catalog_rights"))
    assert event.id == imported.event_id and event.payload["new_song"]
    assert event.payload["row"] == "manifest.csv line 2"
    assert event.payload["consent_added"][0]["uses"] == ["private"]
    assert allowed(store, song.id, Use.PRIVATE) and not allowed(store, song.id, Use.COMMERCIAL)


def test_reimporting_a_changed_manifest_adds_versions_logged_first(store, tmp_path, ledger):
    music = tmp_path / "music"
    multitrack(music, "first")
    manifest = music / "manifest.csv"
    holders = "Ann Archer:0.5;Bow Street Music:0.5"
    manifest.write_text(HEADER + row("first", "First Light", holders, "private"))
    song_id = import_library(store, music, manifest, record=recorder(ledger)).imported[0].song_id
    assert not allowed(store, song_id, Use.COMMERCIAL)

    manifest.write_text(
        HEADER
        + row("first", "First Light", "Ann Archer:0.6;Bow Street Music:0.4", "private;commercial")
    )
    seen_before = []

    def record(kind, payload):
        seen_before.append([s.share for s in store.song(song_id).splits])  # not yet in effect
        return ledger.append(kind, payload).id

    report = import_library(store, music, manifest, record=record)

    assert not report.imported and not report.failed
    (updated,) = report.updated
    assert updated.song_id == song_id and updated.where == "manifest.csv line 2"
    assert updated.changes == (
        "rights: Ann Archer 0.5 → 0.6, Bow Street Music 0.5 → 0.4",
        "consent v2 added for holder-ann-archer (song_inference; commercial, private)",
        "consent v2 added for holder-bow-street-music (song_inference; commercial, private)",
    )
    assert seen_before == [[0.5, 0.5]]
    events = list(ledger.events("catalog_rights"))
    assert [e.id for e in events][-1] == updated.event_id
    payload = events[-1].payload
    assert (
        payload["splits"]["from"][0]["share"] == 0.5 and payload["splits"]["to"][0]["share"] == 0.6
    )
    assert [c["version"] for c in payload["consent_added"]] == [2, 2]
    assert payload["manifest"] == str(manifest) and payload["song_id"] == song_id
    # In effect now, as new versions beside the old ones.
    assert [s.share for s in store.song(song_id).splits] == [0.6, 0.4]
    history = store.consent.split_history(song_id)
    assert [v.version for v in history] == [1, 2] and history[1].event_id == updated.event_id
    versions = [(r.holder_id, r.version) for r in store.consent.consent_records([song_id])]
    assert versions == [
        ("holder-ann-archer", 1),
        ("holder-ann-archer", 2),
        ("holder-bow-street-music", 1),
        ("holder-bow-street-music", 2),
    ]
    assert allowed(store, song_id, Use.COMMERCIAL)
    assert "rights: Ann Archer 0.5 → 0.6" in report.summary()

    # The same manifest again: nothing to change, and the report says so.
    again = import_library(store, music, manifest, record=recorder(ledger))
    assert not again.updated and [(u.song_id, u.note) for u in again.unchanged] == [
        (song_id, "unchanged")
    ]
    assert "manifest.csv line 2): unchanged" in again.summary()
    assert len(list(ledger.events("catalog_rights"))) == 2


def test_rights_for_music_imported_without_a_manifest_can_be_registered(store, tmp_path, ledger):
    music = tmp_path / "music"
    multitrack(music, "loose")
    plain = import_library(store, music / "loose" / "mix.wav")
    song_id = plain.imported[0].song_id
    assert not allowed(store, song_id, Use.PRIVATE)  # unregistered: default deny

    manifest = music / "manifest.csv"
    manifest.write_text(HEADER + row("loose", "Loose", "Ann Archer:1", "private", stems=False))
    report = import_library(store, manifest, record=recorder(ledger))
    (updated,) = report.updated
    assert updated.changes[0] == (
        "rights: Ann Archer (new) 1, Unregistered rights holder 1 → removed"
    )
    assert allowed(store, song_id, Use.PRIVATE)


def test_a_rights_change_without_the_ledger_is_not_applied(store, tmp_path):
    music = tmp_path / "music"
    multitrack(music, "first")
    manifest = music / "manifest.csv"
    manifest.write_text(HEADER + row("first", "First Light", "Ann Archer:1", "private"))
    song_id = import_library(store, music, manifest).imported[0].song_id
    manifest.write_text(HEADER + row("first", "First Light", "Ann Archer:1", "commercial"))
    (failed,) = import_library(store, music, manifest).failed
    assert "not applied" in failed.reason and "ledger" in failed.reason
    assert not allowed(store, song_id, Use.COMMERCIAL)


def test_an_id_column_names_the_song_and_stems_at_another_rate_are_refused(store, tmp_path):
    music = tmp_path / "music"
    multitrack(music, "a")
    files = multitrack(music, "b", seed=1)
    sf.write(files["guitar"], np.zeros((48000, 2), np.float32), 48000)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        '[{"file": "music/a/mix.wav", "id": "take-7", "title": "A"},\n'
        ' {"file": "music/b/mix.wav", "title": "B", '
        '"stems": {"guitar": "music/b/guitar.wav"}}]\n'
    )
    report = import_library(store, manifest)
    assert [f.song_id for f in report.imported] == ["take-7"]
    (failed,) = report.failed
    assert "stem guitar" in failed.reason and "48000 Hz" in failed.reason
    assert "44100 Hz" in failed.reason


def test_a_bad_row_keeps_its_files_out_of_the_walk(store, tmp_path):
    music = tmp_path / "music"
    multitrack(music, "first")
    manifest = music / "manifest.csv"
    manifest.write_text(HEADER + row("first", "x" * 301, "Ann Archer:1", "private"))
    report = import_library(store, music, manifest)
    (failed,) = report.failed
    assert failed.reason == "manifest.csv line 2: title is 301 characters, at most 300"
    assert store.count() == 0  # neither the mix nor its stems became songs of their own


def test_stems_an_earlier_import_took_for_songs_are_named(store, tmp_path, ledger):
    music = tmp_path / "music"
    multitrack(music, "first")
    stray = import_library(store, music / "first" / "guitar.wav").imported[0].song_id
    manifest = music / "manifest.csv"
    manifest.write_text(HEADER + row("first", "First Light", "Ann Archer:1", "private"))
    (song,) = import_library(store, music, manifest, record=recorder(ledger)).imported
    assert song.song_id == "ann-archer-first-light" and song.stems == ("guitar", "vocals")
    assert f"guitar as {stray}" in song.note
    assert store.song(stray) is not None  # kept: it may have history of its own
