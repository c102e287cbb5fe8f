"""The consent feed under attack (issue 12): a poison pill, fail-open freshness, a forged or
replayed feed, plain HTTP. Receipts and file modes: test_sync_client.py; recovery: test_recovery.py."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from musicapp.cli import main
from musicapp.config import Settings
from musicapp.consent.service import ConsentService
from musicapp.core import ConsentRecord, GenerationRequest, InvalidInput, Level, Reference, Use
from musicapp.core.codec import song_to_dict
from musicapp.core.consent import Permission
from musicapp.server import registry
from musicapp.sync.engine import SyncEngine, SyncError
from musicapp.sync.state import SyncState
from musicapp.testing.fake_server import FakeServer
from musicapp.testing.sync_helpers import AppTransport
from musicapp.transparency import signing

SONG = "ryans-soldiers-joy"  # "full" consent in the small demo: every level and use
OTHER = "bach-bwv269"  # "full" too
ALL = {
    "permissions": ["song_inference", "parameter_inference", "audio_inference"],
    "uses": ["private", "non_commercial", "commercial"],
}


def _engine(synced_app, transport, **kw) -> SyncEngine:
    settings, catalog, ledger = synced_app
    kw.setdefault("sleep", lambda s: None)
    return SyncEngine(settings, catalog, ledger, transport, **kw)


def _request(song: str, use: Use) -> GenerationRequest:
    return GenerationRequest(references=(Reference(song, Level.SONG),), use=use)


def _holder(catalog, song: str) -> str:
    return catalog.song(song).splits[0].holder.id


def _reasons(verification) -> str:
    return " ".join(r for d in verification.decisions for r in d.reasons)


def _publish(server: FakeServer, song: str, holder: str, version: int, **fields) -> int:
    record = {
        "song_id": song,
        "holder_id": holder,
        "version": version,
        **ALL,
        "effective_from": "2025-01-01T00:00:00+00:00",
        "revoked_at": None,
        **fields,
    }
    return server.publish("consent", record)


# -- 1. the poison pill ---------------------------------------------------------------------------


def test_year_edge_consent_times_are_refused_at_the_api_naming_the_field(env) -> None:
    env.add_songs()
    grant = {"song_id": "song-a", "holder_id": "h-ann", **ALL}
    assert env.post("/v1/consent", env.ann, grant).status_code == 201
    feed_before = env.get("/v1/feed", env.ann, limit=1000).json()["next"]
    bad = [
        "9999-12-31T23:59:59-05:00",  # overflows the moment it is turned into UTC
        "0001-01-01T00:00:00+14:00",
        "1969-12-31T23:59:59+00:00",
        "3000-01-01T00:00:00Z",
        "2026-01-01T00:00:00",  # no zone
        "not a time",
        "2026-01-01T00:00:00+00:00" + "x" * 100_000,
    ]
    for value in bad:
        revoke = {"song_id": "song-a", "holder_id": "h-ann", "revoked_at": value}
        r = env.post("/v1/consent/revoke", env.ann, revoke)
        assert r.status_code == 422, (value[:40], r.text[:200])
        assert r.json()["detail"].startswith("revoked_at"), r.json()["detail"][:200]
        assert len(r.json()["detail"]) < 300  # an excerpt, never the value echoed whole
        r = env.post("/v1/consent", env.ann, {**grant, "effective_from": value})
        assert r.status_code == 422 and r.json()["detail"].startswith("effective_from")
    assert env.get("/v1/feed", env.ann, limit=1000).json()["next"] == feed_before  # nothing added
    # A time in another zone is stored and published once, in UTC.
    ok = {"song_id": "song-a", "holder_id": "h-ann", "revoked_at": "2026-03-01T12:00:00+05:00"}
    r = env.post("/v1/consent/revoke", env.ann, ok)
    assert r.status_code == 201 and r.json()["revoked_at"] == "2026-03-01T07:00:00+00:00"


def _real_server(env, catalog, *songs: str) -> None:
    """Register the demo songs on the in-process server, each with full consent (version 1)."""
    for song_id in songs:
        song = song_to_dict(catalog.song(song_id))
        assert env.post("/v1/songs", env.admin, {"song": song}).status_code == 201
        grant = {"song_id": song_id, "holder_id": _holder(catalog, song_id), **ALL}
        assert env.post("/v1/consent", env.admin, grant).status_code == 201


def test_a_poisoned_feed_record_is_quarantined_and_later_revocations_still_arrive(
    env, synced_app
) -> None:
    settings, catalog, _ = synced_app
    _real_server(env, catalog, SONG, OTHER)
    # What a server without the API's time check stored: a year-edge revocation (version 2).
    with env.server.engine.begin() as conn:
        poison = registry._insert_consent(
            conn,
            {
                "song_id": SONG,
                "holder_id": _holder(catalog, SONG),
                **ALL,
                "effective_from": "2025-01-01T00:00:00+00:00",
                "revoked_at": "9999-12-31T23:59:59-05:00",
                "prices": None,
            },
        )
    revoke = {"song_id": OTHER, "holder_id": _holder(catalog, OTHER)}  # a later revocation
    assert env.post("/v1/consent/revoke", env.admin, revoke).status_code == 201
    end = env.get("/v1/feed", env.admin, limit=1000).json()["next"]

    engine = _engine(synced_app, AppTransport(env.client))
    result = engine.sync_once()  # no OverflowError, no stuck cursor
    assert result.quarantined == 1 and engine.state.cursor == end
    assert engine.status().quarantined == 1
    [kept] = engine.state.quarantined()
    assert (kept.feed_seq, kept.song_id, kept.version) == (poison["seq"], SONG, 2)
    assert "revoked_at" in kept.reason and kept.blocks
    service = ConsentService(catalog, settings, engine.state)
    refused = service.check(_request(OTHER, Use.PRIVATE))  # the revocation after it arrived
    assert not refused.allowed and "consent version 2" in _reasons(refused)
    blocked = service.check(_request(SONG, Use.PRIVATE))  # unknown consent: not guessed
    assert not blocked.allowed and "could not be read here" in _reasons(blocked)
    assert engine.sync_once().quarantined == 0 and engine.status().quarantined == 1

    # The holder's next version is readable: it is in force and the song is decided by it.
    grant = {"song_id": SONG, "holder_id": _holder(catalog, SONG), **ALL}
    assert env.post("/v1/consent", env.admin, grant).json()["version"] == 3
    engine.sync_once()
    assert service.check(_request(SONG, Use.PRIVATE)).allowed


def test_no_record_of_any_shape_stops_the_feed(synced_app, server) -> None:
    settings, catalog, _ = synced_app
    holder = _holder(catalog, SONG)
    good = {"song_id": SONG, "holder_id": holder, "version": 1, **ALL}
    good["effective_from"] = "2025-01-01T00:00:00+00:00"
    junk = [
        "not an object",
        {"seq": 2**70, "kind": "consent", "data": good},  # outside this page's cursors
        {"seq": None, "kind": "consent", "data": good},
        {"kind": "rumour", "data": {}},  # a kind this version does not know
        {"kind": "song", "data": {"id": ["not", "an", "id"]}},
        {"kind": "song", "data": {"id": "\ud800"}},  # a lone surrogate (valid JSON)
        {"kind": "consent", "data": {**good, "song_id": "\ud800"}},
        {"kind": "consent", "data": {**good, "version": "two"}},
        {"kind": "consent", "data": {**good, "version": 2, "permissions": ["dance"]}},
        {"kind": "consent", "data": {**good, "version": 2, "uses": None}},
        {"kind": "consent", "data": {**good, "version": 2, "effective_from": 12}},
        {"kind": "consent", "data": {**good, "version": 2, "effective_from": "2025-01-01"}},
        {"kind": "consent", "data": {**good, "version": 2, "revoked_at": "+275760-09-13T00:00Z"}},
        {"kind": "consent", "data": {**good, "version": 2, "revoked_at": [None]}},
    ]
    for change in junk:
        seq = len(server.changes) + 1
        if isinstance(change, dict):
            change = {"seq": seq, **change}
        server.changes.append(change)
    last = _publish(server, SONG, holder, 3, uses=["private"])  # a good record after them all
    engine = _engine(synced_app, server.transport(), page_size=4)
    result = engine.sync_once()
    assert engine.state.cursor == last and result.quarantined == len(junk)
    [record] = [r for r in catalog.consent.consent_records([SONG]) if r.holder_id == holder]
    assert (record.version, record.uses) == (3, frozenset({Use.PRIVATE}))
    # Version 2 of this holder could not be read, but version 3 is in force: no block left.
    assert (
        ConsentService(catalog, settings, engine.state).check(_request(SONG, Use.PRIVATE)).allowed
    )


@pytest.mark.parametrize(
    "when",
    [
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59.999999-23:59",
    ],
)
def test_the_catalogues_consent_storage_never_overflows(synced_app, when: str) -> None:
    _, catalog, _ = synced_app
    catalog.consent.registry_server = "https://rights.test key x"
    at = datetime.fromisoformat(when)
    for field in ("effective_from", "revoked_at"):
        times = {"effective_from": datetime(2025, 1, 1, tzinfo=UTC), field: at}
        record = ConsentRecord(
            SONG,
            _holder(catalog, SONG),
            1 if field == "effective_from" else 2,
            frozenset(Permission),
            frozenset(Use),
            **times,
        )
        try:
            catalog.consent.add_registry_consent("https://rights.test key x", record)
        except InvalidInput as exc:
            assert field in str(exc) and "range" in str(exc)
        assert catalog.consent.consent_records([SONG])  # still readable, masks still computed
        assert catalog.browse.search("soldier")  # browsing refreshes the due masks


# -- 2. fail-open: freshness is the pinned server's -----------------------------------------------


def _run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main([*argv, "--json", "--no-progress"])
    said = capsys.readouterr()
    return code, (json.loads(said.out) if said.out.strip() else None), said.err


def test_sync_with_server_binds_the_folder_and_a_25_hour_old_cache_refuses_commercial_use(
    live_server, demo_data_dir, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("MUSICAPP_SERVER_URL", raising=False)
    base = ["--data-dir", str(demo_data_dir)]
    code, synced, _ = _run(capsys, "sync", "--server", live_server.url, *base)
    assert code == 0 and synced["pending"] == 0
    state = SyncState.in_folder(demo_data_dir)
    assert state.pinned_server == live_server.url == state.get("server_url")
    state.last_pull_at = datetime.now(UTC) - timedelta(hours=25)
    state.set("consent_ttl_s", str(365 * 86400.0))  # saved by an older settings dialog
    state.close()

    # No --server, no environment: the pinned server's TTL (capped at 24 h) applies.
    code, refused, _ = _run(capsys, "generate", SONG, "--use", "commercial", *base)
    assert code == 1 and refused["allowed"] is False
    assert "older than the 24.0 h allowed" in json.dumps(refused)
    from musicapp.ledger import Ledger

    with Ledger(demo_data_dir / "ledger.sqlite") as ledger:
        logged = ledger.get(refused["verification_event_id"]).payload["consent_cache"]
    assert logged["local_only"] is False and logged["stale"] is True
    assert logged["server_url"] == live_server.url and logged["ttl_s"] == 86400
    assert logged["cache_age_s"] == pytest.approx(25 * 3600, abs=120)
    code, status, _ = _run(capsys, "sync", "--status", *base)
    assert status["consent_cache"]["stale"] is True and status["pinned_server"] == live_server.url


def test_a_pinned_or_registry_bound_folder_never_synced_refuses_commercial_use(synced_app):
    settings, catalog, _ = synced_app
    settings.server_url = ""  # nothing configured for this run
    state = SyncState.in_folder(settings.data_dir)
    service = ConsentService(catalog, settings, state)
    assert service.check(_request(SONG, Use.COMMERCIAL)).allowed  # truly local-only
    state.set("server_key_url", "https://rights.test")  # pinned, never pulled to the end
    refused = service.check_detailed(_request(SONG, Use.COMMERCIAL))
    assert not refused.verification.allowed
    assert "never been synced from the rights server https://rights.test" in _reasons(
        refused.verification
    )
    assert refused.freshness.to_dict()["stale"] is True
    assert service.check(_request(SONG, Use.PRIVATE)).allowed  # only commercial fails closed
    # The sync state lost, but the catalogue holds a server's consent: still not local-only.
    catalog.consent.registry_server = "https://rights.test key 0123 2026"
    assert not ConsentService(catalog).check(_request(SONG, Use.COMMERCIAL)).allowed


def test_a_last_pull_in_the_future_counts_as_stale(synced_app) -> None:
    settings, catalog, _ = synced_app
    state = SyncState.in_folder(settings.data_dir)
    service = ConsentService(catalog, settings, state)
    now = datetime.now(UTC)
    state.last_pull_at = now + timedelta(hours=2)  # a clock turned back, or an edited state
    check = service.check_detailed(_request(SONG, Use.COMMERCIAL), at=now)
    assert not check.verification.allowed
    assert "in this computer's future" in _reasons(check.verification)
    logged = check.freshness.to_dict()
    assert logged["stale"] is True and logged["cache_age_s"] == pytest.approx(-7200)
    state.last_pull_at = now + timedelta(seconds=60)  # clock jitter
    assert service.check(_request(SONG, Use.COMMERCIAL), at=now).allowed


def test_the_consent_ttl_is_capped_at_24_hours_everywhere(synced_app, capsys) -> None:
    settings, catalog, _ = synced_app
    with pytest.raises(InvalidInput, match="consent_ttl_s"):
        Settings(data_dir=settings.data_dir, consent_ttl_s=48 * 3600.0)
    state = SyncState.in_folder(settings.data_dir)
    state.set("consent_ttl_s", str(365 * 86400.0))
    settings.consent_ttl_s = 1e9  # set after the check
    assert ConsentService(catalog, settings, state).freshness().ttl_s == 86400
    base = ["--data-dir", str(settings.data_dir)]
    code = main(["sync", "--consent-ttl", "25", "--status", *base])
    assert code == 2 and "--consent-ttl" in capsys.readouterr().err
    assert main(["sync", "--consent-ttl", "6", "--status", *base]) == 0
    assert ConsentService(catalog, settings, state).freshness().ttl_s == 6 * 3600


# -- 3. a forged feed, plain HTTP -----------------------------------------------------------------


def _rewrite_feed(server: FakeServer, change):
    def handle(request: httpx.Request) -> httpx.Response:
        response = server.handle(request)
        if request.url.path != "/v1/feed":
            return response
        body = response.json()
        change(body)
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


def test_a_forged_feed_page_is_refused_and_nothing_from_it_is_applied(synced_app, server):
    _, catalog, _ = synced_app
    holder = _holder(catalog, SONG)
    _publish(server, SONG, holder, 1, uses=["private"])
    before = catalog.consent.consent_records([SONG])

    def widen(body):  # a machine in the middle turns private-only consent commercial
        body["changes"][0]["data"]["uses"] = ALL["uses"]

    engine = _engine(synced_app, _rewrite_feed(server, widen))
    with pytest.raises(SyncError, match="not signed by the server's pinned key"):
        engine.sync_once()
    assert catalog.consent.consent_records([SONG]) == before and engine.state.cursor == 0
    assert engine.state.last_pull_at is None
    engine = _engine(synced_app, server.transport())  # the real page is applied
    engine.sync_once()
    [record] = [r for r in catalog.consent.consent_records([SONG]) if r.holder_id == holder]
    assert record.uses == frozenset({Use.PRIVATE})


def _foreign_signature(body) -> None:
    body["signature"] = base64.b64encode(signing.generate_key().sign(b"x")).decode()


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        pytest.param(lambda b: b.pop("signature"), "unsigned", id="unsigned"),
        pytest.param(lambda b: b.update(more=True), "not signed", id="altered-more"),
        pytest.param(_foreign_signature, "not signed", id="another-key"),
    ],
)
def test_unsigned_altered_or_foreign_signed_pages_are_refused(synced_app, server, tamper, said):
    _, catalog, _ = synced_app
    _publish(server, SONG, _holder(catalog, SONG), 1, uses=["private"])
    engine = _engine(synced_app, _rewrite_feed(server, tamper))
    with pytest.raises(SyncError, match=said):
        engine.sync_once()
    assert engine.state.cursor == 0


def test_a_replayed_feed_page_cannot_hide_a_revocation(synced_app, server):
    settings, catalog, _ = synced_app
    holder = _holder(catalog, SONG)
    _publish(server, SONG, holder, 1)
    recorded: dict[str, httpx.Response] = {}
    replaying = False

    def replay(request: httpx.Request) -> httpx.Response:
        since = request.url.params.get("since")
        if request.url.path == "/v1/feed" and replaying:
            return recorded[since]  # "no more changes", as the server said before
        response = server.handle(request)
        if request.url.path == "/v1/feed":
            recorded[since] = response
        return response

    engine = _engine(synced_app, httpx.MockTransport(replay))
    engine.sync_once()
    engine.sync_once()  # the end-of-feed page for since=1, now recorded
    pulled = engine.state.last_pull_at
    _publish(server, SONG, holder, 2, revoked_at=datetime.now(UTC).isoformat())
    replaying = True
    with pytest.raises(SyncError, match="answers another request"):
        engine.sync_once()
    # The sync failed loudly: the cache is not made to look fresher than the last honest pull.
    assert engine.state.cursor == 1 and engine.state.last_pull_at == pulled
    replaying = False
    engine.sync_once()
    refused = ConsentService(catalog, settings, engine.state).check(_request(SONG, Use.PRIVATE))
    assert not refused.allowed and "consent version 2" in _reasons(refused)


def test_plain_http_to_another_computer_is_refused_unless_allowed(synced_app, server, capsys):
    settings, _, _ = synced_app
    url = "http://rights.example.org"
    settings.server_url = url
    engine = _engine(synced_app, server.transport())
    with pytest.raises(SyncError, match="refusing plain HTTP to rights.example.org"):
        engine.sync_once()
    assert server.requests == 0  # the token never left
    assert "allow-insecure-http" in engine.status().last_error
    code = main(["sync", "--server", url, "--data-dir", str(settings.data_dir)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--allow-insecure-http" in err
    engine.state.set("allow_insecure_http", url)  # what --allow-insecure-http saves
    engine.sync_once()
    assert engine.status().insecure
    assert main(["sync", "--status", "--data-dir", str(settings.data_dir)]) == 0
    assert f"Server: {url}  (plain HTTP to another computer, allowed by you)" in (
        capsys.readouterr().out
    )
    for local in ("http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765"):
        settings.server_url = local
        assert not _engine(synced_app, server.transport()).status().insecure
