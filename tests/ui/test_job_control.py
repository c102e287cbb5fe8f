"""JobControl: one running job per view; every outcome ends with the handle gone and the
view told, so its buttons come back whatever happened."""

import threading
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QProgressBar, QPushButton, QWidget

from musicapp.core import InvalidInput
from musicapp.jobs import FunctionJob, Progress
from musicapp.ui.job_control import JobControl, progress_value
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.refusals import readable


class View(QWidget):
    """A view as the app's are: bound methods as callbacks, a bar and a Cancel button."""

    def __init__(self, runner):
        super().__init__()
        self.bar, self.cancel_button = QProgressBar(), QPushButton("Cancel")
        self.bar.setRange(0, 1000)
        self.events = []
        self.jobs = JobControl(
            runner,
            self,
            on_result=self.finished,
            on_failure=self.failed,
            on_cancel=self.cancelled,
            on_progress=self.progressed,
            on_end=self.ended,
            bar=self.bar,
            cancel_button=self.cancel_button,
        )

    def finished(self, result):
        self.events.append(("result", result))

    def failed(self, exc):
        self.events.append(("failed", str(exc)))

    def cancelled(self):
        self.events.append(("cancelled",))

    def progressed(self, p):
        self.events.append(("progress", self.bar.value()))

    def ended(self):
        # The handle is already gone when the view re-enables its buttons.
        self.events.append(("end", self.jobs.handle, self.cancel_button.isEnabled()))


@pytest.fixture
def view(qtbot):
    """A view on its own runner, whose jobs are all over when the test ends."""
    jobs = JobRunner()
    v = View(jobs)
    qtbot.addWidget(v)
    yield v
    jobs.cancel_all()
    assert jobs.wait(5000)


def test_result_then_end_and_the_bar_follows_progress(qtbot, view):
    def work(progress, cancel):
        progress(Progress(0.5, "half"))
        return 7

    handle = view.jobs.start(FunctionJob("seven", work, lane="io"))
    assert view.jobs.busy and view.jobs.handle is handle
    qtbot.waitUntil(lambda: not view.jobs.busy, timeout=5000)
    assert view.events == [("progress", 500), ("result", 7), ("end", None, True)]


def test_one_job_at_a_time(qtbot, view):
    gate = threading.Event()
    first = view.jobs.start(FunctionJob("wait", lambda p, c: gate.wait(5), lane="io"))
    assert view.jobs.start(FunctionJob("second", lambda p, c: 1, lane="io")) is None
    assert view.jobs.handle is first
    gate.set()
    qtbot.waitUntil(lambda: not view.jobs.busy, timeout=5000)


def test_failure_then_end(qtbot, view):
    def work(progress, cancel):
        raise InvalidInput("no audio", field="user_audio", option="--user-audio")

    view.jobs.start(FunctionJob("refused", work, lane="io"))
    qtbot.waitUntil(lambda: not view.jobs.busy, timeout=5000)
    assert view.events == [("failed", "no audio (--user-audio)"), ("end", None, True)]


def test_cancel_disables_cancel_until_the_end(qtbot, view):
    release = threading.Event()
    # The job checks for cancellation only once it is released, after Cancel was pressed.
    view.jobs.start(FunctionJob("gated", lambda p, c: (release.wait(5), c.check()), lane="io"))
    assert view.jobs.cancel()
    assert not view.cancel_button.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: not view.jobs.busy, timeout=5000)
    assert view.events == [("cancelled",), ("end", None, True)]
    assert not view.jobs.cancel()  # nothing to cancel: the view says nothing


def test_a_job_the_runner_refuses_still_ends(qtbot, view):
    assert view.jobs.start(FunctionJob("nowhere", lambda p, c: 1, lane="moon")) is None
    assert view.events[0][0] == "failed" and "unknown lane" in view.events[0][1]
    assert view.events[1:] == [("end", None, True)]


def test_the_control_does_not_keep_its_view_alive(qtbot):
    """No cycle through the child: the view goes with its last reference, not at some later
    garbage collection that could free it while Qt is deleting its children."""
    import gc
    import weakref

    v = View(JobRunner())
    ref = weakref.ref(v)
    gc.disable()
    try:
        del v
        assert ref() is None
    finally:
        gc.enable()


def test_progress_value_is_clamped():
    assert progress_value(Progress(-0.2, "x")) == 0
    assert progress_value(Progress(0.25, "x")) == 250
    assert progress_value(Progress(1.5, "x")) == 1000


def test_refusals_name_the_window_control_not_the_command_line_option():
    exc = InvalidInput(
        "reference s1: audio-level references shape your own audio: give an audio file",
        field="user_audio",
        option="--user-audio",
    )
    assert str(exc).endswith("give an audio file (--user-audio)")  # the CLI's words, unchanged
    song = SimpleNamespace(title="Baroque A")
    assert readable(exc, {"s1": song}) == (
        "“Baroque A”: audio-level references shape your own audio: give an audio file "
        "(Your audio → Load audio…)"
    )
    unreadable = InvalidInput(
        "your audio /x.wav: cannot be read", field="user_audio", path="/x.wav"
    )
    assert readable(unreadable, {}) == "your audio /x.wav: cannot be read"
    assert unreadable.path == "/x.wav"


def test_invalid_input_keeps_its_fields_across_pickling():
    import pickle

    exc = pickle.loads(pickle.dumps(InvalidInput("x", field="user_audio", option="--user-audio")))
    assert (str(exc), exc.field, exc.option, exc.detail) == (
        "x (--user-audio)",
        "user_audio",
        "--user-audio",
        "x",
    )
