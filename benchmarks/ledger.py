"""Times the ledger: appends per second (each one committed) and verify() over a long chain.

Run: .venv/bin/python benchmarks/ledger.py [--events N] [--dir FOLDER]
Goals: a few thousand appends a second; verify() of 100,000 events in a couple of seconds.
The append row is one commit per event; benchmarks/ledger_appends.py also times append_many and
appends from several threads (group commit); its batched row is repeated here.
Use --dir to measure on the disk the app really uses (the default is the system temp folder).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ledger_appends import PAYLOAD, batched_rate

from musicapp.ledger import Ledger


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp, Ledger(Path(tmp) / "l.sqlite") as led:
        start = time.perf_counter()
        for _ in range(args.events):
            led.append("generation", PAYLOAD)
        append_s = time.perf_counter() - start
        start = time.perf_counter()
        report = led.verify()
        verify_s = time.perf_counter() - start
        assert report.ok, report.problems
        batched = batched_rate(Path(tmp) / "batched.sqlite", args.events, 100)
    print(f"append  {args.events / append_s:8.0f} events/s   (goal: a few thousand)")
    print(f"batched {batched:8.0f} events/s   (append_many, 100 events per commit)")
    print(f"verify  {verify_s:8.2f} s for {report.checked} events   (goal: about 2 s for 100k)")


if __name__ == "__main__":
    main()
