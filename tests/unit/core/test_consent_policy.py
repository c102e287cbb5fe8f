"""The consent policy over every Table 1 flag x Table 2 use, revocation and default deny."""

from datetime import UTC, datetime, timedelta
from itertools import combinations, product

import pytest

from musicapp.core import (
    ConsentRecord,
    Level,
    Permission,
    Reference,
    RightsHolder,
    Role,
    Song,
    Split,
    TimeRange,
    Use,
    decide,
)

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
ALICE = RightsHolder("h-alice", "Alice Estate")
BOB = RightsHolder("h-bob", "Bob Publishing", "publisher")
SONG = Song(
    "s1", "Air", "Composer", "Album", "Baroque", splits=(Split(ALICE, 0.6), Split(BOB, 0.4))
)

LEVEL_FLAG = {
    Level.SONG: Permission.SONG_INFERENCE,
    Level.PARAMETER: Permission.PARAMETER_INFERENCE,
    Level.AUDIO: Permission.AUDIO_INFERENCE,
    Level.TEMPORAL: Permission.AUDIO_INFERENCE,
}


def ref(level: Level) -> Reference:
    return Reference(
        "s1",
        level,
        role=Role.MELODY if level is Level.PARAMETER else None,
        time_range=TimeRange(0, 5) if level is Level.TEMPORAL else None,
    )


def record(
    holder, permissions, uses, version=1, revoked_at=None, effective=NOW - timedelta(days=1)
):
    return ConsentRecord(
        "s1", holder.id, version, frozenset(permissions), frozenset(uses), effective, revoked_at
    )


ALL_FLAG_SETS = [
    frozenset(c) for n in range(len(Permission) + 1) for c in combinations(list(Permission), n)
]
ALL_USE_SETS = [frozenset(c) for n in range(len(Use) + 1) for c in combinations(list(Use), n)]


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize("use", list(Use))
def test_every_flag_and_use_combination_allows_exactly_when_both_holders_grant_it(level, use):
    checked = 0
    for flags, uses in product(ALL_FLAG_SETS, ALL_USE_SETS):
        records = [record(ALICE, flags, uses), record(BOB, set(Permission), set(Use))]
        decision = decide(ref(level), use, SONG, records, NOW)
        expected = LEVEL_FLAG[level] in flags and use in uses
        assert decision.allowed is expected, (flags, uses)
        if not expected:
            assert any("Alice Estate" in r for r in decision.reasons)
            assert not any("Bob Publishing" in r for r in decision.reasons)
        checked += 1
    assert checked == 16 * 8


def test_model_training_flag_alone_allows_no_inference():
    records = [record(h, {Permission.MODEL_TRAINING}, set(Use)) for h in (ALICE, BOB)]
    for level in Level:
        assert not decide(ref(level), Use.PRIVATE, SONG, records, NOW).allowed


def test_reason_names_the_holder_and_the_uses_allowed():
    records = [
        record(ALICE, {Permission.SONG_INFERENCE}, {Use.PRIVATE}),
        record(BOB, set(Permission), set(Use)),
    ]
    decision = decide(ref(Level.SONG), Use.COMMERCIAL, SONG, records, NOW)
    assert not decision.allowed
    assert decision.reasons == (
        "Rights holder Alice Estate allows song-level use for private use only (consent version 1)",
    )
    assert decision.alternatives == ("song level for private use only",)


def test_default_deny_when_any_holder_has_no_record():
    records = [record(ALICE, set(Permission), set(Use))]
    decision = decide(ref(Level.SONG), Use.PRIVATE, SONG, records, NOW)
    assert not decision.allowed
    assert "Bob Publishing has not given consent" in decision.reasons[0]
    assert "default deny" in decision.reasons[0]


def test_unknown_song_and_song_without_holders_are_refused():
    assert not decide(ref(Level.SONG), Use.PRIVATE, None, [], NOW).allowed
    orphan = Song("s1", "Air", "C", "A", "G")
    decision = decide(ref(Level.SONG), Use.PRIVATE, orphan, [], NOW)
    assert not decision.allowed and "no registered rights holders" in decision.reasons[0]


def test_revocation_blocks_from_its_time_and_cites_the_version():
    granted = record(ALICE, set(Permission), set(Use), version=1)
    revoked = record(
        ALICE, set(Permission), set(Use), version=2, revoked_at=NOW - timedelta(hours=1)
    )
    bob = record(BOB, set(Permission), set(Use))
    before = decide(ref(Level.SONG), Use.PRIVATE, SONG, [granted, bob], NOW)
    after = decide(ref(Level.SONG), Use.PRIVATE, SONG, [granted, revoked, bob], NOW)
    assert before.allowed
    assert not after.allowed
    assert "revoked consent" in after.reasons[0] and "version 2" in after.reasons[0]
    # A revocation dated in the future is not yet in force.
    later = record(ALICE, set(Permission), set(Use), version=2, revoked_at=NOW + timedelta(days=1))
    assert decide(ref(Level.SONG), Use.PRIVATE, SONG, [granted, later, bob], NOW).allowed


def test_newest_version_in_force_wins_and_future_versions_wait():
    old = record(ALICE, set(Permission), set(Use), version=1)
    narrower = record(ALICE, {Permission.SONG_INFERENCE}, {Use.PRIVATE}, version=2)
    future = record(ALICE, set(Permission), set(Use), version=3, effective=NOW + timedelta(days=2))
    bob = record(BOB, set(Permission), set(Use))
    d = decide(ref(Level.SONG), Use.COMMERCIAL, SONG, [old, narrower, future, bob], NOW)
    assert not d.allowed
    assert dict(d.consent_versions)["h-alice"] == 2


def test_allowed_decision_records_consent_versions():
    records = [
        record(ALICE, set(Permission), set(Use), version=3),
        record(BOB, set(Permission), set(Use)),
    ]
    d = decide(ref(Level.PARAMETER), Use.COMMERCIAL, SONG, records, NOW)
    assert d.allowed
    assert dict(d.consent_versions) == {"h-alice": 3, "h-bob": 1}
    assert d.reasons == (
        "All 2 rights holders allow parameter-level use for commercial distribution",
    )
