"""Open the main window on a demo catalogue, make one take, and save a picture of the window.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshot_demo.py docs/screenshot-main.png
    .venv/bin/python packaging/screenshot_demo.py --temporal docs/screenshot-temporal.png
    .venv/bin/python packaging/screenshot_demo.py --theme dark --size 1024x640 OUT.png
    .venv/bin/python packaging/screenshot_demo.py --dialog export docs/screenshots/export-dialog.png
    .venv/bin/python packaging/screenshot_demo.py --dialog history --size 1440x900 OUT.png
    ../shared/tools/screenshot /tmp/screen.png 120 -- .venv/bin/python packaging/screenshot_demo.py

The data folder defaults to a fresh temporary one (the demo catalogue is built there first);
pass --data-dir to reuse a built catalogue.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer

from musicapp.audio.io import write_wav
from musicapp.config import Settings
from musicapp.context import AppContext
from musicapp.core import GenerationRequest, Level, Reference, Role, TimeRange, Use
from musicapp.ui.app import make_application
from musicapp.ui.catalog_model import PATH_ROLE, SONG_ID_ROLE
from musicapp.ui.main_window import MainWindow
from musicapp.ui.range_dialog import default_range


def cleared_songs(window: MainWindow, want: int, level: Level = Level.PARAMETER) -> list[str]:
    """The first songs of the catalogue, walked in tree order, cleared for private use at
    `level`."""
    studio = window.studio
    found: list[str] = []

    def walk(path: tuple[str, ...]) -> None:
        for node in studio.catalogue_children(path):
            if len(found) >= want:
                return
            if node.song_id:
                role = Role.MELODY if level is Level.PARAMETER else None
                span = TimeRange(0.0, 1.0) if level is Level.TEMPORAL else None
                request = GenerationRequest((Reference(node.song_id, level, role, span),))
                if studio.check(request).allowed:
                    found.append(node.song_id)
            else:
                walk(node.path)

    walk(())
    return found


def generate_then_grab(window: MainWindow, out: Path, app, keep_open_s: float) -> None:
    """Press Generate; when the take is shown, save the window to `out` and quit."""
    window.start_generation()
    handle = window.generation
    if handle is None:
        print("screenshot: generation did not start", file=sys.stderr)
        app.exit(1)
        return

    def grab() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        shown = DIALOGS[DIALOG](window) if DIALOG else window
        app.processEvents()
        shown.grab().save(str(out))
        print(f"saved {out}", flush=True)
        code = 0 if window.result.take is not None else 1
        QTimer.singleShot(round(keep_open_s * 1000), lambda: app.exit(code))

    handle.done.connect(lambda: QTimer.singleShot(600, grab))


def export_dialog(window: MainWindow):
    """The Export dialog over the take, set as a producer delivering to a streaming service."""
    from musicapp.ui.export_dialog import ExportDialog

    take = window.result.take
    folder = window.context.settings.exports_dir
    folder.mkdir(parents=True, exist_ok=True)
    dialog = ExportDialog(window.studio.exports, take, folder, window)
    dialog.format.setCurrentIndex(dialog.format.findData(".flac"))
    dialog.rate.setCurrentIndex(dialog.rate.findData(48000))
    dialog.normalise.setChecked(True)
    dialog.stems.setChecked(True)
    dialog.show()
    return dialog


def history_dock(window: MainWindow):
    """The window with the Take history dock open, the two newest takes chosen for A/B."""
    history = window.history_ui
    history.show_dock()
    widget = history.widget
    if widget.entries and not widget.entries[0].name:
        window.studio.history.rename(widget.entries[0].id, "Chorus idea, brighter")
    widget.refresh()
    model = widget.table.selectionModel()
    for row in range(min(2, widget.table.rowCount())):
        index = widget.table.model().index(row, 0)
        model.select(index, model.SelectionFlag.Select | model.SelectionFlag.Rows)
    window.resizeDocks([history.dock], [230], Qt.Orientation.Vertical)
    return window


def first_run_dialog(window: MainWindow):
    """The first-run question, as a new user sees it."""
    from musicapp.ui.first_run import FirstRunDialog

    dialog = FirstRunDialog(window)
    dialog.show()
    return dialog


def rights_wizard(window: MainWindow):
    """The rights wizard over the catalogue's songs nobody holds (import some first:
    `musicapp import FOLDER --data-dir DIR`), filled in as a musician would."""
    wizard = window.onboarding.open_wizard()
    wizard.name.setText(wizard.name.text() or "Ann Archer")
    wizard.non_commercial.setChecked(True)
    return wizard


DIALOGS = {
    "export": export_dialog,
    "history": history_dock,
    "first-run": first_run_dialog,
    "rights": rights_wizard,
}
DIALOG = ""  # set by --dialog


def stage(window: MainWindow, out: Path, app, keep_open_s: float) -> None:
    """Pick two references the way a user would, generate, and grab the window when done."""
    ids = cleared_songs(window, 2)
    if len(ids) < 2:
        print("screenshot: fewer than two cleared songs in the catalogue", file=sys.stderr)
        app.exit(1)
        return
    # The second through the search box, the first through the tree, which stays in view.
    window.browser.search_box.setText(window.studio.song(ids[1]).title)
    window.browser.run_search()
    window.add_reference(ids[1])
    window.browser.search_box.clear()
    window.browser.run_search()
    song = window.studio.song(ids[0])
    tree, model = window.browser.tree, window.browser.tree_model
    index = QModelIndex()
    for depth, label in enumerate((song.genre, song.artist, song.album), start=1):
        model.fetchMore(index)
        index = next(
            model.index(r, 0, index)
            for r in range(model.rowCount(index))
            if model.index(r, 0, index).data(PATH_ROLE)[depth - 1] == label
        )
        tree.expand(index)
    model.fetchMore(index)
    for r in range(model.rowCount(index)):
        if model.index(r, 0, index).data(SONG_ID_ROLE) == ids[0]:
            tree.setCurrentIndex(model.index(r, 0, index))
    window.add_reference(ids[0])
    window.references.set_weight(1, 2.0)
    window.references.set_level(0, Level.PARAMETER, Role.MELODY)
    window.settings_panel.set_use(Use.NON_COMMERCIAL)
    window.refresh_check()
    generate_then_grab(window, out, app, keep_open_s)


def stage_temporal(window: MainWindow, out: Path, app, keep_open_s: float) -> None:
    """Your audio (a demo song's opening, saved as a file) with a range, two temporal
    references with ranges, then generate and grab the window."""
    ids = cleared_songs(window, 3, Level.TEMPORAL)
    if len(ids) < 3:
        print("screenshot: fewer than three songs cleared at temporal level", file=sys.stderr)
        app.exit(1)
        return
    studio = window.studio
    sr = window.context.settings.sample_rate
    mine = Path(tempfile.mkdtemp(prefix="musicapp-shot-")) / "my-recording.wav"
    write_wav(mine, studio.song_audio(ids[2])[:, : 20 * sr], sr)
    for row, song_id in enumerate(ids[:2]):
        window.add_reference(song_id)
        window.references.set_level(row, Level.TEMPORAL)
        window.references.set_time_range(row, default_range(studio.song(song_id).duration_s))
    window.references.set_weight(0, 2.0)

    def loaded() -> None:
        if window.user_audio.path() is None:
            return
        window.user_audio.changed.disconnect(loaded)
        window.user_audio.set_range(6.0, 14.0)
        window.refresh_check()
        generate_then_grab(window, out, app, keep_open_s)

    window.user_audio.changed.connect(loaded)
    window.user_audio.load(mine)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshot-main.png"))
    parser.add_argument(
        "--temporal", action="store_true", help="stage a temporal take on your own audio"
    )
    parser.add_argument("--data-dir", type=Path, help="a musicapp data folder (default: fresh)")
    parser.add_argument("--theme", choices=("light", "dark"), help="the theme (default: saved)")
    parser.add_argument("--size", default="", metavar="WxH", help="the window's size")
    parser.add_argument("--dialog", choices=sorted(DIALOGS), help="picture this dialog instead")
    parser.add_argument(
        "--keep-open",
        type=float,
        default=0.0,
        metavar="S",
        help="leave the window up S seconds after the picture (for a screen capture)",
    )
    args = parser.parse_args(argv)
    global DIALOG
    DIALOG = args.dialog or ""
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="musicapp-shot-"))
    settings = Settings()
    settings.data_dir = data_dir
    if args.theme:
        os.environ["MUSICAPP_THEME"] = args.theme
    os.environ.setdefault("MUSICAPP_FIRST_RUN", "demo")  # a fresh folder: build the demo
    # The window's kept choices (docks, export options) from a folder of its own, so a picture
    # does not show what the last one (or the user's own session) left open.
    from PySide6.QtCore import QSettings

    QSettings.setPath(
        QSettings.Format.IniFormat,
        QSettings.Scope.UserScope,
        tempfile.mkdtemp(prefix="musicapp-shot-settings-"),
    )
    app = make_application(sys.argv[:1])
    with AppContext.open(settings) as ctx:
        window = MainWindow(ctx)
        if args.size:
            width, height = (int(v) for v in args.size.lower().split("x"))
            window.resize(width, height)
        window.show()

        def when_ready() -> None:
            if window.demo_build is not None:
                window.demo_build.done.connect(lambda: QTimer.singleShot(300, when_ready))
                return
            staging = stage_temporal if args.temporal else stage
            staging(window, args.out.resolve(), app, args.keep_open)

        QTimer.singleShot(500, when_ready)
        code = app.exec()
        window.close()
        return code


if __name__ == "__main__":
    sys.exit(main())
