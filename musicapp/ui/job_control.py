"""One view's running job: submit, progress, cancel and done, written once for every view.

Each view that runs a job (the window's generation and demo build, the tone match and its
export, the stems, the import) used to connect the handle's five signals itself, clamp the
progress into its bar, disable Cancel while cancelling and forget the handle when it ended.
`JobControl` does that; the view keeps only what it shows for each outcome.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QAbstractButton, QProgressBar

from musicapp.jobs import Job, Progress
from musicapp.ui.job_runner import JobHandle, JobRunner

# Bars show tenths of a percent: views set their range to 0..PROGRESS_STEPS.
PROGRESS_STEPS = 1000


def progress_value(p: Progress) -> int:
    """`p.fraction` as a bar value, clamped: jobs may report a little under 0 or over 1."""
    return round(PROGRESS_STEPS * max(0.0, min(1.0, p.fraction)))


def _weak(callback: Callable[..., Any] | None) -> Callable[[], Callable[..., Any] | None]:
    """Hold a view's bound method weakly: the control is the view's child, and a strong
    reference from a child would keep the view's Python side alive until Qt deletes that child,
    which could free the view in the middle of the deletion."""
    if callback is None:
        return lambda: None
    if inspect.ismethod(callback):
        return weakref.WeakMethod(callback)
    return lambda: callback


class JobControl(QObject):
    """Runs one job at a time for a view and tells it what happened.

    Exactly one of `on_result(result)`, `on_failure(exception)` or `on_cancel()` is called,
    then `on_end()` with `handle` already None: the view re-enables its buttons there, whatever
    the outcome. `bar` (if any) is reset when a job starts and follows its progress;
    `cancel_button` (if any) is disabled by `cancel` and enabled again when the job ends.
    """

    def __init__(
        self,
        runner: JobRunner,
        parent: QObject,
        on_result: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
        *,
        on_cancel: Callable[[], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_end: Callable[[], None] | None = None,
        bar: QProgressBar | None = None,
        cancel_button: QAbstractButton | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._result, self._failure = _weak(on_result), _weak(on_failure)
        self._cancel, self._progress, self._end = (
            _weak(on_cancel),
            _weak(on_progress),
            _weak(on_end),
        )
        self._bar, self._cancel_button = bar, cancel_button
        self.handle: JobHandle | None = None

    @property
    def busy(self) -> bool:
        return self.handle is not None

    def start(self, job: Job[Any]) -> JobHandle | None:
        """Submit `job` unless one is running (then None). A job the runner refuses (an unknown
        lane) is reported through `on_failure` and `on_end` like one that failed."""
        if self.handle is not None:
            return None
        if self._bar is not None:
            self._bar.setValue(0)
        try:
            handle = self._runner.submit(job)
        except Exception as exc:
            self._call(self._failure, exc)
            self._call(self._end)
            return None
        self.handle = handle
        handle.progress.connect(self._on_progress)
        handle.finished.connect(self._on_finished)
        handle.failed.connect(self._on_failed)
        handle.cancelled.connect(self._on_cancelled)
        handle.done.connect(self._on_done)
        return handle

    def cancel(self) -> bool:
        """Ask the running job to stop; False when none runs (the view then says nothing)."""
        if self.handle is None:
            return False
        self.handle.cancel()
        if self._cancel_button is not None:
            self._cancel_button.setEnabled(False)
        return True

    @staticmethod
    def _call(ref: Callable[[], Callable[..., Any] | None], *args: object) -> None:
        callback = ref()
        if callback is not None:
            callback(*args)

    def _on_progress(self, p: Progress) -> None:
        if self._bar is not None:
            self._bar.setValue(progress_value(p))
        self._call(self._progress, p)

    def _on_finished(self, result: object) -> None:
        self._call(self._result, result)

    def _on_failed(self, exc: BaseException) -> None:
        self._call(self._failure, exc)

    def _on_cancelled(self) -> None:
        self._call(self._cancel)

    def _on_done(self) -> None:
        self.handle = None
        if self._cancel_button is not None:
            self._cancel_button.setEnabled(True)
        self._call(self._end)
