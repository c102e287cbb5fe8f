"""CatalogStore's parts (consent, imports, browse) work over the store's one connection."""

from datetime import UTC, datetime

import pytest
from catalog_fakes import HOLDER_A, HOLDER_B

from musicapp.catalog.browse import Browsing
from musicapp.catalog.consent_tables import ConsentTables
from musicapp.catalog.import_records import ImportRecords
from musicapp.catalog.search import SearchFilters
from musicapp.core import ConsentRecord, Level, Permission, Use

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def test_the_parts_share_the_store_connection_and_lock(store):
    assert isinstance(store.consent, ConsentTables)
    assert isinstance(store.imports, ImportRecords)
    assert isinstance(store.browse, Browsing)
    for part in (store.consent, store.imports, store.browse):
        assert part._db is store._db and part._lock is store._lock


def test_consent_written_through_its_part_narrows_the_store_search(store, make_song):
    store.add_song(*make_song("s1"))
    usable = SearchFilters(level=Level.AUDIO, use=Use.PRIVATE)
    assert store.browse.search("", 50, usable) == []
    for holder in (HOLDER_A, HOLDER_B):
        store.consent.add_consent(
            ConsentRecord("s1", holder.id, 1, frozenset(Permission), frozenset(Use), T0)
        )
    assert [s.id for s in store.browse.search("", 50, usable)] == ["s1"]


def test_an_import_is_recorded_in_the_same_transaction_as_its_song(store, make_song):
    song, files = make_song("s1")
    store.add_song(song, files, source=("/music/a.wav", "ab" * 32))
    assert store.imports.import_record("ab" * 32) == {"path": "/music/a.wav", "song_id": "s1"}
    assert store.imports.imported_song_at("/music/a.wav") == "s1"
    assert store.imports.import_record("cd" * 32) is None


def test_a_caller_from_before_the_split_fails_loudly(store):
    # Setting the rights server on the store itself would otherwise be a silent no-op.
    with pytest.raises(AttributeError):
        store.registry_server = "https://rights.example"
    assert not hasattr(store, "consent_records")
    assert store.consent.registry_server is None
