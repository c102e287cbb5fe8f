"""Where each consent decision comes from (issue 19: "after syncing with a registry that has no
record for a song, commercial use still shows Cleared with no sign of where the consent came
from"): the rights server's published versions, or this computer's records, said per song."""

from __future__ import annotations

from datetime import UTC, datetime

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.consent.service import ConsentService
from musicapp.core import Permission, Use
from musicapp.core.consent import ConsentRecord

SONG = "fife-british-grenadiers"  # in the demo: one holder, everything allowed locally
HOLDER = "liberty-pole"


def test_local_only_says_this_computers_records(demo_studio) -> None:
    sources = demo_studio.consent_sources([SONG])
    assert sources[SONG].words() == "Consent from this computer's records (no rights server set)"
    assert not sources[SONG].unknown_to_server


def test_with_a_server_each_song_says_whether_the_server_published_its_consent(
    demo_studio,
) -> None:
    store = demo_studio.catalog
    record = ConsentRecord(
        SONG, HOLDER, 1, frozenset(Permission), frozenset(Use), datetime(2025, 1, 1, tzinfo=UTC)
    )
    store.consent.add_registry_consent("https://rights.example.org", record)
    store.consent.registry_server = "https://rights.example.org"
    other = next(s for s in PERMITTED_SONG_IDS if s != SONG)
    sources = ConsentService(store).sources([SONG, other])
    assert sources[SONG].words() == "Consent from the rights server rights.example.org"
    assert not sources[SONG].unknown_to_server
    words = sources[other].words()
    assert words == (
        "Consent from this computer's records: the rights server rights.example.org has no "
        "record for this song"
    )
    assert sources[other].unknown_to_server
