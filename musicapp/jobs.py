"""Long work with progress and cancellation, shared by the CLI and the GUI; no Qt here."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside a job at a chunk boundary after the user asked it to stop."""


@dataclass(frozen=True)
class Progress:
    """How far a job is: fraction in [0, 1], the stage it is in, and a line for the user."""

    fraction: float
    stage: str = ""
    message: str = ""


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """A progress callback that ignores reports."""


class CancelToken:
    """Set from any thread; the job checks it at chunk boundaries. A token with a ``parent``
    is also cancelled when the parent is (a job's helper can be stopped alone)."""

    def __init__(self, parent: CancelToken | None = None) -> None:
        self._event = threading.Event()
        self._parent = parent

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.cancelled)

    def check(self) -> None:
        """Raise Cancelled if cancellation was asked for."""
        if self.cancelled:
            raise Cancelled()


class Job(Protocol[T]):  # type: ignore[misc]
    """A unit of long work. `lane` names the queue it runs on: compute, io or server."""

    name: str
    lane: str

    def run(self, progress: ProgressCallback, cancel: CancelToken) -> T: ...


@dataclass
class FunctionJob(Generic[T]):
    """A job made from a function taking (progress, cancel)."""

    name: str
    func: Callable[[ProgressCallback, CancelToken], T]
    lane: str = "compute"

    def run(self, progress: ProgressCallback, cancel: CancelToken) -> T:
        return self.func(progress, cancel)


def scaled(progress: ProgressCallback, start: float, end: float) -> ProgressCallback:
    """A callback that maps a sub-task's [0, 1] onto [start, end] of the parent's progress."""

    def report(p: Progress) -> None:
        progress(Progress(start + (end - start) * p.fraction, p.stage, p.message))

    return report


class Throttled:
    """Pass on at most one report per interval (and always the last one, at 100%)."""

    def __init__(self, progress: ProgressCallback, interval_s: float = 0.1) -> None:
        self._progress = progress
        self._interval = interval_s
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.fraction >= 1.0 or now - self._last >= self._interval:
            self._last = now
            self._progress(p)
