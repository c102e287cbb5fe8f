"""The client side of the rights server: pull consent, push signed ledger events, keep receipts.

``sync_once`` is safe to stop at any point (a crash, a cancel, the network going away) and to
run again: the feed cursor moves only after a page was applied (applying is idempotent), and a
ledger event stays pending until the server's receipt for it was checked and stored, so retried
uploads are answered by the server's idempotent intake and nothing is lost or sent twice into
the log. The app keeps working offline meanwhile: events queue up in the ledger.

Nothing from the server is taken on trust. Its key is pinned on first contact; every feed page
must be signed by it for this very request (``feed.py``), and each record is then applied or
quarantined on its own; every receipt passes three checks (``receipts.py``). Before pushing,
the ledger is compared with what the server receipted (``recovery.py``). The token only ever
goes over HTTPS, or plain HTTP to this computer, unless the user allowed otherwise
(``policy.py``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import platform
import random
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from musicapp.core import InvalidInput
from musicapp.jobs import CancelToken, Progress, ProgressCallback, no_progress
from musicapp.sync import certificate, policy, recovery, upload
from musicapp.sync.device import DeviceKey, retire_key
from musicapp.sync.errors import SyncError
from musicapp.sync.feed import FeedApplier, consent_from_feed, verify_page
from musicapp.sync.http import START_OVER, RetryingHTTP, detail, json_object
from musicapp.sync.receipts import ReceiptChecker
from musicapp.sync.state import SyncState, effective_server_url
from musicapp.sync.upload import MAX_BATCH
from musicapp.transparency import signing
from musicapp.transparency.registration import proof_digest

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.ledger import Ledger, StoredEvent

log = logging.getLogger(__name__)

__all__ = ["SyncEngine", "SyncError", "SyncResult", "SyncStatus", "consent_from_feed"]

# The job runner's serial lane for the rights server (ui/job_runner.LANE_THREADS["server"]).
SYNC_LANE = "server"
# A server clock further off than this is taken for a broken clock, not a time zone: consent
# is then decided in this computer's time (and the sync says so in the log).
MAX_CLOCK_OFFSET_S = 24 * 3600.0


@dataclass(frozen=True)
class SyncResult:
    pulled: int  # feed changes applied
    pushed: int  # ledger events receipted in this run
    pending: int  # ledger events still waiting for a receipt
    quarantined: int = 0  # feed records this run could not apply (kept, see SyncState)


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows."""

    server_url: str
    last_sync_at: datetime | None
    pending: int
    last_error: str | None
    insecure: bool = False  # plain HTTP to another computer, allowed by the user
    quarantined: int = 0  # feed records kept in quarantine


