"""Every write endpoint × {no credentials, another tenant's, the right tenant's}: only the last works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from musicapp.testing.server_helpers import Env

SONG_C = {
    "id": "song-c",
    "title": "C",
    "rights_holders": [{"id": "h-cid", "name": "Cid", "kind": "artist", "split": 1.0}],
}


@dataclass
class Case:
    """One write endpoint: its body, the callers who must be refused, and the one who may."""

    path: str
    body: Callable[[Env, dict[str, Any]], Any]
    others: Callable[[Env, dict[str, Any]], dict[str, str]]
    right: Callable[[Env, dict[str, Any]], str]
    ok: int


def _setup(env: Env) -> dict[str, Any]:
    env.add_songs()
    grant = {
        "song_id": "song-a",
        "holder_id": "h-ann",
        "permissions": ["song_inference"],
        "uses": ["private"],
    }
    assert env.post("/v1/consent", env.admin, grant).status_code == 201
    a, b = env.device(), env.device()
    a.ledger.append("verification", {"allowed": True})
    return {"a": a, "b": b}


CASES = {
    "accounts": Case(
        "/v1/accounts",
        lambda e, s: {"role": "holder", "holder_id": "h-new", "name": "New"},
        lambda e, s: {"holder": e.ann, "device": s["a"].token},
        lambda e, s: e.admin,
        201,
    ),
    "songs": Case(
        "/v1/songs",
        lambda e, s: {"song": SONG_C},
        lambda e, s: {"holder": e.ann, "device": s["a"].token},
        lambda e, s: e.admin,
        201,
    ),
    "consent": Case(
        "/v1/consent",
        lambda e, s: {
            "song_id": "song-a",
            "holder_id": "h-ann",
            "permissions": ["song_inference", "audio_inference"],
            "uses": ["private", "commercial"],
        },
        # Bob holds another song; Label co-holds song-a but may not speak for Ann.
        lambda e, s: {"other song's holder": e.bob, "co-holder": e.label, "device": s["a"].token},
        lambda e, s: e.ann,
        201,
    ),
    "revoke": Case(
        "/v1/consent/revoke",
        lambda e, s: {"song_id": "song-a", "holder_id": "h-ann"},
        lambda e, s: {"other song's holder": e.bob, "co-holder": e.label, "device": s["a"].token},
        lambda e, s: e.ann,
        201,
    ),
    "ledger": Case(
        "/v1/ledger/events",
        lambda e, s: {"device_id": s["a"].id, "events": s["a"].upload_dicts()},
        lambda e, s: {"another device": s["b"].token, "holder": e.ann},
        lambda e, s: s["a"].token,
        200,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_only_the_right_tenant_may_write(env: Env, name: str) -> None:
    case = CASES[name]
    state = _setup(env)
    body = case.body(env, state)
    before = env.get("/v1/feed", env.admin).json()["next"]

    r = env.post(case.path, None, body)
    assert r.status_code == 401, r.text
    assert "bearer token" in r.json()["detail"]
    assert env.post(case.path, "made-up-token", body).status_code == 401

    for who, token in case.others(env, state).items():
        r = env.post(case.path, token, body)
        assert r.status_code == 403, f"{who}: {r.status_code} {r.text}"
        assert r.json()["detail"]

    # Nothing the refused callers sent changed anything.
    assert env.get("/v1/feed", env.admin).json()["next"] == before
    assert env.get("/v1/log/sth", env.admin).json()["tree_size"] == 0

    r = env.post(case.path, case.right(env, state), body)
    assert r.status_code == case.ok, r.text


def test_another_device_cannot_slip_events_into_its_stream(env: Env) -> None:
    """Without device_id, B uploading A's events is refused: they are not signed with B's key."""
    state = _setup(env)
    a, b = state["a"], state["b"]
    r = env.post("/v1/ledger/events", b.token, {"events": a.upload_dicts()})
    assert r.status_code == 422
    assert "seq 1" in r.json()["detail"] and "signature" in r.json()["detail"]
    assert env.get("/v1/log/sth", env.admin).json()["tree_size"] == 0


def test_holders_read_only_their_songs_history_and_statements(env: Env) -> None:
    _setup(env)
    assert env.get("/v1/consent/song-a/history", env.ann).status_code == 200
    assert env.get("/v1/consent/song-a/history", env.label).status_code == 200
    assert env.get("/v1/consent/song-a/history", env.bob).status_code == 403
    period = {"from": "2020-01-01T00:00:00+00:00", "to": "2100-01-01T00:00:00+00:00"}
    assert env.get("/v1/statements", env.ann, holder_id="h-ann", **period).status_code == 200
    assert env.get("/v1/statements", env.admin, holder_id="h-ann", **period).status_code == 200
    assert env.get("/v1/statements", env.bob, holder_id="h-ann", **period).status_code == 403
    assert env.get("/v1/statements", None, holder_id="h-ann", **period).status_code == 401
