"""A damaged ledger is found when it opens, refuses new events, and can be put on record."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import musicapp.ledger.chain as chain_module
from musicapp.ledger import Ledger, LedgerDamaged, LedgerError
from musicapp.ledger.anchor import read_anchor
from musicapp.ledger.canonical import event_hash_from_json
from musicapp.ledger.checkpoint import files_seal, read_checkpoint, write_checkpoint
from musicapp.testing.ledger_tamper import stored_row, tamper

EDIT_5 = 'UPDATE events SET payload = \'{"n":5,"share":0.9,"song":"song-5"}\' WHERE seq = 5'


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the events whose hash a check recomputes (one entry per event, its seq)."""
    seen: list[int] = []
    real = chain_module.event_hash_from_json

    def counting(seq: int, *rest: str) -> str:
        seen.append(seq)
        return real(seq, *rest)

    monkeypatch.setattr(chain_module, "event_hash_from_json", counting)
    return seen


def _child(path: Path, script: str) -> None:
    """Run ``script`` in another process with ``ledger`` open on ``path``; it ends with
    os._exit, the way a killed app stops: no close, no clean-up."""
    code = "import os, sys\nfrom musicapp.ledger import Ledger\nledger = Ledger(sys.argv[1])\n"
    code += textwrap.dedent(script) + "\nos._exit(0)\n"
    root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env, timeout=60)


# -- found when the ledger opens -------------------------------------------------------------


def test_a_middle_edit_with_the_guards_put_back_is_found_at_open(path: Path) -> None:
    tamper(path, EDIT_5)
    with Ledger(path) as led:
        assert led.damage is not None and led.damage.seqs() == [5]
        message = led.damage.message()
    assert "event 5 was edited" in message and "Nothing was added" in message
    assert "`musicapp ledger verify`" in message and "`musicapp ledger repair`" in message


def test_the_schema_cookie_alone_catches_it_when_the_files_seal_cannot(path: Path) -> None:
    """Were the seal fooled (an edit within one tick of the file clock), dropping and putting
    back the guards still changed SQLite's schema cookie."""
    tamper(path, EDIT_5)
    checkpoint = path.with_name(path.name + ".verified")
    saved = read_checkpoint(checkpoint)
    assert saved is not None
    write_checkpoint(
        checkpoint, saved.__class__(saved.seq, saved.hash, saved.schema, files_seal(path))
    )
    with Ledger(path) as led:
        assert led.last_check is not None and led.last_check.full
        assert "schema" in led.last_check.reason
        assert led.damage is not None and led.damage.seqs() == [5]


def test_the_files_seal_catches_an_edit_that_resets_the_schema_cookie(path: Path) -> None:
    with sqlite3.connect(path) as raw:
        cookie = raw.execute("PRAGMA schema_version").fetchone()[0]
    tamper(path, EDIT_5)
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA schema_version = {cookie}")
    with Ledger(path) as led:
        assert led.last_check is not None and "files changed" in led.last_check.reason
        assert led.damage is not None and led.damage.seqs() == [5]


def test_a_cut_off_tail_is_found_at_open_and_names_reanchor(path: Path) -> None:
    tamper(path, "DELETE FROM events WHERE seq > 6")
    with Ledger(path) as led:
        assert led.damage is not None
        assert "the last 2 events were dropped" in led.damage.what()
        assert led.damage.commands() == ["musicapp ledger verify", "musicapp ledger reanchor"]


@pytest.mark.parametrize("how", ["removed", "garbage", "another ledger's"])
def test_a_removed_or_replaced_anchor_is_found_at_open(
    path: Path, tmp_path: Path, how: str
) -> None:
    head = path.with_name(path.name + ".head")
    if how == "removed":
        head.unlink()
    elif how == "garbage":
        head.write_text("hello")
    else:
        with Ledger(tmp_path / "other" / "ledger.sqlite") as other:
            for i in range(8):
                other.append("verification", {"i": i})
            head.write_bytes(other.anchor_path.read_bytes())
    with Ledger(path) as led:
        assert led.damage is not None and led.damage.anchor is not None
        assert not led.damage.repairable
        with pytest.raises(LedgerDamaged, match="`musicapp ledger reanchor`"):
            led.append("generation", {})


def test_the_data_folder_appears_in_the_commands(path: Path) -> None:
    tamper(path, EDIT_5)
    with Ledger(path, cli_args=" --data-dir '/my data'") as led:
        assert led.damage is not None
        assert "musicapp ledger repair --data-dir '/my data'" in led.damage.message()


