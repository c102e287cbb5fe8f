"""Prices per use tier and the amount of one take (issue 19: "the royalty table shows no prices
or amounts"): the prices a rights server publishes with each consent version are kept here, and
a take is priced by the versions its verification cited, not by whatever is newest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, InvalidInput, Level, Permission, Reference, Role, Use
from musicapp.core.consent import ConsentRecord
from musicapp.generation import registry
from musicapp.royalties.take_price import euro_text
from musicapp.testing.exports import FixedRateEngine

SONG = "fife-british-grenadiers"  # in the demo: one holder, everything allowed locally
HOLDER = "liberty-pole"
SERVER = "https://rights.example.org"
PRICES = {"private": 0.0, "non_commercial": 0.05, "commercial": 0.4, "commercial/parameter": 0.8}


def _record(version: int, day: int = 1) -> ConsentRecord:
    return ConsentRecord(
        SONG,
        HOLDER,
        version,
        frozenset(Permission),
        frozenset(Use),
        datetime(2025, 1, day, tzinfo=UTC),
    )


@pytest.fixture
def studio(demo_studio, monkeypatch):
    monkeypatch.setitem(registry._FACTORIES, FixedRateEngine.name, lambda: FixedRateEngine(44100))
    return demo_studio


def _served(studio, prices=PRICES) -> None:
    """The demo song's consent v1 as the rights server SERVER published it, just synced."""
    studio.catalog.consent.add_registry_consent(SERVER, _record(1), prices)
    studio.catalog.consent.registry_server = SERVER
    studio.sync.state.last_pull_at = datetime.now(UTC)  # fresh: commercial use is not held


def _take(studio, *song_ids: str, use: Use = Use.COMMERCIAL):
    refs = tuple(Reference(s) for s in song_ids)
    request = GenerationRequest(refs, use=use, duration_s=2.0, engine=FixedRateEngine.name)
    return studio.generate(request)


def test_a_take_is_priced_by_the_consent_versions_it_cited(studio) -> None:
    consent = studio.catalog.consent
    _served(studio)
    other = next(s for s in PERMITTED_SONG_IDS if s != SONG)  # no server record: local consent
    take = _take(studio, SONG, other)
    shares = take.provenance.song_shares()

    priced = studio.compensation.take_prices(take)
    assert priced.use == "commercial" and priced.server == SERVER
    [mine] = priced.holder(SONG, HOLDER)
    assert mine.version == 1 and mine.price("commercial") == 0.4
    assert mine.amount("commercial") == pytest.approx(shares[SONG] * 0.4)
    theirs = [h for h in priced.holders if h.song_id == other]
    assert theirs and all(h.prices is None and h.amount("commercial") is None for h in theirs)
    assert not priced.priced  # the other song's holders have no price: the total says so
    assert priced.total() == pytest.approx(shares[SONG] * 0.4)
    assert priced.total(song_id=other) is None
    assert dict(priced.per_use()) == pytest.approx(
        {"private": 0.0, "non_commercial": shares[SONG] * 0.05, "commercial": shares[SONG] * 0.4}
    )

    # A newer version with other prices does not reprice a take already made, also when the
    # take is opened again from the ledger (Take history).
    consent.add_registry_consent(SERVER, _record(2), {"commercial": 9.0})
    again = studio.compensation.take_prices(studio.take(take.id))
    assert again.holder(SONG, HOLDER)[0].version == 1
    assert again.total() == pytest.approx(shares[SONG] * 0.4)
    assert studio.compensation.take_prices(_take(studio, SONG)).total() == pytest.approx(9.0)


def test_a_level_price_wins_over_the_use_price(studio) -> None:
    _served(studio)
    ref = (Reference(SONG, level=Level.PARAMETER, role=Role.MELODY),)
    request = GenerationRequest(ref, use=Use.COMMERCIAL, duration_s=2.0, engine="concat")
    take = studio.generate(request)
    [mine] = studio.compensation.take_prices(take).holders
    assert mine.level == "parameter" and mine.price("commercial") == 0.8
    assert mine.price("non_commercial") == 0.05  # no level price there: the use's


def test_without_a_rights_server_nothing_has_a_price(studio) -> None:
    priced = studio.compensation.take_prices(_take(studio, SONG))
    assert priced.server is None and priced.holders
    assert priced.total() is None and not priced.priced
    assert all(amount is None for _, amount in priced.per_use())


def test_prices_are_append_only_and_a_changed_price_list_is_refused(studio) -> None:
    consent = studio.catalog.consent
    assert consent.add_registry_consent(SERVER, _record(1)) is True  # published without prices
    consent.registry_server = SERVER
    assert consent.registry_prices([(SONG, HOLDER, 1)]) == {}
    # The feed read again after prices were kept here: the version gets its prices once.
    assert consent.add_registry_consent(SERVER, _record(1), PRICES) is False
    assert consent.registry_prices([(SONG, HOLDER, 1)]) == {(SONG, HOLDER, 1): PRICES}
    with pytest.raises(InvalidInput, match="version 1 again with other prices"):
        consent.add_registry_consent(SERVER, _record(1), {"commercial": 1.0})
    assert consent.registry_prices([(SONG, HOLDER, 1)]) == {(SONG, HOLDER, 1): PRICES}


def test_prices_arrive_with_the_servers_consent_feed(synced_app, server) -> None:
    from musicapp.sync.engine import SyncEngine

    settings, catalog, ledger = synced_app
    grant = {
        "song_id": SONG,
        "holder_id": HOLDER,
        "version": 1,
        "permissions": ["song_inference"],
        "uses": ["private", "commercial"],
        "effective_from": "2025-01-01T00:00:00+00:00",
        "revoked_at": None,
        "prices": {"commercial": 0.25, "private": 0},
    }
    server.publish("consent", grant)
    # A price list the server should never have sent: the record is held back, named.
    server.publish("consent", {**grant, "version": 2, "prices": {"resale": 1.0}})
    engine = SyncEngine(settings, catalog, ledger, server.transport(), sleep=lambda s: None)
    engine.sync_once()
    assert catalog.consent.registry_prices([(SONG, HOLDER, 1), (SONG, HOLDER, 2)]) == {
        (SONG, HOLDER, 1): {"commercial": 0.25, "private": 0.0}
    }
    [held] = engine.state.quarantined()
    assert "prices.resale: not a use tier" in held.reason
    assert catalog.consent.registry_versions([SONG]) == {(SONG, HOLDER): 1}


def test_amounts_read_as_money() -> None:
    assert euro_text(1.2) == "€1.20"
    assert euro_text(0.015) == "€0.015"
    assert euro_text(0.0) == "€0.00"
    assert euro_text(0.1) == "€0.10" and euro_text(0.06) == "€0.06"
    assert euro_text(0.0004) == "< €0.001"
    assert euro_text(1234.5) == "€1,234.50"
