"""Sync in the main window: a status-bar label, Sync now, and the server settings dialog.

``SyncController`` owns all three so the main window only places them. The engine is the
studio's sync room (``services.SyncPort``: ``status()``, ``sync_job()``, ``start_over_job()``,
``state``), which the tests drive with a fake. Syncing runs as a job on the runner's serial
server lane, never on the GUI thread; with no server set, the label says the app is offline and works locally.
The consent TTL can be chosen up to 24 h (``config.MAX_CONSENT_TTL_S``); plain HTTP to another
computer needs its own tick in the dialog, and the status line then says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from musicapp.config import MAX_CONSENT_TTL_S
from musicapp.rooms.sync import effective_server_url, effective_ttl_s, is_insecure
from musicapp.studio_types import SyncResult, SyncStatus
from musicapp.ui.job_runner import JobHandle, JobRunner

if TYPE_CHECKING:
    from musicapp.config import Settings
    from musicapp.sync.probe import Probe
    from musicapp.sync.state import SyncState
    from musicapp.ui.services import AppPort, SyncPort

log = logging.getLogger(__name__)

REFRESH_MS = 30_000
AUTO_SYNC_S = 300.0  # a background sync when the last one is five minutes old
AUTO_FIRST_MS = 3_000  # and one soon after the window opens
MAX_ERROR_CHARS = 90


def _ago(seconds: float) -> str:
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{seconds // 86400:.0f} days ago"


def status_text(status: SyncStatus, now: datetime | None = None) -> str:
    """The one line the status bar shows for a sync status."""
    if not status.server_url:
        return "Offline (no server set)"
    extra = ""
    if status.quarantined:
        extra += f" · {status.quarantined} feed record(s) quarantined"
    if status.insecure:
        extra += " · plain HTTP (insecure)"
    if status.last_error:
        error = status.last_error
        if len(error) > MAX_ERROR_CHARS:
            error = error[: MAX_ERROR_CHARS - 1] + "…"
        return f"Last error: {error} · {status.pending} pending{extra}"
    if status.last_sync_at is None:
        return f"Not synced yet · {status.pending} pending{extra}"
    age = ((now or datetime.now(UTC)) - status.last_sync_at).total_seconds()
    return f"Synced {_ago(max(0.0, age))} · {status.pending} pending{extra}"


def engine_for(context: AppPort) -> SyncPort | None:
    """The studio's sync room (the one engine the app context owns); None if it has none."""
    return context.studio.sync


SAME_SERVER, START_OVER, CANCEL = "same", "start over", "cancel"


