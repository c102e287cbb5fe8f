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


def workers_of(marker: Path) -> list[int]:
    """Live processes descended from the build under test: they inherited its PYTHONPATH,
    which names a marker folder no other process has."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"PYTHONPATH={marker}".encode() in environ and state != "Z":
            found.append(int(proc.name))
    return found


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
