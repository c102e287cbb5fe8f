"""The studio's door to the rights server: sync now, start over, status and the saved choices.

One ``SyncRoom`` wraps the one ``SyncEngine`` the app context owns, and the consent service
that reads the same ``SyncState``, so the status a front end shows, the choices it saves and
the freshness the consent check relies on all come from one connection to ``sync.sqlite``.
The free functions are re-exported here so a front end needs no import from ``sync/``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from musicapp.jobs import CancelToken, FunctionJob, ProgressCallback, no_progress
from musicapp.sync.engine import SYNC_LANE, SyncEngine, SyncResult, SyncStatus
from musicapp.sync.policy import check_server_url, is_insecure
from musicapp.sync.state import effective_server_url, effective_ttl_s

if TYPE_CHECKING:
    from musicapp.consent import ConsentService
    from musicapp.consent.service import Freshness
    from musicapp.export.proofs import Proofs
    from musicapp.ledger import Event
    from musicapp.sync.probe import Probe
    from musicapp.sync.state import SyncState

__all__ = [
    "SyncRoom",
    "effective_server_url",
    "effective_ttl_s",
    "is_insecure",
    "start_over_job",
    "sync_job",
]


class SyncRoom:
    """Sync with the rights server, start over, and read or save what the sync relies on."""

    def __init__(self, engine: SyncEngine, consent: ConsentService) -> None:
        self._engine = engine
        self._consent = consent

    @property
    def state(self) -> SyncState:
        """The sync state (the settings dialog reads and saves the user's choices in it)."""
        return self._engine.state

    @property
    def server_url(self) -> str:
        """The server a sync would go to now; "" in local-only mode."""
        return self._engine.server_url

    @property
    def pinned_server(self) -> str | None:
        return self._engine.state.pinned_server

    def status(self) -> SyncStatus:
        return self._engine.status()

    def proofs(self, events: list[Event], chain_pem: Callable[[], str]) -> Proofs | None:
        """What an export carries so a third party can check ``events`` offline: each with
        the device's signature and the server's receipt (``export/proofs.py``); None until
        the server has receipted at least one of them. ``chain_pem()``: the signing certificate
        chain the export will sign with."""
        from musicapp.export import proofs

        device_id = self.state.get("device_id")
        receipts = self.state.receipts
        if not device_id or not any(receipts.receipt(e.seq) for e in events):
            return None
        key = self._engine.key
        return proofs.build(
            events,
            receipts.receipt,
            key.sign_event_hash,
            device_id,
            key.public_key_b64,
            chain_pem(),
        )

    def probe(self, url: str) -> Probe:
        """Test connection: whether a rights server answers at ``url`` and whether it is the
        one this folder synced with (by its key), in words; no retries, a few seconds."""
        from musicapp.sync.probe import probe

        return probe(url, self._engine.state.get("server_key"), self._engine.transport)

    def consent_cache(self) -> Freshness:
        """How fresh the consent cache is now, as the consent check would judge it."""
        return self._consent.freshness()

    def sync_once(
        self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> SyncResult:
        """Pull consent to the feed's end and push the pending ledger events (SyncError)."""
        return self._engine.sync_once(progress, cancel)

    def start_over(self) -> Path:
        """Archive the sync state and forget the server; returns the archive's path."""
        return self._engine.start_over()

    def sync_job(self) -> FunctionJob[SyncResult]:
        return sync_job(self._engine)

    def start_over_job(self) -> FunctionJob[Path]:
        return start_over_job(self._engine)

    def choose(
        self,
        server: str | None = None,
        *,
        allow_insecure_http: bool = False,
        consent_ttl_s: float | None = None,
    ) -> None:
        """Save what the user chose (``musicapp sync --server/--allow-insecure-http/
        --consent-ttl``). A server given is used for this run whatever the environment says,
        and saved unless the folder is bound to another one; plain HTTP to another computer
        raises ``policy.InsecureServer`` unless allowed (then nothing about the URL is saved)."""
        state = self._engine.state
        if consent_ttl_s is not None:
            state.save_consent_ttl_s(consent_ttl_s)
        url = (server or "").strip().rstrip("/")
        if url:
            self._engine.settings.server_url = url
        url = url or self.server_url
        if not url:
            return
        check_server_url(url, allow_insecure_http or self._engine.insecure_allowed(url))
        if allow_insecure_http:
            state.save_insecure_http(url)
        if server and state.pinned_server in (None, url):
            # Saved before the first contact: a server that cannot be reached yet still makes
            # commercial use wait for a sync, rather than leaving the folder local-only.
            state.save_server_url(url)


def sync_job(engine: SyncEngine) -> FunctionJob[SyncResult]:
    """``engine.sync_once`` as a job on the serial server lane (one sync at a time)."""
    return FunctionJob("Sync with the rights server", engine.sync_once, lane=SYNC_LANE)


def start_over_job(engine: SyncEngine) -> FunctionJob[Path]:
    """``engine.start_over`` on the same serial lane: never while a sync runs, and the copy
    of a state file with many receipts stays off the GUI thread."""
    return FunctionJob(
        "Start over with the rights server", lambda _p, _c: engine.start_over(), lane=SYNC_LANE
    )
