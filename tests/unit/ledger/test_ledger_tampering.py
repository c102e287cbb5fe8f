"""verify() against the ways someone with the database file in hand could change history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from musicapp.ledger import Ledger, LedgerDamaged, LedgerError
from musicapp.ledger.anchor import Anchor, read_anchor
from musicapp.ledger.canonical import canonical_json, event_hash
from musicapp.testing.ledger_tamper import stored_row as row
from musicapp.testing.ledger_tamper import tamper


def problems(path: Path) -> list[str]:
    with Ledger(path) as led:
        report = led.verify()
    assert not report.ok
    return report.problems


def test_untouched_ledger_verifies(path: Path) -> None:
    with Ledger(path) as led:
        report = led.verify()
    assert report.ok and report.checked == 8 and report.problems == []
    assert "8 events" in report.summary()


def test_edited_payload_names_the_event(path: Path) -> None:
    event_id = row(path, 5)[1]
    tamper(
        path, 'UPDATE events SET payload = \'{"n":5,"share":0.9,"song":"song-5"}\' WHERE seq = 5'
    )
    found = problems(path)
    edited = [p for p in found if "contents were edited" in p]
    assert edited == [
        f"event 5 (id {event_id}, verification): contents were edited (hash mismatch)"
    ]
    assert not any("event 6" in p for p in found)  # the stored hash still links: one problem


def test_edited_kind_or_timestamp_is_an_edit_too(path: Path) -> None:
    tamper(
        path,
        "UPDATE events SET kind = 'export' WHERE seq = 2",
        "UPDATE events SET ts = 'x' WHERE seq = 3",
    )
    found = problems(path)
    assert any(p.startswith("event 2 ") and "edited" in p for p in found)
    assert any(p.startswith("event 3 ") and "edited" in p for p in found)


def test_edited_and_rehashed_event_breaks_the_next_link(path: Path) -> None:
    seq, eid, kind, ts, _, prev, _ = row(path, 4)
    payload = {"n": 4, "share": 0.99, "song": "song-4"}
    forged = event_hash(seq, eid, kind, ts, payload, prev)
    tamper(
        path,
        ("UPDATE events SET payload = ?, hash = ? WHERE seq = 4", (json.dumps(payload), forged)),
    )
    found = problems(path)
    assert len([p for p in found if "link broken" in p]) == 1
    assert any(p.startswith("event 5 ") and "previous-hash link broken" in p for p in found)


def test_reencoded_payload_is_reported_as_such(path: Path) -> None:
    # Same values, different bytes: not an edit of the contents, but not musicapp's doing either.
    payload = json.loads(row(path, 3)[4])
    tamper(path, ("UPDATE events SET payload = ? WHERE seq = 3", (json.dumps(payload, indent=1),)))
    found = problems(path)
    assert len(found) == 1 and found[0].startswith("event 3 (")
    assert "payload text was rewritten outside musicapp" in found[0]


def test_deleted_middle_event_is_reported_missing(path: Path) -> None:
    tamper(path, "DELETE FROM events WHERE seq = 5")
    found = problems(path)
    assert "sequence jumps from 4 to 6: event 5 is missing" in found
    assert any(p.startswith("event 6 ") and "previous-hash link broken" in p for p in found)


def test_several_deleted_events_are_counted(path: Path) -> None:
    tamper(path, "DELETE FROM events WHERE seq IN (3, 4, 5)")
    assert "sequence jumps from 2 to 6: events 3 to 5 are missing" in problems(path)


def test_deleted_first_event_is_reported(path: Path) -> None:
    tamper(path, "DELETE FROM events WHERE seq = 1")
    found = problems(path)
    assert "sequence starts at 2: event 1 is missing" in found
    assert any("genesis" in p for p in found)


def test_swapped_events_break_the_links_and_are_named_as_moved(path: Path) -> None:
    id3, id4 = row(path, 3)[1], row(path, 4)[1]
    tamper(
        path,
        "UPDATE events SET seq = -3 WHERE seq = 3",
        "UPDATE events SET seq = 3 WHERE seq = 4",
        "UPDATE events SET seq = 4 WHERE seq = -3",
    )
    found = problems(path)
    assert any("link broken" in p for p in found)
    assert (
        f"event 3 (id {id4}, verification): holds the contents of event 4 — the order was changed"
        in found
    )
    assert (
        f"event 4 (id {id3}, export): holds the contents of event 3 — the order was changed"
        in found
    )


def test_swapped_contents_keeping_positions(path: Path) -> None:
    r3, r4 = row(path, 3), row(path, 4)
    swap = "UPDATE events SET id = ?, kind = ?, ts = ?, payload = ?, prev_hash = ?, hash = ? WHERE seq = ?"
    tamper(
        path,
        ("UPDATE events SET id = 'tmp' WHERE seq = 3", ()),
        (swap, (*r3[1:], 4)),
        (swap, (*r4[1:], 3)),
    )
    found = problems(path)
    assert any(p.startswith("event 3 ") and "holds the contents of event 4" in p for p in found)
    assert any("link broken" in p for p in found)


def test_deleted_last_event_is_caught_by_the_head_anchor(path: Path) -> None:
    last_hash = row(path, 8)[6]
    tamper(path, "DELETE FROM events WHERE seq = 8")
    found = problems(path)
    # Nothing in the rows themselves shows it: only the anchor does.
    assert found == [
        f"the last 1 event was dropped (head says seq 8, hash {last_hash}; the ledger ends at seq 7)"
    ]


def test_last_three_dropped(path: Path) -> None:
    tamper(path, "DELETE FROM events WHERE seq > 5")
    assert any(
        p.startswith("the last 3 events were dropped (head says seq 8") for p in problems(path)
    )


def test_replaced_newest_event_is_caught_by_the_head_anchor(path: Path) -> None:
    seq, eid, kind, ts, _, prev, _ = row(path, 8)
    payload = {"n": 8, "share": 1.0, "song": "someone else"}
    forged = event_hash(seq, eid, kind, ts, payload, prev)
    tamper(
        path,
        (
            "UPDATE events SET payload = ?, hash = ? WHERE seq = 8",
            (canonical_json(payload), forged),
        ),
    )
    found = problems(path)
    assert len(found) == 1 and "newest event 8 is not the one the head anchor recorded" in found[0]


def test_append_refuses_to_overwrite_the_evidence(path: Path) -> None:
    tamper(path, "DELETE FROM events WHERE seq = 8")
    with Ledger(path) as led:
        with pytest.raises(
            LedgerDamaged,
            match=r"does not match its head anchor: the last 1 event was dropped.*"
            r"Nothing was added.*`musicapp ledger reanchor`",
        ):
            led.append("generation", {"n": 9})
        assert led.count() == 7
        # Accepting the ledger as it is is possible, and is itself on the record.
        reset = led.reanchor("restored from backup of Tuesday")
        assert reset.kind == "ledger_reanchor" and reset.seq == 8
        assert reset.payload["old_anchor"]["seq"] == 8
        assert reset.payload["new_anchor"]["seq"] == 7
        led.append("generation", {"n": 9})
        assert led.verify().ok


def test_truncation_while_open_is_refused_too(path: Path) -> None:
    with Ledger(path) as led:
        tamper(path, "DELETE FROM events WHERE seq = 8")
        with pytest.raises(LedgerError, match="head anchor"):
            led.append("generation", {})


def test_missing_anchor_is_reported(path: Path) -> None:
    (path.parent / (path.name + ".head")).unlink()
    found = problems(path)
    assert (
        len(found) == 1
        and "is missing: cannot tell whether the newest events were dropped" in found[0]
    )
    with Ledger(path) as led, pytest.raises(LedgerDamaged, match=r"head anchor \S+ is missing"):
        led.append("generation", {})


def test_an_anchor_removed_or_replaced_while_the_ledger_is_open_is_written_again(
    path: Path,
) -> None:
    """Appends keep the anchor file open; they must still land in the file at its path."""
    head = path.parent / (path.name + ".head")
    with Ledger(path) as led:
        led.append("generation", {"n": 9})
        head.unlink()
        led.append("generation", {"n": 10})
        assert head.exists()
        stale = head.read_bytes()
        led.append("generation", {"n": 11})
        copy = head.with_name("copy.head")
        copy.write_bytes(stale)
        copy.replace(head)  # an older copy put in its place (the open file loses its link)
        led.append("generation", {"n": 12})
    with Ledger(path) as led:
        assert led.verify().ok
        assert read_anchor(head) == Anchor(12, next(led.events(since_seq=11)).hash)


def test_garbage_anchor_is_reported(path: Path) -> None:
    (path.parent / (path.name + ".head")).write_text("hello")
    found = problems(path)
    assert len(found) == 1 and found[0].startswith("head anchor unreadable")


def test_anchor_with_one_spoilt_slot_still_reads(path: Path) -> None:
    # A torn write spoils only the slot being written; the other slot still vouches.
    head = path.parent / (path.name + ".head")
    data = bytearray(head.read_bytes())
    data[10:20] = b"XXXXXXXXXX"  # slot 1 holds event 8 (even seqs); slot 2 holds event 7
    head.write_bytes(bytes(data))
    with Ledger(path) as led:
        assert led.verify().ok


def test_removed_guards_are_reported(path: Path) -> None:
    tamper(path, restore=False)
    assert problems(path) == [
        "the append-only guards were removed from the database "
        "(events_no_update, events_no_delete): it was changed outside musicapp"
    ]


def test_malformed_row_is_reported_not_raised(path: Path) -> None:
    tamper(path, "UPDATE events SET payload = X'FF00' WHERE seq = 2")
    found = problems(path)
    assert any(p.startswith("event 2: the row is malformed") for p in found)
    with Ledger(path) as led, pytest.raises(LedgerError, match="event 2 has an unreadable payload"):
        list(led.events())


def test_problem_list_is_capped(tmp_path: Path) -> None:
    p = tmp_path / "ledger.sqlite"
    with Ledger(p) as led:
        for i in range(300):
            led.append("generation", {"i": i})
    tamper(p, "UPDATE events SET ts = 'forged'")
    with Ledger(p) as led:
        report = led.verify()
    assert report.checked == 300 and not report.ok
    assert len(report.problems) == 101 and report.problems[-1].startswith("… and ")
