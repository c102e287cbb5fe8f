"""Under the References list: references the app proposes for parameters left open (timbre when
melody and rhythm are given), marked "Proposed" until the user accepts or dismisses them.

A proposal is not part of the request until accepted; it then becomes a normal reference,
verified at generation like any other (design paper §4.1.1)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from musicapp.ui import theme
from musicapp.ui.candidates_widget import clear_layout, holders_text

if TYPE_CHECKING:
    from musicapp.selection.types import Proposal


def proposal_key(proposal: Proposal) -> tuple[str, str]:
    """What a dismissal remembers: the song and the parameter it was proposed for."""
    ref = proposal.reference
    return ref.song_id, ref.role.value if ref.role is not None else ref.level.value


class ProposalsWidget(QFrame):
    """Emits `accepted(proposal)` and `dismissed(proposal)`; hidden while there are none."""

    accepted = Signal(object)
    dismissed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("proposalsPanel")
        self.proposals: list[Proposal] = []
        self.buttons: list[tuple[QPushButton, QPushButton]] = []  # (Accept, Dismiss) per row
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 6, 8, 6)
        self._layout.setSpacing(2)
        self.setVisible(False)

    def show_proposals(self, proposals: list[Proposal]) -> None:
        clear_layout(self._layout)
        self.proposals, self.buttons = list(proposals), []
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setColumnStretch(1, 1)
        for row, proposal in enumerate(self.proposals):
            badge = QLabel("Proposed")
            badge.setObjectName("proposedBadge")
            ref, song = proposal.reference, proposal.song
            what = ref.role.value if ref.role is not None else f"{ref.level.value} level"
            text = QLabel(
                f"<b>{html.escape(song.title)}</b> — {html.escape(song.artist)}<br>"
                f"<span style='color:{theme.colour('muted')}'>{html.escape(what)} · rights: "
                f"{html.escape(holders_text(song))}</span>"
            )
            text.setWordWrap(True)
            by = f"\nAnswered by {proposal.embedding}" if proposal.embedding else ""
            text.setToolTip(proposal.reason + by)
            accept = QPushButton("Accept")
            accept.setObjectName("acceptProposal")
            accept.setToolTip(f"Add “{song.title}” as the {what} reference")
            dismiss = QPushButton("Dismiss")
            dismiss.setToolTip("Do not propose this song for this parameter again")
            accept.clicked.connect(lambda _c=False, p=proposal: self.accepted.emit(p))
            dismiss.clicked.connect(lambda _c=False, p=proposal: self.dismissed.emit(p))
            grid.addWidget(badge, row, 0, Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(text, row, 1)
            grid.addWidget(accept, row, 2)
            grid.addWidget(dismiss, row, 3)
            self.buttons.append((accept, dismiss))
        self._layout.addLayout(grid)
        self.setVisible(bool(self.proposals))

    def set_editable(self, editable: bool) -> None:
        for accept, _dismiss in self.buttons:
            accept.setEnabled(editable)
