"""Tools → Declare my rights…: make yourself the rights holder of your own songs, so they are
usable at once (issue 19: an imported song was refused even for private use, and nothing in the
window let you say it is yours).

Lists the songs nobody holds (imported without a manifest), all ticked; asks your name as
holder, your role, and which uses besides private you allow; says plainly what happens (a
ledger event per song first, then the rights; a song someone else holds cannot be declared;
with a rights server set, each song is also claimed there at the next sync, for the server's
administrator to confirm, and the wizard lists how earlier claims stand).
``studio.library.declare_own_rights`` does it.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import Use
from musicapp.ui import kept, theme

if TYPE_CHECKING:
    from musicapp.ui.services import LibraryPort

ROLES = (
    ("Composer and performer (I wrote and recorded it)", "composer"),
    ("Performer (my recording)", "performer"),
    ("Publisher", "publisher"),
    ("Label", "label"),
)
NAME_KEY = "rights/holder_name"


class RightsWizard(QDialog):
    """Declare yourself the holder of the songs you tick."""

    declared = Signal(int)  # how many songs became yours

    def __init__(self, library: LibraryPort, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rightsWizard")
        self.setWindowTitle("Declare my rights")
        self._library = library
        intro = QLabel(
            "<b>These songs have no rights holder yet</b>, so every use of them is refused, "
            "even private use. If they are yours, declare yourself their holder: you can use "
            "them at once, and your takes credit you."
        )
        intro.setWordWrap(True)
        self.songs = QListWidget()
        self.songs.setAccessibleName("Songs to declare as mine")
        for song in library.unclaimed():
            item = QListWidgetItem(f"{song.title} — {song.artist}")
            item.setData(Qt.ItemDataRole.UserRole, song.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.songs.addItem(item)
        self.name = QLineEdit(str(kept.settings().value(NAME_KEY, "")))
        self.name.setPlaceholderText("Your name or artist name, as it should be credited")
        self.name.setAccessibleName("Your name as rights holder")
        self.role = QComboBox()
        for label, kind in ROLES:
            self.role.addItem(label, kind)
        self.private = QCheckBox("Private use (always, for your own songs)")
        self.private.setChecked(True)
        self.private.setEnabled(False)
        self.non_commercial = QCheckBox("Non-commercial distribution")
        self.commercial = QCheckBox("Commercial use")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Role", self.role)
        form.addRow("Allow", self.private)
        form.addRow("", self.non_commercial)
        form.addRow("", self.commercial)
        server = library.claims_server().split("://", 1)[-1].rstrip("/")
        where = (
            f"They are also claimed on the rights server {server} at the next sync, for its "
            "administrator to confirm; until then they are usable as this computer's records "
            "say, and the consent panel says where each decision came from."
            if server
            else "This is recorded in your ledger before it takes effect, one event per song."
        )
        self.note = QLabel(
            "Only songs nobody holds can be declared: a song with holders is changed by them. "
            + where
        )
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        # How the claims made before stand on the server (confirmed, rejected and why, ...).
        claims = library.claims()
        self.claims = QLabel(
            f"<b>Your claims on {server}</b><br>"
            + "<br>".join(
                f"{html.escape(c.title, quote=False)}: {html.escape(c.words(), quote=False)}"
                for c in claims
            )
            if claims
            else ""
        )
        self.claims.setObjectName("claims")
        self.claims.setWordWrap(True)
        self.claims.setVisible(bool(claims))
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.declare_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.declare_button.setText("Declare them mine")
        self.buttons.accepted.connect(self.declare)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.songs, 1)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.claims)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self.name.textChanged.connect(self._update)
        self.songs.itemChanged.connect(self._update)
        self._update()

    def chosen(self) -> list[str]:
        items = (self.songs.item(i) for i in range(self.songs.count()))
        return [
            str(i.data(Qt.ItemDataRole.UserRole))
            for i in items
            if i.checkState() == Qt.CheckState.Checked
        ]

    def uses(self) -> list[Use]:
        out = [Use.PRIVATE]
        if self.non_commercial.isChecked():
            out.append(Use.NON_COMMERCIAL)
        if self.commercial.isChecked():
            out.append(Use.COMMERCIAL)
        return out

    def _update(self) -> None:
        if not self.songs.count():
            reason = "Every song in the catalogue has a rights holder: nothing to declare."
        elif not self.chosen():
            reason = "Tick the songs that are yours."
        elif not self.name.text().strip():
            reason = "Give your name as it should be credited."
        else:
            reason = ""
        self.declare_button.setEnabled(not reason)
        self.problem.setText(reason)
        self.problem.setStyleSheet(f"color: {theme.colour('warn_text')};" if reason else "")

    def declare(self) -> None:
        """Declare the ticked songs; an error is shown here and nothing is closed."""
        try:
            events = self._library.declare_own_rights(
                self.chosen(), self.name.text(), str(self.role.currentData()), self.uses()
            )
        except Exception as exc:  # InvalidInput names the field or the song; a damaged ledger
            self.problem.setText(f"Nothing was declared: {exc}")
            self.problem.setStyleSheet(f"color: {theme.colour('bad')};")
            return
        kept.settings().setValue(NAME_KEY, self.name.text().strip())
        self.declared.emit(len(events))
        self.accept()