class SyncEngine(RetryingHTTP):
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
        self._receipts: ReceiptChecker | None = None  # set on pinning
        self._feed_verifier: signing.Verifier | None = None
        self._registry = ""  # the catalogue's name for this server's consent; set on pinning

    # -- what the UI reads ---------------------------------------------------------------------

    @property
    def transport(self) -> httpx.BaseTransport | None:
        return self._transport  # the tests' fake server; None: the network

    @property
    def server_url(self) -> str:
        return effective_server_url(self.settings, self.state)

    def pending_count(self) -> int:
        head = self.ledger.head()
        return max(0, (head.seq if head else 0) - self.state.receipts.last_receipted_seq())

    def status(self) -> SyncStatus:
        url = self.server_url
        return SyncStatus(
            url,
            self.state.last_sync_at,
            self.pending_count(),
            self.state.last_error,
            insecure=bool(url) and policy.is_insecure(url),
            quarantined=len(self.state.quarantined()),  # rarely more than a few rows
        )

    def insecure_allowed(self, url: str) -> bool:
        """Whether the user allowed plain HTTP to ``url`` (environment, or for this server)."""
        return bool(getattr(self.settings, "allow_insecure_http", False)) or (
            self.state.insecure_http_allowed(url)
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
        logged = recovery.logged_prefix(self.ledger, self.state)
        server_key = self.state.get("server_key")
        archive = self.state.start_over()
        # A key registers once, so the new stream needs a new key; the old one is archived.
        retire_key(self.settings.data_dir, archive.parent, archive.stem.removeprefix("sync-"))
        self._key = None
        if logged is not None and server_key:
            # The same server (same key) already logged this ledger up to there: the new
            # stream continues after it instead of sending those events a second time.
            self.state.receipts.set_stream_base(server_key, *logged)
        self._receipts = None
        self._feed_verifier = None
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
        url, self.contacted = self.server_url, False
        if not url:
            raise SyncError("No rights server is set (local-only mode): set one in Settings")
        applier: FeedApplier | None = None
        try:
            policy.check_server_url(url, self.insecure_allowed(url))
            with httpx.Client(
                base_url=url, transport=self._transport, timeout=self.timeout_s
            ) as client:
                self._client = client
                progress(Progress(0.0, "connect", f"Connecting to {url}"))
                try:
                    self._pin_server_key(cancel)
                    self._register(cancel)
                    applier = FeedApplier(self.catalog, self.state, self._registry)
                    pulled = self._pull(applier, progress, cancel)
                    pushed = self._push(progress, cancel)
                    self.state.claims.exchange(self._request, cancel)  # sync/claims.py
                except SyncError:
                    self._revocation_only(cancel)
                    raise
                problem = self._certify(cancel)
        except SyncError as exc:
            self.state.last_error = str(exc)
            raise
        except (policy.InsecureServer, InvalidInput) as exc:
            self.state.last_error = str(exc)
            raise SyncError(self.state.last_error) from exc
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.state.last_error = f"{type(exc).__name__}: {exc}"
            raise SyncError(self.state.last_error) from exc
        finally:
            self._client = None
        self.state.last_error = problem
        self.state.last_sync_at = datetime.now(UTC)
        pending = self.pending_count()
        quarantined = applier.quarantined if applier else 0
        kept = f", {quarantined} quarantined" if quarantined else ""
        progress(
            Progress(1.0, "done", f"Synced: {pulled} change(s) in{kept}, {pushed} event(s) out")
        )
        return SyncResult(pulled, pushed, pending, quarantined)

    # -- first contact -------------------------------------------------------------------------

    def _pin_server_key(self, cancel: CancelToken) -> None:
        pinned = self.state.get("server_key")
        if pinned is None:
            body = self._expect(self._request("GET", "/v1/server-key", cancel, auth=False), 200)
            try:
                signing.public_key_from_b64(str(body["public_key"]))
            except signing.SigningError as exc:
                raise SyncError(
                    f"the server's key cannot be read ({exc}); not trusting it"
                ) from None
            raw = base64.b64decode(body["public_key"])
            if hashlib.sha256(raw).hexdigest() != body.get("key_id"):
                raise SyncError("the server's key does not match its key id; not trusting it")
            pinned = body["public_key"]
            self.state.set("server_key", pinned)
            self.state.set("server_key_url", self.server_url)
            # The pinned server is the one to sync with from now on, however it was named
            # (`musicapp sync --server`, the environment): its consent is what is in force.
            self.state.set("server_url", self.server_url)
            # The name under which this server's consent is kept in the catalogue: new with
            # every start over, so a server rebuilt at the same address never mixes with the
            # records of the one before.
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            self.state.set("registry", f"{self.server_url} key {body['key_id'][:16]} {stamp}")
        elif (bound := self.state.get("server_key_url")) not in (None, self.server_url):
            # Another name for the pinned server (127.0.0.1 → localhost)? Its key says so.
            body = self._expect(self._request("GET", "/v1/server-key", cancel, auth=False), 200)
            if body.get("public_key") != pinned:
                raise SyncError(
                    f"this data folder is bound to the server {bound} (its key is pinned and its "
                    f"receipts kept here), not {self.server_url}. To use {self.server_url} "
                    f"instead, {START_OVER}"
                )
            log.info("%s holds the key pinned for %s: the same server", self.server_url, bound)
            self.state.set("server_key_url", self.server_url)
            self.state.set("server_url", self.server_url)
        if self._receipts is None:
            self._receipts = ReceiptChecker(self.state, pinned)
            self._feed_verifier = signing.Verifier(pinned)
        # A state pinned before registries had names uses the URL.
        self._registry = self.state.get("registry") or self.server_url
        self.state.set("registry", self._registry)
        # Its published consent is in force here.
        self.catalog.consent.registry_server = self._registry

    def _register(self, cancel: CancelToken) -> None:
        if self.state.get("device_id") and self.state.get("token"):
            return
        body = self._expect(
            self._request(
                "POST",
                "/v1/devices",
                cancel,
                json_body={
                    # The system, not the host name: host names often carry the user's name,
                    # and the rights server has no need of it.
                    "name": f"musicapp on {platform.system() or 'a computer'}",
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

    def _certify(self, cancel: CancelToken) -> str | None:
        """The device's signing certificate from the server's CA (``certificate.py``); what
        went wrong, or None. Never fails the sync: the events are up, and exports go on being
        signed by the local identity."""
        try:
            certificate.ensure_certificate(
                self,
                self.settings.data_dir,
                self.state.get("server_key") or "",
                self.state.get("device_id") or "",
                self.key.public_key_b64,
                cancel,
            )
        except (SyncError, httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            problem = f"signing certificate: {exc}"
            log.warning("sync: %s", problem)
            return problem
        return None

    def _revocation_only(self, cancel: CancelToken) -> None:
        """A sync that failed still reads the CA's revocation list (``certificate.py``): best
        effort, the sync's own error is the one reported."""
        if not self.state.get("server_key"):
            return
        try:
            certificate.refresh_revocation(self, self.settings.data_dir, cancel)
        except (SyncError, httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            log.info("sync: the revocation list could not be read either (%s)", exc)

    def _registration_proof(self) -> bytes:
        raw = base64.b64decode(self.state.get("server_key") or "")
        return proof_digest(hashlib.sha256(raw).hexdigest(), self.key.public_key_b64)

    # -- pull ----------------------------------------------------------------------------------

    def _pull(self, applier: FeedApplier, progress: ProgressCallback, cancel: CancelToken) -> int:
        """Read the feed to its end; each page is checked, then applied record by record."""
        assert self._feed_verifier is not None
        applied = applier.apply_deferred()
        while True:
            cancel.check()
            since = self.state.cursor
            nonce = secrets.token_urlsafe(24)
            sent = datetime.now(UTC)
            resp = self._request(
                "GET",
                "/v1/feed",
                cancel,
                params={"since": since, "limit": self.page_size, "nonce": nonce},
            )
            page = verify_page(
                self._expect(resp, 200),
                since=since,
                nonce=nonce,
                verifier=self._feed_verifier,
                server=self.server_url,
            )
            self._set_clock_offset((page.as_of - sent).total_seconds())
            applied += applier.apply_page(page)
            self.state.cursor = page.next  # only after the page is applied
            progress(Progress(0.1, "pull", f"Consent and catalogue: {applied} change(s)"))
            if not page.more:
                break
        # The cache holds everything the server had when the last page was asked for.
        self.state.last_pull_at = sent
        return applied

    def _set_clock_offset(self, offset: float) -> None:
        """Server time minus local time, from the signed page time and the moment the request
        left: an upper bound, so the error leans toward the server being ahead (a revocation
        applies a little early rather than late)."""
        if abs(offset) > MAX_CLOCK_OFFSET_S:
            log.warning(
                "sync: the server's clock is %.0f h off this computer's; consent is decided in "
                "this computer's time. Check the date and time on both.",
                offset / 3600,
            )
            self.state.clock_offset_s = None
            return
        self.state.clock_offset_s = offset

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
        recovery.check_before_push(self.ledger, self.state)
        total = self.pending_count()
        pushed = 0
        groups = upload.batches(
            self.ledger, self.state.receipts.last_receipted_seq(), self.batch_size
        )
        sign = self.key.sign_event_hash

        def prepare_next() -> upload.Encoded | None:
            group = next(groups, None)
            return upload.encode(group, sign) if group else None

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
                f"the server refused a ledger event: {detail(resp)}{upload.unreadable(batch)}"
            )
        if resp.status_code == 409:
            body = json_object(resp)
            accepted = body.get("accepted") or []
            self._accept(batch[: len(accepted)], accepted, cancel)
            raise SyncError(
                recovery.explain_conflict(detail(resp), batch[0].seq, batch[-1].seq, self.ledger)
            )
        raise SyncError(
            f"the server refused ledger events seq {batch[0].seq}-{batch[-1].seq} "
            f"({resp.status_code}): {detail(resp)}"
        )

    # -- receipts ------------------------------------------------------------------------------

    def _accept(
        self,
        events: list[StoredEvent],
        receipts: list[dict[str, Any]],
        cancel: CancelToken,
        offered: dict[str, Any] | None = None,
    ) -> None:
        """Check the receipts (receipts.ReceiptChecker) and store them."""
        assert self._receipts is not None

        def fetch(first: int, second: int) -> dict[str, Any]:
            params = {"first": first, "second": second}
            resp = self._request("GET", "/v1/log/consistency", cancel, params=params)
            return self._expect(resp, 200)

        self._receipts.accept(events, receipts, fetch, offered)
