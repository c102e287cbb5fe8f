"""Drives a real window through a scripted scene for a screenshot (packaging/screenshot_*.py):
each step waits for what it needs on screen, then the window is grabbed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

POLL_MS = 100


class Director:
    """Runs the steps one after another, each waiting for what it needs on screen."""

    def __init__(
        self, window: Any, out: Path, app: Any, give_up_s: float = 120.0, settle_ms: int = 400
    ) -> None:
        self.window, self.out, self.app = window, out, app
        self.give_up_s, self.settle_ms = give_up_s, settle_ms
        self.failed = False

    def wait_for(self, ready: Callable[[], bool], then: Callable[[], None], what: str) -> None:
        left = [self.give_up_s * 1000 / POLL_MS]

        def poll() -> None:
            if ready():
                QTimer.singleShot(self.settle_ms, then)  # let the layout settle first
                return
            left[0] -= 1
            if left[0] <= 0:
                print(f"screenshot: gave up waiting for {what}", file=sys.stderr)
                self.failed = True
                self.app.exit(1)
                return
            QTimer.singleShot(POLL_MS, poll)

        poll()

    def grab(self, name: str) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / name
        self.window.grab().save(str(path))
        print(f"saved {path}", flush=True)
