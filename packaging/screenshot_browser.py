"""Screenshots of the catalogue browser: each hierarchy expanded, then the completion popup.

Run under a real X screen (the popup is its own window):
  ../shared/tools/screenshot docs/completion-popup.png 25 -- \
      .venv/bin/python packaging/screenshot_browser.py docs --data-dir DIR

`--filters` instead shows the filter row narrowing the catalogue (docs/filters.png), and
`--import-dialog` imports a made-up folder (two tones and a broken file) through File → Import
music… and shoots the report (docs/import-dialog.png). The import writes to DIR: use a copy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from musicapp.config import Settings
from musicapp.context import AppContext
from musicapp.ui.app import make_application
from musicapp.ui.main_window import MainWindow


def expand_first(window: MainWindow, depth: int) -> None:
    tree, model = window.browser.tree, window.browser.tree_model
    index = model.index(0, 0)
    for _ in range(depth):
        if not index.isValid():
            return
        tree.expand(index)
        model.fetchMore(index)
        index = model.index(0, 0, index)


def shoot_filters(window: MainWindow, out: Path, typed: str) -> None:
    """A genre and a use chosen: the results are the songs usable commercially in that genre."""
    bar = window.browser.filter_bar
    genre = next(
        (bar.genre_box.itemData(i) for i in range(1, bar.genre_box.count())),
        None,
    )
    bar.select("use", "commercial")
    bar.select("level", "song")
    if genre is not None:
        bar.select("genre", genre)
    window.browser.search_box.setText(typed)
    window.browser.run_search()
    QTimer.singleShot(600, lambda: window.grab().save(str(out / "filters.png")))


def shoot_import(app: QApplication, window: MainWindow, out: Path) -> None:
    """Import a folder with two tones and one broken file; shoot the dialog's report."""
    folder = Path(tempfile.mkdtemp(prefix="import-shot-"))
    rate = 32000
    t = np.arange(rate * 2) / rate
    for name, hz in (("Morning tone.wav", 220), ("Evening tone.wav", 330)):
        tone = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
        sf.write(folder / name, np.stack([tone, tone]).T, rate)
    (folder / "notes.wav").write_text("a text file with an audio name")
    dialog = window.open_import_dialog()
    dialog.set_paths(folder)
    dialog.start_import()

    def wait() -> None:
        if dialog.handle is not None:
            QTimer.singleShot(200, wait)
            return
        app.processEvents()
        dialog.grab().save(str(out / "import-dialog.png"))

    QTimer.singleShot(200, wait)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--typed", default="the ")
    parser.add_argument("--filters", action="store_true", help="shoot the filter row")
    parser.add_argument("--import-dialog", action="store_true", help="shoot an import report")
    args = parser.parse_args(argv)
    app = make_application(sys.argv[:1])
    settings = Settings(data_dir=args.data_dir, models_dir=args.data_dir / "models")
    with AppContext.open(settings) as ctx:
        window = MainWindow(ctx)
        window.resize(1280, 800)
        window.show()
        if args.filters or args.import_dialog:
            if args.filters:
                QTimer.singleShot(800, lambda: shoot_filters(window, args.out_dir, args.typed))
            else:
                QTimer.singleShot(800, lambda: shoot_import(app, window, args.out_dir))
            QTimer.singleShot(15000, app.quit)
            return app.exec()
        box = window.browser.hierarchy_box
        keys = [box.itemData(i) for i in range(box.count())]

        def shoot(i: int = 0) -> None:
            if i < len(keys):
                box.setCurrentIndex(i)
                app.processEvents()
                expand_first(window, 3)
                QTimer.singleShot(
                    400,
                    lambda: (
                        window.grab().save(str(args.out_dir / f"hierarchy-{keys[i]}.png")),
                        shoot(i + 1),
                    ),
                )
                return
            box.setCurrentIndex(0)
            window.browser.search_box.setFocus()
            window.browser.search_box.setText(args.typed)
            window.browser.run_search()

        QTimer.singleShot(800, shoot)
        QTimer.singleShot(20000, app.quit)
        return app.exec()


if __name__ == "__main__":
    sys.exit(main())
