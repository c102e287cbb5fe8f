"""Hostile inputs get a 4xx naming the field, on SQLite and PostgreSQL alike, and no error answer
carries more of the input than a short excerpt.

Each case here once answered 500 on at least one database (or stored what the other refused):
lone surrogates, NUL characters, integers past PostgreSQL's INTEGER columns, ids past their
String(200) columns, times whose zone pushes them past year 9999 in UTC, NaN and overflowing
numbers. A 3 MB string used to come back whole in the 422 body.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter

from musicapp.ledger.canonical import GENESIS_HASH, event_hash
from musicapp.server import routes_statements
from musicapp.server.app import create_app
from musicapp.server.cli import main as server_cli
from musicapp.server.settings import ServerSettings
from musicapp.testing.server_helpers import SONG_A, Env, auth
from musicapp.transparency import signing

BIG = 2**63
PG_INT = 2**31  # one past PostgreSQL's INTEGER
LONG_ID = "x" * 201
YEAR_EDGES = ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00")


def _raw(env: Env, path: str, token: str | None, text: str) -> Any:
    headers = {"content-type": "application/json", **(auth(token) if token else {})}
    return env.client.post(path, content=text.encode("utf-8"), headers=headers)


def _event(key: signing.Ed25519PrivateKey, created_at: str, **fields: Any) -> dict[str, Any]:
    """Device event seq 1, hashed and signed properly, so only the field under test is wrong."""
    ev = {"seq": 1, "event_id": "ev-1", "kind": "verification", "payload": {"allowed": True}}
    ev.update(fields)
    digest = event_hash(
        ev["seq"], ev["event_id"], ev["kind"], created_at, ev["payload"], GENESIS_HASH
    )
    return {
        **ev,
        "created_at": created_at,
        "prev_hash": GENESIS_HASH,
        "hash": digest,
        "signature": signing.sign(key, bytes.fromhex(digest)),
    }


def _refused(response: Any, field: str) -> None:
    assert 400 <= response.status_code < 500, (field, response.status_code, response.text[:300])
    assert response.json()["detail"].startswith(field), (field, response.json()["detail"])


def test_surrogates_nul_long_ids_and_big_integers_get_a_4xx_naming_the_field(env: Env) -> None:
    env.add_songs()
    device = env.device()
    key_b64 = signing.public_key_b64(signing.generate_key())
    # Without any credentials: the open device registration.
    _refused(_raw(env, "/v1/devices", None, '{"name": "\\ud800", "public_key": "x"}'), "name")
    _refused(env.post("/v1/devices", None, {"name": "a\x00b", "public_key": key_b64}), "name")
    posts = [
        ("/v1/accounts", {"role": "holder", "holder_id": "h\x00", "name": "n"}, "holder_id"),
        ("/v1/accounts", {"role": "holder", "holder_id": LONG_ID, "name": "n"}, "holder_id"),
        ("/v1/songs", {"song": {**SONG_A, "id": LONG_ID}}, "song.id"),
        ("/v1/songs", {"song": {**SONG_A, "id": "s\x00"}}, "song.id"),
        (
            "/v1/songs",
            {"song": {**SONG_A, "id": "s2", "rights_holders": [{"id": LONG_ID, "split": 1}]}},
            "song.rights_holders[0].id",
        ),
        (
            "/v1/consent",
            {"song_id": "song-a", "holder_id": "h-ann", "permissions": ["x" * 500], "uses": []},
            "permissions[0]",
        ),  # fmt: skip
        ("/v1/consent/revoke", {"song_id": LONG_ID, "holder_id": "h-ann"}, "song_id"),
    ]
    for path, body, field in posts:
        _refused(env.post(path, env.admin, body), field)
    for text, field in [
        ('{"song": {"id": "n", "rights_holders": [], "tempo": NaN}}', "song.tempo"),
        ('{"song": {"id": "n", "rights_holders": [], "tempo": 1e999}}', "song.tempo"),
    ]:
        _refused(_raw(env, "/v1/songs", env.admin, text), field)

    gets = [
        ("/v1/consent/a%00b/history", {}, "song_id"),
        (f"/v1/consent/{LONG_ID}/history", {}, "song_id"),
        ("/v1/feed", {"since": BIG}, "since"),
        ("/v1/feed", {"since": PG_INT}, "since"),
        ("/v1/log/consistency", {"first": 1, "second": BIG}, "second"),
        ("/v1/log/inclusion", {"leaf_index": 0, "tree_size": PG_INT}, "tree_size"),
        (
            "/v1/statements",
            {"holder_id": "h\x00", "from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"},
            "holder_id",
        ),  # fmt: skip
        (
            "/v1/statements",
            {"holder_id": LONG_ID, "from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"},
            "holder_id",
        ),  # fmt: skip
    ]
    for path, params, field in gets:
        _refused(env.get(path, env.admin, **params), field)

    good = "2026-01-01T00:00:00+00:00"
    events = [
        ({"seq": BIG}, "events[0].seq"),
        ({"seq": PG_INT}, "events[0].seq"),
        ({"event_id": LONG_ID}, "events[0].event_id"),
        ({"payload": {"note": "a\x00b"}}, "events[0].payload.note"),
    ]
    for fields, field in events:
        batch = {"events": [_event(device.key, good, **fields)]}
        _refused(env.post("/v1/ledger/events", device.token, batch), field)
    text = json.dumps({"events": [_event(device.key, good, payload={"note": "SURROGATE"})]})
    for field, marker in [
        ("events[0].payload.note", '"SURROGATE"'),
        ("events[0].kind", '"verification"'),
    ]:
        hostile = text.replace(marker, '"\\udfff"')
        _refused(_raw(env, "/v1/ledger/events", device.token, hostile), field)

    # Nothing of it was stored: the log is empty, the feed holds the two songs, and the server
    # answers as before.
    assert env.get("/v1/log/sth", env.admin).json()["tree_size"] == 0
    feed = env.get("/v1/feed", env.admin).json()["changes"]
    assert [c["data"]["id"] for c in feed] == ["song-a", "song-b"]
    ok = env.post("/v1/ledger/events", device.token, {"events": [_event(device.key, good)]})
    assert ok.status_code == 200, ok.text


def test_year_edge_time_zones_are_refused_and_other_zones_kept_or_made_utc(env: Env) -> None:
    env.add_songs()
    device = env.device()
    grant = {"song_id": "song-a", "holder_id": "h-ann", "permissions": [], "uses": ["private"]}
    for edge in YEAR_EDGES:
        r = env.post("/v1/consent", env.ann, {**grant, "effective_from": edge})
        _refused(r, "effective_from")
        params = {"holder_id": "h-ann", "from": edge, "to": "2100-01-01T00:00:00Z"}
        _refused(env.get("/v1/statements", env.ann, **params), "from")
        params = {"holder_id": "h-ann", "from": "2000-01-01T00:00:00Z", "to": edge}
        _refused(env.get("/v1/statements", env.ann, **params), "to")
        batch = {"events": [_event(device.key, edge)]}
        _refused(env.post("/v1/ledger/events", device.token, batch), "events[0].created_at")
    at_five = {**grant, "effective_from": "2026-03-01T12:00:00+05:00"}
    granted = env.post("/v1/consent", env.ann, at_five)
    assert granted.status_code == 201, granted.text
    assert granted.json()["effective_from"] == "2026-03-01T07:00:00+00:00"
    r = env.post("/v1/consent/revoke", env.ann, {**grant, "revoked_at": YEAR_EDGES[0]})
    _refused(r, "revoked_at")
    # The poison pill of the issue never reaches the feed.
    changes = env.get("/v1/feed", env.ann).json()["changes"]
    assert [c["data"].get("revoked_at") for c in changes if c["kind"] == "consent"] == [None]
    # A signed event keeps its own zone (the hash covers it); the statement period is UTC.
    batch = {"events": [_event(device.key, "2026-03-01T12:00:00+05:00")]}
    assert env.post("/v1/ledger/events", device.token, batch).status_code == 200
    params = {"holder_id": "h-ann", "from": "2026-03-01T00:00:00-05:00", "to": "2026-04-01T00:00Z"}
    report = env.get("/v1/statements", env.ann, **params).json()
    assert report["from"] == "2026-03-01T05:00:00+00:00"


def test_error_answers_carry_at_most_a_short_excerpt_of_the_input(env: Env) -> None:
    huge = "y" * 3_000_000
    key_b64 = signing.public_key_b64(signing.generate_key())
    answers = {
        "name": env.post("/v1/devices", None, {"name": huge, "public_key": key_b64}),
        "name (wrong type)": env.post("/v1/devices", None, {"name": [huge], "public_key": "k"}),
        "prices key": env.post(
            "/v1/consent",
            env.admin,
            {"song_id": "s", "holder_id": "h", "permissions": [], "uses": [], "prices": {huge: 1}},
        ),  # fmt: skip
        "body not UTF-8": env.client.post(
            "/v1/devices",
            content=b'{"name": "' + b"\xff" * 3_000_000 + b'"}',
            headers={"content-type": "application/json"},
        ),
        "body not JSON": env.client.post(
            "/v1/devices", content=huge.encode(), headers={"content-type": "text/plain"}
        ),
    }
    for what, r in answers.items():
        assert r.status_code == 422, (what, r.status_code)
        assert len(r.content) < 1500, (what, len(r.content), r.text[:300])
        assert "yyyyyyyyyy" * 10 not in r.text, what
    assert answers["name"].json()["detail"].startswith("name: String should have at most 200")
    assert answers["prices key"].json()["detail"].startswith("prices.yyyy")


def test_a_route_outside_the_input_guard_stops_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unguarded = APIRouter(prefix="/v1")

    @unguarded.get("/raw")
    def raw() -> dict[str, str]:
        return {}

    widened = APIRouter()
    widened.include_router(routes_statements.router)
    widened.include_router(unguarded)
    monkeypatch.setattr(routes_statements, "router", widened)
    with pytest.raises(RuntimeError, match="/v1/raw"):
        create_app(ServerSettings(data_dir=tmp_path / "server"))


def test_the_admin_cli_refuses_year_edges_and_songs_nothing_could_store(
    tmp_path: Path, database_url: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--data-dir", str(tmp_path / "server")]
    if database_url:
        base += ["--database-url", database_url]

    def cli(*argv: str) -> tuple[int, str]:
        code = server_cli([*base, *argv])
        return code, capsys.readouterr().err

    song = tmp_path / "song.json"
    song.write_text(json.dumps(SONG_A))
    assert cli("song", "add", str(song))[0] == 0
    code, err = cli("consent", "set", "song-a", "h-ann", "--uses", "private",
                    "--effective-from", YEAR_EDGES[0])  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "--effective-from" in err and "9999" in err
    assert cli("consent", "set", "song-a", "h-ann", "--uses", "private")[0] == 0
    code, err = cli("consent", "revoke", "song-a", "h-ann", "--at", YEAR_EDGES[1])
    assert code == 2 and "--at" in err and "1970 to 2999" in err
    code, err = cli("statement", "h-ann", "--from", YEAR_EDGES[1], "--to", "2100-01-01T00:00:00Z")
    assert code == 2 and err.startswith("musicapp-server: --from")
    code, err = cli("consent", "set", "song-a", "h-ann", "--prices", "cheap")
    assert code == 2 and "--prices" in err
    for bad, field in [
        ('{"id": "n", "rights_holders": [{"id": "h", "split": 1}], "tempo": NaN}', "tempo"),
        (json.dumps({**SONG_A, "id": LONG_ID}), "id"),
    ]:
        song.write_text(bad)
        code, err = cli("song", "add", str(song))
        assert code == 2 and str(song) in err and field in err and err.count("\n") == 1, err
