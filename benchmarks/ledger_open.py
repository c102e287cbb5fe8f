"""Times opening a long ledger, which checks it for damage, against a full verify().

Run: .venv/bin/python benchmarks/ledger_open.py [--events N] [--new N] [--dir FOLDER]
Goal (issue 11): opening a 1,000,000-event ledger that nothing touched stays well under a
second (a full verify takes about 5 s); after a session that was killed with --new events
appended, opening re-hashes only those. Rows, all in this process on the same file:

- untouched: closed by musicapp, opened again (median of 5 opens);
- killed session: another process opened it, appended --new events and died without closing
  (median of 3 such sessions);
- first open: no verified-through checkpoint yet (a ledger from before issue 11): everything;
- edited: a middle event edited with the sqlite3 shell: everything, and the damage is found;
- verify(): the full check, for the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync import build_chain  # noqa: E402  (benchmarks/sync.py)

from musicapp.ledger import Ledger  # noqa: E402
from musicapp.testing.ledger_tamper import tamper  # noqa: E402

KILLED = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[3])
    from ledger_appends import PAYLOAD
    from musicapp.ledger import Ledger

    ledger = Ledger(sys.argv[1])
    n = int(sys.argv[2])
    for start in range(0, n, 100):
        ledger.append_many([("generation", PAYLOAD)] * min(100, n - start))
    os._exit(0)  # killed: no close, so the checkpoint stays where this session found it
    """
)


def timed_open(path: Path) -> tuple[float, int, bool, bool]:
    """(seconds, events hashed, verified everything, damaged) for one open."""
    start = time.perf_counter()
    ledger = Ledger(path)
    seconds = time.perf_counter() - start
    check = ledger.last_check
    assert check is not None
    ledger.close()
    return seconds, check.hashed, check.full, check.damage is not None


def killed_session(path: Path, n: int) -> None:
    here = str(Path(__file__).resolve().parent)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", KILLED, str(path), str(n), here], check=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    rows: list[tuple[str, float, int, str]] = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "ledger.sqlite"
        build_chain(path, args.events)

        s, hashed, full, _ = timed_open(path)
        rows.append(("first open (no checkpoint yet)", s, hashed, "everything" if full else "?"))

        opens = [timed_open(path) for _ in range(5)]
        assert not any(o[2] for o in opens), "an untouched ledger was verified in full"
        rows.append(
            ("untouched", statistics.median(o[0] for o in opens), opens[0][1], "median of 5")
        )

        killed = []
        for _ in range(3):
            killed_session(path, args.new)
            killed.append(timed_open(path))
        assert not any(k[2] for k in killed), "a killed session forced a full verify"
        rows.append(
            (
                f"killed session, {args.new:,} new",
                statistics.median(k[0] for k in killed),
                killed[0][1],
                "median of 3",
            )
        )

        with Ledger(path) as ledger:
            start = time.perf_counter()
            report = ledger.verify()
            verify_s = time.perf_counter() - start
        assert report.ok, report.problems[:3]

        tamper(path, "UPDATE events SET payload = '{}' WHERE seq = 500")
        s, hashed, full, damaged = timed_open(path)
        assert full and damaged
        rows.append(("edited in the middle (found)", s, hashed, "everything"))
        rows.append(("verify() in full", verify_s, report.checked, "for the ratio"))

    print(f"ledger of {args.events:,} events (+ {3 * args.new:,} from the killed sessions)")
    print(f"{'open':34} {'seconds':>8} {'hashed':>10} {'x verify':>9}  note")
    for name, seconds, hashed, note in rows:
        print(f"{name:34} {seconds:8.3f} {hashed:10,} {seconds / verify_s:9.3f}  {note}")


if __name__ == "__main__":
    main()
