"""Consent as the rights server published it: in force over local seeds, append-only, kept apart
per server, and reflected in the "usable for" filter."""

from datetime import UTC, datetime

import pytest

from musicapp.catalog.search import SearchFilters
from musicapp.catalog.store import CatalogStore
from musicapp.core import InvalidInput, Level, Use
from musicapp.core.consent import ConsentRecord, Permission

SONG = "fife-british-grenadiers"  # in the demo, one holder, everything allowed locally
HOLDER = "liberty-pole"
SINCE = datetime(2025, 1, 1, tzinfo=UTC)


def _record(version: int, uses: set[Use]) -> ConsentRecord:
    return ConsentRecord(SONG, HOLDER, version, frozenset(Permission), frozenset(uses), SINCE)


@pytest.fixture
def store(demo_data_dir):
    with CatalogStore(demo_data_dir / "catalog.sqlite", demo_data_dir / "audio") as store:
        yield store


def _commercially_usable(store: CatalogStore) -> bool:
    found = store.browse.search("", limit=1000, filters=SearchFilters(Level.SONG, Use.COMMERCIAL))
    return SONG in {s.id for s in found}


def test_the_registry_in_force_replaces_local_seeds_for_the_holders_it_published(store):
    assert _commercially_usable(store)  # the demo seed allows it
    assert store.consent.add_registry_consent("https://a.example", _record(1, {Use.PRIVATE}))
    # Not in force until that server is the one this folder syncs with.
    assert Use.COMMERCIAL in store.consent.consent_records([SONG])[0].uses
    store.consent.registry_server = "https://a.example"
    [record] = store.consent.consent_records([SONG])
    assert record.uses == frozenset({Use.PRIVATE})
    assert not _commercially_usable(store)  # the search filter follows the registry
    store.consent.registry_server = None
    assert _commercially_usable(store)


def test_registry_versions_are_append_only_and_idempotent(store):
    first = _record(1, {Use.PRIVATE})
    assert store.consent.add_registry_consent("https://a.example", first) is True
    # A page read again:
    assert store.consent.add_registry_consent("https://a.example", first) is False
    with pytest.raises(InvalidInput, match="version 1 again with other contents"):
        store.consent.add_registry_consent("https://a.example", _record(1, {Use.COMMERCIAL}))
    assert store.consent.add_registry_consent("https://a.example", _record(3, set()))
    with pytest.raises(InvalidInput, match="version 2 is older than 3"):
        store.consent.add_registry_consent("https://a.example", _record(2, {Use.COMMERCIAL}))
    # Another server's version 1 is its own fact, not a conflict.
    assert store.consent.add_registry_consent("https://b.example", _record(1, {Use.COMMERCIAL}))
    store.consent.registry_server = "https://a.example"
    assert [r.version for r in store.consent.consent_records([SONG])] == [1, 3]
    with pytest.raises(Exception, match="append-only"):
        store._db.execute("DELETE FROM registry_consent")


def test_registry_consent_must_name_a_holder_of_a_known_song(store):
    with pytest.raises(InvalidInput, match="unknown song"):
        store.consent.add_registry_consent(
            "https://a.example",
            ConsentRecord("nope", HOLDER, 1, frozenset(), frozenset(), SINCE),
        )
    with pytest.raises(InvalidInput, match="not one of its rights holders"):
        store.consent.add_registry_consent(
            "https://a.example",
            ConsentRecord(SONG, "someone-else", 1, frozenset(), frozenset(), SINCE),
        )