@pytest.mark.parametrize(
    ("statement", "said"),
    [
        ("DELETE FROM events WHERE seq = 5", "event 5 is missing"),
        ("DELETE FROM events WHERE seq IN (3, 4)", "events 3 to 4 are missing"),
        ("UPDATE events SET seq = 30 WHERE seq = 3", "event 30 was moved out of order"),
    ],
)
def test_dropped_events_are_named(path: Path, statement: str, said: str) -> None:
    tamper(path, statement)
    with Ledger(path) as led:
        assert led.damage is not None and said in led.damage.what()


# -- a crash is not damage --------------------------------------------------------------------


def test_a_killed_session_is_not_damage_and_only_its_events_are_hashed(
    path: Path, hashed: list[int]
) -> None:
    _child(path, "for i in range(5):\n    ledger.append('generation', {'i': i})")
    with Ledger(path) as led:
        assert led.damage is None and led.count() == 13
        assert led.last_check is not None and not led.last_check.full
    assert sorted(hashed) == [9, 10, 11, 12, 13]


def test_a_kill_between_the_commit_and_the_anchor_is_not_damage(path: Path) -> None:
    _child(
        path,
        """
        ledger.append('generation', {'i': 0})
        ledger._anchor_writer.write = lambda anchor: None  # killed before the anchor moved on
        ledger.append('generation', {'i': 1})
        """,
    )
    assert read_anchor(path.with_name(path.name + ".head")).seq == 9
    with Ledger(path) as led:
        assert led.last_check is not None and led.last_check.full  # in doubt: everything
        assert led.damage is None
        led.append("generation", {"i": 2})
        assert led.verify().ok


def test_a_kill_inside_a_write_is_not_damage(path: Path) -> None:
    _child(
        path,
        """
        db = ledger._conn()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO events VALUES (9, 'x', 'generation', 't', '{}', 'p', 'h')")
        """,
    )
    with Ledger(path) as led:
        assert led.damage is None and led.count() == 8


# -- opening stays cheap ----------------------------------------------------------------------


def test_opening_an_untouched_ledger_hashes_nothing(path: Path, hashed: list[int]) -> None:
    with Ledger(path) as led:
        led.append("generation", {"n": 9})
        list(led.events())
        assert led.verify().ok  # a reader closing must not look like another program
    hashed.clear()
    with Ledger(path) as led:
        assert led.damage is None
        assert led.last_check is not None and not led.last_check.full
    assert hashed == []


def test_another_musicapp_process_writing_does_not_force_a_full_check(
    path: Path, hashed: list[int]
) -> None:
    with Ledger(path) as first, Ledger(path) as second:
        second.append("generation", {"from": "second"})
        hashed.clear()
        first.append("generation", {"from": "first"})
        assert hashed == []  # the files are as another musicapp left them: nothing to re-hash
        assert first.verify().ok


# -- refused while damaged; reading goes on ---------------------------------------------------


def test_appends_are_refused_while_damaged_and_reading_goes_on(path: Path) -> None:
    tamper(path, EDIT_5)
    anchor = path.with_name(path.name + ".head").read_bytes()
    with Ledger(path) as led:
        with pytest.raises(LedgerDamaged, match="event 5 was edited"):
            led.append("generation", {"n": 9})
        with pytest.raises(LedgerDamaged, match="Nothing was added"):
            led.append_many([("generation", {"n": 9}), ("export", {"n": 10})])
        assert led.count() == 8 and len(list(led.events())) == 8
        assert led.get(stored_row(path, 2)[1]) is not None
    assert path.with_name(path.name + ".head").read_bytes() == anchor  # the evidence is kept


def test_an_edit_made_while_the_ledger_is_open_is_caught_before_the_next_append(
    path: Path,
) -> None:
    with Ledger(path) as led:
        led.append("generation", {"n": 9})
        tamper(path, EDIT_5)
        with pytest.raises(LedgerDamaged, match="event 5 was edited"):
            led.append("generation", {"n": 10})
        assert led.count() == 9


# -- repair and reanchor ----------------------------------------------------------------------


def test_repair_records_the_damage_and_the_chain_goes_on(path: Path) -> None:
    tamper(path, EDIT_5)
    seq, event_id, kind, ts, payload, prev, stored = stored_row(path, 5)
    with Ledger(path) as led:
        fix = led.repair("edited by hand")
        assert fix.kind == "ledger_repair" and fix.seq == 9
        [found] = fix.payload["damage"]
        assert (found["seq"], found["problem"], found["stored_hash"]) == (5, "edited", stored)
        assert found["computed_hash"] == event_hash_from_json(
            seq, event_id, kind, ts, payload, prev
        )
        assert fix.payload["damage_count"] == 1 and fix.payload["reason"] == "edited by hand"
        after = led.append("generation", {"n": 10})
        assert after.prev_hash == fix.hash
        report = led.verify()
    assert stored_row(path, 5)[4] == payload  # nothing already in the ledger was changed
    assert report.ok and report.problems == []
    assert [a for a in report.acknowledged if a.startswith("event 5 ")] == [
        f"event 5 (id {event_id}, {kind}): contents were edited (hash mismatch) — on record "
        f"since event 9"
    ]
    with Ledger(path) as led:
        assert led.damage is None
        assert led.last_check is not None and not led.last_check.full


