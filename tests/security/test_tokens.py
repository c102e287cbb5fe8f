"""Tokens can be rotated (by their holder or an admin) and revoked, through the API and the admin
CLI, with effect on the very next request, and every change is on record."""

from __future__ import annotations

import json
from typing import Any

import httpx

from musicapp.testing.server_helpers import Env, LiveServer, auth


def _upload(env: Env, token: str) -> int:
    return env.post("/v1/ledger/events", token, {"events": []}).status_code


def test_a_device_and_a_holder_rotate_their_own_tokens(env: Env) -> None:
    device = env.device()
    assert _upload(env, device.token) == 200
    r = env.post(f"/v1/accounts/{device.id}/rotate", device.token, None)
    assert r.status_code == 201, r.text
    new = r.json()["token"]
    assert new != device.token
    assert _upload(env, device.token) == 401
    assert _upload(env, new) == 200
    assert env.get("/v1/accounts/me", new).json()["account_id"] == device.id
    # The old token cannot rotate again (nor can anyone who copied it).
    again = env.post(f"/v1/accounts/{device.id}/rotate", device.token, None)
    assert again.status_code == 401

    ann = env.get("/v1/accounts/me", env.ann).json()
    assert ann["role"] == "holder" and ann["holder_id"] == "h-ann"
    r = env.post(f"/v1/accounts/{ann['account_id']}/rotate", env.ann, None)
    assert r.status_code == 201
    assert env.get("/v1/accounts/me", env.ann).status_code == 401
    ann_token = r.json()["token"]
    assert env.get("/v1/consent/song-a/history", ann_token).status_code == 404  # known, no song

    # Nobody but an admin touches another account's token.
    for path in (f"/v1/accounts/{device.id}/rotate", f"/v1/accounts/{device.id}/revoke"):
        r = env.post(path, ann_token, None)
        assert r.status_code == 403 and r.json()["detail"].startswith("account_id")
    assert env.get(f"/v1/accounts/{device.id}", ann_token).status_code == 403
    assert env.get("/v1/accounts", ann_token).status_code == 403


def test_an_admin_revokes_a_token_and_only_rotation_brings_the_account_back(env: Env) -> None:
    device = env.device()
    r = env.post(f"/v1/accounts/{device.id}/revoke", env.admin, None)
    assert r.status_code == 200 and r.json()["revoked_at"]
    refused = env.post("/v1/ledger/events", device.token, {"events": []})
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert refused.headers["www-authenticate"] == "Bearer"
    again = env.post(f"/v1/accounts/{device.id}/revoke", env.admin, None)
    assert again.status_code == 409
    listed = {a["account_id"]: a for a in env.get("/v1/accounts", env.admin).json()["accounts"]}
    assert listed[device.id]["revoked"] is True and "token" not in json.dumps(listed)
    # The revoked device cannot rotate itself back in; an admin can.
    assert env.post(f"/v1/accounts/{device.id}/rotate", device.token, None).status_code == 401
    r = env.post(f"/v1/accounts/{device.id}/rotate", env.admin, None)
    assert r.status_code == 201
    assert _upload(env, r.json()["token"]) == 200 and _upload(env, device.token) == 401
    history = env.get(f"/v1/accounts/{device.id}", env.admin).json()
    admin_id = env.get("/v1/accounts/me", env.admin).json()["account_id"]
    assert [(t["action"], t["by"]) for t in history["tokens"]] == [
        ("issued", "self"),
        ("revoked", admin_id),
        ("rotated", admin_id),
    ]
    assert history["revoked"] is False
    assert env.post("/v1/accounts/d-nobody/revoke", env.admin, None).status_code == 404
    # A device signing off revokes its own token.
    other = env.device()
    assert env.post(f"/v1/accounts/{other.id}/revoke", other.token, None).status_code == 200
    assert _upload(env, other.token) == 401


def test_the_admin_cli_revokes_and_rotates_what_the_running_server_accepts(
    live_server: LiveServer,
) -> None:
    def cli(*args: str) -> Any:
        done = live_server.cli("account", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def me(token: str) -> int:
        r = httpx.get(f"{live_server.url}/v1/accounts/me", headers=auth(token), timeout=30)
        return r.status_code

    made = cli("create", "--role", "holder", "--holder-id", "h-cli", "--name", "CLI holder")
    account, token = made["account_id"], made["token"]
    assert me(token) == 200
    assert cli("revoke", account)["account_id"] == account
    assert me(token) == 401
    listed = {a["account_id"]: a for a in cli("list")}
    assert listed[account]["revoked"] is True and listed[account]["holder_id"] == "h-cli"
    rotated = cli("rotate", account)["token"]
    assert me(rotated) == 200 and me(token) == 401
    # A holder rotating through the API, over the network.
    r = httpx.post(
        f"{live_server.url}/v1/accounts/{account}/rotate", headers=auth(rotated), timeout=30
    )
    assert r.status_code == 201 and me(r.json()["token"]) == 200 and me(rotated) == 401
    actions = [t["action"] for t in cli("show", account)["tokens"]]
    assert actions == ["issued", "revoked", "rotated", "rotated"]

    missing = live_server.cli("account", "revoke", "h-nobody")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "h-nobody" in missing.stderr and "account_id" in missing.stderr
