"""Torch in the window's job threads: a second job on the same thread must not crash.

PySide gives each runnable a fresh Python thread state; pybind11 (torch) caches the first one
it sees per thread. Without `job_runner.pin_thread_state` the second job that hands a tensor
back to Python crashed the whole app (a second prompt, after the catalogue was embedded). The
check runs in a child process, so a crash fails this test instead of killing the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtWidgets import QApplication
    from musicapp.jobs import FunctionJob
    from musicapp.ui.job_runner import JobRunner

    app = QApplication([])
    runner = JobRunner()
    results = []

    def work(_progress, _cancel):
        import torch

        t = torch.ones(4)
        return float(t.to("cpu").sum())

    def submit(n):
        handle = runner.submit(FunctionJob(f"torch {n}", work, lane="select"))
        handle.finished.connect(results.append)
        handle.failed.connect(lambda exc: (print(exc), app.exit(2)))
        handle.done.connect(lambda: submit(n + 1) if n < 4 else app.exit(0))

    submit(0)
    code = app.exec()
    print(results)
    sys.exit(code if results == [4.0] * 5 else 3)
    """
)


def test_torch_jobs_one_after_another_on_one_thread_do_not_crash() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
