"""Screenshots of the Audio panel (tone match toward a reference's guitar stem, after Apply), of
the panel refusing a stem of a song without consent brought back as "your audio", and of a demo
song's Stems view.

Run under a real X screen, on a copy of a demo data folder (the tone match writes a take and
ledger events there):
  ../shared/tools/screenshot /tmp/screen.png 30 -- \
      .venv/bin/python packaging/screenshot_audio.py docs --data-dir DIR
It saves docs/audio-panel.png, docs/audio-panel-found.png and docs/stems-view.png (each window
grabbed on its own). The stem is the real DI guitar of tests/data/recordings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.config import Settings
from musicapp.context import AppContext
from musicapp.ui.app import make_application
from musicapp.ui.main_window import MainWindow

DI_GUITAR = Path(__file__).resolve().parent.parent / "tests/data/recordings/di-guitar.flac"
NO_CONSENT = "joplin-maple-leaf-rag"


def shoot(app: QApplication, window: MainWindow, out: Path) -> None:
    panel = window.open_audio_panel()
    panel.resize(760, 820)
    panel.stem.load(DI_GUITAR)

    def when_loaded() -> None:
        if panel.stem.loading():
            QTimer.singleShot(200, when_loaded)
            return
        panel.stem.set_range(1.0, 6.0)
        for song_id, weight in zip(PERMITTED_SONG_IDS[1::-1], (3.0, 1.0), strict=True):
            panel.add_song(song_id)
            panel.references.set_weight(len(panel.references.rows) - 1, weight)
        panel.references.set_part(0, "guitar")  # O'Neill's guitar stem: the tone to reach
        panel.references.set_role(1, None)
        panel.refresh_check()
        panel.apply()
        QTimer.singleShot(300, when_applied)

    def when_applied() -> None:
        if panel.handle is not None:
            QTimer.singleShot(300, when_applied)
            return
        app.processEvents()
        panel.grab().save(str(out / "audio-panel.png"))
        # A stem of a song whose holders opted out, handed over as "my stem": named, refused.
        panel.stem.load(window.studio.catalog.stem_path(NO_CONSENT, "piano-right"))
        QTimer.singleShot(300, when_found)

    def when_found() -> None:
        if panel.stem.loading():
            QTimer.singleShot(200, when_found)
            return
        panel.wet.setValue(0)
        panel.refresh_check()
        app.processEvents()
        panel.grab().save(str(out / "audio-panel-found.png"))
        view = window.open_stems_view(PERMITTED_SONG_IDS[0])
        if view is not None:
            view.resize(720, 420)
            QTimer.singleShot(300, lambda: when_stems(view))

    def when_stems(view) -> None:  # type: ignore[no-untyped-def]
        if view.handle is not None or not view.rows:
            QTimer.singleShot(300, lambda: when_stems(view))
            return
        names = list(view.rows)
        view.rows[names[-1]].mute.setChecked(True)
        view.rows[names[0]].solo.setChecked(True)
        view.rows[names[0]].solo.setChecked(False)
        app.processEvents()
        view.grab().save(str(out / "stems-view.png"))
        print(
            "saved", out / "audio-panel.png", out / "audio-panel-found.png", out / "stems-view.png"
        )
        QTimer.singleShot(500, app.quit)

    QTimer.singleShot(200, when_loaded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    app = make_application(sys.argv[:1])
    settings = Settings(data_dir=args.data_dir, models_dir=args.data_dir / "models")
    with AppContext.open(settings) as ctx:
        window = MainWindow(ctx)
        window.resize(1280, 800)
        window.show()
        QTimer.singleShot(800, lambda: shoot(app, window, args.out_dir))
        QTimer.singleShot(60000, app.quit)
        return app.exec()


if __name__ == "__main__":
    sys.exit(main())
