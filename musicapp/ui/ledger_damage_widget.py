"""The damaged-ledger banner and refusal dialog: what is wrong and the commands that fix it."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.ui import theme
from musicapp.ui.error_dialog import show_error
from musicapp.ui.job_control import JobControl
from musicapp.ui.job_runner import JobRunner

if TYPE_CHECKING:
    from musicapp.studio_types import Damage
    from musicapp.ui.services import RecordsPort

# How often the banner follows the ledger's damage state. It reads a value the ledger keeps
# (no I/O); whatever finds the ledger damaged or repaired (a take, an export, Check again)
# updates that value.
FOLLOW_MS = 1000
HEADLINE = (
    "The attribution ledger is damaged. New takes, tone matches and exports are refused until "
    "the damage is on record; browsing and listening still work."
)


# A banner, not a dialog at start: the catalogue stays usable, and the reason stays in view.
def banner_style() -> str:
    c = theme.current()
    return (
        f"QFrame#ledgerBanner {{ background: {c['bad_soft']}; border: 1px solid {c['bad_edge']};"
        " border-radius: 8px; }"
        f"QLabel#ledgerHeadline {{ color: {c['bad']}; font-weight: 600; }}"
        f"QLabel#ledgerWhat {{ color: {c['bad_text']}; }}"
        f"QLabel#ledgerCommands {{ color: {c['text']}; font-family: monospace; }}"
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def refusal_text(damage: Damage) -> str:
    """The refusal as the window says it: the damage, and the commands to run."""
    commands = "\n".join(f"    {c}" for c in damage.commands())
    return (
        f"The attribution ledger is damaged, so nothing was recorded.\n\n"
        f"{_sentence(damage.what())}\n\nIn a terminal, see the details and put the damage on "
        f"record (the damaged events stay as they are):\n{commands}"
    )


def show_ledger_refusal(parent: QWidget | None, title: str, damage: Damage) -> QMessageBox:
    """The error dialog for an action refused because the ledger is damaged."""
    return show_error(parent, title, refusal_text(damage))


class LedgerDamageWidget(QWidget):
    """A banner over the window while the ledger is damaged; hidden otherwise.

    ``service`` is the studio's records room: ``damage`` (cached, no I/O) and ``check_job()``
    (looks again, on the I/O lane, for Check again).
    """

    status = Signal(str)  # a line for the status bar

    def __init__(
        self, service: RecordsPort, runner: JobRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._runner = runner
        self._check_job = JobControl(
            runner, self, self._on_checked, self._on_check_failed, on_end=self._on_check_done
        )
        frame = QFrame()
        frame.setObjectName("ledgerBanner")
        frame.setStyleSheet(banner_style())
        self.headline = QLabel(HEADLINE)
        self.headline.setObjectName("ledgerHeadline")
        self.what = QLabel()
        self.what.setObjectName("ledgerWhat")
        self.commands = QLabel()
        self.commands.setObjectName("ledgerCommands")
        for label in (self.headline, self.what, self.commands):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_button = QPushButton("Check again")
        self.check_button.setToolTip("Look at the ledger again, e.g. after repairing it")
        self.check_button.clicked.connect(self.check)
        text = QVBoxLayout()
        text.setSpacing(4)
        text.addWidget(self.headline)
        text.addWidget(self.what)
        text.addWidget(self.commands)
        row = QHBoxLayout(frame)
        row.setContentsMargins(12, 8, 12, 8)
        row.addLayout(text, 1)
        row.addWidget(self.check_button, 0, Qt.AlignmentFlag.AlignTop)
        outer = QVBoxLayout(self)  # the margin goes when the banner does
        outer.setContentsMargins(10, 8, 10, 0)
        outer.addWidget(frame)
        self.damage: Damage | None = None
        self.hide()
        self._timer = QTimer(self)
        self._timer.setInterval(FOLLOW_MS)
        self._timer.timeout.connect(self.follow)
        self._timer.start()
        self.follow()

    def follow(self) -> None:
        """Show the damage the ledger last found, if it changed."""
        damage = self._service.damage
        if damage is not self.damage:
            self.show_damage(damage)

    def check(self) -> None:
        """Check again: look at the ledger on the I/O lane (it may re-verify all of it)."""
        self.set_checking(True)
        self._check_job.start(self._service.check_job())

    def _on_checked(self, damage: Damage | None) -> None:
        self.show_damage(damage)
        self.status.emit("The ledger is still damaged" if damage else "The ledger is intact")

    def _on_check_failed(self, exc: BaseException) -> None:
        self.status.emit(f"The ledger could not be checked: {exc}")

    def _on_check_done(self) -> None:
        self.set_checking(False)

    def show_damage(self, damage: Damage | None) -> None:
        """Show ``damage`` (a ``ledger.Damage``), or hide the banner when it is None."""
        self.damage = damage
        if damage is None:
            self.hide()
            return
        self.what.setText(_sentence(damage.what()))
        self.commands.setText(
            "In a terminal: "
            + "&nbsp;&nbsp;then&nbsp;&nbsp;".join(
                f"<b>{html.escape(c)}</b>" for c in damage.commands()
            )
        )
        self.show()

    def set_checking(self, checking: bool) -> None:
        self.check_button.setEnabled(not checking)
        self.check_button.setText("Checking…" if checking else "Check again")
