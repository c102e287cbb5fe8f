"""Rights claims: a musician's device claims a song of their own; the server's admin confirms it
(the song and consent version 1 reach the feed) or rejects it (nothing does)."""

from __future__ import annotations

from typing import Any

import pytest

from musicapp.core.codec import song_to_dict
from musicapp.core.model import RightsHolder, Song, Split
from musicapp.testing.server_helpers import Env

HOLDER = "self:ann-archer"


def own_song(
    song_id: str = "own-morning-take", holder: str = HOLDER, name: str = "Ann Archer"
) -> dict[str, Any]:
    """A song the musician imported and declared their own, in the form the app sends."""
    song = Song(
        id=song_id,
        title="Morning Take",
        artist=name,
        album="Home Recordings",
        genre="folk",
        year=2026,
        duration_s=184.5,
        splits=(Split(RightsHolder(holder, name, "artist"), 1.0),),
    )
    return song_to_dict(song)


def claim_body(song: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    song = song or own_song()
    return {
        "song": song,
        "holder_id": HOLDER,
        "permissions": ["song_inference", "parameter_inference"],
        "uses": ["private", "non_commercial"],
        **changes,
    }


def claim(env: Env, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = env.post("/v1/claims", token, body or claim_body())
    assert r.status_code == 201, r.text
    return r.json()["claim"]


def test_a_confirmed_claim_puts_the_song_and_consent_version_1_in_the_feed(env: Env) -> None:
    device = env.device()
    before = env.get("/v1/feed", device.token).json()["next"]
    made = claim(env, device.token)
    assert made["status"] == "pending" and made["song_id"] == "own-morning-take"
    assert (made["holder_id"], made["holder_name"]) == (HOLDER, "Ann Archer")
    assert made["title"] == "Morning Take" and made["device_id"] == device.id
    assert made["uses"] == ["non_commercial", "private"]
    assert (made["decided_at"], made["decided_by"], made["reason"]) == (None, None, None)
    # Nothing reaches the feed while the claim waits.
    assert env.get("/v1/feed", device.token, since=before).json()["changes"] == []

    pending = env.get("/v1/claims", env.admin, status="pending").json()["claims"]
    assert [c["id"] for c in pending] == [made["id"]]
    assert env.get("/v1/claims", env.admin, status="confirmed").json()["claims"] == []

    r = env.post(f"/v1/claims/{made['id']}/confirm", env.admin, None)
    assert r.status_code == 200, r.text
    confirmed = r.json()["claim"]
    assert confirmed["status"] == "confirmed" and confirmed["decided_by"].startswith("a-")
    assert confirmed["decided_at"] and r.json()["consent"]["version"] == 1

    changes = env.get("/v1/feed", device.token, since=before).json()["changes"]
    assert [c["kind"] for c in changes] == ["song", "consent"]
    assert changes[0]["data"] == own_song()  # exactly as claimed: the app's song id and holder
    consent = changes[1]["data"]
    assert (consent["song_id"], consent["holder_id"], consent["version"]) == (
        "own-morning-take",
        HOLDER,
        1,
    )
    assert consent["uses"] == ["non_commercial", "private"]
    assert consent["permissions"] == ["parameter_inference", "song_inference"]
    assert consent["revoked_at"] is None

    seen = env.get(f"/v1/claims/{made['id']}", device.token).json()["claim"]
    assert seen == confirmed
    # A retry after a lost answer gets the confirmed claim back, not a 409.
    again = env.post("/v1/claims", device.token, claim_body())
    assert again.status_code == 200 and again.json()["claim"] == confirmed
    # The song is registered now: anyone else's claim on it is refused.
    other = env.post("/v1/claims", env.device().token, claim_body())
    assert other.status_code == 409
    assert "'own-morning-take' is already registered on this server" in other.json()["detail"]


def test_a_claim_sent_again_while_pending_is_the_same_claim(env: Env) -> None:
    device = env.device()
    first = env.post("/v1/claims", device.token, claim_body())
    second = env.post("/v1/claims", device.token, claim_body())
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["claim"] == first.json()["claim"]
    assert len(env.get("/v1/claims", env.admin).json()["claims"]) == 1
    mine = env.get("/v1/claims", device.token).json()["claims"]
    assert [c["id"] for c in mine] == [first.json()["claim"]["id"]]


def test_a_rejected_claim_publishes_nothing(env: Env) -> None:
    device = env.device()
    before = env.get("/v1/feed", device.token).json()["next"]
    made = claim(env, device.token)
    r = env.post(f"/v1/claims/{made['id']}/reject", env.admin, {"reason": "not your recording"})
    assert r.status_code == 200, r.text
    rejected = r.json()["claim"]
    assert (rejected["status"], rejected["reason"]) == ("rejected", "not your recording")
    assert env.get("/v1/feed", device.token, since=before).json()["changes"] == []
    seen = env.get(f"/v1/claims/{made['id']}", device.token).json()["claim"]
    assert seen["status"] == "rejected" and seen["reason"] == "not your recording"

    for action, body in (("confirm", None), ("reject", {"reason": "again"})):
        r = env.post(f"/v1/claims/{made['id']}/{action}", env.admin, body)
        assert r.status_code == 409 and "is rejected" in r.json()["detail"], r.text
    # A rejected claim may be made again (a new claim, waiting for the admin once more).
    renewed = claim(env, device.token)
    assert renewed["id"] != made["id"] and renewed["status"] == "pending"
    assert [c["status"] for c in env.get("/v1/claims", env.admin).json()["claims"]] == [
        "rejected",
        "pending",
    ]


def test_only_the_claiming_device_and_admins_see_a_claim_and_only_admins_decide(
    env: Env,
) -> None:
    device, other = env.device(), env.device()
    made = claim(env, device.token)
    path = f"/v1/claims/{made['id']}"
    for token in (other.token, env.ann):
        r = env.get(path, token)
        assert r.status_code == 404 and "no claim" in r.json()["detail"]
    assert env.get(path, env.admin).status_code == 200
    assert env.get(path, None).status_code == 401
    assert env.get("/v1/claims/no-such-claim", env.admin).status_code == 404
    assert env.get("/v1/claims", other.token).json()["claims"] == []
    assert env.get("/v1/claims", env.ann).status_code == 403

    for token in (device.token, other.token, env.ann):  # its own device may not confirm it
        assert env.post(f"{path}/confirm", token, None).status_code == 403
        assert env.post(f"{path}/reject", token, {"reason": "no"}).status_code == 403
    assert env.post("/v1/claims/no-such-claim/confirm", env.admin, None).status_code == 404
    # Only devices claim.
    for token in (env.admin, env.ann):
        assert env.post("/v1/claims", token, claim_body()).status_code == 403
    assert env.get(path, device.token).json()["claim"]["status"] == "pending"


def test_songs_the_server_holds_or_another_device_claims_are_409(env: Env) -> None:
    env.add_songs()
    device, other = env.device(), env.device()
    registered = {
        "id": "song-b",
        "title": "B",
        "rights_holders": [{"id": "h-bob", "name": "Bob", "kind": "artist", "split": 1.0}],
    }
    r = env.post("/v1/claims", device.token, claim_body(registered, holder_id="h-bob"))
    assert r.status_code == 409
    assert r.json()["detail"] == "song.id: 'song-b' is already registered on this server"

    made = claim(env, device.token)
    r = env.post("/v1/claims", other.token, claim_body())
    assert r.status_code == 409 and "already has a pending claim" in r.json()["detail"]

    assert env.post(f"/v1/claims/{made['id']}/confirm", env.admin, None).status_code == 200
    twice = env.post(f"/v1/claims/{made['id']}/confirm", env.admin, None)
    assert twice.status_code == 409
    assert "is confirmed; only a pending claim can be confirmed" in twice.json()["detail"]


def test_a_holder_id_the_server_knows_under_another_name_is_not_confirmed(env: Env) -> None:
    a, b = env.device(), env.device()
    first = claim(env, a.token)
    assert env.post(f"/v1/claims/{first['id']}/confirm", env.admin, None).status_code == 200
    # The same person's second song (same name) joins the same holder.
    same = claim(env, b.token, claim_body(own_song("own-evening-take")))
    assert env.post(f"/v1/claims/{same['id']}/confirm", env.admin, None).status_code == 200
    # Someone else using that holder id cannot take over its consent.
    clash = claim(env, b.token, claim_body(own_song("own-night-take", name="Anna Other")))
    r = env.post(f"/v1/claims/{clash['id']}/confirm", env.admin, None)
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert detail.startswith(f"holder_id: '{HOLDER}'") and "'Ann Archer'" in detail
    assert "reject the claim" in detail
    assert env.get(f"/v1/claims/{clash['id']}", env.admin).json()["claim"]["status"] == "pending"
    assert env.post(
        f"/v1/claims/{clash['id']}/reject", env.admin, {"reason": "id taken"}
    ).is_success


def _holders(*holders: tuple[str, float]) -> dict[str, Any]:
    return {
        **own_song(),
        "rights_holders": [{"id": h, "name": h, "kind": "artist", "split": x} for h, x in holders],
    }


BAD_CLAIMS = {
    "split not 1.0": (
        claim_body(_holders((HOLDER, 0.5))),
        "song.rights_holders[0].split",
    ),
    "two holders": (
        claim_body(_holders((HOLDER, 0.5), ("h-other", 0.5))),
        "song.rights_holders: a claim names one rights holder",
    ),
    "uses without private": (claim_body(uses=["commercial"]), "uses: a claim's uses include"),
    "unknown permission": (claim_body(permissions=["dance"]), "permissions: 'dance'"),
    "unknown use": (claim_body(uses=["private", "resale"]), "uses: 'resale'"),
    "holder not the song's": (claim_body(holder_id="self:bob"), "holder_id: 'self:bob'"),
    "no holder name": (
        claim_body({**own_song(), "rights_holders": [{"id": HOLDER, "split": 1.0}]}),
        "song.rights_holders[0].name",
    ),
    "no holders": (claim_body({"id": "x", "rights_holders": []}, holder_id=HOLDER), "song."),
    "split a string": (
        claim_body({**own_song(), "rights_holders": [{"id": HOLDER, "name": "A", "split": "1"}]}),
        "song.rights_holders[0].split",
    ),
    "holder_id empty": (claim_body(holder_id=""), "holder_id"),
}


@pytest.mark.parametrize("case", BAD_CLAIMS)
def test_bad_claims_are_422_naming_the_field(env: Env, case: str) -> None:
    body, field = BAD_CLAIMS[case]
    r = env.post("/v1/claims", env.device().token, body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(field), r.json()["detail"]
    assert env.get("/v1/claims", env.admin).json()["claims"] == []


def test_bad_decisions_and_queries_are_422_naming_the_field(env: Env) -> None:
    made = claim(env, env.device().token)
    for reason in ("", "x" * 501):
        r = env.post(f"/v1/claims/{made['id']}/reject", env.admin, {"reason": reason})
        assert r.status_code == 422 and r.json()["detail"].startswith("reason"), r.text
    r = env.post(f"/v1/claims/{made['id']}/reject", env.admin, {"reason": "   "})
    assert r.status_code == 422 and r.json()["detail"].startswith("reason"), r.text
    r = env.get("/v1/claims", env.admin, status="maybe")
    assert r.status_code == 422 and r.json()["detail"].startswith("status")
    assert env.get("/v1/claims", env.admin, limit=1001).status_code == 422
    assert env.get(f"/v1/claims/{made['id']}", env.admin).json()["claim"]["status"] == "pending"


def test_claims_and_decisions_cannot_be_edited_in_the_database(env: Env) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    from musicapp.server import db

    made = claim(env, env.device().token)
    env.post(f"/v1/claims/{made['id']}/reject", env.admin, {"reason": "no"})
    for statement in (
        update(db.claims).values(holder_id="self:someone-else"),
        delete(db.claims),
        update(db.claim_decisions).values(decision="confirmed"),
        delete(db.claim_decisions),
    ):
        with pytest.raises(DBAPIError, match="append-only"), env.server.engine.begin() as conn:
            conn.execute(statement)
    kept = env.get(f"/v1/claims/{made['id']}", env.admin).json()["claim"]
    assert (kept["holder_id"], kept["status"], kept["reason"]) == (HOLDER, "rejected", "no")


# -- the admin CLI -------------------------------------------------------------------------------


def test_the_admin_cli_lists_confirms_and_rejects_claims(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    from musicapp.server.cli import main

    settings = env.server.settings
    base = ["--data-dir", str(settings.data_dir)]
    if settings.database_url:
        base += ["--database-url", settings.database_url]

    def cli(*args: str) -> tuple[int, str, str]:
        code = main([*base, "claim", *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert cli("list") == (0, "no claims\n", "")
    device = env.device()
    kept = claim(env, device.token)
    dropped = claim(env, device.token, claim_body(own_song("own-demo")))

    code, out, _ = cli("list", "--status", "pending")
    lines = out.splitlines()
    assert code == 0 and [line.split()[0] for line in lines] == [kept["id"], dropped["id"]]
    assert 'own-morning-take "Morning Take"' in lines[0] and "holder Ann Archer" in lines[0]
    assert "uses non_commercial,private" in lines[0] and f"device {device.id}" in lines[0]
    assert kept["created_at"] in lines[0] and " pending " in lines[0]

    code, out, _ = cli("confirm", kept["id"])
    assert code == 0 and out.startswith(f"claim {kept['id']} confirmed")
    assert "consent version 1" in out
    code, out, _ = cli("reject", dropped["id"], "--reason", "a demo, not a release")
    assert (code, out) == (0, f"claim {dropped['id']} rejected: a demo, not a release\n")

    code, out, _ = cli("list", "--status", "confirmed")
    assert [line.split()[0] for line in out.splitlines()] == [kept["id"]]
    assert "reason: a demo, not a release" in cli("list")[1].splitlines()[1]
    assert env.get(f"/v1/claims/{kept['id']}", device.token).json()["claim"]["decided_by"] == "cli"
    changes = env.get("/v1/feed", device.token).json()["changes"]
    assert [(c["kind"], c["data"].get("id", c["data"].get("song_id"))) for c in changes] == [
        ("song", "own-morning-take"),
        ("consent", "own-morning-take"),
    ]

    code, out, err = cli("confirm", kept["id"])
    assert (code, out) == (2, "") and "is confirmed; only a pending claim" in err
    code, _, err = cli("confirm", "no-such-claim")
    assert code == 2 and "no claim 'no-such-claim'" in err
    code, _, err = cli("reject", dropped["id"], "--reason", " ")
    assert code == 2 and err.startswith("musicapp-server: reason:")
    assert len(err.splitlines()) == 1


# -- a database from the previous schema ---------------------------------------------------------


def test_a_version_4_database_migrates_and_takes_claims(tmp_path: Any, database_url: str | None):
    from sqlalchemy import func, insert, select

    from musicapp.server import claims, db, migrations, registry
    from musicapp.server.app import open_server
    from musicapp.server.auth import create_account
    from musicapp.server.cli import CLI_ADMIN
    from musicapp.server.settings import ServerSettings
    from musicapp.testing.server_helpers import SONG_B

    settings = ServerSettings(data_dir=tmp_path / "old-server", database_url=database_url)
    settings.data_dir.mkdir()
    engine = db.make_engine(settings.resolved_database_url())
    db.schema_version.create(engine)
    with engine.begin() as conn:  # the schema as version 4 left it, with a song and a device
        for version, name, step in migrations.MIGRATIONS[:4]:
            step(conn)
            conn.execute(
                insert(db.schema_version).values(version=version, name=name, applied_at="x")
            )
        registry.add_song(conn, SONG_B)
        device, _token = create_account(conn, "device", "old laptop", public_key="k" * 43 + "=")
    engine.dispose()

    server = open_server(settings)  # migrates to the current schema
    try:
        with server.engine.begin() as conn:
            version = conn.execute(select(func.max(db.schema_version.c.version))).scalar()
            assert version == migrations.MIGRATIONS[-1][0] >= 5
            body = claim_body()
            made, created = claims.make_claim(
                conn, device, body["song"], HOLDER, body["permissions"], body["uses"]
            )
            assert created and made["status"] == "pending"
            done = claims.confirm(conn, CLI_ADMIN, made["id"])
            assert done["claim"]["status"] == "confirmed" and done["consent"]["version"] == 1
            page = registry.feed(conn, 0, 10)
            assert [c["kind"] for c in page["changes"]] == ["song", "song", "consent"]
    finally:
        server.close()
