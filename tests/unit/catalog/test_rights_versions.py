"""Changing a song's rights: new split and consent versions, in force from then, nothing edited."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from catalog_fakes import HOLDER_A, HOLDER_B

from musicapp.core import ConsentRecord, InvalidInput, Permission, RightsHolder, Split, Use

HOLDER_C = RightsHolder("h-c", "Cara Cole", "performer")


def test_new_splits_are_a_version_in_force_from_their_time(store, make_song):
    store.add_song(*make_song("s1"))
    added = datetime.now(UTC)
    later = added + timedelta(seconds=5)
    new = (Split(HOLDER_A, 0.5), Split(HOLDER_B, 0.3), Split(HOLDER_C, 0.2))
    consent = ConsentRecord("s1", HOLDER_C.id, 1, frozenset(Permission), frozenset(Use), later)
    version = store.consent.update_rights(
        "s1", new, [consent], effective_from=later, source="m.csv line 2", event_id="ev-1"
    )
    assert version == 2
    assert store.song("s1").splits == new
    # A take made before the change was paid with the splits in force then.
    assert store.songs(["s1"], at=added)["s1"].splits[0].share == 0.6
    assert store.songs(["s1"], at=later)["s1"].splits == new
    history = store.consent.split_history("s1")
    assert [(v.version, v.source, v.event_id) for v in history] == [
        (1, "", ""),
        (2, "m.csv line 2", "ev-1"),
    ]
    assert [s.share for s in history[0].splits] == [0.6, 0.4]
    assert history[1].effective_from == later
    assert [(r.holder_id, r.version) for r in store.consent.consent_records(["s1"])] == [("h-c", 1)]
    # Neither the versions nor the first splits can be rewritten, even by hand.
    for sql in ("UPDATE split_versions SET share = 1", "UPDATE splits SET share = 1"):
        with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.IntegrityError):
            db.execute(sql)


def test_a_bad_change_changes_nothing(store, make_song):
    store.add_song(*make_song("s1"))
    at = datetime.now(UTC)
    ok = ConsentRecord("s1", HOLDER_A.id, 1, frozenset(Permission), frozenset(Use), at)
    stranger = ConsentRecord("s1", "nobody", 1, frozenset(Permission), frozenset(Use), at)
    with pytest.raises(InvalidInput, match="not one of its rights holders"):
        store.consent.update_rights(
            "s1", (Split(HOLDER_A, 1.0),), [ok, stranger], effective_from=at
        )
    with pytest.raises(InvalidInput, match="add up to"):
        store.consent.update_rights("s1", (Split(HOLDER_A, 0.5),), [], effective_from=at)
    renamed = RightsHolder(HOLDER_A.id, "Someone Else", "composer")
    with pytest.raises(InvalidInput, match="is 'Ann Archer'"):
        store.consent.update_rights("s1", (Split(renamed, 1.0),), [], effective_from=at)
    assert [s.share for s in store.song("s1").splits] == [0.6, 0.4]
    assert len(store.consent.split_history("s1")) == 1 and store.consent.consent_records() == []
