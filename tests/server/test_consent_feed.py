"""Consent versions (never edited), revocation as a new version, history, the feed cursor, validation."""

from __future__ import annotations

from musicapp.testing.server_helpers import SONG_A, Env

GRANT = {
    "song_id": "song-a",
    "holder_id": "h-ann",
    "permissions": ["song_inference", "parameter_inference"],
    "uses": ["private", "non_commercial"],
    "effective_from": "2026-01-01T00:00:00+00:00",
    "prices": {"private": 0.0, "non_commercial": 0.01},
}


def test_updates_and_revocations_are_new_versions(env: Env) -> None:
    env.add_songs()
    first = env.post("/v1/consent", env.ann, GRANT)
    assert first.status_code == 201
    assert first.json()["version"] == 1
    wider = {**GRANT, "uses": ["private", "non_commercial", "commercial"]}
    second = env.post("/v1/consent", env.ann, wider).json()
    assert second["version"] == 2 and second["seq"] > first.json()["seq"]
    revoked = env.post(
        "/v1/consent/revoke",
        env.ann,
        {"song_id": "song-a", "holder_id": "h-ann", "revoked_at": "2026-06-01T00:00:00Z"},
    )
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["version"] == 3
    env.post(
        "/v1/consent",
        env.label,
        {**GRANT, "holder_id": "h-label", "permissions": ["song_inference"], "uses": ["private"]},
    )

    records = env.get("/v1/consent/song-a/history", env.label).json()["records"]
    ann = [r for r in records if r["holder_id"] == "h-ann"]
    assert [r["version"] for r in ann] == [1, 2, 3]
    # Old versions stay exactly as they were recorded.
    assert ann[0]["uses"] == ["non_commercial", "private"]
    assert ann[0]["revoked_at"] is None and ann[0]["prices"] == GRANT["prices"]
    assert ann[1]["uses"] == ["commercial", "non_commercial", "private"]
    # The revocation copies the current flags and carries the time.
    assert ann[2]["permissions"] == ann[1]["permissions"]
    assert ann[2]["revoked_at"] == "2026-06-01T00:00:00+00:00"
    assert ann[2]["effective_from"] == "2026-06-01T00:00:00+00:00"
    assert all(r["recorded_at"] for r in records)
    assert [r["version"] for r in records if r["holder_id"] == "h-label"] == [1]

    again = env.post("/v1/consent/revoke", env.ann, {"song_id": "song-a", "holder_id": "h-ann"})
    assert again.status_code == 409 and "already revoked (version 3)" in again.json()["detail"]


def test_bad_consent_bodies_name_the_field(env: Env) -> None:
    env.add_songs()
    cases = [
        ({**GRANT, "permissions": ["dance"]}, "permissions"),
        ({**GRANT, "uses": ["resale"]}, "uses"),
        ({**GRANT, "effective_from": "2026-01-01T00:00:00"}, "effective_from"),
        ({**GRANT, "prices": {"commercial": -1}}, "prices.commercial"),
        ({**GRANT, "prices": {"commercial/loud": 1}}, "prices.commercial/loud"),
        ({**GRANT, "prices": {"resale/audio": 1}}, "prices.resale/audio"),
        ({**GRANT, "song_id": "nope"}, "song_id"),
        ({k: v for k, v in GRANT.items() if k != "uses"}, "uses"),
        ({**GRANT, "permissions": "song_inference"}, "permissions"),
    ]
    for body, field in cases:
        r = env.post("/v1/consent", env.admin, body)
        assert r.status_code in (404, 422), (field, r.status_code, r.text)
        assert r.json()["detail"].startswith(field), (field, r.json()["detail"])
    r = env.post("/v1/consent/revoke", env.admin, {"song_id": "song-a", "holder_id": "h-ann"})
    assert r.status_code == 404 and "no consent on record" in r.json()["detail"]


def test_a_price_can_be_set_for_a_use_at_a_level(env: Env) -> None:
    # The royalties' tiers (docs/royalties.md): "commercial/audio" beats "commercial" for a
    # take that reuses the song's recorded audio.
    env.add_songs()
    prices = {"commercial": 0.05, "commercial/audio": 0.2}
    r = env.post("/v1/consent", env.ann, {**GRANT, "prices": prices})
    assert r.status_code == 201, r.text
    records = env.get("/v1/consent/song-a/history", env.ann).json()["records"]
    assert [rec["prices"] for rec in records] == [prices]


def test_songs_are_idempotent_and_never_silently_changed(env: Env) -> None:
    env.add_songs()
    assert env.post("/v1/songs", env.admin, {"song": SONG_A}).status_code == 201
    changed = {**SONG_A, "title": "Another title"}
    r = env.post("/v1/songs", env.admin, {"song": changed})
    assert r.status_code == 409 and "song-a" in r.json()["detail"]
    bad = {**SONG_A, "id": "song-z", "rights_holders": [{"id": "h", "name": "H", "split": 0.5}]}
    r = env.post("/v1/songs", env.admin, {"song": bad})
    assert r.status_code == 422 and "not 1" in r.json()["detail"]
    kinds = [c["kind"] for c in env.get("/v1/feed", env.admin).json()["changes"]]
    assert kinds == ["song", "song"]


def test_feed_pages_by_cursor_and_rereads_are_identical(env: Env) -> None:
    env.add_songs()
    for i in range(7):
        env.post("/v1/consent", env.ann, {**GRANT, "effective_from": f"2026-01-0{i + 1}T00:00:00Z"})
    device = env.device()  # devices may read the feed
    pages, since = [], 0
    while True:
        page = env.get("/v1/feed", device.token, since=since, limit=3).json()
        pages.append(page)
        since = page["next"]
        if not page["more"]:
            break
    changes = [c for p in pages for c in p["changes"]]
    assert [len(p["changes"]) for p in pages] == [3, 3, 3]
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(set(seqs)) and len(seqs) == 9
    assert [c["data"]["version"] for c in changes if c["kind"] == "consent"] == list(range(1, 8))
    assert changes[0]["data"]["id"] == "song-a"
    # Re-reading from an old cursor gives the same changes again, byte for byte (a new
    # signature: each page is signed with the time it was read).
    again = env.get("/v1/feed", device.token, since=pages[0]["next"], limit=3).json()
    content = ("changes", "next", "more", "since")
    assert {k: again[k] for k in content} == {k: pages[1][k] for k in content}
    end = env.get("/v1/feed", device.token, since=since).json()
    assert (end["changes"], end["next"], end["more"]) == ([], since, False)
    r = env.get("/v1/feed", device.token, since=0, limit=5000)
    assert r.status_code == 422 and r.json()["detail"].startswith("limit")
    assert env.get("/v1/feed", None).status_code == 401
