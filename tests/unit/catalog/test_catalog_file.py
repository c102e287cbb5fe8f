"""Opening the catalogue file: migrations, reopening, and clear errors for files it cannot use."""

import os
import sqlite3

import numpy as np
import pytest
import soundfile as sf
from sqlite_utils import Database

from musicapp.catalog.migrations import LATEST_VERSION, migrate
from musicapp.catalog.store import CatalogError, CatalogStore
from musicapp.core import InvalidInput


def test_a_new_catalogue_is_at_the_latest_schema_in_wal_mode(tmp_path):
    store = CatalogStore(tmp_path / "new" / "catalog.sqlite", tmp_path / "audio")
    assert store.schema_version == LATEST_VERSION
    assert store.is_empty() and store.count() == 0
    store.close()
    with sqlite3.connect(tmp_path / "new" / "catalog.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [v for (v,) in db.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == list(range(1, LATEST_VERSION + 1))


def test_reopening_changes_nothing(tmp_path, make_song):
    path, audio = tmp_path / "catalog.sqlite", tmp_path / "audio"
    with CatalogStore(path, audio) as store:
        store.add_song(*make_song("s1"))
        before = store.all_songs()
    for _ in range(2):
        with CatalogStore(path, audio) as store:
            assert store.all_songs() == before
            assert store.schema_version == LATEST_VERSION
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == LATEST_VERSION


def test_an_older_catalogue_is_migrated_and_keeps_its_songs(tmp_path):
    path = tmp_path / "catalog.sqlite"
    db = Database(sqlite3.connect(path))
    migrate(db, upto=1)
    db.execute(
        "INSERT INTO songs (id, title, artist, album, genre, duration_s, added_at) "
        "VALUES ('old-1', 'Morning Song', 'Ann Archer', 'Early', 'Folk', 3.0, '2024-01-01')"
    )
    db.conn.commit()
    db.close()

    with CatalogStore(path, tmp_path / "audio") as store:
        assert store.schema_version == LATEST_VERSION
        assert [s.id for s in store.browse.search("morning")] == ["old-1"]  # indexed by migration 2


def test_a_catalogue_from_a_newer_app_is_refused(tmp_path):
    path = tmp_path / "catalog.sqlite"
    CatalogStore(path, tmp_path / "audio").close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (?, '2030-01-01')", [LATEST_VERSION + 5])
    with pytest.raises(CatalogError, match="newer musicapp") as err:
        CatalogStore(path, tmp_path / "audio")
    assert str(path) in str(err.value)


def test_garbage_bytes_give_a_clear_error(tmp_path):
    path = tmp_path / "catalog.sqlite"
    path.write_bytes(os.urandom(5000))
    with pytest.raises(CatalogError) as err:
        CatalogStore(path, tmp_path / "audio")
    assert str(path) in str(err.value) and "not a SQLite database" in str(err.value)
    assert isinstance(err.value, InvalidInput)


def test_a_folder_given_as_the_catalogue_gives_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="is a folder") as err:
        CatalogStore(tmp_path, tmp_path / "audio")
    assert str(tmp_path) in str(err.value)


def test_a_catalogue_whose_folder_cannot_be_made_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(CatalogError, match="cannot create its folder"):
        CatalogStore(blocker / "catalog.sqlite", tmp_path / "audio")


@pytest.mark.parametrize("offset", [100, 3 * 4096])
def test_a_damaged_catalogue_gives_a_clear_error(tmp_path, make_song, offset):
    path = tmp_path / "catalog.sqlite"
    with CatalogStore(path, tmp_path / "audio") as store:
        store.add_song(*make_song("s1"))
    data = bytearray(path.read_bytes())
    data[offset : offset + 2000] = b"\xa5" * 2000
    path.write_bytes(bytes(data))
    with pytest.raises(CatalogError, match="damaged") as err:
        CatalogStore(path, tmp_path / "audio")
    assert str(path) in str(err.value)


