"""A demo build killed mid-way leaves no worker processes behind, and a rerun completes it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from musicapp.catalog import CatalogStore, build_demo

BUILD = (
    "import sys\n"
    "from pathlib import Path\n"
    "from musicapp.catalog import CatalogStore, build_demo\n"
    "s = CatalogStore(Path(sys.argv[1]) / 'c.sqlite', Path(sys.argv[1]) / 'audio')\n"
    "build_demo(s, limit=10, progress=lambda p: print(p.fraction, flush=True))\n"
)


def workers_of(root: Path) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [
        int(line.split()[0])
        for line in out.splitlines()
        if "forkserver" in line and str(os.getpid()) not in line
    ]


@pytest.mark.skipif(sys.platform != "linux", reason="uses ps and SIGKILL")
def test_killed_build_leaves_no_workers_and_resumes(tmp_path):
    marker = tmp_path / "marker-on-sys-path"
    marker.mkdir()
    env = {**os.environ, "PYTHONPATH": str(marker)}
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # the build has started its workers
    proc.stdout.readline()
    assert workers_of(marker), "the build should be running in worker processes"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 15
    while workers_of(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not workers_of(marker)

    store = CatalogStore(tmp_path / "c.sqlite", tmp_path / "audio")
    partial = store.count()
    assert partial < 10
    build_demo(store, limit=10)
    assert store.count() == 10
