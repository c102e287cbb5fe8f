"""Screenshots of the catalogue browser: each hierarchy expanded, then the completion popup.

Run under a real X screen (the popup is its own window):
  ../shared/tools/screenshot docs/completion-popup.png 25 -- \
      .venv/bin/python packaging/screenshot_browser.py docs --data-dir DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--typed", default="the ")
    args = parser.parse_args(argv)
    app = make_application(sys.argv[:1])
    settings = Settings(data_dir=args.data_dir, models_dir=args.data_dir / "models")
    with AppContext.open(settings) as ctx:
        window = MainWindow(ctx)
        window.resize(1280, 800)
        window.show()
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