@pytest.mark.parametrize("offset", [4096 * 3])
def test_large_catalogue_opens_fast_and_damage_is_found_on_demand(
    tmp_path, make_song, offset, monkeypatch
):
    """Above the full-check size, opening skips the page scan; check_integrity still finds it."""
    from musicapp.catalog import store_file as store_module

    path = tmp_path / "catalog.sqlite"
    with CatalogStore(path, tmp_path / "audio") as store:
        store.add_song(*make_song("s1"))
    data = bytearray(path.read_bytes())
    data[offset : offset + 2000] = b"\xa5" * 2000
    path.write_bytes(bytes(data))
    monkeypatch.setattr(store_module, "FULL_CHECK_MAX_BYTES", 0)
    opened = CatalogStore(path, tmp_path / "audio")
    with pytest.raises(CatalogError, match="damaged") as err:
        opened.check_integrity()
    assert str(path) in str(err.value)


def _old_song(db: Database, audio_dir, song_id: str, stems: dict, gain: float) -> None:
    """A song as the previous schema (8) kept it: mono 16-bit FLAC stems at 32 kHz, one gain."""
    db["songs"].insert(
        {
            "id": song_id,
            "title": song_id,
            "artist": "Ann Archer",
            "album": "Old",
            "genre": "Folk",
            "duration_s": 1.0,
            "mix_gain": gain,
            "added_at": "2024-01-01T00:00:00+00:00",
        }
    )
    db["splits"].insert({"song_id": song_id, "holder_id": "h-a", "share": 1.0, "position": 0})
    for i, (name, (family, role, audio)) in enumerate(stems.items()):
        row = {"song_id": song_id, "name": name, "instrument": name, "family": family}
        db["stems"].insert({**row, "role": role, "position": i})
        (audio_dir / song_id).mkdir(parents=True, exist_ok=True)
        sf.write(audio_dir / song_id / f"{name}.flac", audio, 32000, subtype="PCM_16")
    db["songs_fts"].insert({"song_id": song_id, "title": song_id, "artist": "Ann Archer"})


def test_an_older_catalogues_audio_loads_exactly_as_before(tmp_path):
    path, audio_dir = tmp_path / "catalog.sqlite", tmp_path / "audio"
    db = Database(sqlite3.connect(path))
    migrate(db, upto=8)  # the schema before songs kept their own rate
    db["holders"].insert({"id": "h-a", "name": "Ann Archer", "kind": "composer"})
    t = np.arange(32000) / 32000
    left, right = 0.9 * np.sin(2 * np.pi * 300 * t), 0.5 * np.sin(2 * np.pi * 500 * t)
    # An imported stereo recording: its channels as stems of role "mix", fixed gains.
    _old_song(
        db,
        audio_dir,
        "rec",
        {"mix-left": ("mix", "mix", left), "mix-right": ("mix", "mix", right)},
        0.9,
    )
    # Rendered parts: mono stems panned by role (melody, bass centred; harmony at -0.5).
    tones = {
        n: 0.5 * np.sin(2 * np.pi * hz * t)
        for n, hz in (("melody", 880), ("harmony", 440), ("bass", 110))
    }
    parts = {n: ("synth", n, a) for n, a in tones.items()}
    _old_song(db, audio_dir, "parts", parts, 0.75)
    db.conn.commit()
    db.close()

    def stored(song_id, name):
        return sf.read(audio_dir / song_id / f"{name}.flac", dtype="float32")[0]

    with CatalogStore(path, audio_dir) as store:
        assert store.schema_version == LATEST_VERSION
        rec, parts_song = store.song("rec"), store.song("parts")
        assert rec.sample_rate == parts_song.sample_rate == 32000
        assert rec.stems == () and store.has_own_mix("rec")
        assert set(store.audio_files("rec")) == {"mix-left", "mix-right"}
        np.testing.assert_allclose(
            store.load_audio("rec"),
            np.stack([stored("rec", "mix-left"), stored("rec", "mix-right")]) * 0.9,
            atol=1e-7,
        )
        assert [s.name for s in parts_song.stems] == ["melody", "harmony", "bass"]
        theta = {"melody": np.pi / 4, "harmony": np.pi / 8, "bass": np.pi / 4}  # (pan + 1) π/4
        before = (
            sum(np.outer([np.cos(theta[n]), np.sin(theta[n])], stored("parts", n)) for n in tones)
            * 0.75
        )
        np.testing.assert_allclose(store.load_audio("parts"), before, atol=1e-6)
        # The mix channels were never instruments; the rendered parts still are.
        assert [n.label for n in store.browse.children((), "instrument")] == ["synth"]