def test_new_damage_after_a_repair_is_not_covered_by_it(path: Path) -> None:
    tamper(path, EDIT_5)
    with Ledger(path) as led:
        led.repair()
    tamper(path, "UPDATE events SET payload = '{\"n\":3}' WHERE seq = 3")
    with Ledger(path) as led:
        assert led.damage is not None and led.damage.seqs() == [3]
        report = led.verify()
    assert not report.ok and any(p.startswith("event 3 ") for p in report.problems)
    assert any(a.startswith("event 5 ") for a in report.acknowledged)
    tamper(path, "UPDATE events SET payload = '{\"n\":5}' WHERE seq = 5")  # edited again
    with Ledger(path) as led:
        assert led.damage is not None and led.damage.seqs() == [3, 5]


def test_repair_puts_removed_guards_back(path: Path) -> None:
    tamper(path, restore=False)
    with Ledger(path) as led:
        assert led.damage is not None and led.damage.guards
        fix = led.repair()
        assert fix.payload["guards_restored"] == ["events_no_update", "events_no_delete"]
        assert led.damage is None and led.verify().ok
    with sqlite3.connect(path) as raw, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM events WHERE seq = 1")


def test_repair_and_reanchor_refuse_when_they_have_nothing_to_do(path: Path) -> None:
    with Ledger(path) as led:
        with pytest.raises(LedgerError, match="nothing to repair: its 8 events are intact"):
            led.repair()
        with pytest.raises(LedgerError, match=r"nothing to reanchor: it matches its head anchor"):
            led.reanchor()
        assert led.count() == 8


def test_repair_sends_an_anchor_only_problem_to_reanchor_and_back(path: Path) -> None:
    tamper(path, "DELETE FROM events WHERE seq = 8")
    with Ledger(path) as led, pytest.raises(LedgerError, match="Run `musicapp ledger reanchor`"):
        led.repair()
    tamper(path, EDIT_5)
    with Ledger(path) as led:
        with pytest.raises(LedgerError, match="run `musicapp ledger repair`"):
            led.reanchor()
        fix = led.repair()  # puts the edit on record and accepts the head in one event
        assert fix.payload["anchor"]["old_anchor"]["seq"] == 8
        assert fix.payload["anchor"]["new_anchor"]["seq"] == 7
        led.append("generation", {})
        assert led.verify().ok


def test_reanchor_records_the_old_and_the_new_anchor(path: Path) -> None:
    old_hash = stored_row(path, 8)[6]
    tamper(path, "DELETE FROM events WHERE seq > 6")
    with Ledger(path) as led:
        fix = led.reanchor("restored the backup of Tuesday")
        assert fix.kind == "ledger_reanchor" and fix.seq == 7
        assert fix.payload["old_anchor"] == {"seq": 8, "hash": old_hash}
        assert fix.payload["new_anchor"] == {"seq": 6, "hash": stored_row(path, 6)[6]}
        assert "the last 2 events were dropped" in fix.payload["problem"]
        led.append("generation", {})
        report = led.verify()
    assert report.ok
    assert any("accepted as ending at seq 6" in a for a in report.acknowledged)


def test_mass_damage_is_put_on_record_with_a_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import musicapp.ledger.repair as repair_module

    for module in (chain_module, repair_module):
        monkeypatch.setattr(module, "KEYS_LIMIT", 4)
    p = tmp_path / "ledger.sqlite"
    with Ledger(p) as led:
        led.append_many([("generation", {"i": i}) for i in range(12)])
    tamper(p, "UPDATE events SET ts = 'forged'")
    with Ledger(p) as led:
        fix = led.repair()
        assert len(fix.payload["damage"]) == 4 and fix.payload["damage_count"] == 12
        assert fix.payload["sweep"]["findings"] == 12
        report = led.verify()
        # What is listed is bounded (the 4 keys, the first 5 the sweep covered); not the count.
        listed = [a for a in report.acknowledged if a.endswith("on record since event 13")]
        assert report.ok and len(listed) == 9 and report.acknowledged[-1] == "… and 3 more"
    tamper(p, "UPDATE events SET payload = '{\"i\":99}' WHERE seq = 11")
    with Ledger(p) as led:
        report = led.verify()
    # A sweep vouches for the damage exactly as it was: changed, all it covered is new again
    # (events 5 to 12); the four it listed by key stay on record.
    assert not report.ok and report.unacknowledged == 8
    assert len([a for a in report.acknowledged if a.endswith("on record since event 13")]) == 4
