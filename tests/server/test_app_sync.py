"""The app against the real server process: `musicapp sync` pushes the ledger and pulls consent;
a revocation on the server blocks the first request after the sync that brings it."""

from __future__ import annotations

import json

from musicapp.catalog.store import CatalogStore
from musicapp.cli import main
from musicapp.core.codec import song_to_dict

SONG = "fife-british-grenadiers"  # in the small demo; one holder, song level allowed for all uses


def run(capsys, *argv):
    code = main([*argv, "--json", "--no-progress"])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else None)


def test_sync_pushes_the_ledger_and_a_server_revocation_refuses_the_next_request(
    live_server, demo_data_dir, tmp_path, capsys
):
    data_dir = demo_data_dir
    base = ["--data-dir", str(data_dir)]
    with CatalogStore(data_dir / "catalog.sqlite", data_dir / "audio") as catalog:
        song = catalog.song(SONG)
    assert song is not None
    holder = song.splits[0].holder.id
    song_file = tmp_path / "song.json"
    song_file.write_text(json.dumps(song_to_dict(song)), encoding="utf-8")
    assert live_server.cli("song", "add", str(song_file)).returncode in (0, 1)  # once a session
    # Two requests while offline: their verification events wait in the ledger.
    for use in ("private", "commercial"):
        code, _ = run(capsys, "generate", SONG, "--use", use, "--duration", "4", *base)
        assert code == 0

    code, result = run(capsys, "sync", "--server", live_server.url, *base)
    assert code == 0 and result["pending"] == 0 and result["pushed"] >= 4
    code, again = run(capsys, "sync", "--server", live_server.url, *base)
    assert code == 0 and again["pushed"] == 0  # nothing twice

    revoked = live_server.cli("consent", "revoke", SONG, holder)
    if revoked.returncode != 0:  # no consent on the server yet this session: give, then revoke
        assert (
            live_server.cli(
                "consent",
                "set",
                SONG,
                holder,
                "--permissions",
                "song_inference",
                "--uses",
                "private",
            ).returncode
            == 0
        )
        assert live_server.cli("consent", "revoke", SONG, holder).returncode == 0
    code, _ = run(capsys, "sync", "--server", live_server.url, *base)
    assert code == 0
    code = main(["generate", SONG, "--use", "private", "--duration", "4", *base, "--no-progress"])
    captured = capsys.readouterr()
    assert code != 0
    assert "revoked" in (captured.out + captured.err).lower()
    assert "version 2" in (captured.out + captured.err).lower(), captured


def test_a_ledger_damaged_outside_the_app_is_named_when_the_server_cannot_read_the_upload(
    live_server, demo_data_dir, capsys
):
    """Payloads go out as the ledger stored them; a damaged one must be named, not just fail."""
    import sqlite3

    from musicapp.ledger import Ledger
    from musicapp.ledger.schema import GUARDS

    data_dir = demo_data_dir
    with Ledger(data_dir / "ledger.sqlite") as ledger:
        for i in range(3):
            ledger.append("verification", {"i": i})
        damaged = ledger.head().seq - 1
    db = sqlite3.connect(data_dir / "ledger.sqlite")
    for guard in GUARDS:
        db.execute(f"DROP TRIGGER IF EXISTS {guard}")
    db.execute("UPDATE events SET payload = '{\"i\": ' WHERE seq = ?", (damaged,))
    db.commit()
    db.close()

    sync = ["sync", "--server", live_server.url, "--data-dir", str(data_dir), "--no-progress"]
    code = main(sync)
    said = capsys.readouterr()
    assert code != 0  # nothing is pushed from a ledger known to be damaged
    assert f"event {damaged} was edited" in said.err and "musicapp ledger verify" in said.err
    # Once the damage is on record, the upload names the event the server cannot read.
    assert main(["ledger", "repair", "--yes", "--data-dir", str(data_dir)]) == 0
    capsys.readouterr()
    code = main(sync)
    said = capsys.readouterr()
    assert code != 0
    assert f"event seq {damaged} has an unreadable payload" in said.out + said.err


def test_start_over_with_the_same_server_registers_a_new_device_and_sends_nothing_twice(
    live_server, demo_data_dir, capsys
):
    from musicapp.ledger import Ledger

    base = ["--data-dir", str(demo_data_dir), "--server", live_server.url]
    with Ledger(demo_data_dir / "ledger.sqlite") as ledger:
        for i in range(4):
            ledger.append("verification", {"i": i})
        total = ledger.count()
    code, first = run(capsys, "sync", *base)
    assert code == 0 and first["pushed"] == total
    old_key = (demo_data_dir / "device.key").read_bytes()
    code = main(["sync", "--start-over", *base, "--json", "--no-progress"])
    said = capsys.readouterr()
    assert code == 0 and "archived in" in said.err
    again = json.loads(said.out)
    # A new device (a key registers once; the old key is archived) whose stream continues
    # after the events this server logged already: none is sent, or counted, twice.
    assert (again["pushed"], again["pending"]) == (0, 0)
    assert (demo_data_dir / "device.key").read_bytes() != old_key
    assert [p.read_bytes() for p in (demo_data_dir / "sync-archive").glob("device-*.key")] == [
        old_key
    ]
    with Ledger(demo_data_dir / "ledger.sqlite") as ledger:
        ledger.append("verification", {"i": 4})
    code, later = run(capsys, "sync", *base)
    assert code == 0 and (later["pushed"], later["pending"]) == (1, 0)
    assert list((demo_data_dir / "sync-archive").glob("sync-*.sqlite"))
