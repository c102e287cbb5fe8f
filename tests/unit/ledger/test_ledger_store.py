"""Ledger basics: appending, reading back, durability, bad input, bad files, threads."""

from __future__ import annotations

import math
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from musicapp.core import InvalidInput, Use
from musicapp.ledger import GENESIS_HASH, Event, Ledger, LedgerError


def test_append_links_events_into_a_chain(ledger: Ledger) -> None:
    first = ledger.append("verification", {"allowed": True, "songs": ["a", "b"]})
    second = ledger.append("generation", {"engine": "concat", "share": 0.625})
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert len(first.hash) == 64 and first.hash != second.hash
    assert first.computed_hash() == first.hash
    assert len(first.id) == 32 and first.id != second.id
    assert first.time.tzinfo is not None and first.time.utcoffset().total_seconds() == 0


def test_read_back_by_id_kind_and_position(ledger: Ledger) -> None:
    a = ledger.append("verification", {"n": 1})
    b = ledger.append("generation", {"n": 2})
    c = ledger.append("generation", {"n": 3}, event_id="my-own-id")
    assert ledger.get(b.id) == b
    assert ledger.get("my-own-id") == c
    assert ledger.get("nope") is None
    assert [e.id for e in ledger.events()] == [a.id, b.id, c.id]
    assert [e.id for e in ledger.events("generation")] == [b.id, c.id]
    assert [e.id for e in ledger.events(since_seq=1)] == [b.id, c.id]
    assert [e.id for e in ledger.events("generation", since_seq=2)] == [c.id]
    assert ledger.head() == c
    assert ledger.count() == 3


def test_returned_event_is_what_the_ledger_stores(ledger: Ledger) -> None:
    # Tuples and StrEnums are JSON arrays and strings once stored; the caller sees the stored form.
    payload = {"use": Use.COMMERCIAL, "range": (1.5, 4), "nested": {"ü": [None, True]}}
    event = ledger.append("generation", payload)
    assert event == ledger.get(event.id)
    assert event.payload == {"use": "commercial", "range": [1.5, 4], "nested": {"ü": [None, True]}}
    payload["nested"]["ü"].append("later")  # the caller's dict is not the event's
    assert ledger.get(event.id).payload["nested"]["ü"] == [None, True]


def test_empty_ledger(ledger: Ledger) -> None:
    assert ledger.head() is None
    assert ledger.count() == 0
    assert list(ledger.events()) == []
    assert ledger.verify().ok


def test_events_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as led:
        ids = [led.append("generation", {"i": i}).id for i in range(5)]
    with Ledger(path) as led:
        assert [e.id for e in led.events()] == ids
        later = led.append("export", {"i": 5})
        assert later.seq == 6
        assert led.verify().ok


def test_append_is_committed_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    led = Ledger(path)
    event = led.append("generation", {"x": 1})
    # A second, independent connection sees it at once: nothing waits in an open transaction.
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT id FROM events").fetchall() == [(event.id,)]
    led.close()


def test_uses_wal_and_full_sync_and_has_a_schema_version(ledger: Ledger) -> None:
    raw = sqlite3.connect(ledger.path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    raw.close()


def test_duplicate_event_id_is_refused(ledger: Ledger) -> None:
    ledger.append("export", {}, event_id="abc")
    with pytest.raises(LedgerError, match="abc is already in the ledger"):
        ledger.append("export", {"again": True}, event_id="abc")
    assert ledger.count() == 1
    assert ledger.verify().ok


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (
            {"refs": [{"when": datetime.now(UTC)}]},
            r"payload\.refs\[0\]\.when: a value of type datetime\.datetime is not JSON",
        ),
        ({"share": math.nan}, r"payload\.share: nan is not a JSON number"),
        ({"share": math.inf}, r"payload\.share: inf"),
        ({"splits": {1: 0.5}}, r"payload\.splits: key 1 is not a string"),
        ({"blob": b"\x00"}, r"payload\.blob: a value of type bytes is not JSON"),
        ({"songs": {"a", "b"}}, r"payload\.songs: a value of type set is not JSON"),
    ],
)
def test_non_json_payload_names_the_key(ledger: Ledger, payload: dict, where: str) -> None:
    with pytest.raises(LedgerError, match=where):
        ledger.append("generation", payload)
    assert ledger.count() == 0


def test_numpy_scalars_are_named_too(ledger: Ledger) -> None:
    np = pytest.importorskip("numpy")
    with pytest.raises(LedgerError, match=r"payload\.sample_rate: a value of type numpy\.int64"):
        ledger.append("generation", {"sample_rate": np.int64(32000)})
    ledger.append("generation", {"share": np.float64(0.5)})  # a float subclass: plain JSON


def test_bad_kind_payload_and_id(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="kind"):
        ledger.append("", {})
    with pytest.raises(LedgerError, match="payload must be a dict, got list"):
        ledger.append("generation", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(LedgerError, match="event id"):
        ledger.append("generation", {}, event_id="")
    assert isinstance(LedgerError("x"), InvalidInput)


def test_garbage_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"this is not a database, just some text\n" * 100)
    with pytest.raises(LedgerError, match=str(path)):
        Ledger(path)


def test_other_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE songs (id TEXT)")
    with pytest.raises(LedgerError, match="not a musicapp ledger"):
        Ledger(path)


def test_folder_instead_of_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="is a folder"):
        Ledger(tmp_path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO schema_version (version) VALUES (99)")
    with pytest.raises(LedgerError, match="newer musicapp"):
        Ledger(path)


def test_closed_ledger_says_so(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "ledger.sqlite")
    led.close()
    led.close()  # twice is fine
    with pytest.raises(LedgerError, match="closed"):
        led.append("generation", {})
    with pytest.raises(LedgerError, match="closed"):
        list(led.events())


def test_rows_cannot_be_updated_or_deleted(ledger: Ledger) -> None:
    ledger.append("generation", {"x": 1})
    raw = sqlite3.connect(ledger.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE events SET payload = '{}'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM events")
    raw.close()
    assert ledger.verify().ok


def test_concurrent_appends_keep_one_valid_chain(ledger: Ledger) -> None:
    per_thread, threads = 100, 4
    errors: list[BaseException] = []
    made: list[Event] = []
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                made.append(ledger.append("generation", {"thread": n, "i": i}))
                if i % 25 == 0:
                    ledger.verify()  # readers alongside writers
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors
    seqs = [e.seq for e in ledger.events()]
    assert seqs == list(range(1, per_thread * threads + 1))
    assert sorted(e.seq for e in made) == seqs
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.checked == per_thread * threads


def test_two_ledger_objects_on_one_file_share_the_chain(tmp_path: Path) -> None:
    # The GUI and a CLI run may open the same ledger; SQLite's write lock orders them.
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as one, Ledger(path) as two:
        for i in range(10):
            (one if i % 2 else two).append("generation", {"i": i})
        assert one.verify().ok and two.verify().ok
        assert [e.seq for e in one.events()] == list(range(1, 11))


def test_appends_do_not_crawl(ledger: Ledger) -> None:
    import time

    payload = {"references": [{"song_id": f"s{i}", "share": 0.25} for i in range(4)]}
    start = time.perf_counter()
    for _ in range(500):
        ledger.append("generation", payload)
    elapsed = time.perf_counter() - start
    # Each append waits for fsync, so the rate is the disk's: ~3,000-5,000/s on a quiet SSD,
    # a few hundred when other jobs share it (see benchmarks/ledger.py for the real figure).
    # This bound only catches something pathological, such as work growing with the ledger.
    assert elapsed < 10, f"500 appends took {elapsed:.1f} s"
