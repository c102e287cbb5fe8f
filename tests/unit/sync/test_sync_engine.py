"""The sync engine against the in-process server: nothing lost, nothing twice, nothing on trust."""

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from musicapp.jobs import Cancelled, CancelToken
from musicapp.rooms.sync import sync_job
from musicapp.sync.engine import SYNC_LANE, SyncEngine, SyncError
from musicapp.testing.fake_server import FlakyTransport


def _engine(synced_app, transport, **kw):
    settings, catalog, ledger = synced_app
    kw.setdefault("sleep", lambda s: None)
    return SyncEngine(settings, catalog, ledger, transport, **kw)


def _append(ledger, n, start=0):
    for i in range(start, start + n):
        ledger.append("verification", {"i": i, "note": "x" * (i % 7)})


def _server_matches_ledger(server, engine, ledger):
    stored = server.events(engine.state.get("device_id"))
    assert [e["seq"] for e in stored] == list(range(1, ledger.count() + 1))  # once each, in order
    assert [e["hash"] for e in stored] == [e.hash for e in ledger.events()]
    assert engine.state.receipts.receipt_count() == ledger.count()
    assert engine.state.tree_head.root == server.tree.root().hex()


def test_pending_events_are_pushed_in_batches_with_verified_receipts(synced_app, server):
    _, _, ledger = synced_app
    _append(ledger, 1203)
    engine = _engine(synced_app, server.transport())
    assert engine.pending_count() == 1203
    result = engine.sync_once()
    assert (result.pushed, result.pending) == (1203, 0)
    _server_matches_ledger(server, engine, ledger)
    receipt = engine.state.receipts.receipt(1)
    assert receipt["seq"] == 1 and receipt["event_hash"] == next(ledger.events()).hash
    # Offline work queues up and catches up; the log only grew (consistency was checked).
    _append(ledger, 4, 1203)
    assert engine.status().pending == 4
    assert engine.sync_once().pushed == 4
    _server_matches_ledger(server, engine, ledger)
    assert engine.sync_once().pushed == 0
    assert engine.status().last_error is None and engine.status().last_sync_at is not None


def test_dropped_requests_and_lost_answers_neither_lose_nor_duplicate_events(synced_app, server):
    _, _, ledger = synced_app
    _append(ledger, 2500)
    flaky = FlakyTransport(server.transport(), drop_rate=0.4, seed=3)
    engine = _engine(synced_app, flaky, max_attempts=3, batch_size=100)
    failures = 0
    for _ in range(50):  # each run resumes where the last one stopped
        try:
            engine.sync_once()
            break
        except SyncError:
            failures += 1
    assert flaky.dropped > 10 and failures >= 1  # the faults really happened
    assert engine.pending_count() == 0
    _server_matches_ledger(server, engine, ledger)


def test_retries_back_off_with_jitter_and_respect_retry_after(synced_app, server):
    delays: list[float] = []
    calls = {"n": 0}

    def limited(request):
        calls["n"] += 1
        if calls["n"] <= 2:
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"detail": "slow down"})
        if calls["n"] <= 4:
            return httpx.Response(503, json={"detail": "restarting"})
        return server.handle(request)

    engine = _engine(
        synced_app, httpx.MockTransport(limited), sleep=delays.append, base_delay_s=0.5
    )
    engine.sync_once()
    assert delays[0] >= 7 and delays[1] >= 7
    assert 0.5 <= delays[2] <= 4.0 and 0.5 <= delays[3] <= 8.0


def test_giving_up_is_bounded_and_recorded_as_the_last_error(synced_app, server):
    server.fail_next = [502] * 10
    delays: list[float] = []
    engine = _engine(synced_app, server.transport(), sleep=delays.append, max_attempts=4)
    with pytest.raises(SyncError, match="gave up after 4 attempts.*502"):
        engine.sync_once()
    assert len(delays) == 3
    assert "502" in engine.status().last_error


