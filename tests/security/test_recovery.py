"""Recovery (issue 12): a data folder restored from a backup, a ledger restored without its sync
state, an event edited after its receipt. Sync stops saying what differs and how to go on; it
never fails forever without a hint, nor reports "pushed 0" while events wait."""

from __future__ import annotations

import json

import pytest

from musicapp.cli import main
from musicapp.ledger import Ledger
from musicapp.sync.engine import SyncEngine, SyncError
from musicapp.testing.ledger_tamper import tamper
from musicapp.testing.sync_helpers import AppTransport, back_up, restore

START_OVER = "musicapp sync --start-over"


class Folder:
    """The app's ledger and sync engine over one data folder, closed and reopened at will
    (a backup tool copies closed files)."""

    def __init__(self, synced_app, transport) -> None:
        self.settings, self.catalog, self.ledger = synced_app
        self.transport = transport
        self.engine = self._engine()

    def _engine(self) -> SyncEngine:
        return SyncEngine(
            self.settings, self.catalog, self.ledger, self.transport, sleep=lambda s: None
        )

    def append(self, n: int) -> None:
        for i in range(n):
            self.ledger.append("verification", {"i": i, "at": self.ledger.count()})

    def close(self) -> None:
        self.engine.state.close()
        self.ledger.close()

    def reopen(self) -> None:
        self.ledger = Ledger(self.settings.ledger_path)
        self.engine = self._engine()


@pytest.fixture
def folder(env, synced_app):
    """The app against the real server in-process (SQLite and PostgreSQL)."""
    f = Folder(synced_app, AppTransport(env.client))
    yield f
    f.close()


def _log_size(env) -> int:
    """Events in the server's log (the only device in these tests is the folder's)."""
    return int(env.get("/v1/log/sth", env.admin).json()["tree_size"])


def test_a_folder_restored_from_backup_gets_the_cause_and_the_fix_not_a_bare_409(
    env, folder, tmp_path
) -> None:
    folder.append(3)
    assert folder.engine.sync_once().pushed == 3
    folder.close()
    back_up(folder.settings.data_dir, tmp_path / "backup")
    folder.reopen()
    folder.append(3)
    assert folder.engine.sync_once().pushed == 3  # seq 4-6 reach the server after the backup
    folder.close()
    restore(tmp_path / "backup", folder.settings.data_dir)  # ledger and sync state at seq 3
    folder.reopen()
    folder.append(2)  # a different seq 4 and 5
    with pytest.raises(SyncError) as refused:
        folder.engine.sync_once()
    said = str(refused.value)
    assert "409" in said and "seq 4" in said
    assert "restored from a backup" in said and START_OVER in said and "Nothing was lost" in said
    assert folder.engine.status().last_error == said

    folder.engine.start_over()  # the fix it names: this ledger as a new stream
    result = folder.engine.sync_once()
    # Seq 1-3 are logged already (the same events): the new stream continues after them with
    # the two new events, so nothing is counted twice and nothing is left out.
    assert (result.pushed, result.pending) == (2, 0)
    assert _log_size(env) == 8  # 1-3, the lost 4-6 (kept: they happened), the new 4 and 5


def test_a_ledger_restored_without_its_sync_state_is_never_silently_left_unsent(
    env, folder, tmp_path
) -> None:
    folder.append(3)
    folder.engine.sync_once()
    folder.close()
    back_up(folder.settings.data_dir, tmp_path / "backup", ("ledger.sqlite*",))
    folder.reopen()
    folder.append(3)
    folder.engine.sync_once()  # receipts up to seq 6
    folder.close()
    restore(tmp_path / "backup", folder.settings.data_dir, ("ledger.sqlite*",))
    folder.reopen()
    folder.append(2)  # seq 4 and 5, never sent
    assert folder.engine.pending_count() == 0  # what the receipts alone would say
    with pytest.raises(SyncError) as refused:
        folder.engine.sync_once()
    said = str(refused.value)
    assert "receipted this device's events up to seq 6" in said
    assert "local ledger ends at seq 5" in said and START_OVER in said
    assert _log_size(env) == 6  # nothing was sent

    folder.append(2)  # now the local ledger has a seq 6 too, just not the receipted one
    with pytest.raises(SyncError, match="event seq 6 is not the one the server receipted"):
        folder.engine.sync_once()
    folder.engine.start_over()
    assert folder.engine.sync_once().pushed == 4  # after the logged seq 1-3
    assert _log_size(env) == 10


def test_an_event_edited_after_its_receipt_stops_sync_naming_it(
    live_server, demo_data_dir, capsys
) -> None:
    base = ["--data-dir", str(demo_data_dir)]
    with Ledger(demo_data_dir / "ledger.sqlite") as ledger:
        for i in range(4):
            ledger.append("verification", {"i": i})
    assert main(["sync", "--server", live_server.url, *base, "--no-progress"]) == 0
    capsys.readouterr()
    edited = json.dumps({"i": 99}, separators=(",", ":"))
    tamper(
        demo_data_dir / "ledger.sqlite", ("UPDATE events SET payload = ? WHERE seq = 2", (edited,))
    )

    code = main(["sync", *base, "--no-progress"])
    said = capsys.readouterr().err
    assert code == 1  # no longer exit 0
    assert "event 2 was edited" in said and "musicapp ledger verify" in said


def test_an_edit_the_ledger_did_not_notice_is_caught_at_the_last_receipt(
    folder, monkeypatch
) -> None:
    folder.append(4)
    folder.engine.sync_once()
    folder.close()
    edited = json.dumps({"i": 99}, separators=(",", ":"))
    tamper(folder.settings.ledger_path, ("UPDATE events SET payload = ? WHERE seq = 4", (edited,)))
    folder.reopen()
    # As if the edit had also forged the ledger's own sentinels (its documented blind spot).
    monkeypatch.setattr(folder.ledger, "refuse_if_damaged", lambda: None)
    with pytest.raises(SyncError) as refused:
        folder.engine.sync_once()
    said = str(refused.value)
    assert "event seq 4" in said and "was changed after the server receipted it" in said
    assert "musicapp ledger verify" in said and START_OVER in said


def test_a_server_that_lost_this_devices_events_says_so(synced_app, server) -> None:
    f = Folder(synced_app, server.transport())
    f.append(5)
    f.engine.sync_once()
    device = f.engine.state.get("device_id")
    del server.devices[device]["events"][3:]  # the server restored from an older backup
    f.append(1)
    with pytest.raises(SyncError) as refused:
        f.engine.sync_once()
    said = str(refused.value)
    assert "409" in said and "the server lost events" in said and START_OVER in said
