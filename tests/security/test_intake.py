"""The ledger intake under attack: poisoned payloads are refused by field, statements stay
readable and exact, stale-cache commercial use is flagged, cloned keys and replays are refused.

Hostile events are built with ``raw_chain`` (no local Ledger, which would refuse some of them)
and signed by a registered device, as a device that registered without credentials could.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from musicapp.ledger import Ledger
from musicapp.server import migrations, statements
from musicapp.testing.server_helpers import (
    Env,
    auth,
    consent_cache,
    generation_payload,
    raw_chain,
    verification_payload,
)
from musicapp.transparency import signing
from musicapp.transparency.registration import proof_digest

NOW = datetime.now(UTC)
PERIOD = {
    "from": (NOW - timedelta(days=1)).isoformat(),
    "to": (NOW + timedelta(days=1)).isoformat(),
}


def _consent(env: Env, token: str, holder: str, song: str, prices: dict[str, float]) -> int:
    r = env.post(
        "/v1/consent",
        token,
        {
            "song_id": song,
            "holder_id": holder,
            "permissions": ["song_inference", "audio_inference"],
            "uses": ["private", "non_commercial", "commercial"],
            "prices": prices,
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


def _upload(env: Env, token: str, events: list[dict[str, Any]]) -> httpx.Response:
    # json.dumps as an attacker's client would: NaN goes out as the literal NaN.
    return env.client.post(
        "/v1/ledger/events",
        content=json.dumps({"events": events}),
        headers={**auth(token), "Content-Type": "application/json"},
    )


def _statement(env: Env, token: str, holder: str, **params: Any) -> dict[str, Any]:
    r = env.get("/v1/statements", token, holder_id=holder, **{**PERIOD, **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _good(song: str = "song-a", use: str = "commercial") -> dict[str, Any]:
    return generation_payload(use, [(song, 1.0)])


# -- 1. statement poisoning ---------------------------------------------------------------------


def _with_share(value: Any) -> dict[str, Any]:
    payload = generation_payload("commercial", [("song-a", 0.5), ("song-b", 0.5)])
    payload["provenance"]["shares"][0]["share"] = value
    return payload


POISON = {
    "text share": (_with_share("abc"), "payload.provenance.shares[0].share: 'abc' is not a number"),
    "huge share": (_with_share(10**400), "payload.provenance.shares[0].share: 1000"),
    "negative share": (_with_share(-1000), "is not between 0 and 1"),
    "text NaN share": (_with_share("NaN"), "'NaN' is not a number"),
    "shares over 1": (_with_share(0.9), "payload.provenance.shares: the shares add up to 1.4"),
    "unknown use": (
        generation_payload("resale", [("song-a", 1.0)]),
        "payload.request.use: 'resale' is not one of",
    ),
    "share of a song not referenced": (
        {**_good(), "provenance": {"shares": [{"reference": 0, "song_id": "song-b", "share": 1}]}},
        "payload.provenance.shares[0].song_id: 'song-b', but reference 0 is song 'song-a'",
    ),
    "royalties over the non-user share": (
        {
            **generation_payload("commercial", [("song-a", 0.6), ("@user", 0.4)]),
            "royalties": {"h-ann": 0.6, "h-label": 0.4},
        },
        "payload.royalties: the holders' shares add up to 1.000000000, not 0.600000000",
    ),
    "negative royalty": (
        {**_good(), "royalties": {"h-ann": -1, "h-label": 2}},
        "payload.royalties.h-ann: -1 is not between 0 and 1",
    ),
    "no provenance": ({"request": _good()["request"]}, "payload.provenance: None is not an object"),
    "decisions not a list": (
        {**verification_payload("commercial", {}), "decisions": "all fine"},
        "payload.decisions: 'all fine' is not a list",
    ),
    "decision without a reference": (
        {**verification_payload("commercial", {}), "decisions": [{"allowed": True}]},
        "payload.decisions[0].reference: None is not an object",
    ),
    "text consent version": (
        verification_payload("commercial", {"song-a": {"h-ann": "1"}}),  # type: ignore[dict-item]
        "payload.decisions[0].consent_versions.h-ann: '1' is not an integer",
    ),
    "huge consent version": (
        verification_payload("commercial", {"song-a": {"h-ann": 2**63}}),
        "payload.decisions[0].consent_versions.h-ann: 9223372036854775808 is not between 1",
    ),
    "boolean consent version": (
        verification_payload("commercial", {"song-a": {"h-ann": True}}),
        "payload.decisions[0].consent_versions.h-ann: True is not an integer",
    ),
    "negative cache age": (
        verification_payload("commercial", {}, consent_cache(60, ttl_s=-1)),
        "payload.consent_cache.ttl_s: -1 is negative",
    ),
    "export share as text": (
        {"use": "commercial", "references": [{"song_id": "song-a", "share": "all"}]},
        "payload.references[0].share: 'all' is not a number",
    ),
    "deep nesting": ({"x": json.loads("[" * 40 + "]" * 40)}, "nested more than 32 levels"),
}
KIND_OF = {"decision": "verification", "consent version": "verification", "cache": "verification"}


def _kind(name: str) -> str:
    if name.startswith("export"):
        return "export"
    if name == "deep nesting":
        return "catalog_rights"
    return next((k for w, k in KIND_OF.items() if w in name), "generation")


@pytest.mark.parametrize("name", list(POISON))
def test_a_poisoned_event_is_refused_naming_seq_and_field_and_statements_stay_readable(
    env: Env, name: str
) -> None:
    env.add_songs()
    _consent(env, env.ann, "h-ann", "song-a", {"commercial": 0.10})
    device = env.device()
    payload, expected = POISON[name]
    events = raw_chain(device.key, [("generation", _good()), (_kind(name), payload)])
    r = _upload(env, device.token, events)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("event seq 2: "), r.json()["detail"]
    assert expected in r.json()["detail"]
    assert len(r.json()["detail"]) < 400  # an excerpt of the value, never all of it
    assert [x["seq"] for x in r.json()["accepted"]] == [1]  # the good event before it is kept

    ann = _statement(env, env.ann, "h-ann")
    assert [line["event_id"] for line in ann["lines"]] == [events[0]["event_id"]]
    assert ann["total"] == pytest.approx(1.0 * 0.6 * 0.10)
    assert ann["total_nano"] == 60_000_000  # exact: 1 × 0.6 × 0.10 EUR in nano-euros
    # The device's stream still ends at seq 1: the same good event again is answered alike.
    again = _upload(env, device.token, events[:1])
    assert again.status_code == 200 and again.json()["receipts"][0]["leaf_index"] == 0


def test_the_apps_user_share_found_references_and_new_kinds_are_accepted(env: Env) -> None:
    env.add_songs()
    _consent(env, env.ann, "h-ann", "song-a", {"commercial": 0.10})
    _consent(env, env.bob, "h-bob", "song-b", {"commercial": 1.0})
    device = env.device()
    ledger = device.ledger
    check = ledger.append(
        "verification",
        verification_payload("commercial", {"song-a": {"h-ann": 1}, "song-b": {"h-bob": 1}}),
    )
    gen = generation_payload(
        "commercial",
        [("song-a", 0.3), ("@user", 0.5), ("song-b", 0.2)],
        check.id,
        royalties={"h-ann": 0.18, "h-label": 0.12, "h-bob": 0.2},
    )
    gen["request"]["references"][1].update(via="user_audio", part="bass", level="audio")
    gen["provenance"]["notes"] = ["your audio holds the bass stem of song song-b"]
    take = ledger.append("generation", gen)
    ledger.append(
        "export",
        {
            "generation_event_id": take.id,
            "use": "commercial",
            "references": [
                {"song_id": "song-a", "level": "song", "share": 0.3, "title": "A"},
                {"song_id": "song-b", "level": "audio", "share": 0.2, "via": "user_audio"},
            ],
            "user_share": 0.5,
            "rights_holders": [{"id": "h-ann", "name": "Ann", "share": 0.18}],
            "sample_rate": 48000,
            "channels": 2,
        },
    )
    for kind in ("catalog_rights", "catalog_rights_aborted", "ledger_repair", "ledger_reanchor"):
        ledger.append(kind, {"song_id": "song-a", "findings": [{"seq": 3, "hash": "ab" * 32}]})
    r = _upload(env, device.token, device.upload_dicts())
    assert r.status_code == 200, r.text

    ann = _statement(env, env.ann, "h-ann")
    assert [(x["song_id"], x["share"], x["price_version"], x["flags"]) for x in ann["lines"]] == [
        ("song-a", 0.3, 1, [])
    ]
    assert ann["total_nano"] == 18_000_000  # 0.3 × 0.6 × 0.10 EUR: the user's half owes nobody
    bob = _statement(env, env.bob, "h-bob")
    assert [(x["song_id"], x["amount"]) for x in bob["lines"]] == [("song-b", 0.2)]
    admin = _statement(env, env.admin, "@user")
    assert admin["lines"] == [] and admin["total_nano"] == 0


# -- 2. stale consent caches --------------------------------------------------------------------

CACHES = {
    "fresh": (consent_cache(3600), False),
    "older than its TTL": (consent_cache(25 * 3600), True),
    "a TTL over the 24 h cap": (consent_cache(30 * 3600, ttl_s=365 * 86400.0), True),
    "never synced": (consent_cache(0, cache_age_s=None, last_pull_at=None), True),
    "local only": (consent_cache(60, local_only=True), True),
    "stale by the app's account": (consent_cache(60, stale=True), True),
    "pulled in the future": (
        consent_cache(60, last_pull_at=(NOW + timedelta(days=2)).isoformat()),
        True,
    ),
    "age and pull time disagree": (
        consent_cache(60, last_pull_at=(NOW - timedelta(days=3)).isoformat()),
        True,
    ),
    "not recorded": (None, True),
}


@pytest.mark.parametrize("case", list(CACHES))
def test_commercial_use_verified_on_a_stale_cache_is_flagged_in_statements(
    env: Env, case: str
) -> None:
    env.add_songs()
    _consent(env, env.ann, "h-ann", "song-a", {"commercial": 0.10, "private": 0.0})
    device = env.device()
    cache, stale = CACHES[case]
    for use in ("commercial", "private"):
        check = verification_payload(use, {"song-a": {"h-ann": 1, "h-label": 1}})
        if cache is None:
            del check["consent_cache"]
        else:
            check["consent_cache"] = cache
        verified = device.ledger.append("verification", check)
        device.ledger.append("generation", generation_payload(use, [("song-a", 1.0)], verified.id))
    r = _upload(env, device.token, device.upload_dicts())
    assert r.status_code == 200, r.text  # logged: the holder must see the use, not lose it
    lines = _statement(env, env.ann, "h-ann")["lines"]
    assert [(x["use"], "stale_cache" in x["flags"]) for x in lines] == [
        ("commercial", stale),
        ("private", False),  # the rule is for commercial use only
    ]
    assert lines[0]["amount"] == pytest.approx(0.06)  # still owed: flagged, not dropped


def test_unverified_refused_and_uncited_versions_are_flagged(env: Env) -> None:
    env.add_songs()
    _consent(env, env.ann, "h-ann", "song-a", {"non_commercial": 0.01})
    device = env.device()
    refused = {**verification_payload("non_commercial", {"song-a": {"h-ann": 1}}), "allowed": False}
    check = device.ledger.append("verification", refused)
    device.ledger.append(
        "generation", generation_payload("non_commercial", [("song-a", 1.0)], check.id)
    )
    device.ledger.append(
        "generation", generation_payload("non_commercial", [("song-a", 1.0)], "no-such-event")
    )
    assert _upload(env, device.token, device.upload_dicts()).status_code == 200
    flags = [x["flags"] for x in _statement(env, env.admin, "h-label")["lines"]]
    assert flags == [["refused", "version_not_cited"], ["unverified", "version_not_cited"]]
    ann = [x["flags"] for x in _statement(env, env.ann, "h-ann")["lines"]]
    assert ann == [["refused"], ["unverified", "version_not_cited"]]


# -- 3. cloned keys and copied folders ----------------------------------------------------------


def _register(env: Env, key_b64: str, proof: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"name": "clone", "public_key": key_b64}
    if proof is not None:
        body["proof"] = proof
    return env.post("/v1/devices", None, body)


def test_a_public_key_registers_once_and_only_its_holder_gets_its_device_back(env: Env) -> None:
    device = env.device()
    public = signing.public_key_b64(device.key)
    r = _register(env, public)
    assert r.status_code == 409
    assert r.json()["detail"].startswith("public_key: this key is already registered")
    assert device.id not in r.text  # the key is public: knowing it must not reveal its owner
    # Another spelling of the same 32 bytes (a padding bit set) is the same key.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    other_spelling = public[:-2] + alphabet[alphabet.index(public[-2]) ^ 1] + "="
    assert other_spelling != public
    assert base64.b64decode(other_spelling) == base64.b64decode(public)
    assert _register(env, other_spelling).status_code == 409
    server_id = env.get("/v1/server-key", None).json()["key_id"]
    digest = proof_digest(server_id, public)
    for wrong in (
        signing.sign(signing.generate_key(), digest),  # another key
        signing.sign(device.key, proof_digest("another-server", public)),  # another server
    ):
        refused = _register(env, public, wrong)
        assert refused.status_code == 409 and device.id not in refused.text
    # The device itself (its answer lost, its folder started over): its own id, a new token.
    mine = _register(env, public, signing.sign(device.key, digest))
    assert mine.status_code == 201 and mine.json()["device_id"] == device.id
    assert env.get("/v1/log/sth", mine.json()["token"]).status_code == 200
    assert env.get("/v1/log/sth", device.token).status_code == 401  # the old one is replaced
    # An administrator's revocation holds: proving the key does not bring the device back.
    r = env.post(f"/v1/accounts/{device.id}/revoke", env.admin, {})
    assert r.status_code == 200, r.text
    again = _register(env, public, signing.sign(device.key, digest))
    assert again.status_code == 403 and "revoked" in again.json()["detail"]
    assert env.get("/v1/log/sth", mine.json()["token"]).status_code == 401
    history = env.get(f"/v1/accounts/{device.id}", env.admin).json()["tokens"]
    assert [t["action"] for t in history] == ["issued", "rotated", "revoked"]


def test_events_logged_under_another_device_are_refused_and_counted_once(env: Env) -> None:
    env.add_songs()
    _consent(env, env.ann, "h-ann", "song-a", {"commercial": 0.10})
    victim = env.device()
    victim.ledger.append("generation", _good())
    assert _upload(env, victim.token, victim.upload_dicts()).status_code == 200

    # The same signed events from a device with a key of its own (re-signed): a copied folder.
    copy = env.device()
    r = _upload(
        env,
        copy.token,
        [
            dict(e, signature=signing.sign(copy.key, bytes.fromhex(e["hash"])))
            for e in victim.upload_dicts()
        ],
    )
    assert r.status_code == 409, r.text
    assert "already logged under another device" in r.json()["detail"]
    assert victim.id not in r.text and r.json()["accepted"] == []
    # An event of its own that reuses the victim's event id.
    reused = raw_chain(copy.key, [("generation", _good())])
    again = dict(reused[0], event_id=victim.upload_dicts()[0]["event_id"])
    from musicapp.ledger.canonical import event_hash

    again["hash"] = event_hash(
        1,
        again["event_id"],
        "generation",
        again["created_at"],
        again["payload"],
        again["prev_hash"],
    )
    again["signature"] = signing.sign(copy.key, bytes.fromhex(again["hash"]))
    r = _upload(env, copy.token, [again])
    assert r.status_code == 409 and "event_id" in r.json()["detail"]

    ann = _statement(env, env.ann, "h-ann")
    assert len(ann["lines"]) == 1 and ann["total_nano"] == 60_000_000
    assert env.get("/v1/log/sth", env.admin).json()["tree_size"] == 1


def test_a_copied_data_folder_registering_anew_cannot_replay_its_ledger(env: Env) -> None:
    import shutil

    original = env.device()
    original.ledger.append("generation", _good())
    assert _upload(env, original.token, original.upload_dicts()).status_code == 200
    original.ledger.close()
    folder = env.tmp / "copied"
    shutil.copytree(original.ledger.path.parent, folder)
    copy = env.device()  # the copy's own registration and key
    with Ledger(folder / "ledger.sqlite") as ledger:
        events = copy.upload_dicts(list(ledger.events()))
    r = _upload(env, copy.token, events)
    assert r.status_code == 409 and "copied data folder" in r.json()["detail"]


def test_a_new_stream_continues_after_a_logged_event_but_never_logs_it_again(env: Env) -> None:
    """What a start over sends: the events after those the server logged, chained from the last
    of them; the logged ones again are refused, an unknown predecessor is out of order."""
    env.add_songs()
    old, new = env.device(), env.device()
    first = raw_chain(old.key, [("generation", _good()) for _ in range(3)])
    assert _upload(env, old.token, first).status_code == 200
    resigned = [dict(e, signature=signing.sign(new.key, bytes.fromhex(e["hash"]))) for e in first]
    assert _upload(env, new.token, resigned).status_code == 409  # already logged
    after = raw_chain(new.key, [("generation", _good())], 4, first[-1]["hash"])
    r = _upload(env, new.token, after)
    assert r.status_code == 200, r.text
    assert [x["seq"] for x in r.json()["receipts"]] == [4]
    stranger = env.device()
    stray = raw_chain(stranger.key, [("generation", _good())], 4, "ab" * 32)
    r = _upload(env, stranger.token, stray)
    assert r.status_code == 409 and "next expected seq is 1" in r.json()["detail"]
    assert env.client.get("/v1/log/sth", headers=auth(old.token)).json()["tree_size"] == 4


# -- 4. statements: exact, paginated, reproducible from the log ---------------------------------


def _busy_log(env: Env) -> list[str]:
    """Two devices, prices changing between events, cited and uncited versions, a song
    registered after events that used it; returns the holders."""
    from musicapp.testing.server_helpers import SONG_A, SONG_B

    assert env.post("/v1/songs", env.admin, {"song": SONG_A}).status_code == 201
    _consent(env, env.ann, "h-ann", "song-a", {"commercial": 0.07, "non_commercial": 0.003})
    _consent(env, env.label, "h-label", "song-a", {"commercial": 1 / 3})
    first, second = env.device(), env.device()
    for i in range(12):
        device = (first, second)[i % 2]
        use = ("commercial", "non_commercial", "private")[i % 3]
        check = device.ledger.append(
            "verification", verification_payload(use, {"song-a": {"h-ann": 1 + i // 4}})
        )
        shares = [("song-a", round(0.1 + i / 20, 9)), ("song-b", round(0.9 - i / 20, 9))]
        device.ledger.append("generation", generation_payload(use, shares, check.id))
        if i % 4 == 3:
            for d in (first, second):
                assert _upload(env, d.token, d.upload_dicts()).status_code == 200
            _consent(env, env.ann, "h-ann", "song-a", {"commercial": 0.07 + i / 100})
        if i == 5:
            assert env.post("/v1/songs", env.admin, {"song": SONG_B}).status_code == 201
    for d in (first, second):
        assert _upload(env, d.token, d.upload_dicts()).status_code == 200
    return ["h-ann", "h-label", "h-bob"]


def test_statements_reproduce_byte_for_byte_from_the_stored_events(env: Env) -> None:
    holders = _busy_log(env)
    start, end = datetime.fromisoformat(PERIOD["from"]), datetime.fromisoformat(PERIOD["to"])
    with env.server.engine.connect() as conn:
        for holder in holders:
            served = env.get(
                "/v1/statements", env.admin, holder_id=holder, limit=5000, **PERIOD
            ).content
            kept = statements.statement(conn, holder, start, end, limit=None)
            recomputed = statements.from_log(conn, holder, start, end)
            assert statements.to_json(recomputed) == served == statements.to_json(kept)
            assert statements.to_csv(recomputed) == statements.to_csv(kept)
            assert recomputed["lines"], holder
    bob = _statement(env, env.bob, "h-bob")
    # song-b was registered after the first 4 generations were received: only the 8 events
    # received after it owe Bob (a statement prices an event as the registry stood then).
    assert len(bob["lines"]) == 8
    assert all(x["price_version"] is None and x["amount"] == 0 for x in bob["lines"])
    label = _statement(env, env.label, "h-label")
    assert label["total_nano"] == sum(round(x["amount"] * 1e9) for x in label["lines"])


def test_statements_page_through_a_cursor_with_totals_of_the_whole_period(env: Env) -> None:
    _busy_log(env)
    whole = _statement(env, env.ann, "h-ann", limit=5000)
    pages, cursor = [], None
    while True:
        page = _statement(env, env.ann, "h-ann", limit=5, **({"cursor": cursor} if cursor else {}))
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(pages) == 3  # 12 lines, 5 a page
    assert [x for p in pages for x in p["lines"]] == whole["lines"]
    assert {(p["total_nano"], p["line_count"]) for p in pages} == {(whole["total_nano"], 12)}
    csv_page = env.get(
        "/v1/statements", env.ann, holder_id="h-ann", format="csv", limit=5, **PERIOD
    )
    assert csv_page.headers["x-next-cursor"] == pages[0]["next_cursor"]
    bad = env.get("/v1/statements", env.ann, holder_id="h-ann", cursor="not-a-cursor", **PERIOD)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("cursor:")


def test_a_nan_share_refuses_the_whole_batch_at_the_api_naming_the_field(env: Env) -> None:
    """The API's input guard refuses a non-finite number anywhere in a body before any route
    sees it: the whole batch, not only the event holding it."""
    env.add_songs()
    _consent(env, env.ann, "h-ann", "song-a", {"commercial": 0.10})
    device = env.device()
    events = raw_chain(
        device.key, [("generation", _good()), ("generation", _with_share(float("nan")))]
    )
    r = _upload(env, device.token, events)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("events[1].payload.provenance.shares[0].share: nan")
    assert env.client.get("/v1/log/sth", headers=auth(device.token)).json()["tree_size"] == 0


# -- inputs at the edges of the columns ---------------------------------------------------------


def test_a_lone_surrogate_is_refused_naming_where_it_is(env: Env) -> None:
    device = env.device()
    # (In event_id or kind the model's own string check refuses it: the API's 422 handler.)
    for field, change in (
        ("events[0].payload.notes[1]: ", {"payload": {"notes": ["fine", "bad \ud800"]}}),
        ("events[0].payload.\\udfff: the key", {"payload": {"\udfff": 1}}),
    ):
        event = dict(raw_chain(device.key, [("note", {})])[0], **change)
        event["hash"] = "ab" * 32  # no UTF-8 text to hash: signed as the attacker would
        event["signature"] = signing.sign(device.key, bytes.fromhex(event["hash"]))
        r = _upload(env, device.token, [event])
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith(field), r.json()["detail"]


def test_times_and_integers_beyond_the_columns_are_refused_not_crashed(env: Env) -> None:
    device = env.device()
    edge = raw_chain(device.key, [("note", {})], created_at="9999-12-31T23:59:59-05:00")
    r = _upload(env, device.token, edge)
    assert r.status_code == 422 and "created_at" in r.json()["detail"]
    huge = raw_chain(device.key, [("note", {})], first_seq=2**31)
    r = _upload(env, device.token, huge)
    assert r.status_code == 422 and r.json()["detail"].startswith("events[0].seq")
    nul = dict(raw_chain(device.key, [("note", {})])[0], event_id="a\x00b")
    assert _upload(env, device.token, [nul]).status_code == 422
    for field, value in (
        ("from", "0001-01-01T00:00:00+05:00"),
        ("to", "9999-12-31T23:59:59-05:00"),
    ):
        r = env.get("/v1/statements", env.admin, holder_id="h-ann", **{**PERIOD, field: value})
        assert r.status_code == 422 and r.json()["detail"].startswith(field), r.text
    r = env.get("/v1/log/inclusion", env.admin, leaf_index=2**63, tree_size=1)
    assert r.status_code == 422


# -- a database from before these checks --------------------------------------------------------


def test_an_old_database_with_poisoned_and_replayed_events_gets_exact_statements(
    tmp_path: Any, database_url: str | None
) -> None:
    """Migrating a version-1 database: its poisoned events (logged before the checks) get no
    lines, a replay under a cloned key counts once, the first device keeps the key."""
    from sqlalchemy import insert, select, text

    from musicapp.server import db, registry
    from musicapp.server.app import open_server
    from musicapp.server.cli import CLI_ADMIN
    from musicapp.server.settings import ServerSettings
    from musicapp.testing.server_helpers import SONG_A

    settings = ServerSettings(data_dir=tmp_path / "old-server", database_url=database_url)
    settings.data_dir.mkdir()
    engine = db.make_engine(settings.resolved_database_url())
    db.schema_version.create(engine)
    key = signing.generate_key()
    good, poisoned = raw_chain(key, [("generation", _good()), ("generation", _with_share("abc"))])
    with engine.begin() as conn:  # the schema and rows as version 1 left them
        migrations.MIGRATIONS[0][2](conn)
        for index in ("ix_ledger_events_id", "ix_ledger_events_hash"):
            conn.execute(text(f"DROP INDEX {index}"))
        conn.execute(text("ALTER TABLE ledger_events DROP COLUMN registry_seq"))
        conn.execute(insert(db.schema_version).values(version=1, name="initial", applied_at="x"))
        registry.add_song(conn, SONG_A)
        registry.set_consent(
            conn,
            CLI_ADMIN,
            "song-a",
            "h-ann",
            ["song_inference"],
            ["commercial"],
            None,
            {"commercial": 0.10},
        )
        for device, registered in (("d-first", "2026-01-01"), ("d-clone", "2026-01-02")):
            conn.execute(
                insert(db.accounts).values(
                    id=device,
                    role="device",
                    name=device,
                    token_hash=device,
                    public_key=signing.public_key_b64(key),
                    created_at=registered,
                )
            )
        rows = [("d-first", good), ("d-first", poisoned), ("d-clone", good)]
        for leaf, (device, ev) in enumerate(rows):
            conn.execute(
                text(
                    "INSERT INTO ledger_events (device_id, seq, event_id, kind, payload, "
                    "created_at, created_utc, prev_hash, hash, signature, leaf_index, "
                    "receipt_size, received_at) VALUES (:d, :seq, :id, :kind, :payload, :ts, "
                    ":utc, :prev, :hash, :sig, :leaf, :leaf + 1, :ts)"
                ),
                {
                    "d": device,
                    "seq": ev["seq"],
                    "id": ev["event_id"],
                    "kind": ev["kind"],
                    "payload": json.dumps(ev["payload"], sort_keys=True, separators=(",", ":")),
                    "ts": ev["created_at"],
                    "prev": ev["prev_hash"],
                    "hash": ev["hash"],
                    "sig": ev["signature"],
                    "leaf": leaf,
                    "utc": datetime.fromisoformat(ev["created_at"])
                    .astimezone(UTC)
                    .isoformat(timespec="microseconds"),
                },
            )
    engine.dispose()

    server = open_server(settings)  # migrates to the current schema
    try:
        start, end = (datetime.fromisoformat(PERIOD[k]) for k in ("from", "to"))
        with server.engine.connect() as conn:
            report = statements.statement(conn, "h-ann", start, end)
            assert [x["event_id"] for x in report["lines"]] == [good["event_id"]]
            assert report["total_nano"] == 60_000_000
            assert statements.to_json(statements.from_log(conn, "h-ann", start, end)) == (
                statements.to_json(statements.statement(conn, "h-ann", start, end, limit=None))
            )
            owners = conn.execute(select(db.device_keys.c.device_id)).scalars().all()
            assert owners == ["d-first"]
    finally:
        server.close()
