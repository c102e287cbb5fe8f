"""The window's keyboard: shortcuts a musician reaches for without the mouse, kept working
while a text field has the focus, and a sheet listing them (Help → Keyboard shortcuts).

- Ctrl+F: the catalogue search, its text selected; Down then moves into the results.
- Ctrl+Enter (Ctrl+Return): Generate, when the consent check allows it.
- The window's own shortcuts (Ctrl+E export, Ctrl+I import, Ctrl+T tone match and the others)
  reach the window even from a text field: a line edit claims Ctrl+E for "end of line" on
  Linux and macOS, so its claim (a ShortcutOverride) is refused for exactly these keys.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow

# Keys handled by the browser and the panels themselves, for the sheet.
PANEL_KEYS = (
    ("Down / Up", "From the search box into the results, and through them"),
    ("Enter", "Add the selected song (or the chosen completion) to the references"),
    ("Space", "Preview the selected song (in the catalogue and the results)"),
)
# Where Space keeps its own meaning rather than playing the take: typing, pressing the focused
# button or box, and the song lists that preview with it (they set the property OWNS_SPACE).
TYPING = (QAbstractButton, QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox, QComboBox)
OWNS_SPACE = "ownsSpace"


def owns_space(widget: QWidget) -> bool:
    return isinstance(widget, TYPING) or bool(widget.property(OWNS_SPACE))


class Keyboard(QObject):
    """Owns the Find and Generate actions and the ShortcutOverride filter for one window."""

    def __init__(self, window: MainWindow, help_menu: QMenu) -> None:
        super().__init__(window)
        self._window = window
        self.find_action = QAction("&Find in the catalogue", window)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self.focus_search)
        self.generate_action = QAction("&Generate", window)
        self.generate_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.generate_action.triggered.connect(self.generate)
        # Space plays and stops the take, as in a DAW, wherever it means nothing else.
        self.play_action = QAction("&Play or stop the take", window)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.triggered.connect(self.play_take)
        self.sheet_action = QAction("&Keyboard shortcuts", window)
        self.sheet_action.setShortcut(QKeySequence("F1"))
        self.sheet_action.triggered.connect(self.show_sheet)
        help_menu.addAction(self.sheet_action)
        for action in (self.find_action, self.generate_action, self.play_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def focus_search(self) -> None:
        box = self._window.browser.search_box
        box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        box.selectAll()

    def generate(self) -> None:
        button = self._window.generate_bar.generate_button
        if button.isEnabled():
            self._window.start_generation()
        else:
            self._window.show_status(button.toolTip() or "Generate is not possible yet")

    def play_take(self) -> None:
        button = self._window.result.play_button
        if button.isEnabled():
            button.click()
        else:
            self._window.show_status(button.toolTip() or "There is no take to play yet")

    def window_actions(self) -> list[QAction]:
        """Every action of the window with a shortcut: menus' and this object's."""
        seen: list[QAction] = []
        for action in self._window.findChildren(QAction):
            if not action.shortcuts() or action in seen:
                continue
            seen.append(action)
        return seen

    def reserved(self) -> set[str]:
        return {
            s.toString(QKeySequence.SequenceFormat.PortableText)
            for a in self.window_actions()
            for s in a.shortcuts()
        }

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and isinstance(watched, QWidget)
            and event.key() == Qt.Key.Key_Space
            and not event.modifiers()
            and owns_space(watched)
        ):
            event.accept()  # the widget keeps Space: the take does not play
            return True
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and isinstance(watched, QWidget)
            and watched.window() is self._window
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            pressed = QKeySequence(event.keyCombination()).toString(
                QKeySequence.SequenceFormat.PortableText
            )
            if pressed in self.reserved():
                return True  # the text field does not get to claim it: the action fires
        return super().eventFilter(watched, event)

    def sheet_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every shortcut, sorted by what they do."""
        rows = []
        for action in self.window_actions():
            keys = " or ".join(
                s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()
            )
            rows.append((keys, action.text().replace("&", "").rstrip("…")))
        return sorted(rows, key=lambda r: r[1].lower()) + list(PANEL_KEYS)

    def show_sheet(self) -> None:
        cells = "".join(
            f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(w)}</td></tr>"
            for k, w in self.sheet_rows()
        )
        box = QMessageBox(self._window)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table>{cells}</table>")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
