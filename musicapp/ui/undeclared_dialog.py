"""Asks what to do when the audit finds catalogue recordings in the user's own audio that no
reference declares: refuse the take, add each song as a reference, or override (logged).

The choice is for the one take the user just asked for: the window re-runs that request with
it and never keeps it, so the next take with the same audio asks again.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from musicapp.studio_types import Finding
from musicapp.ui import audit_text as words
from musicapp.ui import theme

REFUSE, ADD, OVERRIDE = "refuse", "add", "override"


def _rich(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class UndeclaredDialog(QDialog):
    """Names each song found and where it is in the user's file; `chosen` says "refuse", "add"
    or "override" (the last only after its confirmation page). Closing it refuses."""

    chosen = Signal(str)

    def __init__(
        self,
        findings: Sequence[Finding],
        titles: Mapping[str, str],
        file_name: str = "",
        event_id: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Undeclared material in your audio")
        self.setMinimumWidth(560)
        self._decided = False
        self.pages = QStackedWidget()  # the choice, then the override's confirmation
        self.findings = tuple(findings)
        self.titles = dict(titles)
        self.found_lines = [
            words.finding_text(f, self.titles.get(f.song_id, f.song_id), "your file")
            for f in sorted(self.findings, key=lambda f: (f.start_s, f.song_id))
        ]
        songs = sorted({self.titles.get(f.song_id, f.song_id) for f in self.findings})

        named = f" ({html.escape(file_name)})" if file_name else ""
        self.head = head = _rich(
            f"<b>Your audio{named} holds catalogue recordings that you did not declare as "
            "references.</b> Nothing has been made."
        )
        found = _rich(
            "".join(f"<p style='margin:2px 0'>• {html.escape(t)}</p>" for t in self.found_lines)
        )
        found.setObjectName("undeclaredFindings")
        explain = _rich(
            "A take that uses someone else's recording needs their consent and pays them: "
            "added as a reference, each song's consent is checked and its rights holders get "
            "their share. Your choice is for this take only; the next take asks again."
        )
        explain.setObjectName("hint")
        self.refuse_button = QPushButton("Refuse")
        self.refuse_button.setToolTip("Make nothing; change your audio or its range instead")
        self.add_button = QPushButton("Add as reference")
        self.add_button.setObjectName("primary")
        self.add_button.setToolTip(
            "Each song becomes a reference of this take: its consent is checked and its "
            "rights holders are paid their share"
        )
        self.override_button = QPushButton("Override (logged)…")
        self.override_button.setToolTip("Make the take without declaring them (asks first)")
        self.refuse_button.clicked.connect(lambda: self._choose(REFUSE))
        self.add_button.clicked.connect(lambda: self._choose(ADD))
        self.override_button.clicked.connect(self.ask_override)
        buttons = QHBoxLayout()
        buttons.addWidget(self.override_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refuse_button)
        buttons.addWidget(self.add_button)
        choice_page = QWidget()
        choice = QVBoxLayout(choice_page)
        choice.setContentsMargins(0, 0, 0, 0)
        choice.addWidget(head)
        choice.addWidget(found)
        choice.addWidget(explain)
        choice.addStretch(1)
        choice.addLayout(buttons)

        logged = f" (audit event {html.escape(event_id)})" if event_id else ""
        self.confirm_text = _rich(
            f"<p><b style='color:{theme.colour('bad')}'>Override the audit?</b></p>"
            f"<p>The take will be made with {html.escape(', '.join(songs))} in it, undeclared: "
            "not added as references, their consent not asked and their rights holders not "
            "paid from it.</p>"
            f"<p>The override is logged in the ledger{logged} and sent to the rights holders "
            "of those songs when the ledger syncs.</p>"
        )
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(lambda: self.pages.setCurrentIndex(0))
        self.confirm_button = QPushButton("Override and log it")
        self.confirm_button.setObjectName("overrideConfirm")
        self.confirm_button.clicked.connect(lambda: self._choose(OVERRIDE))
        confirm_buttons = QHBoxLayout()
        confirm_buttons.addStretch(1)
        confirm_buttons.addWidget(self.back_button)
        confirm_buttons.addWidget(self.confirm_button)
        confirm_page = QWidget()
        confirm = QVBoxLayout(confirm_page)
        confirm.setContentsMargins(0, 0, 0, 0)
        confirm.addWidget(self.confirm_text)
        confirm.addStretch(1)
        confirm.addLayout(confirm_buttons)

        self.pages.addWidget(choice_page)
        self.pages.addWidget(confirm_page)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self.add_button.setDefault(True)

    def ask_override(self) -> None:
        """The confirmation page: an override is never one click away."""
        self.pages.setCurrentIndex(1)
        self.back_button.setDefault(True)

    def _choose(self, choice: str) -> None:
        if self._decided:
            return
        self._decided = True
        self.chosen.emit(choice)
        if choice == REFUSE:
            self.reject()
        else:
            self.accept()

    def reject(self) -> None:
        """Escape, the close button (QDialog's closeEvent rejects) and Refuse: nothing is made."""
        if not self._decided:
            self._decided = True
            self.chosen.emit(REFUSE)
        super().reject()
