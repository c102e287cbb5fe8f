"""Group commit: append_many (one transaction for a batch) and appends from threads sharing commits."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from musicapp.ledger import GENESIS_HASH, Event, Ledger, LedgerError
from musicapp.ledger.anchor import Anchor, read_anchor


def _stored(ledger: Ledger) -> list[Event]:
    return list(ledger.events())


def test_a_batch_chains_with_the_events_before_and_after_it(ledger: Ledger) -> None:
    before = ledger.append("verification", {"n": 0})
    batch = ledger.append_many(
        [("generation", {"n": 1}), ("generation", {"n": 2}, "own-id"), ("export", {"n": 3})]
    )
    after = ledger.append("verification", {"n": 4})
    assert [e.seq for e in batch] == [2, 3, 4]
    assert batch[0].prev_hash == before.hash
    assert batch[1].prev_hash == batch[0].hash and batch[2].prev_hash == batch[1].hash
    assert after.prev_hash == batch[2].hash and after.seq == 5
    assert batch[1].id == "own-id"
    assert all(e.computed_hash() == e.hash for e in batch)
    assert _stored(ledger) == [before, *batch, after]
    assert read_anchor(ledger.anchor_path) == Anchor(after.seq, after.hash)
    report = ledger.verify()
    assert report.ok and report.checked == 5


def test_a_first_batch_starts_at_genesis_and_moves_the_anchor_once(ledger: Ledger) -> None:
    batch = ledger.append_many([("generation", {"i": i}) for i in range(100)])
    assert batch[0].seq == 1 and batch[0].prev_hash == GENESIS_HASH
    assert read_anchor(ledger.anchor_path) == Anchor(100, batch[-1].hash)
    assert ledger.verify().ok


def test_an_empty_batch_records_nothing(ledger: Ledger) -> None:
    assert ledger.append_many([]) == []
    assert ledger.count() == 0


def test_a_batch_with_an_id_already_in_the_ledger_records_nothing(ledger: Ledger) -> None:
    old = ledger.append("generation", {"n": 0}, event_id="taken")
    with pytest.raises(LedgerError, match="id taken is already in the ledger.*nothing of"):
        ledger.append_many(
            [("generation", {"n": 1}), ("generation", {"n": 2}, "taken"), ("x", {"n": 3})]
        )
    assert _stored(ledger) == [old]
    assert ledger.verify().ok
    assert ledger.append("generation", {"n": 1}).seq == 2


def test_a_batch_with_the_same_id_twice_records_nothing(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="id twice is already"):
        ledger.append_many([("a", {}, "twice"), ("b", {}), ("c", {}, "twice")])
    assert ledger.count() == 0 and ledger.verify().ok


def test_a_bad_item_anywhere_in_a_batch_records_nothing(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match=r"payload\.bad"):
        ledger.append_many([("a", {"ok": 1}), ("b", {"ok": 2}), ("c", {"bad": object()})])
    with pytest.raises(LedgerError, match="item 1 must be"):
        ledger.append_many([("a", {}), "b"])  # type: ignore[list-item]
    with pytest.raises(LedgerError, match="kind must be"):
        ledger.append_many([("a", {}), ("", {})])
    assert ledger.count() == 0


@pytest.mark.parametrize(
    "failure",
    [sqlite3.OperationalError("disk I/O error"), RuntimeError("power cut in a test")],
    ids=["sqlite-error", "other-error"],
)
def test_a_failure_in_the_middle_of_a_batch_rolls_all_of_it_back(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    first = ledger.append_many([("generation", {"n": 1}), ("generation", {"n": 2})])
    real_insert = ledger._insert
    calls = []

    def failing_insert(db: sqlite3.Connection, row: tuple[Any, ...]) -> None:
        calls.append(row[0])
        if len(calls) == 4:  # three rows of the batch are already inserted
            raise failure
        real_insert(db, row)

    monkeypatch.setattr(ledger, "_insert", failing_insert)
    with pytest.raises((LedgerError, RuntimeError)) as info:
        ledger.append_many([("generation", {"n": n}) for n in range(3, 10)])
    assert calls == [3, 4, 5, 6]
    if isinstance(failure, sqlite3.Error):
        assert "could not record a batch of 7 events" in str(info.value)
    monkeypatch.undo()
    assert _stored(ledger) == first
    with Ledger(ledger.path) as other:  # another connection sees no trace either
        assert other.count() == 2 and other.verify().ok
    assert ledger.append("generation", {"n": 3}).seq == 3
    assert ledger.verify().ok


def test_a_database_error_in_the_middle_of_a_batch_rolls_all_of_it_back(ledger: Ledger) -> None:
    # A real failure inside SQLite, after some rows of the batch went in.
    ledger.append("generation", {"n": 0})
    with sqlite3.connect(ledger.path) as db:
        db.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.kind = 'boom' "
            "BEGIN SELECT RAISE(ABORT, 'boom refused'); END"
        )
    with pytest.raises(LedgerError, match="boom refused"):
        ledger.append_many([("generation", {"n": 1}), ("generation", {"n": 2}), ("boom", {})])
    assert ledger.count() == 1 and ledger.verify().ok


def test_a_batch_is_refused_while_the_ledger_does_not_match_its_anchor(ledger: Ledger) -> None:
    ledger.append_many([("generation", {"n": n}) for n in range(3)])
    ledger.anchor_path.write_bytes(b"garbage")
    ledger.check()  # as the next open would
    with pytest.raises(LedgerError, match="its head anchor is unreadable.*Nothing was added"):
        ledger.append_many([("generation", {"n": 9})])
    assert ledger.count() == 3


# -- group commit of appends from several threads -------------------------------------------------


def _run_threads(n: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    assert not errors, errors


def test_concurrent_appends_and_batches_all_land_once_in_one_valid_chain(ledger: Ledger) -> None:
    threads, per_thread = 8, 60
    made: list[Event] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        for j in range(per_thread):
            if i == 0 and j % 10 == 0:
                events = ledger.append_many([("batch", {"t": i, "j": j, "k": k}) for k in range(5)])
            else:
                events = [ledger.append("generation", {"t": i, "j": j})]
            for e in events:
                assert ledger.get(e.id) == e  # durable and visible when the call returns
            with lock:
                made.extend(events)

    _run_threads(threads, work)
    stored = _stored(ledger)
    expected = threads * per_thread + (per_thread // 10) * 4
    assert len(made) == len(stored) == expected
    assert sorted(made, key=lambda e: e.seq) == stored  # each exactly once, as returned
    assert [e.seq for e in stored] == list(range(1, expected + 1))
    assert ledger.verify().ok
    assert read_anchor(ledger.anchor_path) == Anchor(stored[-1].seq, stored[-1].hash)


def _hold_first_write(ledger: Ledger, monkeypatch: pytest.MonkeyPatch, queued: int) -> list[int]:
    """Make the first commit wait until ``queued`` appends are queued behind it; log batch sizes."""
    real_write = ledger._write
    sizes: list[int] = []

    def write(items, check_anchor):  # type: ignore[no-untyped-def]
        if not sizes:
            deadline = time.monotonic() + 10
            while len(ledger._queue) < queued and time.monotonic() < deadline:
                time.sleep(0.001)
        sizes.append(len(items))
        return real_write(items, check_anchor)

    monkeypatch.setattr(ledger, "_write", write)
    return sizes


def test_appends_queued_behind_a_commit_share_the_next_one(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _hold_first_write(ledger, monkeypatch, queued=5)
    _run_threads(6, lambda i: ledger.append("generation", {"t": i}))
    assert sizes == [1, 5]  # six appends, two commits
    assert ledger.count() == 6 and ledger.verify().ok


def test_a_bad_append_in_a_group_fails_only_its_own_caller(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.append("generation", {}, event_id="taken")
    sizes = _hold_first_write(ledger, monkeypatch, queued=4)
    results: dict[int, Event | BaseException] = {}

    def work(i: int) -> None:
        try:
            results[i] = ledger.append("g", {"t": i}, event_id="taken" if i == 2 else f"id-{i}")
        except LedgerError as exc:
            results[i] = exc

    _run_threads(5, work)
    assert isinstance(results.pop(2), LedgerError)
    assert all(isinstance(r, Event) for r in results.values()), results
    assert sizes[0] == 1 and sum(sizes) >= 5
    stored = _stored(ledger)
    assert sorted(e.id for e in stored) == sorted(["taken", "id-0", "id-1", "id-3", "id-4"])
    assert ledger.verify().ok
