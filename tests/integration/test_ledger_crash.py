"""Crash safety of the local ledger: SIGKILL a process in the middle of appending, many times.

The child appends events in a loop and prints ``seq hash`` only after ``append`` returned, that
is, after the ledger said the event was committed. After each kill, every event it reported must
be in the ledger with the same hash, the whole chain (and its head anchor) must verify, the
ledger must still accept appends, and no partial event may exist (verify recomputes every hash
and link, so a torn row or a gap would show). The same file is reused across trials, so each
trial also reopens a ledger that was killed before.

The same trials run for the batched paths: ``append_many`` (a batch is reported only after the
call returned; afterwards every batch in the ledger must be whole, never a prefix) and appends
from several threads sharing commits (group commit; each thread reports its own event).

A kill of a process cannot lose data the OS already has, so this proves the transaction logic
(no torn or half-visible event, no event reported before COMMIT) rather than fsync ordering on
power loss; synchronous=FULL is what covers the latter.
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from musicapp.ledger import Event, Ledger

CHILD = textwrap.dedent(
    """
    import os
    import random
    import sys
    import threading
    from musicapp.ledger import Ledger

    path, trial, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    ledger = Ledger(path)
    out = threading.Lock()

    def report(events):
        # One os.write loop per report, straight to the pipe: only the report being written
        # when the kill comes can be cut, so every earlier line is whole.
        data = "".join(f"{e.seq} {e.hash}\\n" for e in events).encode()
        with out:
            while data:
                data = data[os.write(1, data):]

    def single(t):
        i = 0
        while True:
            event = ledger.append("crash_test", {"i": i, "pad": "x" * (i % 50), "pid": trial, "t": t})
            report([event])
            i += 1

    def batches():
        rng = random.Random(trial)
        b = 0
        while True:
            size = rng.randint(1, 40)
            batch = f"{trial}-{b}"
            items = [("crash_batch", {"batch": batch, "size": size, "k": k}) for k in range(size)]
            report(ledger.append_many(items))
            b += 1

    print("ready", flush=True)
    if mode == "single":
        single(0)
    elif mode == "batch":
        batches()
    else:
        for t in range(4):
            threading.Thread(target=single, args=(t,), daemon=True).start()
        threading.Event().wait()
    """
)


def _run_and_kill(path: Path, trial: int, rng: random.Random, mode: str) -> list[tuple[int, str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(trial), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # Unbuffered: readline() below must not read past "ready", because communicate() reads
        # the pipe itself and would never see what a buffer had taken (a cut first line).
        bufsize=0,
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    if first != b"ready\n":
        child.kill()
        raise AssertionError(f"child did not start: {first!r} {child.stderr.read()!r}")
    time.sleep(rng.uniform(0.02, 0.2))
    child.send_signal(signal.SIGKILL)
    out, _ = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL
    reported = []
    for line in out.split(b"\n")[:-1]:  # the last piece may be a line cut by the kill
        parts = line.decode().split()
        assert len(parts) == 2, f"trial {trial}: a malformed report line {line!r}"
        reported.append((int(parts[0]), parts[1]))
    return reported


def _check_batches_whole(stored: list[Event], trial: int) -> None:
    """Every append_many batch in the ledger is all there, in one contiguous run."""
    seqs: dict[str, list[int]] = {}
    sizes: dict[str, int] = {}
    for e in stored:
        if e.kind == "crash_batch":
            seqs.setdefault(e.payload["batch"], []).append(e.seq)
            sizes[e.payload["batch"]] = e.payload["size"]
    for batch, got in seqs.items():
        assert len(got) == sizes[batch], f"trial {trial}: batch {batch} is partial: {got}"
        assert got == list(range(got[0], got[0] + len(got))), f"trial {trial}: {batch} split"


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "trials"), [("single", 60), ("batch", 50), ("threads", 30)])
def test_events_reported_committed_survive_sigkill_and_the_chain_verifies(
    tmp_path: Path, mode: str, trials: int
) -> None:
    path = tmp_path / "ledger.sqlite"
    rng = random.Random(20261121)
    committed: dict[int, str] = {}
    productive = unreported = 0
    # What one kill may leave committed but not yet reported: one event, one batch (<= 40
    # events), or one event per thread (each thread reports before it appends again).
    per_kill = {"single": 1, "batch": 40, "threads": 4}[mode]
    for trial in range(trials):
        reported = _run_and_kill(path, trial, rng, mode)
        # On a loaded machine the first fsync may outlast a short kill delay: such a trial
        # still checks that reopening a killed ledger works; the count below keeps it honest.
        productive += bool(reported)
        unreported = per_kill if reported else unreported + per_kill
        committed.update(reported)
        with Ledger(path) as ledger:
            report = ledger.verify()
            assert report.ok, f"trial {trial}: {report.summary()}: {report.problems}"
            events = list(ledger.events())
            stored = {e.seq: e.hash for e in events}
            missing = [s for s, h in committed.items() if stored.get(s) != h]
            assert not missing, f"trial {trial}: committed events lost or changed: {missing[:5]}"
            assert sorted(stored) == list(range(1, len(stored) + 1))  # no gap, no partial row
            assert len(stored) - max(committed, default=0) <= unreported
            _check_batches_whole(events, trial)
    assert productive >= trials * 3 // 4, f"only {productive} trials were killed mid-append"
    with Ledger(path) as ledger:
        ledger.append("after_crashes", {})  # still usable: the head anchor was not left behind
        assert ledger.verify().ok
