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


def screenshot_main(
    argv: list[str] | None,
    description: str,
    stage: Callable[[Director], None],
    fake_context: Callable[[], Any],
    *,
    prefix: str,
    size: str,
    give_up_s: float,
) -> int:
    """The screenshot scripts' shared command line: ``--data-dir DIR`` (a copy of it is opened,
    never the folder itself) or ``--fake`` (the tests' fake studio), ``--out``, ``--size``; the
    window is shown and ``stage`` drives it through a Director."""
    import argparse
    import shutil
    import tempfile

    from musicapp.ui.app import make_application
    from musicapp.ui.main_window import MainWindow

    parser = argparse.ArgumentParser(description=description)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data-dir", type=Path, help="a musicapp data folder with the demo")
    source.add_argument("--fake", action="store_true", help="the tests' fake studio instead")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--size", default=size, help="window size, WxH")
    args = parser.parse_args(argv)
    app = make_application(sys.argv[:1])
    width, height = (int(v) for v in args.size.split("x"))

    def run(context: Any) -> int:
        window = MainWindow(context)
        window.resize(width, height)
        window.show()
        director = Director(window, args.out.resolve(), app, give_up_s, 600)
        QTimer.singleShot(800, lambda: stage(director))
        code = app.exec()
        window.close()
        return 1 if director.failed else code

    if args.fake:
        return run(fake_context())

    from musicapp.config import Settings
    from musicapp.context import AppContext

    copy = Path(tempfile.mkdtemp(prefix=prefix)) / "data"
    shutil.copytree(args.data_dir, copy, ignore=shutil.ignore_patterns("*-shm", "*-wal"))
    settings = Settings()
    settings.data_dir = copy
    try:
        with AppContext.open(settings) as ctx:
            return run(ctx)
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)
