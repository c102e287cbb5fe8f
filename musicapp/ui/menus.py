"""The main window's menu bar: File, Tools and Help, with their shortcuts.

``build_menus(window)`` adds the menus and keeps the actions other code uses on the window
(``export_action``, ``import_action``, ``tone_action``, ``sync``, ``keyboard``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from musicapp.ui.keyboard import Keyboard
from musicapp.ui.sync_status import SyncController, engine_for

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow

ABOUT = (
    "<b>musicapp</b><br>Attribution-by-design music generation: pick consented references, "
    "generate on your machine, and pay everyone who contributed."
)


def build_menus(w: MainWindow) -> None:
    file_menu = w.menuBar().addMenu("&File")
    export = QAction("&Export take…", w)
    export.setShortcut(QKeySequence("Ctrl+E"))
    export.setEnabled(False)  # until there is a take
    export.triggered.connect(w.result.export_take)
    w.export_action = export
    import_action = QAction("&Import music…", w)
    import_action.setShortcut(QKeySequence("Ctrl+I"))
    import_action.setToolTip("Add a folder of audio files (and a manifest) to the catalogue")
    import_action.triggered.connect(w.open_import_dialog)
    w.import_action = import_action
    quit_action = QAction("&Quit", w)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(w.close)
    file_menu.addAction(import_action)
    file_menu.addAction(w.audit_ui.file_action)
    file_menu.addAction(w.verify_ui.action)
    file_menu.addAction(export)
    file_menu.addSeparator()
    file_menu.addAction(quit_action)

    tools_menu = w.menuBar().addMenu("&Tools")
    tone = QAction("&Tone match…", w)
    tone.setShortcut(QKeySequence("Ctrl+T"))
    tone.setToolTip("Make your own stem sound like weighted, consented reference songs")
    tone.triggered.connect(w.open_audio_panel)
    w.tone_action = tone
    stems = QAction("&Stems of the selected song…", w)
    stems.setToolTip("Hear the selected song's stems with solo and mute")
    stems.triggered.connect(w.browser.stems_selected)
    tools_menu.addAction(tone)
    tools_menu.addAction(stems)
    tools_menu.addAction(w.royalties_ui.action)
    room = engine_for(w.context)  # the rights server (issue 3): jobs on the serial lane
    w.sync = SyncController(room, w.runner, w.context.settings, w)
    tools_menu.addSeparator()
    tools_menu.addAction(w.sync.sync_action)
    tools_menu.addAction(w.sync.settings_action)

    help_menu = w.menuBar().addMenu("&Help")
    w.keyboard = Keyboard(w, help_menu)  # Ctrl+F, Ctrl+Enter, F1: the shortcut sheet
    about = QAction("&About musicapp", w)
    about.triggered.connect(lambda: QMessageBox.about(w, "About musicapp", ABOUT))
    help_menu.addAction(about)
