"""Runs `jobs.Job`s on per-lane thread pools and delivers their results on the GUI thread."""

from __future__ import annotations

import ctypes
import itertools
import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from musicapp.core import InvalidInput
from musicapp.jobs import Cancelled, CancelToken, Job, Progress, Throttled
from musicapp.studio_types import SyncError

log = logging.getLogger(__name__)

# Heavy compute (generation) runs one at a time; I/O may overlap a little; the rights server
# is spoken to serially so its answers arrive in the order they were asked. Mediated selection
# (prompts, similar songs, alternatives, proposals) has its own lane: a first call that embeds
# the catalogue or loads a model must not hold up previews, imports or a generation.
LANE_THREADS = {"compute": 1, "io": 2, "server": 1, "select": 1}
PROGRESS_INTERVAL_S = 0.1


_pinned_threads: set[int] = set()
_pinned_lock = threading.Lock()


def pin_thread_state() -> None:
    """Keep this pool thread's Python thread state for the thread's whole life.

    PySide makes a Python thread state for each runnable and deletes it when the runnable ends;
    pybind11 (torch) caches the thread state it first saw in its own thread-local slot and uses
    it on the next runnable the same thread runs: a deleted one, and the process crashes (seen:
    a second prompt after the catalogue was embedded, in `Tensor.to`). One extra, never released
    PyGILState_Ensure keeps the state alive, so the cached one stays the thread's own.
    """
    ident = threading.get_ident()
    with _pinned_lock:
        if ident in _pinned_threads:
            return
        _pinned_threads.add(ident)
    ctypes.pythonapi.PyGILState_Ensure()


class _Bridge(QObject):
    """The one object workers emit on, tagged with the job's number.

    It lives as long as the runner and outlives every worker (the pools are waited for first),
    so no worker can emit on an object the GUI thread is deleting: Qt does not allow deleting
    a sender while another thread is inside its emit.
    """

    progress = Signal(int, object)
    finished = Signal(int, object)
    failed = Signal(int, object)
    cancelled = Signal(int)


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

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def lane(self) -> str:
        return self.job.lane

    def cancel(self) -> None:
        """Ask the job to stop at its next chunk boundary; `cancelled` follows when it does."""
        self.token.cancel()

    def _deliver_progress(self, p: Progress) -> None:
        if self.running:
            self.last_progress = p
            self.progress.emit(p)

    def _deliver_end(self, signal: Any, *args: object) -> None:
        self.running = False
        signal.emit(*args)
        self.done.emit()


class JobRunnable(QRunnable):
    """The thread-pool side of a job: runs it and reports through the runner's bridge.

    The pool deletes it when `run` returns (auto-delete); it holds no Qt object but the bridge.
    """

    def __init__(self, job: Job[Any], token: CancelToken, number: int, bridge: _Bridge) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job, self._token, self._number, self._bridge = job, token, number, bridge

    def run(self) -> None:
        pin_thread_state()
        job, token, n, bridge = self._job, self._token, self._number, self._bridge
        if token.cancelled:  # cancelled while still queued
            _emit(bridge.cancelled, n)
            return
        report = Throttled(lambda p: _emit(bridge.progress, n, p), PROGRESS_INTERVAL_S)
        try:
            result = job.run(report, token)
        except Cancelled:
            _emit(bridge.cancelled, n)
        except (InvalidInput, SyncError) as exc:  # the user's to fix (the GUI says how)
            log.info("job %r refused: %s", job.name, exc)  # no traceback on the console
            _emit(bridge.failed, n, exc)
        except Exception as exc:  # any failure goes to the GUI, which stays up
            log.exception("job %r failed", job.name)
            _emit(bridge.failed, n, exc)
        else:
            _emit(bridge.finished, n, result)


def _emit(signal: Any, *args: object) -> None:
    """Emit from a worker; after the window is gone at shutdown there is no one to tell."""
    try:
        signal.emit(*args)
    except RuntimeError:  # the bridge was deleted
        log.debug("job signal dropped: its receiver is gone")


class JobRunner(QObject):
    """Owns one thread pool per lane, tracks the jobs in flight and can cancel them all."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Children are deleted in the order they were made: the pools (which wait for their
        # workers) before the bridge those workers emit on.
        self._pools: dict[str, QThreadPool] = {}
        for lane, threads in LANE_THREADS.items():
            pool = QThreadPool(self)
            pool.setMaxThreadCount(threads)
            pool.setExpiryTimeout(-1)  # threads live as long as the runner (pin_thread_state)
            self._pools[lane] = pool
        self._bridge = _Bridge(self)
        queued = Qt.ConnectionType.QueuedConnection
        self._bridge.progress.connect(self._on_progress, queued)
        self._bridge.finished.connect(self._on_finished, queued)
        self._bridge.failed.connect(self._on_failed, queued)
        self._bridge.cancelled.connect(self._on_cancelled, queued)
        self._numbers = itertools.count(1)
        self._live: dict[int, JobHandle] = {}

    def submit(self, job: Job[Any]) -> JobHandle:
        """Queue `job` on its lane and return its handle; connect to it before control returns
        to the event loop (signals are queued, so nothing is missed)."""
        pool = self._pools.get(job.lane)
        if pool is None:
            raise ValueError(f"job {job.name!r}: unknown lane {job.lane!r}")
        number = next(self._numbers) % (1 << 31)
        handle = JobHandle(job, self)
        self._live[number] = handle
        pool.start(JobRunnable(job, handle.token, number, self._bridge))
        return handle

    def jobs(self) -> list[JobHandle]:
        """The jobs that have not ended yet."""
        return list(self._live.values())

    def busy(self, lane: str | None = None) -> bool:
        return any(lane is None or h.lane == lane for h in self._live.values())

    def cancel_all(self) -> None:
        """Ask every queued and running job to stop."""
        for handle in list(self._live.values()):
            handle.cancel()

    def wait(self, msecs: int = 5000) -> bool:
        """Block until the pools are idle (at shutdown, after `cancel_all`)."""
        return all(pool.waitForDone(msecs) for pool in self._pools.values())

    @Slot(int, object)
    def _on_progress(self, number: int, p: Progress) -> None:
        handle = self._live.get(number)
        if handle is not None:
            handle._deliver_progress(p)

    @Slot(int, object)
    def _on_finished(self, number: int, result: object) -> None:
        self._end(number, "finished", result)

    @Slot(int, object)
    def _on_failed(self, number: int, exc: object) -> None:
        self._end(number, "failed", exc)

    @Slot(int)
    def _on_cancelled(self, number: int) -> None:
        self._end(number, "cancelled")

    def _end(self, number: int, outcome: str, *args: object) -> None:
        handle = self._live.pop(number, None)
        if handle is None:
            return
        handle._deliver_end(getattr(handle, outcome), *args)
        handle.deleteLater()
