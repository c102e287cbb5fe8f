"""One view's "latest answer wins" call off the GUI thread: a newer question cancels and
supersedes an older one still running (typing a new prompt, selecting another reference).

`JobControl` refuses a second job while one runs, which suits a generation; a pane that asks the
selection room again on every change wants the opposite, so it uses this instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from musicapp.jobs import CancelToken, FunctionJob, ProgressCallback
from musicapp.ui.job_runner import JobHandle, JobRunner

log = logging.getLogger(__name__)


class LatestCall(QObject):
    """Runs `fn()` on the selection lane; only the newest call's result or failure is
    delivered (an older one still queued is skipped, one running is left to finish)."""

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._ticket = 0
        self._handle: JobHandle | None = None

    @property
    def busy(self) -> bool:
        return self._handle is not None

    def run(
        self,
        name: str,
        fn: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        self.forget()
        ticket = self._ticket

        def work(_progress: ProgressCallback, cancel: CancelToken) -> Any:
            cancel.check()
            return fn()

        handle = self._runner.submit(FunctionJob(name, work, lane="select"))
        self._handle = handle

        def finished(result: object) -> None:
            if ticket == self._ticket:
                self._handle = None
                on_result(result)

        def failed(exc: BaseException) -> None:
            if ticket == self._ticket:
                self._handle = None
                log.warning("%s failed: %s", name, exc)
                on_failure(exc)

        def cancelled() -> None:
            if ticket == self._ticket:
                self._handle = None

        handle.finished.connect(finished)
        handle.failed.connect(failed)
        handle.cancelled.connect(cancelled)

    def forget(self) -> None:
        """Cancel the running call (if any) and drop whatever it would still deliver."""
        self._ticket += 1
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