def test_a_tampered_receipt_is_refused_and_the_events_stay_pending(synced_app, server):
    _, _, ledger = synced_app
    _append(ledger, 5)

    def forge(request):
        response = server.handle(request)
        if request.url.path == "/v1/ledger/events" and response.status_code == 200:
            body = response.json()
            body["receipts"][2]["inclusion"][0] = "00" * 32
            return httpx.Response(200, json=body)
        return response

    engine = _engine(synced_app, httpx.MockTransport(forge))
    with pytest.raises(SyncError, match="seq 3: its inclusion proof does not lead"):
        engine.sync_once()
    assert engine.pending_count() == 5 and engine.state.receipts.receipt_count() == 0


def test_a_server_that_rewrites_its_log_fails_the_consistency_check(synced_app, server):
    _, _, ledger = synced_app
    _append(ledger, 6)
    engine = _engine(synced_app, server.transport())
    engine.sync_once()
    server.tree.leaves[0] = b"\x00" * 32  # history rewritten behind the client's back
    server.tree._memo.clear()
    _append(ledger, 2, 6)
    with pytest.raises(SyncError, match="not consistent with size 6"):
        engine.sync_once()
    assert engine.pending_count() == 2


def test_consistency_proofs_come_with_the_receipts_so_batches_need_no_extra_request(
    synced_app, server
):
    _, _, ledger = synced_app
    _append(ledger, 250)
    paths = []

    def count(request):
        paths.append(request.url.path)
        return server.handle(request)

    engine = _engine(synced_app, httpx.MockTransport(count), batch_size=60)
    assert engine.sync_once().pushed == 250
    _append(ledger, 7, 250)
    assert engine.sync_once().pushed == 7  # a later sync: proven from the stored head too
    _server_matches_ledger(server, engine, ledger)
    assert paths.count("/v1/ledger/events") == 6
    assert "/v1/log/consistency" not in paths


def test_a_forged_consistency_proof_with_the_receipts_is_refused(synced_app, server):
    _, _, ledger = synced_app
    _append(ledger, 30)

    def forge(request):
        response = server.handle(request)
        body = response.json() if request.url.path == "/v1/ledger/events" else {}
        if "consistency" in body:
            body["consistency"]["proof"][0] = "00" * 32
            return httpx.Response(200, json=body)
        return response

    engine = _engine(synced_app, httpx.MockTransport(forge), batch_size=10)
    with pytest.raises(SyncError, match="not consistent with size 10"):
        engine.sync_once()
    # The first batch's receipts were checked and kept; the second batch's were not.
    assert engine.state.receipts.last_receipted_seq() == 10 and engine.pending_count() == 20


def test_a_refused_event_keeps_the_receipts_of_the_ones_accepted_before_it(synced_app, server):
    _, _, ledger = synced_app
    _append(ledger, 5)

    def corrupt(request):
        if request.url.path == "/v1/ledger/events":
            body = json.loads(request.content)
            body["events"][3]["signature"] = body["events"][0]["signature"]
            request = httpx.Request("POST", request.url, headers=request.headers, json=body)
        return server.handle(request)

    engine = _engine(synced_app, httpx.MockTransport(corrupt))
    with pytest.raises(SyncError, match="seq 4: the signature"):
        engine.sync_once()
    assert engine.state.receipts.last_receipted_seq() == 3 and engine.pending_count() == 2


def test_feed_pages_are_applied_idempotently_and_the_cursor_resumes(synced_app, server):
    _, catalog, _ = synced_app
    ts = "2025-01-01T00:00:00+00:00"
    for version in (2, 3):
        server.publish(
            "consent",
            {
                "song_id": "fife-british-grenadiers",
                "holder_id": "liberty-pole",
                "version": version,
                "permissions": ["song_inference"],
                "uses": ["private"],
                "effective_from": ts,
                "revoked_at": None,
            },
        )
    server.publish("song", {"id": "server-only", "title": "Not here yet"})
    server.publish(
        "consent",
        {
            "song_id": "server-only",
            "holder_id": "h-x",
            "version": 1,
            "permissions": [],
            "uses": [],
            "effective_from": ts,
        },
    )
    server.fail_next = []
    engine = _engine(synced_app, server.transport(), page_size=2)
    assert engine.sync_once().pulled == 4
    # The server's versions are in force for that holder; the demo's own v1 is not (it stays
    # in the local table as it was).
    versions = [r.version for r in catalog.consent.consent_records(["fife-british-grenadiers"])]
    assert versions == [2, 3]
    assert engine.state.cursor == 4 and engine.state.backlog.remote_song_ids() == ["server-only"]
    assert len(engine.state.backlog.deferred_consent()) == 1  # kept until the song is imported
    engine.state.cursor = 0  # re-reading the whole feed changes nothing
    engine.sync_once()
    assert [r.version for r in catalog.consent.consent_records(["fife-british-grenadiers"])] == [
        2,
        3,
    ]


