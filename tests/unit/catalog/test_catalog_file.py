"""Opening the catalogue file: migrations, reopening, and clear errors for files it cannot use."""

import os
import sqlite3

import pytest
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
        assert [s.id for s in store.search("morning")] == ["old-1"]  # indexed by migration 2


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
    from musicapp.catalog import store as store_module

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
