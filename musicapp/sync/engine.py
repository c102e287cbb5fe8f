"""The client side of the rights server: pull consent, push signed ledger events, keep receipts.

``sync_once`` is safe to stop at any point (a crash, a cancel, the network going away) and to
run again: the feed cursor moves only after a page was applied (applying is idempotent), and a
ledger event stays pending until the server's receipt for it was checked and stored, so retried
uploads are answered by the server's idempotent intake and nothing is lost or sent twice into
the log. The app keeps working offline meanwhile: events queue up in the ledger.

Receipts are not taken on trust: each tree head must carry the pinned server key's signature,
each inclusion proof must lead from the event hash to that signed root, and each new tree head
must be consistent (RFC 9162 §2.1.4) with the last one this app verified. Within one batch,
tree heads smaller than the batch's newest are checked by signature and inclusion only; the
consistency chain runs from the stored head to the newest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import platform
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _json_str
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from musicapp.core import InvalidInput, Use
from musicapp.core.consent import ConsentRecord, Permission
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback, no_progress
from musicapp.sync.device import DeviceKey
from musicapp.sync.state import SyncState, effective_server_url
from musicapp.transparency.merkle import leaf_hash, verify_consistency, verify_inclusion
from musicapp.transparency.registration import proof_digest
from musicapp.transparency.treehead import TreeHead

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.ledger import Ledger, StoredEvent

log = logging.getLogger(__name__)

# The job runner's serial lane for the rights server (ui/job_runner.LANE_THREADS["server"]).
SYNC_LANE = "server"
MAX_BATCH = 1000  # the most the server takes in one request (docs/server-api.md)
MAX_BATCH_BYTES = 3 * 1024 * 1024  # under the server's 4 MiB body limit, with room for JSON
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
START_OVER = (
    "start over (Sync settings → Start over, or `musicapp sync --start-over`): the whole "
    "ledger is sent to the server and the old receipts are kept in an archive"
)


def clock_offset(resp: httpx.Response) -> float | None:
    """Server time minus local time from the response's Date header, plus the second the
    header's truncation may hide (erring toward the server being ahead: a revocation applies
    a second early rather than late); None without a usable header."""
    from email.utils import parsedate_to_datetime

    try:
        server = parsedate_to_datetime(resp.headers["date"])
    except (KeyError, TypeError, ValueError):
        return None
    if server.tzinfo is None:
        return None
    return (server - datetime.now(UTC)).total_seconds() + 1.0


class SyncError(Exception):
    """A sync that could not finish; the message says why, for the status bar."""


@dataclass(frozen=True)
class SyncResult:
    pulled: int  # feed changes applied
    pushed: int  # ledger events receipted in this run
    pending: int  # ledger events still waiting for a receipt


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows."""

    server_url: str
    last_sync_at: datetime | None
    pending: int
    last_error: str | None