def test_a_failed_page_leaves_the_cursor_after_the_last_applied_page(synced_app, server):
    for i in range(5):
        server.publish("song", {"id": f"remote-{i}"})
    calls = {"feed": 0}

    def third_page_fails(request):
        if request.url.path == "/v1/feed":
            calls["feed"] += 1
            if calls["feed"] == 3:
                return httpx.Response(500, json={"detail": "boom"})
        return server.handle(request)

    engine = _engine(synced_app, httpx.MockTransport(third_page_fails), page_size=2, max_attempts=1)
    with pytest.raises(SyncError):
        engine.sync_once()
    assert engine.state.cursor == 4 and engine.state.last_pull_at is None
    engine.sync_once()
    assert engine.state.cursor == 5 and engine.state.last_pull_at is not None


def test_without_a_server_sync_says_so_and_the_ledger_keeps_working(synced_app, server):
    settings, _, ledger = synced_app
    settings.server_url = ""
    engine = _engine(synced_app, server.transport())
    with pytest.raises(SyncError, match="No rights server is set"):
        engine.sync_once()
    _append(ledger, 2)
    assert engine.status().pending == 2 and server.requests == 0


def test_sync_job_runs_on_the_serial_server_lane_and_can_be_cancelled(synced_app, server):
    engine = _engine(synced_app, server.transport())
    job = sync_job(engine)
    assert job.lane == SYNC_LANE == "server"
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        job.run(lambda p: None, token)


def test_last_pull_time_is_what_consent_freshness_counts_from(synced_app, server):
    engine = _engine(synced_app, server.transport())
    before = datetime.now(UTC)
    engine.sync_once()
    assert before <= engine.state.last_pull_at <= before + timedelta(seconds=5)


def test_a_server_that_forgot_this_device_says_so_and_start_over_sends_everything_again(
    synced_app, server
):
    from musicapp.testing.fake_server import FakeServer

    _, _, ledger = synced_app
    _append(ledger, 40)
    engine = _engine(synced_app, server.transport())
    engine.sync_once()
    _append(ledger, 3, 40)
    server.tokens.clear()  # the server's accounts were reset
    with pytest.raises(SyncError, match="does not accept this device's token.*start over"):
        engine.sync_once()
    assert engine.pending_count() == 3  # nothing lost meanwhile

    reset = FakeServer()  # a server rebuilt from nothing: new key, empty log
    engine = _engine(synced_app, reset.transport())
    archive = engine.start_over()
    result = engine.sync_once()
    assert (result.pushed, result.pending) == (43, 0)  # the whole ledger, as a new stream
    _server_matches_ledger(reset, engine, ledger)
    # The old receipts are kept in the archive, not thrown away.
    from musicapp.sync.state import SyncState

    old = SyncState(archive)
    assert old.receipts.receipt_count() == 40 and old.get("server_key_url") == "https://rights.test"
    old.close()


def test_another_server_url_is_refused_until_the_user_starts_over(synced_app, server):
    from musicapp.testing.fake_server import FakeServer

    settings, _, ledger = synced_app
    _append(ledger, 5)
    engine = _engine(synced_app, server.transport())
    engine.sync_once()
    settings.server_url = "https://other.test"
    other = FakeServer()
    engine = _engine(synced_app, other.transport())
    with pytest.raises(SyncError, match="bound to the server https://rights.test.*start over"):
        engine.sync_once()
    engine.start_over()
    assert engine.sync_once().pushed == 5
    _server_matches_ledger(other, engine, ledger)


def _publish_v1(server, uses, holder="liberty-pole", song="fife-british-grenadiers"):
    server.publish(
        "consent",
        {
            "song_id": song,
            "holder_id": holder,
            "version": 1,
            "permissions": ["song_inference", "parameter_inference", "audio_inference"],
            "uses": uses,
            "effective_from": "2025-01-01T00:00:00+00:00",
            "revoked_at": None,
        },
    )


