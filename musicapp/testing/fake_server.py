"""An in-process stand-in for the rights server (API v1), for tests and benchmarks.

It speaks the contract through ``httpx.MockTransport`` so the real ``SyncEngine`` code runs
against it unchanged, with no sockets. It keeps everything in memory and implements only what
the client uses: device registration, the server key, the signed feed, ledger intake with
RFC 9162 receipts, tree heads and consistency proofs. ``FlakyTransport`` wraps any transport to drop
requests before or after the server handled them, which is how a lost answer looks to a client.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from musicapp.ledger.canonical import GENESIS_HASH, canonical_bytes, event_hash
from musicapp.transparency import feedsig, merkle


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class MerkleTree(merkle.ListSource):
    """An append-only RFC 9162 tree over leaf hashes (``musicapp.transparency.merkle``)."""

    def __init__(self) -> None:
        self.leaves: list[bytes] = []
        super().__init__(self.leaves)

    def append(self, leaf: bytes) -> int:
        self.leaves.append(merkle.leaf_hash(leaf))
        return len(self.leaves) - 1

    def root(self, size: int | None = None) -> bytes:
        return merkle.root(self, len(self.leaves) if size is None else size)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(index, size, self)

    def consistency(self, first: int, second: int) -> list[bytes]:
        if first == 0 or first == second:
            return []
        return merkle.consistency_proof(first, second, self)


class FakeServer:
    """The rights server's v1 API in memory. ``transport()`` gives the httpx transport."""

    def __init__(self, feed_limit: int = 500) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.feed_limit = feed_limit
        self.tree = MerkleTree()
        self.changes: list[dict[str, Any]] = []
        self.devices: dict[str, dict[str, Any]] = {}  # device id -> {key, token, events}
        self.tokens: dict[str, str] = {}
        self.requests = 0
        self.fail_next: list[int] = []  # status codes to answer the next requests with
        self.clock_ahead = timedelta(0)  # how far this server's clock is ahead of the machine's
        self.claims: dict[str, dict[str, Any]] = {}  # claim id -> the claim (as the server's)
        self._lock = threading.Lock()

    # -- helpers for tests ---------------------------------------------------------------------

    def publish(self, kind: str, data: dict[str, Any]) -> int:
        seq = len(self.changes) + 1
        self.changes.append({"seq": seq, "kind": kind, "data": data})
        return seq

    def decide_claim(self, claim_id: str, confirm: bool, reason: str = "") -> None:
        """The admin's decision (``musicapp-server claim confirm|reject``): a confirmed claim's
        song and its holder's consent, version 1, go into the feed."""
        claim = self.claims[claim_id]
        claim.update(status="confirmed" if confirm else "rejected", reason=reason or None)
        if confirm:
            self.publish("song", claim["song"])
            self.publish(
                "consent",
                {
                    "song_id": claim["song_id"],
                    "holder_id": claim["holder_id"],
                    "version": 1,
                    "permissions": claim["permissions"],
                    "uses": claim["uses"],
                    "effective_from": "2025-01-01T00:00:00+00:00",
                    "revoked_at": None,
                },
            )

    def _claim(self, device_id: str, body: dict[str, Any]) -> httpx.Response:
        song = body["song"]
        for claim in self.claims.values():
            if claim["song_id"] == song["id"] and claim["status"] != "rejected":
                if claim["device_id"] != device_id:
                    return httpx.Response(409, json={"detail": "claimed by someone else"})
                return httpx.Response(200, json={"claim": self._public(claim)})
        claim_id = secrets.token_hex(8)
        self.claims[claim_id] = {
            "id": claim_id,
            "song_id": song["id"],
            "title": song.get("title", ""),
            "song": song,
            "holder_id": body["holder_id"],
            "permissions": body["permissions"],
            "uses": body["uses"],
            "status": "pending",
            "reason": None,
            "device_id": device_id,
        }
        return httpx.Response(201, json={"claim": self._public(self.claims[claim_id])})

    @staticmethod
    def _public(claim: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in claim.items() if k != "song"}

    def events(self, device_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.devices[device_id]["events"]
        return events

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -- the API -------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests += 1
            if self.fail_next:
                return httpx.Response(self.fail_next.pop(0), json={"detail": "injected"})
            return self._route(request)

    def _route(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        body = json.loads(request.content) if request.content else {}
        if (method, path) == ("POST", "/v1/devices"):
            device_id, token = f"d-{len(self.devices) + 1}", secrets.token_urlsafe(16)
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(body["public_key"]))
            self.devices[device_id] = {"key": key, "events": []}
            self.tokens[token] = device_id
            return httpx.Response(201, json={"device_id": device_id, "token": token})
        if (method, path) == ("GET", "/v1/server-key"):
            raw = self.key.public_key().public_bytes_raw()
            return httpx.Response(
                200, json={"public_key": _b64(raw), "key_id": hashlib.sha256(raw).hexdigest()}
            )
        if path.startswith("/v1/ca"):  # a server without a CA (the real one has one)
            return httpx.Response(404, json={"detail": f"no route {method} {path}"})
        auth = request.headers.get("authorization", "")
        caller = self.tokens.get(auth.removeprefix("Bearer "))
        if caller is None:
            return httpx.Response(401, json={"detail": "a valid bearer token is needed"})
        device_id = caller
        if (method, path) == ("GET", "/v1/feed"):
            text = json.dumps(self.feed_page(request.url.params))  # ASCII, like the server's
            return httpx.Response(
                200, content=text.encode(), headers={"Content-Type": "application/json"}
            )
        if (method, path) == ("POST", "/v1/ledger/events"):
            return self._intake(device_id, body["events"])
        if (method, path) == ("POST", "/v1/claims"):
            return self._claim(device_id, body)
        if method == "GET" and path.startswith("/v1/claims/"):
            claim = self.claims.get(path.removeprefix("/v1/claims/"))
            if claim is None or claim["device_id"] != device_id:
                return httpx.Response(404, json={"detail": "no such claim"})
            return httpx.Response(200, json={"claim": self._public(claim)})
        if (method, path) == ("GET", "/v1/log/sth"):
            return httpx.Response(200, json=self._sth(len(self.tree.leaves)))
        if (method, path) == ("GET", "/v1/log/consistency"):
            first, second = int(request.url.params["first"]), int(request.url.params["second"])
            proof = [p.hex() for p in self.tree.consistency(first, second)]
            return httpx.Response(200, json={"first": first, "second": second, "proof": proof})
        return httpx.Response(404, json={"detail": f"no route {method} {path}"})

    def feed_page(self, params: Any) -> dict[str, Any]:
        """A page of the feed, signed like the real server's (transparency/feedsig.py)."""
        since = int(params.get("since", 0))
        limit = min(int(params.get("limit", self.feed_limit)), self.feed_limit)
        nonce = params.get("nonce")
        page = self.changes[since : since + limit]
        nxt = since + len(page)
        more = nxt < len(self.changes)
        as_of = (datetime.now(UTC) + self.clock_ahead).isoformat()
        message = feedsig.page_message(
            nonce=nonce, since=since, next_=nxt, more=more, as_of=as_of, changes=page
        )
        return {
            "changes": page,
            "next": nxt,
            "more": more,
            "since": since,
            "nonce": nonce,
            "as_of": as_of,
            "signature": _b64(self.key.sign(message)),
        }

    def _sth(self, size: int) -> dict[str, Any]:
        head = {
            "tree_size": size,
            "root": self.tree.root(size).hex(),
            "timestamp": datetime.now(UTC).isoformat(),
        }
        return {**head, "signature": _b64(self.key.sign(canonical_bytes(head)))}

    def _intake(self, device_id: str, events: list[dict[str, Any]]) -> httpx.Response:
        dev = self.devices[device_id]
        stored: list[dict[str, Any]] = dev["events"]
        accepted: list[tuple[dict[str, Any], int]] = []
        for e in events:
            seq = e["seq"]
            if seq <= len(stored):
                old = stored[seq - 1]
                if old["hash"] != e["hash"]:
                    return httpx.Response(409, json={"detail": f"seq {seq}: a different event"})
                accepted.append((old, old["leaf_index"]))
                continue
            if seq != len(stored) + 1:
                return httpx.Response(
                    409, json={"detail": f"seq {seq}: expected seq {len(stored) + 1}"}
                )
            problem = self._check(dev, stored, e)
            if problem:
                receipts = self._receipts(device_id, accepted)
                return httpx.Response(422, json={"detail": problem, "accepted": receipts})
            record = {**e, "leaf_index": self.tree.append(bytes.fromhex(e["hash"]))}
            stored.append(record)
            accepted.append((record, record["leaf_index"]))
        size = len(self.tree.leaves)
        for record, _ in accepted:
            record.setdefault("receipt_size", size)
        body: dict[str, Any] = {"receipts": self._receipts(device_id, accepted)}
        # Like the real server: a consistency proof from the head that receipted the event
        # before this batch to this batch's head.
        before = stored[events[0]["seq"] - 2].get("receipt_size") if events[0]["seq"] > 1 else 0
        if before and before < size:
            proof = [p.hex() for p in self.tree.consistency(before, size)]
            body["consistency"] = {"first": before, "second": size, "proof": proof}
        return httpx.Response(200, json=body)

    def _check(self, dev: dict[str, Any], stored: list[dict[str, Any]], e: dict[str, Any]) -> str:
        seq = e["seq"]
        try:
            dev["key"].verify(base64.b64decode(e["signature"]), bytes.fromhex(e["hash"]))
        except Exception:
            return f"seq {seq}: the signature does not match the device key"
        digest = event_hash(
            seq, e["event_id"], e["kind"], e["created_at"], e["payload"], e["prev_hash"]
        )
        if digest != e["hash"]:
            return f"seq {seq}: the hash does not match the event"
        prev = stored[-1]["hash"] if stored else GENESIS_HASH
        if e["prev_hash"] != prev:
            return f"seq {seq}: prev_hash does not match event {seq - 1}"
        return ""

    def _receipts(
        self, device_id: str, accepted: list[tuple[dict[str, Any], int]]
    ) -> list[dict[str, Any]]:
        size = len(self.tree.leaves)
        sth = self._sth(size)
        return [
            {
                "device_id": device_id,
                "seq": e["seq"],
                "event_hash": e["hash"],
                "leaf_index": index,
                "tree_size": size,
                "root": sth["root"],
                "inclusion": [p.hex() for p in self.tree.inclusion(index, size)],
                "timestamp": sth["timestamp"],
                "signature": sth["signature"],
            }
            for e, index in accepted
        ]


class FlakyTransport(httpx.BaseTransport):
    """Drops a share of requests: before the server sees them, or after (the answer is lost)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        drop_rate: float = 0.2,
        seed: int = 0,
        on_drop: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self.drop_rate = drop_rate
        self.rng = random.Random(seed)
        self.on_drop = on_drop
        self.dropped = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        roll = self.rng.random()
        if roll < self.drop_rate / 2:
            self.dropped += 1
            raise httpx.ConnectError("injected: connection dropped before sending", request=request)
        response = self.inner.handle_request(request)
        if roll < self.drop_rate:
            self.dropped += 1
            raise httpx.ReadError("injected: connection reset before the answer", request=request)
        return response
