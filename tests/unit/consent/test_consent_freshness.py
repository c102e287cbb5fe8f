"""Consent freshness: commercial use fails closed on a stale or never-synced cache (server set),
never in local-only mode; a revocation synced from the server blocks the very next request."""

from datetime import UTC, datetime, timedelta

import pytest

from musicapp.consent.service import ConsentService
from musicapp.core import GenerationRequest, Level, Reference, Use
from musicapp.sync.engine import SyncEngine
from musicapp.sync.state import SyncState

SONG = "fife-british-grenadiers"  # one holder (liberty-pole), song level allowed for every use


def _request(use: Use) -> GenerationRequest:
    return GenerationRequest(references=(Reference(SONG, Level.SONG),), use=use)


def test_local_only_mode_never_applies_the_freshness_rule(synced_app):
    settings, catalog, _ = synced_app
    settings.server_url = ""
    check = ConsentService(catalog, settings).check_detailed(_request(Use.COMMERCIAL))
    assert check.verification.allowed
    assert check.freshness.local_only and check.freshness.cache_age_s is None
    assert ConsentService(catalog).check(_request(Use.COMMERCIAL)).allowed  # as before issue 3


def test_never_synced_refuses_commercial_use_only(synced_app):
    settings, catalog, _ = synced_app
    service = ConsentService(catalog, settings)
    refused = service.check(_request(Use.COMMERCIAL))
    assert not refused.allowed
    (reason,) = refused.decisions[0].reasons
    assert "never been synced" in reason and "24.0 h" in reason
    assert service.check(_request(Use.PRIVATE)).allowed
    assert service.check(_request(Use.NON_COMMERCIAL)).allowed


def test_a_cache_older_than_the_ttl_refuses_commercial_use_naming_age_and_ttl(synced_app):
    settings, catalog, _ = synced_app
    state = SyncState.in_folder(settings.data_dir)
    now = datetime.now(UTC)
    state.last_pull_at = now - timedelta(hours=25)
    service = ConsentService(catalog, settings, state)
    check = service.check_detailed(_request(Use.COMMERCIAL), at=now)
    assert not check.verification.allowed
    assert "25.0 h old, older than the 24.0 h" in check.verification.summary()
    assert check.freshness.to_dict()["cache_age_s"] == 25 * 3600
    assert check.verification.decisions[0].consent_versions == (("liberty-pole", 1),)
    state.last_pull_at = now - timedelta(hours=23)
    assert service.check(_request(Use.COMMERCIAL), at=now).allowed
    state.set("consent_ttl_s", str(3600))  # the TTL chosen in the settings dialog wins
    assert "1.0 h allowed" in service.check(_request(Use.COMMERCIAL), at=now).summary()


def test_a_revocation_blocks_the_first_request_after_the_sync_that_brings_it(synced_app, server):
    settings, catalog, ledger = synced_app
    engine = SyncEngine(settings, catalog, ledger, server.transport())
    service = ConsentService(catalog, settings, engine.state)
    engine.sync_once()
    assert service.check(_request(Use.COMMERCIAL)).allowed
    revoked_at = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    server.publish(
        "consent",
        {
            "song_id": SONG,
            "holder_id": "liberty-pole",
            "version": 2,
            "permissions": ["song_inference", "parameter_inference"],
            "uses": ["private", "non_commercial", "commercial"],
            "effective_from": "2024-01-01T00:00:00+00:00",
            "revoked_at": revoked_at,
            "prices": {"commercial": 0.1},
            "recorded_at": revoked_at,
        },
    )
    assert service.check(_request(Use.PRIVATE)).allowed  # not yet heard of
    engine.sync_once()
    refused = service.check(_request(Use.PRIVATE))
    assert not refused.allowed
    assert "revoked consent" in refused.summary() and "consent version 2" in refused.summary()
    assert refused.decisions[0].consent_versions == (("liberty-pole", 2),)


def test_the_studio_logs_the_cache_it_relied_on_and_refuses_a_stale_commercial_request(synced_app):
    from musicapp.studio import Studio

    settings, catalog, ledger = synced_app
    studio = Studio(settings, catalog, ledger)
    verification, event_id = studio.verify(_request(Use.COMMERCIAL))
    assert not verification.allowed and "never been synced" in verification.summary()
    logged = studio.ledger.get(event_id).payload["consent_cache"]
    assert logged["server_url"] == settings.server_url and logged["cache_age_s"] is None
    settings.server_url = ""  # local-only: the demo keeps working offline
    verification, event_id = studio.verify(_request(Use.COMMERCIAL))
    assert verification.allowed
    assert studio.ledger.get(event_id).payload["consent_cache"]["local_only"] is True


def test_a_revocation_applies_at_once_even_when_the_server_clock_is_ahead(synced_app, server):
    settings, catalog, ledger = synced_app
    ahead = timedelta(hours=2)
    server.clock_ahead = ahead  # the time it signs its feed pages with
    engine = SyncEngine(settings, catalog, ledger, server.transport())
    service = ConsentService(catalog, settings, engine.state)
    engine.sync_once()
    assert service.check(_request(Use.PRIVATE)).allowed
    # The server stamps the revocation with its own "now": two hours in this machine's future.
    revoked_at = (datetime.now(UTC) + ahead - timedelta(seconds=1)).isoformat()
    server.publish(
        "consent",
        {
            "song_id": SONG,
            "holder_id": "liberty-pole",
            "version": 2,
            "permissions": ["song_inference"],
            "uses": ["private", "non_commercial", "commercial"],
            "effective_from": revoked_at,
            "revoked_at": revoked_at,
            "prices": {},
            "recorded_at": revoked_at,
        },
    )
    engine.sync_once()
    check = service.check_detailed(_request(Use.PRIVATE))
    assert not check.verification.allowed
    assert "consent version 2" in check.verification.summary()
    assert check.freshness.to_dict()["clock_offset_s"] == pytest.approx(7200, abs=2)
    assert check.freshness.cache_age_s is not None and check.freshness.cache_age_s < 60