class SyncSettingsDialog(QDialog):
    """Server URL and consent TTL, saved in the sync state file (the app has no settings file).

    ``start_over`` (``SyncController.start_over``: a job on the serial server lane) archives the
    sync state and forgets the server, so the next sync registers a new device and sends what
    the server has not logged yet (a new server: the whole ledger). The dialog offers it when
    the URL changes away from the server this folder synced with, and as a button for a server
    that no longer knows this device.
    """

    tested = Signal(object)  # a Probe, from the worker thread of Test connection

    def __init__(
        self,
        settings: Settings,
        state: SyncState,
        parent: QWidget | None = None,
        start_over: Callable[[], object] | None = None,
        probe: Callable[[str], Probe] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sync settings")
        self._probe = probe
        self._state = state
        self._start_over = start_over
        self.url = QLineEdit(effective_server_url(settings, state))
        self.url.setPlaceholderText("https://rights.example.org (empty: local only)")
        if settings.server_url:
            self.url.setReadOnly(True)
            self.url.setToolTip("Set by MUSICAPP_SERVER_URL; unset it to choose here")
        self.ttl = QDoubleSpinBox()
        self.ttl.setRange(0.1, MAX_CONSENT_TTL_S / 3600)  # never longer than a day
        self.ttl.setDecimals(1)
        self.ttl.setSuffix(" h")
        self.ttl.setValue(effective_ttl_s(settings, state) / 3600)
        self.ttl.setToolTip(
            "Commercial use is refused when consent was synced longer ago (24 h at most)"
        )
        self.insecure = QCheckBox("Allow plain HTTP to this server (insecure)")
        self.insecure.setToolTip(
            "The device token and the consent feed would cross the network unencrypted: only "
            "for a server on a network you trust. Not needed for https:// or this computer."
        )
        self.insecure.setChecked(state.insecure_http_allowed(self.url.text().strip()))
        self.problem = QLabel("")
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.test_button = QPushButton("Test connection")
        self.test_button.setToolTip("Ask the address whether a rights server answers, and which")
        self.test_button.setEnabled(probe is not None)
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel("")
        self.test_result.setObjectName("hint")
        self.test_result.setWordWrap(True)
        self.tested.connect(self._on_tested)
        url_row = QHBoxLayout()
        url_row.addWidget(self.url, 1)
        url_row.addWidget(self.test_button)
        form = QFormLayout(self)
        form.addRow("Rights server URL", url_row)
        form.addRow(self.test_result)
        form.addRow("Consent valid for", self.ttl)
        form.addRow(self.insecure)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.start_over_button = buttons.addButton(
            "Start over…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.start_over_button.setToolTip(
            "Register with the server as a new device and send it what it has not logged yet "
            "(the old receipts and key are kept in an archive): for a server that no longer "
            "knows this device, or a data folder restored from a backup"
        )
        self.start_over_button.setEnabled(start_over is not None and self._bound() is not None)
        self.start_over_button.clicked.connect(self._start_over_clicked)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _bound(self) -> str | None:
        """The server this data folder synced with (its key is pinned), if any."""
        return self._state.synced_server

    def test_connection(self) -> None:
        """Ask the address typed, off the GUI thread; the answer appears under it."""
        if self._probe is None:
            return
        url, probe = self.url.text().strip(), self._probe
        self.test_button.setEnabled(False)
        self.test_result.setText(f"Asking {url or 'the address'}…")
        threading.Thread(target=lambda: self.tested.emit(probe(url)), daemon=True).start()

    def _on_tested(self, result: Probe) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setText(("✓ " if result.ok else "✗ ") + result.words)

    def ask_switch(self, bound: str, url: str) -> str:
        """SAME_SERVER, START_OVER or CANCEL for a URL other than the server synced with
        (tests replace this)."""
        box = QMessageBox(self)
        box.setWindowTitle("Another rights server address")
        box.setText(
            f"This data folder has synced with {bound}. Is {url} the same server under another "
            f"name (127.0.0.1 and localhost, a new domain name), or another server?"
        )
        box.setInformativeText(
            "The same server is recognised by its key at the next sync: nothing is sent again. "
            f"Another server means registering there and sending it the whole ledger; the "
            f"receipts from {bound} are kept in an archive in the data folder."
        )
        same = box.addButton("Same server, new address", QMessageBox.ButtonRole.AcceptRole)
        other = box.addButton("Another server: start over", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return SAME_SERVER if clicked is same else START_OVER if clicked is other else CANCEL

    def confirm(self, title: str, text: str) -> bool:
        """Ask yes or no (tests replace this)."""
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _do_start_over(self) -> None:
        assert self._start_over is not None
        self._start_over()
        self.start_over_button.setEnabled(False)
        self.problem.setText(
            "Starting over: the next sync registers a new device and sends what the server "
            "has not logged yet. The old sync state is archived in sync-archive/ in the data "
            "folder."
        )

    def _start_over_clicked(self) -> None:
        if self.confirm(
            "Start over with the rights server?",
            "The next sync registers this computer with the server as a new device and sends "
            "it every event it has not logged yet. The receipts from before are kept in an "
            "archive in the data folder.",
        ):
            self._do_start_over()

    def accept(self) -> None:
        url = self.url.text().strip().rstrip("/")
        if url and not url.startswith(("http://", "https://")):
            self.problem.setText("The server URL must start with http:// or https://")
            return
        if url and is_insecure(url) and not self.insecure.isChecked():
            self.problem.setText(
                "Plain http:// to another computer sends this device's token unencrypted: use "
                "https://, or tick Allow plain HTTP if you trust the network"
            )
            return
        if not self.url.isReadOnly():
            bound = self._state.pinned_server
            if url and bound and url != bound:
                choice = self.ask_switch(bound, url)
                if choice == CANCEL or (choice == START_OVER and self._start_over is None):
                    self.problem.setText(
                        f"Kept {bound}: this data folder's receipts come from that server."
                    )
                    return
                if choice == START_OVER:
                    self._do_start_over()
                # SAME_SERVER: the next sync checks the key the server at `url` holds; another
                # server is refused there, with how to start over.
            self._state.save_server_url(url or None)
        allowed = self.insecure.isChecked() and bool(url) and is_insecure(url)
        self._state.save_insecure_http(url if allowed else None)
        self._state.save_consent_ttl_s(self.ttl.value() * 3600)
        super().accept()


class SyncController(QObject):
    """The status label, the Sync now and Sync settings actions, and the running sync job."""

    synced = Signal(object)  # SyncResult, after a successful sync (consent may have changed)
    message = Signal(str)  # a line for the status bar

    def __init__(
        self,
        engine: SyncPort | None,
        runner: JobRunner,
        settings: Settings,
        parent: QWidget,
        auto_s: float | None = AUTO_SYNC_S,
    ) -> None:
        """``auto_s``: sync in the background when the last sync (or try) is that old, and
        once soon after the start; None: only when asked."""
        super().__init__(parent)
        self.engine = engine
        self.auto_s = auto_s
        self._last_auto: float | None = None  # monotonic time of the last background try
        self.runner = runner
        self.settings = settings
        self.handle: JobHandle | None = None
        self._start_over_handle: JobHandle | None = None
        self.label = QLabel()
        self.label.setObjectName("syncStatus")
        self.sync_action = QAction("S&ync now", parent)
        self.sync_action.setToolTip("Pull consent from the rights server and upload the ledger")
        self.sync_action.triggered.connect(self.sync_now)
        self.settings_action = QAction("Sync se&ttings…", parent)
        self.settings_action.triggered.connect(self.open_settings)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()
        if auto_s is not None:
            QTimer.singleShot(AUTO_FIRST_MS, self.auto_sync)  # consent fresh soon after start
            self._timer.timeout.connect(self.auto_sync)

    def auto_sync(self) -> bool:
        """Sync in the background when a server is set, nothing runs, and the last sync (or
        background try) is ``auto_s`` old; True when one was started. A failure is shown in the
        status line like any other, and tried again ``auto_s`` later."""
        if self.engine is None or self.auto_s is None or self.handle is not None:
            return False
        try:
            status = self.engine.status()
        except Exception:  # refresh() shows why
            return False
        now = time.monotonic()
        if not status.server_url:
            return False
        if self._last_auto is not None and now - self._last_auto < self.auto_s:
            return False
        last = status.last_sync_at
        if last is not None and (datetime.now(UTC) - last).total_seconds() < self.auto_s:
            return False
        self._last_auto = now
        self.sync_now()
        return True

    def refresh(self) -> None:
        if self.engine is None:
            self.label.setText("Offline (sync unavailable)")
            self.sync_action.setEnabled(False)
            self.settings_action.setEnabled(False)
            return
        try:
            status = self.engine.status()
        except Exception as exc:  # a status that cannot be read is shown, never raised
            self.label.setText(f"Last error: {exc}")
            return
        self.label.setText(status_text(status))
        self.label.setToolTip(status.last_error or status.server_url or "Local-only mode")
        self.sync_action.setEnabled(bool(status.server_url) and self.handle is None)

    def sync_now(self) -> None:
        if self.engine is None or self.handle is not None:
            return
        self.handle = self.runner.submit(self.engine.sync_job())
        self.sync_action.setEnabled(False)
        self.label.setText("Syncing…")
        self.handle.progress.connect(lambda p: self.label.setText(f"Syncing… {p.message}"))
        self.handle.finished.connect(self._on_finished)
        self.handle.failed.connect(self._on_failed)
        self.handle.done.connect(self._on_done)

    def start_over(self) -> None:
        """Archive the sync state and forget the server, as a job after any sync under way."""
        if self.engine is None:
            return
        handle = self.runner.submit(self.engine.start_over_job())
        handle.finished.connect(
            lambda archive: self.message.emit(
                f"Started over with the rights server; the old sync state is in {archive}"
            )
        )
        handle.failed.connect(lambda exc: self.message.emit(f"Could not start over: {exc}"))
        handle.done.connect(self.refresh)
        self._start_over_handle = handle

    def _on_finished(self, result: SyncResult) -> None:
        self.message.emit(
            f"Synced: {result.pulled} consent/catalogue change(s), {result.pushed} event(s) sent"
        )
        self.synced.emit(result)

    def _on_failed(self, exc: BaseException) -> None:
        self.message.emit(f"Sync failed: {exc}")

    def _on_done(self) -> None:
        self.handle = None
        self.refresh()

    def open_settings(self) -> SyncSettingsDialog | None:
        if self.engine is None:
            return None
        dialog = SyncSettingsDialog(
            self.settings,
            self.engine.state,
            self.parent(),  # type: ignore[arg-type]
            start_over=self.start_over,
            probe=self.engine.probe,
        )
        dialog.finished.connect(lambda _: self.refresh())
        dialog.open()
        return dialog
