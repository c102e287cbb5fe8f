"""Runs `jobs.Job`s on per-lane thread pools and delivers their results on the GUI thread."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from musicapp.jobs import Cancelled, CancelToken, Job, Progress, Throttled

log = logging.getLogger(__name__)

# Heavy compute (generation) runs one at a time; I/O may overlap a little; the rights server
# is spoken to serially so its answers arrive in the order they were asked.
LANE_THREADS = {"compute": 1, "io": 2, "server": 1}
PROGRESS_INTERVAL_S = 0.1


class _WorkerSignals(QObject):
    """Emitted from the worker thread; queued onto the handle, which lives on the GUI thread."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()


class JobHandle(QObject):
    """One submitted job, as the GUI sees it. Every signal arrives on the GUI thread.

    Exactly one of `finished(result)`, `failed(exception)` or `cancelled()` is emitted, then
    `done()`.
    """

    progress = Signal(object)  # jobs.Progress
    finished = Signal(object)
    failed = Signal(object)  # the exception the job raised
    cancelled = Signal()
    done = Signal()

    def __init__(self, job: Job[Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.token = CancelToken()
        self.running = True
        self.last_progress: Progress | None = None
        # Parented to the handle, so it is deleted with it on the GUI thread, whichever thread
        # drops the last Python reference.
        self._worker = _WorkerSignals(self)
        conn = Qt.ConnectionType.QueuedConnection
        self._worker.progress.connect(self._on_progress, conn)
        self._worker.finished.connect(self._on_finished, conn)
        self._worker.failed.connect(self._on_failed, conn)
        self._worker.cancelled.connect(self._on_cancelled, conn)

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def lane(self) -> str:
        return self.job.lane

    def cancel(self) -> None:
        """Ask the job to stop at its next chunk boundary; `cancelled` follows when it does."""
        self.token.cancel()

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        if self.running:
            self.last_progress = p
            self.progress.emit(p)

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self._end()
        self.finished.emit(result)
        self.done.emit()

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self._end()
        self.failed.emit(exc)
        self.done.emit()

    @Slot()
    def _on_cancelled(self) -> None:
        self._end()
        self.cancelled.emit()
        self.done.emit()

    def _end(self) -> None:
        self.running = False


class JobRunnable(QRunnable):
    """The thread-pool side of a handle: runs the job and reports through queued signals.

    The pool deletes it after `run` returns (auto-delete). It must not be freed earlier from
    the GUI thread: the pool thread still reads it after `run`, which is why it holds no
    reference to the handle and the runner keeps none to it.
    """

    def __init__(self, handle: JobHandle) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job = handle.job
        self._token = handle.token
        self._signals = handle._worker

    def run(self) -> None:
        job, token, signals = self._job, self._token, self._signals
        if token.cancelled:  # cancelled while still queued
            _emit(signals.cancelled)
            return
        report = Throttled(lambda p: _emit(signals.progress, p), PROGRESS_INTERVAL_S)
        try:
            result = job.run(report, token)
        except Cancelled:
            _emit(signals.cancelled)
        except Exception as exc:  # any failure goes to the GUI, which stays up
            log.exception("job %r failed", job.name)
            _emit(signals.failed, exc)
        else:
            _emit(signals.finished, result)


def _emit(signal: Any, *args: object) -> None:
    """Emit from a worker; after the window is gone at shutdown there is no one to tell."""
    try:
        signal.emit(*args)
    except RuntimeError:  # the QObject behind the signal was deleted
        log.debug("job signal dropped: its receiver is gone")


class JobRunner(QObject):
    """Owns one thread pool per lane, tracks the jobs in flight and can cancel them all."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pools: dict[str, QThreadPool] = {}
        for lane, threads in LANE_THREADS.items():
            pool = QThreadPool(self)
            pool.setMaxThreadCount(threads)
            self._pools[lane] = pool
        self._live: set[JobHandle] = set()

    def submit(self, job: Job[Any]) -> JobHandle:
        """Queue `job` on its lane and return its handle; connect to it before control returns
        to the event loop (signals are queued, so nothing is missed)."""
        pool = self._pools.get(job.lane)
        if pool is None:
            raise ValueError(f"job {job.name!r}: unknown lane {job.lane!r}")
        handle = JobHandle(job, self)
        self._live.add(handle)
        handle.done.connect(lambda h=handle: self._forget(h))
        pool.start(JobRunnable(handle))
        return handle

    def jobs(self) -> list[JobHandle]:
        """The jobs that have not ended yet."""
        return list(self._live)

    def busy(self, lane: str | None = None) -> bool:
        return any(lane is None or h.lane == lane for h in self._live)

    def cancel_all(self) -> None:
        """Ask every queued and running job to stop."""
        for handle in list(self._live):
            handle.cancel()

    def wait(self, msecs: int = 5000) -> bool:
        """Block until the pools are idle (at shutdown, after `cancel_all`)."""
        return all(pool.waitForDone(msecs) for pool in self._pools.values())

    def _forget(self, handle: JobHandle) -> None:
        self._live.discard(handle)
        handle.deleteLater()
