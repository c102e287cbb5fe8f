"""The main window's menu bar: File, View, Tools and Help, with their shortcuts.

``build_menus(window)`` adds the menus and keeps the actions other code uses on the window
(``export_action``, ``import_action``, ``tone_action``, ``sync``, ``keyboard``,
``theme_actions``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from musicapp.ui import icons, theme
from musicapp.ui.audio_output import AudioOutputMenu
from musicapp.ui.keyboard import Keyboard
from musicapp.ui.panel_toggles import PanelToggles
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

    view = w.menuBar().addMenu("&View")
    view.addAction(w.history_ui.action)
    w.panels = PanelToggles(w, view)  # fold the catalogue or the take panel away
    w.theme_actions = _theme_menu(w, view.addMenu("&Theme"))

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
    tools_menu.addAction(w.onboarding.rights_action)
    w.audio_output = AudioOutputMenu(w)  # where previews, takes and stems are heard
    tools_menu.addMenu(w.audio_output.menu)
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


THEME_WORDS = {theme.SYSTEM: "Follow the &system", theme.LIGHT: "&Light", theme.DARK: "&Dark"}


def _theme_menu(w: MainWindow, menu: QMenu) -> dict[str, QAction]:
    """Follow the system, light or dark: one checked, the choice kept for the next start."""
    group = QActionGroup(w)
    group.setExclusive(True)
    chosen = theme.saved_choice()
    actions = {}
    for choice, words in THEME_WORDS.items():
        action = QAction(words, w)
        action.setCheckable(True)
        action.setChecked(choice == chosen)
        action.triggered.connect(lambda _=False, c=choice: set_theme(c))
        action.triggered.connect(lambda _=False: _repaint(w))
        group.addAction(action)
        menu.addAction(action)
        actions[choice] = action
    return actions


def _repaint(w: MainWindow) -> None:
    """What was drawn in the old theme's colours when its state last changed (the consent
    panel's verdicts, the catalogue's badges) is drawn again in the new one."""
    w.refresh_check()
    w.browser.tree.viewport().update()


def set_theme(choice: str) -> None:
    """Apply ``choice`` to the whole app now (palette, style sheet, plots) and keep it."""
    from musicapp.ui.plot_theme import restyle_all

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    theme.save_choice(choice)
    theme.apply(app, choice, icons.style_sheet())
    restyle_all(app)
