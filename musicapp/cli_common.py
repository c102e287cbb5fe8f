"""What every `musicapp` sub-command module shares: exit codes, the progress bar, printing
text or JSON, and opening the data folder's context (building the demo catalogue on first run).

Its own module so that `cli.py` can import the sub-command modules (`cli_ledger`, `cli_sync`,
`cli_takes`, ...) and they can use these without importing `cli.py` back (no import loop,
tests/unit/test_structure.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from musicapp.config import Settings
from musicapp.jobs import Cancelled, CancelToken, Progress, ProgressCallback

T = TypeVar("T")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class TerminalProgress:
    """A tqdm bar on stderr, shown only when stderr is a terminal or when asked."""

    def __init__(self, label: str, enabled: bool) -> None:
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=1000, desc=label, unit="‰", leave=False, file=sys.stderr)

    def __call__(self, p: Progress) -> None:
        if self._bar is not None:
            self._bar.n = int(min(max(p.fraction, 0.0), 1.0) * 1000)
            self._bar.set_postfix_str(p.message[:40], refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_with_progress(
    label: str, func: Callable[[ProgressCallback, CancelToken], T], show: bool
) -> T:
    """Run long work with a progress bar; Ctrl-C cancels it at the next chunk boundary."""
    bar = TerminalProgress(label, show)
    cancel = CancelToken()
    try:
        return func(bar, cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        raise Cancelled() from None
    finally:
        bar.close()


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(text)


def open_context(args: argparse.Namespace, build: bool = True) -> Any:
    from musicapp.context import AppContext

    settings = Settings()
    if args.data_dir:
        settings.data_dir = Path(args.data_dir)
    ctx = AppContext.open(settings)
    if build and ctx.studio.library.is_empty():
        job = ctx.studio.library.build_demo_job()
        print("Building the demo catalogue (first run, offline)…", file=sys.stderr)
        run_with_progress("catalogue", job.run, args.progress)
    return ctx