def consent_from_feed(data: dict[str, Any]) -> ConsentRecord:
    """A feed's consent dict (codec form + prices, recorded_at) as a ConsentRecord."""
    try:
        revoked = data.get("revoked_at")
        return ConsentRecord(
            song_id=str(data["song_id"]),
            holder_id=str(data["holder_id"]),
            version=int(data["version"]),
            permissions=frozenset(Permission(p) for p in data["permissions"]),
            uses=frozenset(Use(u) for u in data["uses"]),
            effective_from=datetime.fromisoformat(data["effective_from"]),
            revoked_at=datetime.fromisoformat(revoked) if revoked else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SyncError(f"the feed sent an unreadable consent record ({exc!r}): {data}") from None


class SyncEngine:
    """One client of one rights server, over the app's catalogue, ledger and data folder."""

    def __init__(
        self,
        settings: Settings,
        catalog: CatalogStore,
        ledger: Ledger,
        transport: httpx.BaseTransport | None = None,
        *,
        state: SyncState | None = None,
        key: DeviceKey | None = None,
        max_attempts: int = 6,
        base_delay_s: float = 0.5,
        max_delay_s: float = 30.0,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        batch_size: int = MAX_BATCH,
        page_size: int = 500,
        timeout_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.ledger = ledger
        self.state = state or SyncState.in_folder(settings.data_dir)
        self._transport = transport
        self._key = key
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.batch_size = min(batch_size, MAX_BATCH)
        self.page_size = page_size
        self.timeout_s = timeout_s
        self._client: httpx.Client | None = None
        self._server_key: Ed25519PublicKey | None = None
        self._verified_heads: set[tuple[int, str, str, str]] = set()
        self._registry = ""  # the catalogue's name for this server's consent; set on pinning

    # -- what the UI reads ---------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        return effective_server_url(self.settings, self.state)

    def pending_count(self) -> int:
        head = self.ledger.head()
        return max(0, (head.seq if head else 0) - self.state.last_receipted_seq())

    def status(self) -> SyncStatus:
        return SyncStatus(
            self.server_url, self.state.last_sync_at, self.pending_count(), self.state.last_error
        )

    @property
    def key(self) -> DeviceKey:
        if self._key is None:
            self._key = DeviceKey.load_or_create(self.settings.data_dir)
        return self._key

    # -- one sync ------------------------------------------------------------------------------

    def start_over(self) -> Path:
        """Forget the server (the state is archived first); the next sync starts afresh.

        Returns the archive's path. See ``SyncState.start_over``.
        """
        archive = self.state.start_over()
        self._server_key = None
        self._verified_heads.clear()
        log.info("sync: started over; the previous state is archived in %s", archive)
        return archive

    def sync_once(
        self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> SyncResult:
        """Register if needed, pull the feed to its end, push every pending event.

        Raises SyncError (recorded as the last error) when it cannot finish; jobs.Cancelled when
        cancelled. Whatever was done before either is kept and not done again next time.
        """
        cancel = cancel or CancelToken()
        url = self.server_url
        if not url:
            raise SyncError("No rights server is set (local-only mode): set one in Settings")
        try:
            with httpx.Client(
                base_url=url, transport=self._transport, timeout=self.timeout_s
            ) as client:
                self._client = client
                progress(Progress(0.0, "connect", f"Connecting to {url}"))
                self._pin_server_key(cancel)
                self._register(cancel)
                pulled = self._pull(progress, cancel)
                pushed = self._push(progress, cancel)
        except SyncError as exc:
            self.state.last_error = str(exc)
            raise
        except (InvalidInput, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.state.last_error = f"{type(exc).__name__}: {exc}"
            raise SyncError(self.state.last_error) from exc
        finally:
            self._client = None
        self.state.last_error = None
        self.state.last_sync_at = datetime.now(UTC)
        pending = self.pending_count()
        progress(Progress(1.0, "done", f"Synced: {pulled} change(s) in, {pushed} event(s) out"))
        return SyncResult(pulled, pushed, pending)

    # -- HTTP with retries ---------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        cancel: CancelToken,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        """``json_body`` is encoded by httpx; ``content`` is JSON bytes encoded already."""
        assert self._client is not None
        headers = {}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.state.get('token')}"
        problem = ""
        for attempt in range(self.max_attempts):
            cancel.check()
            retry_after: float | None = None
            try:
                resp = self._client.request(
                    method, path, json=json_body, content=content, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                problem = f"cannot reach the server ({type(exc).__name__}: {exc})"
            else:
                if auth and resp.status_code == 401:
                    raise SyncError(
                        f"the server at {self.server_url} does not accept this device's token "
                        f"(its accounts were reset, or this device was removed there). To "
                        f"register again, {START_OVER}"
                    )
                if resp.status_code not in RETRY_STATUS:
                    return resp
                problem = f"the server answered {resp.status_code} ({_detail(resp)})"
                retry_after = _retry_after(resp)
            if attempt + 1 == self.max_attempts:
                break
            delay = min(self.max_delay_s, self.base_delay_s * 2**attempt)
            delay *= 0.5 + 0.5 * self._rng.random()  # jitter: clients do not retry in step
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.max_delay_s))
            log.info("sync: %s %s failed (%s); retrying in %.2f s", method, path, problem, delay)
            self._wait(delay, cancel)
        raise SyncError(f"{method} {path}: gave up after {self.max_attempts} attempts: {problem}")

    def _wait(self, delay: float, cancel: CancelToken) -> None:
        if self._sleep is not None:
            self._sleep(delay)
            return
        end = time.monotonic() + delay
        while (left := end - time.monotonic()) > 0:
            cancel.check()
            time.sleep(min(left, 0.1))

    def _expect(self, resp: httpx.Response, *codes: int) -> dict[str, Any]:
        if resp.status_code not in codes:
            raise SyncError(
                f"{resp.request.method} {resp.request.url.path}: the server answered "
                f"{resp.status_code}: {_detail(resp)}"
            )
        body = resp.json()
        if not isinstance(body, dict):
            raise SyncError(f"{resp.request.url.path}: the server's answer is not a JSON object")
        return body

    # -- first contact -------------------------------------------------------------------------

    def _pin_server_key(self, cancel: CancelToken) -> None:
        pinned = self.state.get("server_key")
        if pinned is None:
            body = self._expect(self._request("GET", "/v1/server-key", cancel, auth=False), 200)
            raw = base64.b64decode(body["public_key"])
            if hashlib.sha256(raw).hexdigest() != body.get("key_id"):
                raise SyncError("the server's key does not match its key id; not trusting it")
            pinned = body["public_key"]
            self.state.set("server_key", pinned)
            self.state.set("server_key_url", self.server_url)
            # The name under which this server's consent is kept in the catalogue: new with
            # every start over, so a server rebuilt at the same address never mixes with the
            # records of the one before.
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            self.state.set("registry", f"{self.server_url} key {body['key_id'][:16]} {stamp}")
        elif self.state.get("server_key_url") not in (None, self.server_url):
            raise SyncError(
                f"this data folder is bound to the server {self.state.get('server_key_url')} "
                f"(its key is pinned and its receipts kept here), not {self.server_url}. "
                f"To use {self.server_url} instead, {START_OVER}"
            )
        self._server_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(pinned))
        # A state pinned before registries had names uses the URL.
        self._registry = self.state.get("registry") or self.server_url
        self.state.set("registry", self._registry)
        self.catalog.registry_server = self._registry  # its published consent is in force here

    def _register(self, cancel: CancelToken) -> None:
        if self.state.get("device_id") and self.state.get("token"):
            return
        body = self._expect(
            self._request(
                "POST",
                "/v1/devices",
                cancel,
                json_body={
                    "name": f"musicapp on {platform.node() or 'this computer'}",
                    "public_key": self.key.public_key_b64,
                    # This device's own registration again (an answer lost on the way, a
                    # start over) gets its device back: the server refuses the key otherwise.
                    "proof": self.key.sign_event_hash(self._registration_proof().hex()),
                },
                auth=False,
            ),
            201,
        )
        self.state.set("device_id", str(body["device_id"]))
        self.state.set("token", str(body["token"]))

    def _registration_proof(self) -> bytes:
        raw = base64.b64decode(self.state.get("server_key") or "")
        return proof_digest(hashlib.sha256(raw).hexdigest(), self.key.public_key_b64)

    # -- pull ----------------------------------------------------------------------------------

    def _pull(self, progress: ProgressCallback, cancel: CancelToken) -> int:
        applied = self._apply_deferred()
        while True:
            cancel.check()
            since = self.state.cursor
            resp = self._request(
                "GET", "/v1/feed", cancel, params={"since": since, "limit": self.page_size}
            )
            offset = clock_offset(resp)
            if offset is not None:
                self.state.clock_offset_s = offset
            body = self._expect(resp, 200)
            for change in body["changes"]:
                self._apply(change)
                applied += 1
            self.state.cursor = int(body["next"])  # only after the page is applied
            progress(Progress(0.1, "pull", f"Consent and catalogue: {applied} change(s)"))
            if not body.get("more"):
                break
        self.state.last_pull_at = datetime.now(UTC)
        return applied

    def _apply(self, change: dict[str, Any]) -> None:
        kind, data = change.get("kind"), change.get("data") or {}
        if kind == "consent":
            self._apply_consent(data)
        elif kind == "song":
            # Songs arrive without audio, and the catalogue only holds songs with stems, so a
            # song new to this machine is remembered; its consent waits until it is imported.
            if self.catalog.song(str(data.get("id"))) is None:
                self.state.remember_song(data)
        else:
            log.warning("sync: feed change %s of unknown kind %r skipped", change.get("seq"), kind)

    def _apply_consent(self, data: dict[str, Any]) -> bool:
        """Record one consent version as the server published it; True once it is in the
        catalogue (or already was, or never can be)."""
        record = consent_from_feed(data)
        song = self.catalog.song(record.song_id)
        if song is None:
            self.state.defer_consent(data)
            return False
        if record.holder_id not in {h.id for h in song.holders}:
            log.warning(
                "sync: consent v%s for %s from %s skipped: not a rights holder of the local song",
                record.version,
                record.song_id,
                record.holder_id,
            )
            return True
        try:
            self.catalog.add_registry_consent(self._registry, record)
        except InvalidInput as exc:  # a server that changed a published version: keep the first
            log.warning("sync: %s", exc)
        return True

    def _apply_deferred(self) -> int:
        done = 0
        for data in self.state.deferred_consent():
            if self._apply_consent(data):
                self.state.drop_deferred(data["song_id"], data["holder_id"], int(data["version"]))
                done += 1
        return done

    # -- push ----------------------------------------------------------------------------------

    def _push(self, progress: ProgressCallback, cancel: CancelToken) -> int:
        """Send pending events in batches, three stages deep.

        A helper thread prepares batch k+2 (ledger read, signatures, JSON) and another sends
        batch k+1 while this thread checks and stores the receipts of batch k, so the client's
        own work mostly hides behind the server's. Batches still reach the server one after the
        other, in order, and receipts are checked in order. If a batch fails, the one already
        on its way is stopped (its retries cancelled); whatever the server stored from it is
        answered idempotently next time. Only the encoder thread advances the ledger reader.
        """
        total = self.pending_count()
        pushed = 0
        groups = self._batches(self.state.last_receipted_seq())

        def prepare_next() -> list[tuple[list[StoredEvent], bytes]] | None:
            group = next(groups, None)
            return self._encode(group) if group else None

        def ready_batches() -> Iterator[tuple[list[StoredEvent], bytes]]:
            upcoming = encoder.submit(prepare_next)
            while (ready := upcoming.result()) is not None:
                cancel.check()
                upcoming = encoder.submit(prepare_next)
                yield from ready

        def receive(batch: list[StoredEvent], post: Future[httpx.Response]) -> None:
            nonlocal pushed
            pushed += self._receive(batch, post, cancel)
            fraction = 0.2 + 0.8 * pushed / max(total, 1)
            progress(Progress(min(fraction, 0.99), "push", f"Ledger: {pushed} of {total} sent"))

        sending = CancelToken(parent=cancel)
        in_flight: tuple[list[StoredEvent], Future[httpx.Response]] | None = None
        with (
            ThreadPoolExecutor(1, thread_name_prefix="sync-encode") as encoder,
            ThreadPoolExecutor(1, thread_name_prefix="sync-send") as sender,
        ):
            try:
                for batch, body in ready_batches():
                    post = sender.submit(self._post_events, body, sending)
                    if in_flight is not None:
                        receive(*in_flight)
                    in_flight = (batch, post)
                if in_flight is not None:
                    receive(*in_flight)
            except BaseException:
                sending.cancel()
                raise
        return pushed

    def _post_events(self, body: bytes, cancel: CancelToken) -> httpx.Response:
        return self._request("POST", "/v1/ledger/events", cancel, content=body)

    def _receive(
        self, batch: list[StoredEvent], post: Future[httpx.Response], cancel: CancelToken
    ) -> int:
        """Check and store the answer to one batch; returns how many events it receipted."""
        resp = post.result()
        if resp.status_code == 200:
            answer = resp.json()
            receipts = answer["receipts"]
            if len(receipts) != len(batch):
                raise SyncError(
                    f"the server sent {len(receipts)} receipts for {len(batch)} events "
                    f"(seq {batch[0].seq}-{batch[-1].seq})"
                )
            self._accept(batch, receipts, cancel, answer.get("consistency"))
            return len(batch)
        if resp.status_code == 422:
            body = resp.json()
            accepted = body.get("accepted") or []
            self._accept(batch[: len(accepted)], accepted, cancel)
            raise SyncError(
                f"the server refused a ledger event: {_detail(resp)}{_unreadable(batch)}"
            )
        raise SyncError(
            f"the server refused ledger events seq {batch[0].seq}-{batch[-1].seq} "
            f"({resp.status_code}): {_detail(resp)}"
        )

    def _batches(self, after_seq: int) -> Iterator[list[StoredEvent]]:
        batch: list[StoredEvent] = []
        for event in self.ledger.stored_events(since_seq=after_seq):
            batch.append(event)
            if len(batch) >= self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _encode(self, events: list[StoredEvent]) -> list[tuple[list[StoredEvent], bytes]]:
        """Request bodies for ``events``, each event signed and encoded once; split by size."""
        out: list[tuple[list[StoredEvent], bytes]] = []
        batch: list[StoredEvent] = []
        parts: list[bytes] = []
        size = 0
        for event in events:
            part = self._wire(event).encode("utf-8")
            if batch and size + len(part) + 1 > MAX_BATCH_BYTES:
                out.append((batch, _body(parts)))
                batch, parts, size = [], [], 0
            batch.append(event)
            parts.append(part)
            size += len(part) + 1
        if batch:
            out.append((batch, _body(parts)))
        return out

    def _wire(self, e: StoredEvent) -> str:
        """The event as the contract's JSON object. The payload goes as the canonical text the
        ledger stored (the text its hash covers): no parse and no second encoding per event."""
        return (
            f'{{"seq":{int(e.seq)},"event_id":{_json_str(e.id)},"kind":{_json_str(e.kind)},'
            f'"payload":{e.payload_json},"created_at":{_json_str(e.ts)},'
            f'"prev_hash":{_json_str(e.prev_hash)},"hash":{_json_str(e.hash)},'
            f'"signature":"{self.key.sign_event_hash(e.hash)}"}}'
        )

    # -- receipts ------------------------------------------------------------------------------

    def _accept(
        self,
        events: list[StoredEvent],
        receipts: list[dict[str, Any]],
        cancel: CancelToken,
        offered: dict[str, Any] | None = None,
    ) -> None:
        """Check each receipt, the consistency of the new tree head, then store them.

        ``offered`` is the consistency proof the server sent with the receipts; it is used when
        it runs from the head this client holds to the newest one, else one is asked for.
        """
        if not events:
            return
        device_id = self.state.get("device_id")
        newest: TreeHead | None = None
        for event, r in zip(events, receipts, strict=True):
            where = f"receipt for event seq {event.seq}"
            if (r.get("device_id"), r.get("seq"), r.get("event_hash")) != (
                device_id,
                event.seq,
                event.hash,
            ):
                raise SyncError(
                    f"{where}: names another event ({r.get('seq')}, {r.get('event_hash')})"
                )
            head = TreeHead(int(r["tree_size"]), r["root"], r["timestamp"], r["signature"])
            self._check_signed(head, where)
            proof = [bytes.fromhex(p) for p in r["inclusion"]]
            leaf = leaf_hash(bytes.fromhex(event.hash))
            if not verify_inclusion(
                leaf, int(r["leaf_index"]), head.tree_size, proof, bytes.fromhex(head.root)
            ):
                raise SyncError(f"{where}: its inclusion proof does not lead to the signed root")
            if newest is None or head.tree_size > newest.tree_size:
                newest = head
        assert newest is not None
        self._check_consistent(newest, cancel, offered)
        self.state.store_receipts(
            [(e.seq, e.id, e.hash, r) for e, r in zip(events, receipts, strict=True)]
        )
        stored = self.state.tree_head
        if stored is None or newest.tree_size > stored.tree_size:
            self.state.tree_head = newest

    def _check_signed(self, head: TreeHead, where: str) -> None:
        token = (head.tree_size, head.root, head.timestamp, head.signature)
        if token in self._verified_heads:
            return
        assert self._server_key is not None
        message = head.signed_bytes()
        try:
            self._server_key.verify(base64.b64decode(head.signature), message)
        except (InvalidSignature, ValueError):
            raise SyncError(f"{where}: the tree head is not signed by the server's key") from None
        self._verified_heads.add(token)

    def _check_consistent(
        self, new: TreeHead, cancel: CancelToken, offered: dict[str, Any] | None = None
    ) -> None:
        old = self.state.tree_head
        if old is None:
            return  # first receipt: trust on first use, like the pinned key
        if old.tree_size == new.tree_size:
            if old.root != new.root:
                raise SyncError(
                    f"the server's log has two roots for size {new.tree_size}: refusing its receipts"
                )
            return
        small, big = sorted((old, new), key=lambda h: h.tree_size)
        if offered and (offered.get("first"), offered.get("second")) == (
            small.tree_size,
            big.tree_size,
        ):
            body = offered
        else:
            body = self._expect(
                self._request(
                    "GET",
                    "/v1/log/consistency",
                    cancel,
                    params={"first": small.tree_size, "second": big.tree_size},
                ),
                200,
            )
        proof = [bytes.fromhex(p) for p in body["proof"]]
        if not verify_consistency(
            small.tree_size,
            big.tree_size,
            bytes.fromhex(small.root),
            bytes.fromhex(big.root),
            proof,
        ):
            raise SyncError(
                f"the server's log at size {big.tree_size} is not consistent with size "
                f"{small.tree_size} verified before: refusing its receipts"
            )


def _body(parts: list[bytes]) -> bytes:
    """``{"events": [...]}`` from the events' JSON texts (UTF-8)."""
    return b'{"events":[' + b",".join(parts) + b"]}"


def _unreadable(batch: list[StoredEvent]) -> str:
    """Why a refused body might not parse: the first stored payload that is not a JSON object.

    Payloads go out as the ledger stored them, so a ledger damaged outside musicapp shows up as
    a body the server cannot read; this names the event instead.
    """
    for event in batch:
        try:
            ok = isinstance(json.loads(event.payload_json), dict)
        except ValueError:
            ok = False
        if not ok:
            return (
                f" (the local ledger's event seq {event.seq} has an unreadable payload: "
                f"run `musicapp ledger verify`)"
            )
    return ""


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)[:200]


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


def sync_job(engine: SyncEngine) -> FunctionJob[SyncResult]:
    """``engine.sync_once`` as a job on the serial server lane (one sync at a time)."""
    return FunctionJob("Sync with the rights server", engine.sync_once, lane=SYNC_LANE)


def start_over_job(engine: SyncEngine) -> FunctionJob[Path]:
    """``engine.start_over`` on the same serial lane: never while a sync runs, and the copy
    of a state file with many receipts stays off the GUI thread."""
    return FunctionJob(
        "Start over with the rights server", lambda _p, _c: engine.start_over(), lane=SYNC_LANE
    )
