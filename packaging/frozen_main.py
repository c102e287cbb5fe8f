"""The frozen app's entry point: musicapp's CLI, plus the hidden window check of the smoke test.

`musicapp --smoke-window [--data-dir DIR] [--ms N]` opens the main window (offscreen under
QT_QPA_PLATFORM=offscreen), waits N ms for the event loop to run, prints the window's title and
quits: packaging/smoke_frozen.sh uses it to prove that the frozen Qt, its platform plugins and the
resources load. It lives here, not in the CLI, so that only the frozen build carries it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

from musicapp.cli import main


def smoke_window(argv: list[str]) -> int:
    """Open the main window over DIR, let the event loop run, and report whether it showed."""
    parser = argparse.ArgumentParser(prog="musicapp --smoke-window")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--ms", type=int, default=1500)
    args = parser.parse_args(argv)

    from PySide6.QtCore import QTimer

    from musicapp.config import Settings
    from musicapp.context import AppContext
    from musicapp.ui.app import make_application
    from musicapp.ui.icons import resource_path
    from musicapp.ui.main_window import MainWindow

    settings = Settings()
    if args.data_dir:
        settings.data_dir = args.data_dir
    app = make_application(sys.argv[:1])
    with AppContext.open(settings) as ctx:
        window = MainWindow(ctx)
        window.show()
        seen: list[bool] = []

        def check() -> None:
            seen.append(window.isVisible())
            window.close()
            app.quit()

        QTimer.singleShot(args.ms, check)
        app.exec()
    style = resource_path("style.qss")
    print(f"platform: {app.platformName()}")
    print(f"style sheet: {style} ({'found' if style.is_file() else 'MISSING'})")
    print(f"window {'opened' if seen == [True] else 'did NOT open'}: {window.windowTitle()!r}")
    return 0 if seen == [True] and style.is_file() else 1


if __name__ == "__main__":
    # The demo catalogue renders in a process pool (forkserver): in a frozen app its helper
    # processes start this same binary, and this is where they take over.
    multiprocessing.freeze_support()
    if sys.argv[1:2] == ["--smoke-window"]:
        sys.exit(smoke_window(sys.argv[2:]))
    sys.exit(main())