def test_the_servers_consent_wins_over_a_local_seed_with_the_same_version(synced_app, server):
    from musicapp.consent.service import ConsentService
    from musicapp.core import GenerationRequest, Level, Reference, Use

    settings, catalog, _ = synced_app
    song = "fife-british-grenadiers"
    request = GenerationRequest(
        references=(Reference(song, Level.SONG),), use=Use.COMMERCIAL, duration_s=4.0
    )
    engine = _engine(synced_app, server.transport())
    service = ConsentService(catalog, settings, engine.state)
    assert service.check(request).allowed is False  # a server is set but never synced: closed
    local = {r.holder_id: r for r in catalog.consent.consent_records([song])}
    assert Use.COMMERCIAL in local["liberty-pole"].uses  # the demo seed allows commercial use

    _publish_v1(server, ["private"])  # the registry says: private use only, as version 1
    engine.sync_once()
    [record] = catalog.consent.consent_records([song])
    assert record.version == 1 and record.uses == frozenset({Use.PRIVATE})
    refused = service.check(request)
    assert refused.allowed is False and "version 1" in " ".join(
        reason for d in refused.decisions for reason in d.reasons
    )
    private = GenerationRequest(references=request.references, use=Use.PRIVATE, duration_s=4.0)
    assert service.check(private).allowed is True


def test_starting_over_keeps_the_old_servers_consent_apart(synced_app, server):
    from musicapp.core import Use
    from musicapp.testing.fake_server import FakeServer

    _, catalog, _ = synced_app
    song = "fife-british-grenadiers"
    _publish_v1(server, ["private"])
    engine = _engine(synced_app, server.transport())
    engine.sync_once()
    rebuilt = FakeServer()  # another registry, whose version 1 says something else
    _publish_v1(rebuilt, ["private", "non_commercial"])
    engine = _engine(synced_app, rebuilt.transport())
    engine.start_over()
    engine.sync_once()
    [record] = catalog.consent.consent_records([song])
    assert record.uses == frozenset({Use.PRIVATE, Use.NON_COMMERCIAL})


def test_a_server_that_is_not_running_is_said_in_plain_words(synced_app):
    tries = []

    def refused(request):
        tries.append(request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    delays: list[float] = []
    engine = _engine(synced_app, httpx.MockTransport(refused), sleep=delays.append)
    with pytest.raises(SyncError) as err:
        engine.sync_once()
    # Tried once more, then said: no quarter of a minute of retries for a server that is down.
    assert len(tries) == 2 and len(delays) == 1
    message = str(err.value)
    assert message.startswith("cannot reach the rights server at ")
    assert "nothing answers at that address (is the server running?)" in message
    assert "Errno" not in message and "ConnectError" not in message and "GET /v1" not in message
    assert engine.status().last_error == message


def test_a_refusal_after_the_server_answered_is_a_restart_and_is_retried(synced_app, server):
    settings, _, ledger = synced_app
    _append(ledger, 3)
    inner = server.transport()
    refusals = {"left": 0}

    def restarting(request):
        if request.url.path == "/v1/ledger/events" and refusals["left"]:
            refusals["left"] -= 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return inner.handle_request(request)

    refusals["left"] = 3  # the server restarts while the events go up
    engine = _engine(synced_app, httpx.MockTransport(restarting), sleep=lambda _s: None)
    assert engine.sync_once().pushed == 3


def test_the_same_server_under_another_name_is_recognised_by_its_key(synced_app, server):
    """Issue 19: moving 127.0.0.1 → localhost forced a start over. The server at the new name
    holds the pinned key, so it is the same server: nothing is sent twice, nothing archived."""
    settings, _, ledger = synced_app
    _append(ledger, 5)
    engine = _engine(synced_app, server.transport())
    engine.sync_once()
    settings.server_url = "https://alias.test"  # the same server (same transport, same key)
    _append(ledger, 2, 5)
    engine = _engine(synced_app, server.transport())
    result = engine.sync_once()
    assert (result.pushed, result.pending) == (2, 0)
    assert engine.state.pinned_server == "https://alias.test"
    _server_matches_ledger(server, engine, ledger)
