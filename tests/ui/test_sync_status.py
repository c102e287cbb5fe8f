"""Sync in the window: what the status bar says, Sync now as a background job, the dialog."""

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtWidgets import QMainWindow

from musicapp.jobs import Progress
from musicapp.rooms.sync import start_over_job, sync_job
from musicapp.sync.engine import SyncError, SyncResult, SyncStatus
from musicapp.sync.state import SyncState
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.sync_status import (
    CANCEL,
    SAME_SERVER,
    START_OVER,
    SyncController,
    SyncSettingsDialog,
    status_text,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeSettings:
    def __init__(self, server_url: str = "") -> None:
        self.server_url = server_url
        self.consent_ttl_s = 24 * 3600.0


class FakeEngine:
    """Shaped like the studio's sync room (services.SyncPort): status(), the sync and
    start-over jobs (the room's own, over this fake's sync_once and start_over) and a state."""

    def __init__(self, state: SyncState, url: str = "http://rights.test", fail: str = "") -> None:
        self.state = state
        self.url, self.fail, self.pending, self.calls = url, fail, 3, 0

    def status(self) -> SyncStatus:
        return SyncStatus(self.url, self.state.last_sync_at, self.pending, self.state.last_error)

    def sync_once(self, progress, cancel) -> SyncResult:
        self.calls += 1
        progress(Progress(0.5, "push", "Ledger: 1 of 3 sent"))
        if self.fail:
            self.state.last_error = self.fail
            raise SyncError(self.fail)
        self.pending = 0
        self.state.last_error = None
        self.state.last_sync_at = datetime.now(UTC)
        return SyncResult(2, 3, 0)

    def start_over(self):
        self.calls += 1
        return self.state.start_over()

    def sync_job(self):
        return sync_job(self)

    def start_over_job(self):
        return start_over_job(self)


@pytest.fixture
def state(tmp_path):
    s = SyncState.in_folder(tmp_path)
    yield s
    s.close()


@pytest.fixture
def host(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    runner = JobRunner(window)
    yield window, runner
    runner.cancel_all()
    runner.wait(5000)


def test_status_line_says_offline_synced_or_the_last_error():
    assert status_text(SyncStatus("", None, 5, None), NOW) == "Offline (no server set)"
    synced = SyncStatus("http://r", NOW - timedelta(minutes=3, seconds=10), 0, None)
    assert status_text(synced, NOW) == "Synced 3 min ago · 0 pending"
    assert status_text(SyncStatus("http://r", None, 4, None), NOW) == "Not synced yet · 4 pending"
    failed = status_text(SyncStatus("http://r", NOW, 2, "cannot reach the server " * 10), NOW)
    assert failed.startswith("Last error: cannot reach the server") and failed.endswith("2 pending")
    assert len(failed) < 120


def test_sync_now_runs_in_the_background_and_updates_the_status(qtbot, host, state):
    window, runner = host
    engine = FakeEngine(state)
    controller = SyncController(engine, runner, FakeSettings(), window, auto_s=None)
    assert controller.label.text() == "Not synced yet · 3 pending"
    with qtbot.waitSignal(controller.synced, timeout=5000) as synced:
        controller.sync_now()
        assert not controller.sync_action.isEnabled()  # one sync at a time
    assert synced.args[0] == SyncResult(2, 3, 0)
    qtbot.waitUntil(lambda: controller.handle is None)
    assert controller.label.text() == "Synced just now · 0 pending"
    assert controller.sync_action.isEnabled() and engine.calls == 1


def test_a_failed_sync_shows_the_error_and_can_be_retried(qtbot, host, state):
    window, runner = host
    engine = FakeEngine(state, fail="cannot reach the server (ConnectError)")
    controller = SyncController(engine, runner, FakeSettings(), window, auto_s=None)
    with qtbot.waitSignal(controller.message, timeout=5000) as message:
        controller.sync_now()
    assert message.args[0].startswith("Sync failed: cannot reach the server")
    qtbot.waitUntil(lambda: controller.handle is None)
    assert controller.label.text().startswith("Last error: cannot reach the server")
    assert controller.sync_action.isEnabled()


def test_without_a_server_sync_now_is_disabled(qtbot, host, state):
    window, runner = host
    controller = SyncController(
        FakeEngine(state, url=""), runner, FakeSettings(), window, auto_s=None
    )
    assert controller.label.text() == "Offline (no server set)"
    assert not controller.sync_action.isEnabled()
    none = SyncController(None, runner, FakeSettings(), window, auto_s=None)
    assert not none.sync_action.isEnabled() and not none.settings_action.isEnabled()


def test_the_settings_dialog_saves_url_and_ttl_and_refuses_a_bad_url(qtbot, state):
    dialog = SyncSettingsDialog(FakeSettings(), state)
    qtbot.addWidget(dialog)
    assert dialog.url.text() == "" and dialog.ttl.value() == 24.0
    dialog.url.setText("rights.example.org")
    dialog.accept()
    assert "must start with http" in dialog.problem.text() and state.get("server_url") is None
    dialog.url.setText("https://rights.example.org/")
    dialog.ttl.setValue(6.0)
    dialog.accept()
    assert state.get("server_url") == "https://rights.example.org"
    assert float(state.get("consent_ttl_s")) == 6 * 3600
    again = SyncSettingsDialog(FakeSettings(), state)
    qtbot.addWidget(again)
    assert again.url.text() == "https://rights.example.org" and again.ttl.value() == 6.0


def test_switching_away_from_the_synced_server_asks_and_starts_over_only_if_told(qtbot, state):
    state.set("server_key_url", "https://old.example.org")
    state.set("device_id", "d-1")
    state.set("server_url", "https://old.example.org")
    archives = []

    def start_over():
        archives.append(state.start_over())
        return archives[-1]

    dialog = SyncSettingsDialog(FakeSettings(), state, start_over=start_over)
    qtbot.addWidget(dialog)
    asked = []
    dialog.ask_switch = lambda bound, url: asked.append((bound, url)) or CANCEL
    dialog.url.setText("https://new.example.org")
    dialog.accept()
    assert asked == [("https://old.example.org", "https://new.example.org")]
    assert "Kept https://old.example.org" in dialog.problem.text()
    assert state.get("server_url") == "https://old.example.org" and not archives

    dialog.ask_switch = lambda bound, url: START_OVER
    dialog.accept()
    assert state.get("server_url") == "https://new.example.org"
    assert len(archives) == 1 and archives[0].exists()
    assert state.get("device_id") is None and state.get("server_key_url") is None


def test_the_same_server_at_a_new_address_keeps_everything(qtbot, state):
    """Issue 19: moving 127.0.0.1 → localhost forced a start over. "Same server, new address"
    saves the address and keeps the device and its receipts; the next sync checks the key."""
    state.set("server_key_url", "http://127.0.0.1:8000")
    state.set("server_url", "http://127.0.0.1:8000")
    state.set("device_id", "d-1")
    dialog = SyncSettingsDialog(FakeSettings(), state, start_over=state.start_over)
    qtbot.addWidget(dialog)
    dialog.ask_switch = lambda bound, url: SAME_SERVER
    dialog.url.setText("http://localhost:8000")
    dialog.accept()
    assert state.get("server_url") == "http://localhost:8000"
    assert (
        state.get("device_id") == "d-1" and state.get("server_key_url") == "http://127.0.0.1:8000"
    )


def test_start_over_button_needs_a_synced_server_and_a_yes(qtbot, state):
    calls = []
    fresh = SyncSettingsDialog(FakeSettings(), state, start_over=lambda: calls.append(1))
    qtbot.addWidget(fresh)
    assert not fresh.start_over_button.isEnabled()  # never synced: nothing to start over
    state.set("device_id", "d-1")
    dialog = SyncSettingsDialog(FakeSettings(), state, start_over=state.start_over)
    qtbot.addWidget(dialog)
    assert dialog.start_over_button.isEnabled()
    dialog.confirm = lambda title, text: False
    dialog.start_over_button.click()
    assert state.get("device_id") == "d-1"
    dialog.confirm = lambda title, text: True
    dialog.start_over_button.click()
    assert state.get("device_id") is None and "archived in" in dialog.problem.text()
    assert not dialog.start_over_button.isEnabled()


def test_start_over_runs_as_a_job_and_says_where_the_old_state_went(qtbot, host, state):
    window, runner = host
    state.set("device_id", "d-1")
    engine = FakeEngine(state)
    controller = SyncController(engine, runner, FakeSettings(), window, auto_s=None)
    with qtbot.waitSignal(controller.message, timeout=5000) as message:
        controller.start_over()
    assert message.args[0].startswith("Started over with the rights server")
    assert "sync-archive" in message.args[0] and state.get("device_id") is None
    assert engine.calls == 1


@pytest.fixture
def no_server_env(monkeypatch):
    monkeypatch.delenv("MUSICAPP_SERVER_URL", raising=False)


def test_main_window_has_sync_now_and_the_status_label(qtbot, no_server_env, context):
    from musicapp.ui.main_window import MainWindow

    window = MainWindow(context)
    qtbot.addWidget(window)
    assert window.sync.sync_action.text() == "S&ync now"
    assert window.sync.label.text() == "Offline (no server set)"  # the demo: local only
    assert not window.sync.sync_action.isEnabled()
    window.close()


def test_the_window_syncs_through_the_studio_s_sync_room(context, fake_context):
    from musicapp.ui.sync_status import engine_for

    assert engine_for(context) is context.studio.sync  # the context's one engine and state
    assert engine_for(context).state is context.sync_state
    assert engine_for(fake_context) is None  # a studio without a sync room: sync unavailable


def test_status_line_shows_quarantined_records_and_plain_http():
    status = SyncStatus("http://rights.lan", NOW, 0, None, insecure=True, quarantined=2)
    assert status_text(status, NOW) == (
        "Synced just now · 0 pending · 2 feed record(s) quarantined · plain HTTP (insecure)"
    )


def test_the_dialog_caps_the_ttl_at_a_day_and_asks_before_plain_http(qtbot, state):
    state.set("consent_ttl_s", str(365 * 86400.0))  # saved before the cap
    dialog = SyncSettingsDialog(FakeSettings(), state)
    qtbot.addWidget(dialog)
    assert dialog.ttl.maximum() == 24.0 and dialog.ttl.value() == 24.0
    dialog.url.setText("http://rights.lan")
    dialog.accept()
    assert "Allow plain HTTP" in dialog.problem.text() and state.get("server_url") is None
    dialog.insecure.setChecked(True)
    dialog.accept()
    assert state.get("server_url") == state.get("allow_insecure_http") == "http://rights.lan"
    local = SyncSettingsDialog(FakeSettings(), state)
    qtbot.addWidget(local)
    assert local.insecure.isChecked()
    local.url.setText("http://127.0.0.1:8765")  # this computer: no tick needed, none kept
    local.insecure.setChecked(False)
    local.accept()
    assert state.get("server_url") == "http://127.0.0.1:8765"
    assert state.get("allow_insecure_http") is None


def test_sync_runs_in_the_background_when_a_server_is_set(qtbot, host, state):
    """Issue 19: sync was manual only. Soon after the start, then whenever the last sync (or
    background try) is `auto_s` old; never while one runs, never without a server."""
    window, runner = host
    engine = FakeEngine(state)
    controller = SyncController(engine, runner, FakeSettings(), window, auto_s=300)
    qtbot.waitUntil(lambda: engine.calls == 1, timeout=10_000)  # the one soon after the start
    qtbot.waitUntil(lambda: controller.handle is None)
    assert not controller.auto_sync()  # just synced: not due
    engine.state.last_sync_at = datetime.now(UTC) - timedelta(minutes=6)
    controller._last_auto -= 360
    assert controller.auto_sync()
    qtbot.waitUntil(lambda: engine.calls == 2 and controller.handle is None)
    # A failing server is tried again only `auto_s` later, and the label says why meanwhile.
    engine.fail = "cannot reach the rights server at http://rights.test: nothing answers"
    engine.state.last_sync_at = datetime.now(UTC) - timedelta(minutes=6)
    controller._last_auto -= 360
    assert controller.auto_sync()
    qtbot.waitUntil(lambda: controller.handle is None)
    assert not controller.auto_sync()
    assert engine.calls == 3
    offline = SyncController(FakeEngine(state, url=""), runner, FakeSettings(), window, auto_s=1)
    assert not offline.auto_sync()


def test_test_connection_says_what_answers_without_freezing_the_dialog(qtbot, state):
    from musicapp.sync.probe import Probe

    asked: list[str] = []

    def probe(url: str) -> Probe:
        asked.append(url)
        return Probe(True, f"The rights server this data folder synced with answers at {url}")

    dialog = SyncSettingsDialog(FakeSettings(), state, probe=probe)
    qtbot.addWidget(dialog)
    dialog.url.setText("http://localhost:8000")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith("✓"), timeout=5000)
    assert asked == ["http://localhost:8000"]
    assert "answers at http://localhost:8000" in dialog.test_result.text()
    assert dialog.test_button.isEnabled()
    assert not SyncSettingsDialog(FakeSettings(), state).test_button.isEnabled()  # no probe
