"""The sync client's own trust (issue 12): every receipt check has a test that fails when the check
is skipped, and every secret-bearing file is private from creation and checked at each start."""

from __future__ import annotations

import os
import stat

import httpx
import pytest

from musicapp.core import InvalidInput
from musicapp.sync.device import KEY_FILE, DeviceKey
from musicapp.sync.engine import SyncEngine, SyncError
from musicapp.sync.state import STATE_FILE, SyncState
from musicapp.testing.fake_server import FakeServer
from musicapp.transparency import signing
from musicapp.transparency.treehead import TreeHead


def _engine(synced_app, transport, **kw) -> SyncEngine:
    settings, catalog, ledger = synced_app
    return SyncEngine(settings, catalog, ledger, transport, sleep=lambda s: None, **kw)


# -- 5. receipts: every check has a test that fails without it ------------------------------------


def _rewrite_receipts(server: FakeServer, change):
    def handle(request: httpx.Request) -> httpx.Response:
        response = server.handle(request)
        if request.url.path != "/v1/ledger/events" or response.status_code != 200:
            return response
        body = response.json()
        change(body)
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


def _append(ledger, n: int) -> None:
    for i in range(n):
        ledger.append("verification", {"i": i})


def test_a_tree_head_signed_by_another_key_is_refused(synced_app, server):
    _, _, ledger = synced_app
    _append(ledger, 4)
    other = signing.generate_key()

    def resign(body):  # a valid tree and proofs, but not the pinned key's signature
        for r in body["receipts"]:
            head = TreeHead(r["tree_size"], r["root"], r["timestamp"], "")
            r["signature"] = signing.sign(other, head.signed_bytes())

    engine = _engine(synced_app, _rewrite_receipts(server, resign))
    with pytest.raises(SyncError, match="seq 1: the tree head is not signed by the server's key"):
        engine.sync_once()
    assert engine.state.receipts.receipt_count() == 0 and engine.pending_count() == 4


def test_an_altered_inclusion_proof_is_refused(synced_app, server):
    _, _, ledger = synced_app
    _append(ledger, 4)

    def alter(body):
        body["receipts"][1]["inclusion"][0] = "11" * 32

    engine = _engine(synced_app, _rewrite_receipts(server, alter))
    with pytest.raises(SyncError, match="seq 2: its inclusion proof does not lead"):
        engine.sync_once()
    assert engine.state.receipts.receipt_count() == 0


def test_a_log_rewritten_behind_the_client_fails_the_consistency_check(synced_app, server):
    _, _, ledger = synced_app
    _append(ledger, 5)
    engine = _engine(synced_app, server.transport())
    engine.sync_once()
    server.tree.leaves[2] = b"\x00" * 32  # history rewritten; new heads are signed properly
    server.tree._memo.clear()
    _append(ledger, 1)
    with pytest.raises(SyncError, match="not consistent with size 5"):
        engine.sync_once()
    assert engine.pending_count() == 1


# -- 6. the client's secret files -----------------------------------------------------------------


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_secret_bearing_files_are_private_from_creation(synced_app, server):
    settings, _, ledger = synced_app
    os.chmod(settings.data_dir, 0o755)
    _append(ledger, 2)
    engine = _engine(synced_app, server.transport())
    engine.sync_once()
    data = settings.data_dir
    assert engine.state.get("token")
    for name in (STATE_FILE, f"{STATE_FILE}-wal", f"{STATE_FILE}-shm", KEY_FILE):
        assert _mode(data / name) == 0o600, name
    assert _mode(data) == 0o700
    archive = engine.start_over()
    assert _mode(archive) == 0o600 and _mode(archive.parent) == 0o700


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_loose_modes_are_fixed_when_the_files_are_opened(tmp_path, caplog):
    state = SyncState.in_folder(tmp_path)
    state.set("token", "secret")
    DeviceKey.load_or_create(tmp_path)
    loose = [tmp_path / f"{STATE_FILE}-wal", tmp_path / f"{STATE_FILE}-shm", tmp_path / KEY_FILE]
    for path in (tmp_path / STATE_FILE, *loose):
        os.chmod(path, 0o644)  # as a restore from backup or an older version left them
    os.chmod(tmp_path, 0o755)
    again = SyncState.in_folder(tmp_path)
    DeviceKey.load_or_create(tmp_path)
    assert all(_mode(p) == 0o600 for p in (tmp_path / STATE_FILE, *loose))
    assert _mode(tmp_path) == 0o700
    assert "could be read by other users (mode 0644)" in caplog.text
    again.close()
    state.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_modes_that_cannot_be_fixed_are_refused_with_the_way_out(tmp_path, monkeypatch):
    SyncState.in_folder(tmp_path).close()
    os.chmod(tmp_path / STATE_FILE, 0o644)

    def refuse(path, mode):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("musicapp.sync.private_files.os.chmod", refuse)
    with pytest.raises(InvalidInput, match=r"sync.sqlite: .*mode 0644.*chmod 600"):
        SyncState.in_folder(tmp_path)
