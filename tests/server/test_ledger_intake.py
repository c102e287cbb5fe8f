"""Ledger intake against the real server process: receipts, idempotency, conflicts, tampering, proofs.

Events come from a real local Ledger and are signed by the device key, as the app will do.
The log is shared by the session's server, so tests compare tree sizes before and after.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from musicapp.ledger import Ledger
from musicapp.ledger.canonical import canonical_bytes, event_hash
from musicapp.testing.server_helpers import LiveServer, auth, signed
from musicapp.transparency import merkle, signing


@pytest.fixture(scope="module")
def admin(live_server: LiveServer) -> str:
    done = live_server.cli("account", "create", "--role", "admin", "--name", "root")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["token"]


@pytest.fixture(scope="module")
def server_key(live_server: LiveServer) -> signing.Ed25519PublicKey:
    body = httpx.get(f"{live_server.url}/v1/server-key").json()
    key = signing.public_key_from_b64(body["public_key"])
    assert signing.key_id(key) == body["key_id"]
    return key


class Phone:
    """A device: its key, its local ledger and its server token."""

    def __init__(self, server: LiveServer, tmp: Path, name: str) -> None:
        self.url = server.url
        self.key = signing.generate_key()
        self.ledger = Ledger(tmp / name / "ledger.sqlite")
        r = httpx.post(
            f"{self.url}/v1/devices",
            json={"name": name, "public_key": signing.public_key_b64(self.key)},
        )
        assert r.status_code == 201, r.text
        self.id, self.token = r.json()["device_id"], r.json()["token"]

    def record(self, n: int) -> None:
        for i in range(n):
            self.ledger.append("verification", {"allowed": True, "i": i})

    def events(self, since: int = 0, until: int | None = None) -> list[dict[str, Any]]:
        evs = [signed(e, self.key) for e in self.ledger.events(since_seq=since)]
        return evs if until is None else [e for e in evs if e["seq"] <= until]

    def upload(self, events: list[dict[str, Any]]) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/ledger/events", json={"events": events}, headers=auth(self.token)
        )


def sth(server: LiveServer, token: str) -> dict[str, Any]:
    return httpx.get(f"{server.url}/v1/log/sth", headers=auth(token)).json()


def check_receipt(receipt: dict[str, Any], key: signing.Ed25519PublicKey) -> None:
    head = {k: receipt[k] for k in ("tree_size", "root", "timestamp")}
    assert signing.verify(key, canonical_bytes(head), receipt["signature"])
    leaf = merkle.leaf_hash(bytes.fromhex(receipt["event_hash"]))
    assert merkle.verify_inclusion(
        leaf,
        receipt["leaf_index"],
        receipt["tree_size"],
        [bytes.fromhex(h) for h in receipt["inclusion"]],
        bytes.fromhex(receipt["root"]),
    )


def test_receipts_verify_and_resending_stores_once(
    live_server: LiveServer, admin: str, server_key: signing.Ed25519PublicKey, tmp_path: Path
) -> None:
    phone = Phone(live_server, tmp_path, "phone")
    phone.record(25)
    events = phone.events()
    receipts = []
    for start in range(0, 25, 10):
        r = phone.upload(events[start : start + 10])
        assert r.status_code == 200, r.text
        receipts += r.json()["receipts"]
    assert [r["seq"] for r in receipts] == list(range(1, 26))
    assert [r["event_hash"] for r in receipts] == [e["hash"] for e in events]
    for receipt in receipts:
        assert receipt["device_id"] == phone.id
        check_receipt(receipt, server_key)
    # The latest head's signature verifies too.
    head = sth(live_server, admin)
    body = {k: head[k] for k in ("tree_size", "root", "timestamp")}
    assert signing.verify(server_key, canonical_bytes(body), head["signature"])

    # The same batch again: same receipts, no new leaves.
    again = phone.upload(events[:10])
    assert again.status_code == 200
    assert again.json()["receipts"] == receipts[:10]
    assert sth(live_server, admin)["tree_size"] == head["tree_size"]

    # A later inclusion proof (against the current head) verifies as well.
    r = httpx.get(
        f"{live_server.url}/v1/log/inclusion",
        params={"leaf_index": receipts[3]["leaf_index"], "tree_size": head["tree_size"]},
        headers=auth(admin),
    )
    leaf = merkle.leaf_hash(bytes.fromhex(events[3]["hash"]))
    proof = [bytes.fromhex(h) for h in r.json()["inclusion"]]
    assert merkle.verify_inclusion(
        leaf, receipts[3]["leaf_index"], head["tree_size"], proof, bytes.fromhex(head["root"])
    )


def test_conflicts_and_gaps_are_refused_naming_the_seq(
    live_server: LiveServer, admin: str, tmp_path: Path
) -> None:
    phone = Phone(live_server, tmp_path, "conflict")
    phone.record(3)
    assert phone.upload(phone.events()).status_code == 200
    size = sth(live_server, admin)["tree_size"]

    # Another history of the same device (a restored backup, say): seq 2 differs.
    other = Ledger(tmp_path / "restored" / "ledger.sqlite")
    for i in range(3):
        other.append("verification", {"allowed": False, "i": i})
    forked = [signed(e, phone.key) for e in other.events()]
    r = phone.upload(forked[1:2])
    assert r.status_code == 409
    assert "seq 2" in r.json()["detail"] and "different event" in r.json()["detail"]

    phone.record(3)
    r = phone.upload(phone.events(since=4))  # seq 5 and 6, skipping 4
    assert r.status_code == 409
    assert "seq 5" in r.json()["detail"] and "expected seq is 4" in r.json()["detail"]
    assert sth(live_server, admin)["tree_size"] == size


def _resign(ev: dict[str, Any], key: signing.Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    """An event changed and re-hashed consistently, so only the chain link can catch it."""
    ev = {**ev, **changes}
    ev["hash"] = event_hash(
        ev["seq"], ev["event_id"], ev["kind"], ev["created_at"], ev["payload"], ev["prev_hash"]
    )
    ev["signature"] = signing.sign(key, bytes.fromhex(ev["hash"]))
    return ev


@pytest.mark.parametrize("tamper", ["payload", "signature", "chain"])
def test_tampered_event_is_refused_and_earlier_ones_kept(
    live_server: LiveServer,
    admin: str,
    server_key: signing.Ed25519PublicKey,
    tmp_path: Path,
    tamper: str,
) -> None:
    phone = Phone(live_server, tmp_path, f"tamper-{tamper}")
    phone.record(5)
    events = phone.events()
    size = sth(live_server, admin)["tree_size"]
    bad = dict(events[2])
    if tamper == "payload":
        bad["payload"] = {"allowed": False, "i": 2}  # edited after hashing
        expected = "hash does not match"
    elif tamper == "signature":
        bad["signature"] = signing.sign(signing.generate_key(), bytes.fromhex(bad["hash"]))
        expected = "signature does not verify"
    else:
        bad = _resign(bad, phone.key, prev_hash="ab" * 32)
        expected = "prev_hash does not match the hash of seq 2"
    r = phone.upload([*events[:2], bad, *events[3:]])
    assert r.status_code == 422
    body = r.json()
    assert "seq 3" in body["detail"] and expected in body["detail"]
    assert [a["seq"] for a in body["accepted"]] == [1, 2]
    for receipt in body["accepted"]:
        check_receipt(receipt, server_key)
    assert sth(live_server, admin)["tree_size"] == size + 2

    # The honest events still go in after the refusal, and 1-2 are not stored twice.
    r = phone.upload(events)
    assert r.status_code == 200
    assert r.json()["receipts"][:2] == body["accepted"]
    assert sth(live_server, admin)["tree_size"] == size + 5


def test_consistency_between_two_tree_sizes(
    live_server: LiveServer, admin: str, server_key: signing.Ed25519PublicKey, tmp_path: Path
) -> None:
    phone = Phone(live_server, tmp_path, "consistency")
    phone.record(12)
    one = phone.upload(phone.events(until=5))
    assert one.status_code == 200
    assert "consistency" not in one.json()  # the device's first batch: no head before it
    first = sth(live_server, admin)
    two = phone.upload(phone.events(since=5))
    assert two.status_code == 200
    second = sth(live_server, admin)
    assert second["tree_size"] == first["tree_size"] + 7

    # The answer to the second batch proves its head consistent with the head that receipted
    # the first, so a client checking receipts in order needs no extra request.
    before, after = one.json()["receipts"][-1], two.json()["receipts"][-1]
    offered = two.json()["consistency"]
    assert (offered["first"], offered["second"]) == (before["tree_size"], after["tree_size"])
    assert merkle.verify_consistency(
        offered["first"],
        offered["second"],
        bytes.fromhex(before["root"]),
        bytes.fromhex(after["root"]),
        [bytes.fromhex(h) for h in offered["proof"]],
    )
    r = httpx.get(
        f"{live_server.url}/v1/log/consistency",
        params={"first": first["tree_size"], "second": second["tree_size"]},
        headers=auth(admin),
    )
    assert r.status_code == 200
    proof = [bytes.fromhex(h) for h in r.json()["proof"]]
    args = (first["tree_size"], second["tree_size"])
    roots = (bytes.fromhex(first["root"]), bytes.fromhex(second["root"]))
    assert merkle.verify_consistency(*args, *roots, proof)
    assert not merkle.verify_consistency(*args, bytes(32), roots[1], proof)

    refused = httpx.get(
        f"{live_server.url}/v1/log/consistency",
        params={"first": 0, "second": second["tree_size"]},
        headers=auth(admin),
    )
    assert refused.status_code == 400 and "at least 1" in refused.json()["detail"]
    too_big = httpx.get(
        f"{live_server.url}/v1/log/consistency",
        params={"first": 1, "second": second["tree_size"] + 100},
        headers=auth(admin),
    )
    assert too_big.status_code == 404


def test_big_batch_signatures_checked_in_workers_name_the_first_bad_seq(
    live_server: LiveServer, admin: str, server_key: signing.Ed25519PublicKey, tmp_path: Path
) -> None:
    """Batches of 128+ events are checked in worker processes; the outcome must not change."""
    phone = Phone(live_server, tmp_path, "big")
    phone.record(300)
    events = phone.events()
    size = sth(live_server, admin)["tree_size"]
    forged = dict(events[199])
    forged["signature"] = signing.sign(signing.generate_key(), bytes.fromhex(forged["hash"]))
    r = phone.upload([*events[:199], forged, *events[200:]])
    assert r.status_code == 422 and "event seq 200: the signature" in r.json()["detail"]
    assert len(r.json()["accepted"]) == 199
    r = phone.upload(events)
    assert r.status_code == 200
    receipts = r.json()["receipts"]
    assert sth(live_server, admin)["tree_size"] == size + 300
    check_receipt(receipts[0], server_key)
    check_receipt(receipts[-1], server_key)
