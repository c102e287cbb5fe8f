"""The job bridge: results on the GUI thread, throttled progress, cancellation, lanes."""

import threading
import time

import pytest
from PySide6.QtCore import QThread

from musicapp.jobs import FunctionJob, Progress
from musicapp.ui.job_runner import JobRunner


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.cancel_all()
    r.wait(5000)


def test_result_arrives_on_the_gui_thread(qtbot, runner):
    worker_threads = []

    def work(progress, cancel):
        worker_threads.append(threading.current_thread())
        return 42

    handle = runner.submit(FunctionJob("answer", work, lane="io"))
    seen = {}
    handle.finished.connect(lambda r: seen.update(result=r, gui=QThread.currentThread()))
    with qtbot.waitSignal(handle.done, timeout=5000):
        pass
    assert seen["result"] == 42
    assert seen["gui"] is qtbot_app_thread()
    assert worker_threads[0] is not threading.main_thread()
    assert not runner.busy()


def qtbot_app_thread():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance().thread()


def test_progress_is_throttled_to_about_ten_a_second(qtbot, runner):
    elapsed = []

    def work(progress, cancel):
        start = time.monotonic()
        for i in range(2000):  # 2000 reports in ~0.3 s
            progress(Progress(i / 2000, "work", f"step {i}"))
            if i % 100 == 0:
                time.sleep(0.015)
        progress(Progress(1.0, "done"))
        elapsed.append(time.monotonic() - start)

    handle = runner.submit(FunctionJob("chatty", work, lane="compute"))
    reports = []
    handle.progress.connect(reports.append)
    with qtbot.waitSignal(handle.done, timeout=5000):
        pass
    # At most one report per 100 ms, plus the first and the final 100 %.
    assert 2 <= len(reports) <= elapsed[0] / 0.1 + 2
    assert reports[-1].fraction == 1.0


def test_cancel_stops_the_job_and_emits_cancelled(qtbot, runner):
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        while True:
            cancel.check()
            time.sleep(0.01)

    handle = runner.submit(FunctionJob("forever", work))
    got = []
    handle.cancelled.connect(lambda: got.append("cancelled"))
    handle.finished.connect(lambda r: got.append("finished"))
    assert started.wait(5)
    with qtbot.waitSignal(handle.done, timeout=5000):
        runner.cancel_all()
    assert got == ["cancelled"]


def test_failure_is_reported_not_raised(qtbot, runner):
    def work(progress, cancel):
        raise RuntimeError("disk on fire")

    handle = runner.submit(FunctionJob("broken", work, lane="io"))
    errors = []
    handle.failed.connect(errors.append)
    with qtbot.waitSignal(handle.done, timeout=5000):
        pass
    assert isinstance(errors[0], RuntimeError) and "disk on fire" in str(errors[0])


def test_compute_lane_runs_one_job_at_a_time(qtbot, runner):
    running = []
    peak = []
    lock = threading.Lock()

    def work(progress, cancel):
        with lock:
            running.append(1)
            peak.append(len(running))
        time.sleep(0.05)
        with lock:
            running.pop()

    handles = [runner.submit(FunctionJob(f"j{i}", work, lane="compute")) for i in range(3)]
    qtbot.waitUntil(lambda: not runner.busy(), timeout=5000)
    assert max(peak) == 1 and len(handles) == 3


def test_a_job_cancelled_while_queued_never_runs(qtbot, runner):
    gate = threading.Event()
    ran = []
    first = runner.submit(FunctionJob("blocker", lambda p, c: gate.wait(5), lane="compute"))
    second = runner.submit(FunctionJob("queued", lambda p, c: ran.append(1), lane="compute"))
    second.cancel()
    gate.set()
    with qtbot.waitSignals([first.done, second.done], timeout=5000):
        pass
    assert ran == []


def test_unknown_lane_is_refused(runner):
    with pytest.raises(ValueError, match="lane"):
        runner.submit(FunctionJob("x", lambda p, c: None, lane="gpu-farm"))
